// Thin Verilator harness: rtl/drf_device.v behind the byte-stream C API of drf_dev.h.
#include "drf_dev.h"

#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "Vdrf_device.h"
#include "verilated.h"
#include "verilated_fst_c.h"
#include "drf_trace.h"

#if !defined(DRF_RX_IDLE_CYCLES) || !defined(DRF_CLOCK_HZ)
#error "DRF_RX_IDLE_CYCLES and DRF_CLOCK_HZ must match the Verilated parameters"
#endif

struct drf_dev {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vdrf_device> top;
    std::unique_ptr<VerilatedFstC> trace;
    std::deque<uint8_t> in;   // bytes waiting for the device's rx port
    std::vector<uint8_t> out; // response bytes not yet taken
    size_t out_head = 0;
    uint64_t time = 0;
    unsigned stall_pct = 0;   // cycles in which the host side holds back (both directions)
    uint64_t rng = 88172645463325252ull;
};

static bool stall(drf_dev *s)
{
    if (!s->stall_pct) return false;
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng % 100 < s->stall_pct;
}

// One clock cycle. The handshakes are decided on the values just before the rising edge, as the
// RTL sees them.
static void tick(drf_dev *s)
{
    Vdrf_device *t = s->top.get();
    t->rx_valid = !s->in.empty() && !stall(s);
    t->rx_data = s->in.empty() ? 0 : s->in.front();
    t->tx_ready = !stall(s);
    t->clk = 0;
    t->eval();
    if (s->trace) s->trace->dump(2 * s->time);
    bool rx_take = t->rx_valid && t->rx_ready;
    bool tx_take = t->tx_valid && t->tx_ready;
    uint8_t tx_byte = t->tx_data;
    t->clk = 1;
    t->eval();
    if (s->trace) s->trace->dump(2 * s->time + 1);
    if (rx_take) s->in.pop_front();
    if (tx_take) s->out.push_back(tx_byte);
    s->time++;
    s->ctx->timeInc(1);
}

static size_t pending(const drf_dev *s) { return s->out.size() - s->out_head; }

extern "C" drf_dev *drf_dev_new(int argc, char **argv)
{
    drf_dev *s = new drf_dev;
    s->ctx.reset(new VerilatedContext);
    s->ctx->commandArgs(argc, argv);
    s->top.reset(new Vdrf_device{s->ctx.get()});
    drf_trace_open(s->ctx.get(), s->top.get(), s->trace, "build/drf_device.fst");
    s->top->rst = 1;
    for (int i = 0; i < 4; i++) tick(s);
    s->top->rst = 0;
    tick(s);
    return s;
}

extern "C" void drf_dev_free(drf_dev *s)
{
    if (!s) return;
    s->top->final();
    if (s->trace) s->trace->close();
    delete s;
}

extern "C" void drf_dev_send(drf_dev *s, const uint8_t *data, size_t len)
{
    s->in.insert(s->in.end(), data, data + len);
}

extern "C" size_t drf_dev_recv(drf_dev *s, uint8_t *out, size_t cap, uint64_t max_cycles)
{
    for (uint64_t i = 0; i < max_cycles && !pending(s); i++) tick(s);
    size_t n = pending(s) < cap ? pending(s) : cap;
    if (n) std::memcpy(out, s->out.data() + s->out_head, n);
    s->out_head += n;
    if (s->out_head == s->out.size()) {
        s->out.clear();
        s->out_head = 0;
    }
    return n;
}

extern "C" void drf_dev_run(drf_dev *s, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) tick(s);
}

extern "C" size_t drf_dev_pending(const drf_dev *s) { return pending(s); }

extern "C" size_t drf_dev_unsent(const drf_dev *s) { return s->in.size(); }

extern "C" void drf_dev_purge(drf_dev *s)
{
    s->in.clear();
    s->out.clear();
    s->out_head = 0;
}

extern "C" void drf_dev_set_stalls(drf_dev *s, unsigned percent)
{
    s->stall_pct = percent > 90 ? 90 : percent;
}

extern "C" uint64_t drf_dev_idle_cycles(const drf_dev *) { return DRF_RX_IDLE_CYCLES; }

extern "C" uint32_t drf_dev_clock_hz(const drf_dev *) { return DRF_CLOCK_HZ; }

extern "C" uint64_t drf_dev_time(const drf_dev *s) { return s->time; }
