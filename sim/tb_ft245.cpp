// Bench of rtl/drf_ft245.v: a model of the FTDI chip's synchronous FIFO on the other side. The
// host queues random bytes (RXF# low while the FTDI holds some, with random gaps) and drains what
// the FPGA writes (TXE# high at random: a full FIFO); the device side takes bytes with a randomly
// stalling rx_ready and sends each one back. Checks: every byte comes back in order, no byte is
// read without OE#, the FPGA never drives the bus while OE# is low, writes only with the bus
// driven. Exit status 0 on success.
#include <cstdio>
#include <deque>
#include <memory>
#include <vector>

#include "Vdrf_ft245.h"
#include "verilated.h"

#include "drf_tb.h"

namespace {
uint64_t rng = 777;
uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}
} // namespace

int main(int argc, char **argv)
{
    const size_t kBytes = 20000;
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Vdrf_ft245>(ctx.get());
    std::deque<uint8_t> host_q, loop;
    std::vector<uint8_t> sent, got;
    for (size_t i = 0; i < kBytes; i++) {
        uint8_t b = (uint8_t)rnd(256);
        host_q.push_back(b);
        sent.push_back(b);
    }
    int violations = 0, rx_stall = 0, tx_full = 0;
    top->ft_rxf_n = 1;
    top->ft_txe_n = 1;
    drf_tb_reset(top.get(), 4);
    int rxf_gap = 0, txe_full = 0;
    uint64_t cyc;
    for (cyc = 0; cyc < kBytes * 20 && got.size() < sent.size(); cyc++) {
        // The FTDI's flags for this cycle: bursts of data with gaps, a FIFO full now and then.
        if (rxf_gap > 0) rxf_gap--;
        else if (rnd(200) == 0) rxf_gap = (int)rnd(20);
        if (txe_full > 0) txe_full--;
        else if (rnd(100) == 0) txe_full = (int)rnd(30);
        top->ft_rxf_n = host_q.empty() || rxf_gap > 0;
        top->ft_txe_n = txe_full > 0;
        top->rx_ready = rnd(5) != 0;
        top->tx_valid = !loop.empty() && rnd(4) != 0;
        top->tx_data = loop.empty() ? 0 : loop.front();
        top->clk = 0;
        top->eval();
        // The bus: the FTDI drives it while OE# is low.
        top->ft_data_in = !top->ft_oe_n && !host_q.empty() ? host_q.front() : (uint8_t)rnd(256);
        top->eval();
        if (!top->ft_oe_n && top->ft_data_oe) violations++;
        bool rd = !top->ft_rd_n && !top->ft_rxf_n;
        if (rd && top->ft_oe_n) violations++;
        bool wr = !top->ft_wr_n && !top->ft_txe_n;
        if (!top->ft_wr_n && !top->ft_data_oe) violations++;
        if (!top->ft_wr_n && top->ft_txe_n) tx_full++;
        bool rx_take = top->rx_valid && top->rx_ready;
        if (top->rx_valid && !top->rx_ready) rx_stall++;
        bool tx_take = top->tx_valid && top->tx_ready;
        uint8_t rxb = top->rx_data, wrb = top->ft_data_out;
        top->clk = 1;
        top->eval();
        if (rd) host_q.pop_front();
        if (wr) got.push_back(wrb);
        if (rx_take) loop.push_back(rxb);
        if (tx_take) loop.pop_front();
    }
    top->final();
    bool ok = got == sent && !violations && tx_full > 0 && rx_stall > 0;
    printf("ft245: %zu of %zu bytes back in %llu cycles, %d bus/strobe violations, %d cycles "
           "waiting on TXE#, %d cycles of rx back-pressure: %s\n",
           got.size(), sent.size(), (unsigned long long)cyc, violations, tx_full, rx_stall,
           ok ? "pass" : "FAIL");
    if (!ok)
        for (size_t i = 0; i < got.size() && i < sent.size(); i++)
            if (got[i] != sent[i]) {
                printf("ft245: first difference at byte %zu: sent %02X got %02X\n", i, sent[i],
                       got[i]);
                break;
            }
    return ok ? 0 : 1;
}
