// Equivalence of drf_mac's two forms: the behaviour (simulation and ECP5) and the iCE40 SB_MAC16
// instance, simulated with the primitive's model from Yosys' cells_sim.v. Random stimulus with
// the DPU's value ranges and the extremes; every accumulator value is compared, cycle by cycle.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "Vmac_beh.h"
#include "Vmac_prim.h"
#include "../tests/test_util.h"
#include "verilated.h"

static uint64_t rng_state = 1;
static uint64_t next_rand() { return tu_next(&rng_state); }

int main(int argc, char **argv)
{
    unsigned long cycles = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
    rng_state = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
    auto ctx = std::make_unique<VerilatedContext>();
    auto beh = std::make_unique<Vmac_beh>(ctx.get());
    auto prim = std::make_unique<Vmac_prim>(ctx.get());
    unsigned long mismatches = 0, loads = 0;
    for (unsigned long t = 0; t < cycles; t++) {
        uint64_t r = next_rand();
        // tiles of a few to a few hundred elements, each preceded by a clear (as drf_gemm does)
        uint8_t load = (r & 0xFF) < 3 || t < 2;
        uint8_t a = (uint8_t)((r >> 8) % 65);                 // a 64-bit popcount
        if (((r >> 16) & 0xF) == 0) a = 64;
        uint16_t b = (uint16_t)(1u << ((r >> 24) % 15));      // 2^(p+q), p + q <= 14
        if (((r >> 32) & 0x3F) == 0) b = (uint16_t)(r >> 40); // any 16-bit value
        beh->load = prim->load = load;
        beh->a = prim->a = a;
        beh->b_d = prim->b_d = b;
        beh->sub_d = prim->sub_d = (uint8_t)((r >> 56) & 1); // add or subtract
        beh->clk = prim->clk = 0;
        beh->eval();
        prim->eval();
        beh->clk = prim->clk = 1;
        beh->eval();
        prim->eval();
        loads += load;
        if (beh->acc != prim->acc && mismatches++ < 5)
            std::printf("mac-equiv: cycle %lu: behaviour %08x, SB_MAC16 %08x (load %u a %u b %u)\n",
                        t, beh->acc, prim->acc, load, a, b);
    }
    std::printf("mac-equiv: %lu cycles, %lu clears, %lu mismatches\n", cycles, loads, mismatches);
    return mismatches ? 1 : 0;
}
