/* The paper's float quantizers (Zhou et al. 2016, Eqns 5-12), the host-side reference. */
#ifndef DOREFA_FLOAT_REF_H
#define DOREFA_FLOAT_REF_H

#include <stddef.h>

/* Eqn 5: round((2^k - 1) r) / (2^k - 1) for r in [0, 1]; round half to even. */
double quantize_k(double r, int k);

/* Eqn 9 (k > 1) and Eqn 7 (k = 1, sign(r) * E|r|; sign(0) = +1); k = 32: copy. Over the layer. */
void fw_quantize(const float *r, size_t n, int k, float *out);

/* Eqn 11: quantize_k(clip(r, 0, 1)); k = 32: clip only. */
void fa_quantize(const float *r, size_t n, int k, float *out);

/* Eqn 12 with the reference code's clip: rows of `cols` values, one m per row (sample);
 * sigma[i] in [-0.5, 0.5) is the noise for element i. m = 0 rows give 0. */
void fg_quantize(const float *dr, size_t rows, size_t cols, int k, const float *sigma, float *out);

#endif
