// Thin Verilator harness: the drf_core model behind the C API of drf_sim.h.
#include "drf_sim.h"

#include <cstring>
#include <memory>

#include "Vdrf_core.h"
#include "verilated.h"
#include "verilated_fst_c.h"
#include "drf_trace.h"

#ifndef DRF_ROWS
#error "DRF_ROWS, DRF_COLS, DRF_LAW, DRF_RAW, DRF_DAW must match the Verilated parameters"
#endif

struct drf_sim {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vdrf_core> top;
    std::unique_ptr<VerilatedFstC> trace;
    uint64_t time = 0;
};

static void tick(drf_sim *s)
{
    s->top->clk = 0;
    s->top->eval();
    if (s->trace) s->trace->dump(2 * s->time);
    s->top->clk = 1;
    s->top->eval();
    if (s->trace) s->trace->dump(2 * s->time + 1);
    s->time++;
    s->ctx->timeInc(1);
}

extern "C" drf_sim *drf_sim_new(int argc, char **argv)
{
    drf_sim *s = new drf_sim;
    s->ctx.reset(new VerilatedContext);
    s->ctx->commandArgs(argc, argv);
    s->top.reset(new Vdrf_core{s->ctx.get()});
    drf_trace_open(s->ctx.get(), s->top.get(), s->trace, "build/drf_core.fst");
    s->top->rst = 1;
    s->top->cmd_valid = 0;
    s->top->host_we = 0;
    s->top->host_re = 0;
    for (int i = 0; i < 4; i++) tick(s);
    s->top->rst = 0;
    tick(s);
    return s;
}

extern "C" void drf_sim_free(drf_sim *s)
{
    if (!s) return;
    s->top->final();
    if (s->trace) s->trace->close();
    delete s;
}

extern "C" void drf_sim_get_geometry(const drf_sim *, drf_sim_geometry *g)
{
    g->rows = DRF_ROWS;
    g->cols = DRF_COLS;
    g->l_words = 1u << DRF_LAW;
    g->r_words = 1u << DRF_RAW;
    g->d_words = 1u << DRF_DAW;
}

extern "C" void drf_sim_write(drf_sim *s, int mem, uint32_t addr, uint64_t word)
{
    s->top->host_mem = mem;
    s->top->host_addr = addr;
    s->top->host_wdata = word;
    s->top->host_we = 1;
    tick(s);
    s->top->host_we = 0;
}

extern "C" uint64_t drf_sim_read(drf_sim *s, int mem, uint32_t addr)
{
    s->top->host_mem = mem;
    s->top->host_addr = addr;
    s->top->host_re = 1;
    tick(s);
    s->top->host_re = 0;
    s->top->eval();
    return s->top->host_rdata;
}

extern "C" int64_t drf_sim_cmd(drf_sim *s, uint8_t op, const uint8_t *payload, size_t len,
                               uint64_t max_cycles)
{
    uint32_t words[10] = {0};
    for (size_t i = 0; i < len && i < 40; i++) words[i / 4] |= (uint32_t)payload[i] << (8 * (i % 4));
    for (int i = 0; i < 10; i++) s->top->cmd_args[i] = words[i];
    s->top->cmd_op = op;
    s->top->cmd_valid = 1;
    uint64_t start = s->time;
    while (!s->top->cmd_ready) {
        tick(s);
        if (s->time - start > max_cycles) return -1;
    }
    tick(s);
    s->top->cmd_valid = 0;
    while (!s->top->cmd_done) {
        tick(s);
        if (s->time - start > max_cycles) return -1;
    }
    return (int64_t)(s->time - start);
}

extern "C" uint32_t drf_sim_lfsr(drf_sim *s)
{
    s->top->eval();
    return s->top->lfsr_state;
}

extern "C" void drf_sim_counters(drf_sim *s, uint64_t *cycles, uint64_t *busy_cycles)
{
    s->top->eval();
    *cycles = s->top->cycles;
    *busy_cycles = s->top->busy_cycles;
}

extern "C" uint64_t drf_sim_time(const drf_sim *s) { return s->time; }
