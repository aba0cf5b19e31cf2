/* The paper's float quantizers (Zhou et al. 2016, Eqns 5-12), computed in double, stored as float.
 * They follow the public reference code (tensorpack examples/DoReFa-Net/dorefa.py) where the paper
 * leaves a detail open; each such choice is noted where it is made. */
#include "float_ref.h"

#include <math.h>

/* Bitwidth 32 means "no quantization" for that operand. */
#define FULL_PRECISION 32

/* 2^k - 1, the number of steps of a k-bit code. */
static double levels(int k)
{
    return ldexp(1.0, k) - 1.0;
}

double quantize_k(double r, int k)
{
    double n = levels(k);
    /* nearbyint under the default rounding mode rounds half to even, as tf.round does. */
    return nearbyint(n * r) / n;
}

void fw_quantize(const float *r, size_t n, int k, float *out)
{
    if (k == FULL_PRECISION) {
        for (size_t i = 0; i < n; i++)
            out[i] = r[i];
        return;
    }
    if (k == 1) {
        /* Eqn 7: sign(r) * E(|r|), E the mean over the layer. sign(0) = +1 (and -0 counts as 0),
         * as the later reference code has it (tf.where(x == 0, 1, sign(x / E)) * E) so that every
         * weight takes one of the two levels; the first release used tf.sign, giving 0 there. */
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += fabs((double)r[i]);
        double e = n > 0 ? sum / (double)n : 0.0;
        for (size_t i = 0; i < n; i++)
            out[i] = (float)(r[i] >= 0.0f ? e : -e);
        return;
    }
    /* Eqn 9: 2 quantize_k(tanh(r) / (2 max|tanh(r)|) + 1/2) - 1, max over the layer. */
    double max_t = 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = fabs(tanh((double)r[i]));
        if (t > max_t)
            max_t = t;
    }
    for (size_t i = 0; i < n; i++) {
        /* An all-zero layer makes tanh(r)/max 0/0 (NaN in the reference code); it is taken as 0,
         * the value every r = 0 element of a non-zero layer gets. The formula then gives
         * 2 quantize_k(1/2) - 1 = +1/(2^k - 1), not 0: n = 2^k - 1 is odd, so the levels
         * 2i/n - 1 are odd multiples of 1/n and n/2 rounds (half to even) up to 2^(k-1). */
        double y = max_t > 0.0 ? tanh((double)r[i]) / (2.0 * max_t) : 0.0;
        out[i] = (float)(2.0 * quantize_k(y + 0.5, k) - 1.0);
    }
}

void fa_quantize(const float *r, size_t n, int k, float *out)
{
    for (size_t i = 0; i < n; i++) {
        /* Eqn 11 with h = clip to [0, 1], the bounded activation the quantizer assumes. */
        double x = fmin(fmax((double)r[i], 0.0), 1.0);
        out[i] = (float)(k == FULL_PRECISION ? x : quantize_k(x, k));
    }
}

void fg_quantize(const float *dr, size_t rows, size_t cols, int k, const float *sigma, float *out)
{
    double n = levels(k);
    for (size_t s = 0; s < rows; s++) {
        const float *g = dr + s * cols;
        float *o = out + s * cols;
        const float *u = sigma + s * cols;
        if (k == FULL_PRECISION) { /* as the reference code's fg: no quantization, no noise */
            for (size_t e = 0; e < cols; e++)
                o[e] = g[e];
            continue;
        }
        /* m = max|dr| over all axes but the batch axis: one m per row (sample). */
        double m = 0.0;
        for (size_t e = 0; e < cols; e++)
            if (fabs((double)g[e]) > m)
                m = fabs((double)g[e]);
        for (size_t e = 0; e < cols; e++) {
            if (m == 0.0) {
                /* The reference code divides by m (NaN); an all-zero row carries no gradient. */
                o[e] = 0.0f;
                continue;
            }
            /* Eqn 12 as the reference code does it: add N(k) = sigma/n, clip to [0, 1], then
             * quantize. For sigma in [-1/2, 1/2) the clip changes no code (in code steps x + sigma
             * stays in [-1/2, n + 1/2), and -1/2 rounds to 0); it keeps sigma = +1/2 in range. */
            double x = (double)g[e] / (2.0 * m) + 0.5 + (double)u[e] / n;
            x = fmin(fmax(x, 0.0), 1.0);
            o[e] = (float)(2.0 * m * (quantize_k(x, k) - 0.5));
        }
    }
}
