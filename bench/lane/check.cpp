// bench/lane: the generated carry-chain AND-popcount (SB_LUT4 and SB_CARRY from Yosys' cells_sim.v)
// against __builtin_popcountll(a & b): single bits, all-ones, and random words of every density.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "Vand_popcount_carry.h"
#include "../../tests/test_util.h"
#include "verilated.h"

static uint64_t rng_state = 1;

// A word whose bits are set with probability about d/8 (d = 0 .. 8).
static uint64_t dense_word(void)
{
    unsigned d = (unsigned)(tu_next(&rng_state) % 9);
    uint64_t x = 0;
    for (int k = 0; k < 64; k++)
        if (tu_next(&rng_state) % 8 < d) x |= 1ull << k;
    return x;
}

int main(int argc, char **argv)
{
    unsigned long words = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
    rng_state = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<Vand_popcount_carry>(ctx.get());
    unsigned long mismatches = 0, seen[65] = {0};
    for (unsigned long t = 0; t < words; t++) {
        uint64_t a, b;
        if (t < 64) { a = 1ull << t; b = ~0ull; }                   // one product at a time
        else if (t < 128) { a = ~0ull; b = ~(1ull << (t - 64)); }   // all but one
        else if (t == 128) { a = b = ~0ull; }
        else { a = dense_word(); b = t % 3 ? dense_word() : ~0ull; }
        top->a = a;
        top->b = b;
        top->eval();
        unsigned want = (unsigned)__builtin_popcountll(a & b);
        seen[want]++;
        if (top->count != want && mismatches++ < 5)
            std::printf("lane-check: a=%016llx b=%016llx: got %u, want %u (seed %llu)\n",
                        (unsigned long long)a, (unsigned long long)b, (unsigned)top->count, want,
                        (unsigned long long)(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1));
    }
    unsigned missing = 0;
    for (int c = 0; c <= 64; c++) missing += seen[c] == 0;
    top->final();
    std::printf("lane-check: carry-chain AND-popcount, %lu words, %lu mismatches, %u counts unseen\n",
                words, mismatches, missing);
    return mismatches || missing ? 1 : 0;
}
