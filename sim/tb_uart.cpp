// Bench of rtl/drf_uart.v: a host UART line model on the other side. The host sends random bytes
// with its baud clock off by up to +-1.5 % and random gaps; the device side takes them with a
// randomly stalling rx_ready and sends each one back through tx_valid / tx_ready (back-pressure:
// tx_ready is low while a character is on the line); the host decodes the line and must get every
// byte back, in order, with no framing or overrun errors. Exit status 0 on success.
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <vector>

#include "Vdrf_uart.h"
#include "verilated.h"

#include "drf_tb.h"

namespace {

const int kCpb = 9; // matches -GCLKS_PER_BIT in mk/device.mk (the iCEBreaker's 27 MHz / 3 Mbaud)
const int kBytes = 3000;

uint64_t rng = 12345;
uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

// The host's transmitter: a byte becomes line levels at fractional bit times.
struct HostTx {
    double bit = kCpb, t = 0; // bit length in cycles (skewed), time into the character
    std::deque<uint8_t> q;
    int cur = -1;
    double gap = 0;
    int level(void)
    {
        if (cur < 0) {
            if (gap > 0 || q.empty()) {
                gap -= 1;
                return 1;
            }
            cur = q.front();
            q.pop_front();
            t = 0;
        }
        int b = (int)(t / bit);
        int v = b == 0 ? 0 : b <= 8 ? (cur >> (b - 1)) & 1 : 1;
        t += 1;
        if (t >= 10 * bit) {
            cur = -1;
            gap = rnd(4) ? 0 : rnd(3 * kCpb);
        }
        return v;
    }
};

// The host's receiver: start edge, then samples in the middle of each (skewed) bit.
struct HostRx {
    double bit = kCpb, t = -1;
    int prev = 1, errors = 0;
    uint8_t shift = 0;
    std::vector<uint8_t> got;
    void sample(int v)
    {
        if (t < 0) {
            if (prev && !v) t = 0;
        } else {
            t += 1;
            int b = (int)(t / bit - 0.5);
            double mid = (b + 0.5) * bit;
            if (t >= mid && t < mid + 1) {
                if (b >= 1 && b <= 8) shift = (uint8_t)((shift >> 1) | (v << 7));
                if (b == 9) {
                    if (!v) errors++;
                    got.push_back(shift);
                    t = -1;
                }
            }
        }
        prev = v;
    }
};

} // namespace

int main(int argc, char **argv)
{
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Vdrf_uart>(ctx.get());
    HostTx htx;
    HostRx hrx;
    htx.bit = kCpb * 1.015;
    hrx.bit = kCpb * 0.985;
    std::vector<uint8_t> sent;
    for (int i = 0; i < kBytes; i++) {
        uint8_t b = (uint8_t)rnd(256);
        if (i < 4) b = (uint8_t)(i & 1 ? 0xFF : 0x00);
        htx.q.push_back(b);
        sent.push_back(b);
    }
    std::deque<uint8_t> loop; // bytes the device side received, to send back
    int overruns = 0, frame_errs = 0, stalls = 0;
    top->rxd = 1;
    drf_tb_reset(top.get(), 4);
    for (uint64_t cyc = 0; cyc < (uint64_t)kBytes * 12 * kCpb * 2 && hrx.got.size() < sent.size();
         cyc++) {
        top->rxd = htx.level();
        top->rx_ready = rnd(4) != 0;
        top->tx_valid = !loop.empty() && rnd(3) != 0;
        top->tx_data = loop.empty() ? 0 : loop.front();
        top->clk = 0;
        top->eval();
        bool rx_take = top->rx_valid && top->rx_ready;
        bool tx_take = top->tx_valid && top->tx_ready;
        if (top->tx_valid && !top->tx_ready) stalls++;
        uint8_t rxb = top->rx_data;
        hrx.sample(top->txd);
        top->clk = 1;
        top->eval();
        overruns += top->rx_overrun;
        frame_errs += top->rx_frame_err;
        if (rx_take) loop.push_back(rxb);
        if (tx_take) loop.pop_front();
    }
    top->final();
    bool ok = hrx.got == sent && !overruns && !frame_errs && !hrx.errors && stalls > 0;
    printf("uart: %zu of %zu bytes back, %d overruns, %d framing errors (device), %d (host), "
           "%d tx back-pressure cycles: %s\n",
           hrx.got.size(), sent.size(), overruns, frame_errs, hrx.errors, stalls,
           ok ? "pass" : "FAIL");
    if (!ok)
        for (size_t i = 0; i < hrx.got.size() && i < sent.size(); i++)
            if (hrx.got[i] != sent[i]) {
                printf("uart: first difference at byte %zu: sent %02X got %02X\n", i, sent[i],
                       hrx.got[i]);
                break;
            }
    return ok ? 0 : 1;
}
