// drf_popcount64 against __builtin_popcountll: random words of every density, the extremes and
// single bits, one per cycle, each count checked STAGES cycles after its word (the build sets
// STAGES and the model's prefix).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "Vpopcount.h"
#include "../tests/test_util.h"
#include "verilated.h"

static uint64_t rng_state = 1;
static uint64_t next_rand() { return tu_next(&rng_state); }

// A word whose bits are set with probability about d/8 (d = 0 .. 8), so every count is reached.
static uint64_t word(unsigned long t)
{
    if (t < 64) return 1ull << t;
    if (t < 128) return ~(1ull << (t - 64));
    unsigned d = (unsigned)(next_rand() % 9);
    uint64_t x = 0;
    for (int b = 0; b < 64; b++)
        if (next_rand() % 8 < d) x |= 1ull << b;
    return t % 97 == 0 ? ~0ull : t % 89 == 0 ? 0 : x;
}

int main(int argc, char **argv)
{
    unsigned long words = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
    rng_state = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<Vpopcount>(ctx.get());
    uint64_t hist[8] = {0};
    unsigned long mismatches = 0, seen[65] = {0};
    for (unsigned long t = 0; t < words + STAGES; t++) {
        uint64_t x = t < words ? word(t) : 0;
        hist[t % 8] = x;
        top->x = x;
        top->clk = 0;
        top->eval();
        top->clk = 1;
        top->eval();
        // after this edge, count is that of the word given STAGES - 1 cycles ago
        if (t + 1 >= STAGES) {
            uint64_t w = hist[(t + 1 - STAGES) % 8];
            unsigned want = (unsigned)__builtin_popcountll(w);
            seen[want]++;
            if (top->count != want && mismatches++ < 5)
                std::printf("popcount STAGES=%d: word %lu = %016llx: got %u, want %u\n", STAGES,
                            t + 1 - STAGES, (unsigned long long)w, (unsigned)top->count, want);
        }
    }
    unsigned missing = 0;
    for (unsigned c = 0; c <= 64; c++) missing += seen[c] == 0;
    top->final();
    std::printf("popcount STAGES=%d: %lu words, %lu mismatches, %u of 65 counts not reached\n",
                STAGES, words, mismatches, missing);
    return mismatches == 0 && missing == 0 ? 0 : 1;
}
