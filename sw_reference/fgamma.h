/* f_gamma in device semantics: per-sample max, exact scaling, LFSR stochastic rounding (spec 4). */
#ifndef DOREFA_FGAMMA_H
#define DOREFA_FGAMMA_H

#include <stdint.h>

/* Quantizes S rows of E i16 gradients g[s*E + e] to `bits`-bit codes codes[s*E + e], writes the
 * row maxima m[s] and advances *lfsr by one draw per element, in row-major order. */
void fgamma_quantize(const int16_t *g, uint32_t S, uint32_t E, unsigned bits, uint32_t *lfsr,
                     uint8_t *codes, int32_t *m);

/* The code for one element, given its row max m (0..32767), g (saturated) and the draw U. */
static inline uint8_t fgamma_code(int32_t g, int32_t m, unsigned bits, uint16_t U)
{
    uint64_t n = (1u << bits) - 1u;
    uint64_t Q = m > 0 ? (n * (uint64_t)(g + m) << 15) / (uint64_t)m : n << 15;
    return (uint8_t)((Q + U) >> 16);
}

#endif
