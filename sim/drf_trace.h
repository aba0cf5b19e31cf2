// Shared by the Verilator harnesses: open an FST trace when the command line has +trace[=FILE].
#ifndef DOREFA_DRF_TRACE_H
#define DOREFA_DRF_TRACE_H

#include <cstring>
#include <memory>

#include "verilated.h"
#include "verilated_fst_c.h"

// Traces every level of top into FILE, or into default_file for a bare +trace.
template <class Model>
void drf_trace_open(VerilatedContext *ctx, Model *top, std::unique_ptr<VerilatedFstC> &trace,
                    const char *default_file)
{
    const char *tr = ctx->commandArgsPlusMatch("trace");
    if (!tr || !tr[0]) return;
    const char *eq = std::strchr(tr, '=');
    ctx->traceEverOn(true);
    trace.reset(new VerilatedFstC);
    top->trace(trace.get(), 99);
    trace->open(eq ? eq + 1 : default_file);
}

#endif
