/* Small helpers shared by the test suites. */
#ifndef DOREFA_TEST_UTIL_H
#define DOREFA_TEST_UTIL_H

#include <stdint.h>

/* splitmix64: a deterministic test-input generator, independent of the device's LFSR. */
static inline uint64_t tu_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform integer in [0, n). */
static inline uint32_t tu_below(uint64_t *s, uint32_t n) { return (uint32_t)(tu_next(s) % n); }
/* Uniform double in [0, 1). */
static inline double tu_unit(uint64_t *s) { return (double)(tu_next(s) >> 11) * 0x1.0p-53; }

#endif
