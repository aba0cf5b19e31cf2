// Shared by the benches (tb_uart.cpp, tb_ft245.cpp, mac_equiv.cpp, popcount_test.cpp): small
// helpers for a Verilated model with clk and rst ports, and their random stimulus.
#ifndef DOREFA_DRF_TB_H
#define DOREFA_DRF_TB_H

#include <cstdint>

// splitmix64: the next 64 random bits from *state (any seed, 0 included).
static inline uint64_t drf_tb_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Holds rst high for `cycles` full clock cycles, then releases it (the inputs are set beforehand).
template <class Model>
void drf_tb_reset(Model *top, int cycles)
{
    top->rst = 1;
    for (int i = 0; i < cycles; i++) {
        top->clk = 0;
        top->eval();
        top->clk = 1;
        top->eval();
    }
    top->rst = 0;
}

#endif
