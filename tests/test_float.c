/* The paper's float quantizers against hand-computed values, and the device's integer f_gamma
 * against the paper's float f_gamma in distribution (spec 4). */
#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "fgamma.h"
#include "float_ref.h"
#include "lfsr.h"
#include "test_util.h"

Suite *suite_float(void);

/* Outputs are stored as float: compare to within a few float ulps of values up to 4. */
#define FTOL 1e-6
/* Deviations the statistical checks allow: 5 binomial standard deviations, plus SLACK_COUNTS
 * events (the normal approximation understates the tail of a rare event, p ~ 1/T) and the
 * device's 2^-16 truncation of x (spec 4, bias bound). */
#define NSIGMA 5.0
#define SLACK_COUNTS 3.0
#define TRUNC 0x1.0p-16

#define ROW 64
#define ROW_M 30000

static void check_all(const float *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq_tol(got[i], want[i], FTOL);
}

/* ---- Eqn 5 ---------------------------------------------------------------------------------- */

START_TEST(test_quantize_k)
{
    /* round((2^k - 1) r) / (2^k - 1), with only dyadic r so that (2^k - 1) r is exact. */
    ck_assert_double_eq_tol(quantize_k(0.0, 1), 0.0, 1e-15);
    ck_assert_double_eq_tol(quantize_k(1.0, 1), 1.0, 1e-15);
    ck_assert_double_eq_tol(quantize_k(0.0, 8), 0.0, 1e-15);
    ck_assert_double_eq_tol(quantize_k(1.0, 8), 1.0, 1e-15);
    ck_assert_double_eq_tol(quantize_k(0.75, 1), 1.0, 1e-15);  /* round(0.75) = 1 */
    /* Ties: half to even. k = 1: round(0.5) = 0 (half away from zero would give 1). */
    ck_assert_double_eq_tol(quantize_k(0.5, 1), 0.0, 1e-15);
    /* k = 2: round(3 * 0.5) = round(1.5) = 2 -> 2/3. */
    ck_assert_double_eq_tol(quantize_k(0.5, 2), 2.0 / 3.0, 1e-15);
    /* k = 3: round(7 * 0.5) = round(3.5) = 4 -> 4/7. */
    ck_assert_double_eq_tol(quantize_k(0.5, 3), 4.0 / 7.0, 1e-15);
    /* k = 8: round(255 * 0.5) = round(127.5) = 128 -> 128/255. */
    ck_assert_double_eq_tol(quantize_k(0.5, 8), 128.0 / 255.0, 1e-15);
    /* Not ties. */
    ck_assert_double_eq_tol(quantize_k(0.25, 2), 1.0 / 3.0, 1e-15);   /* round(0.75) = 1 */
    ck_assert_double_eq_tol(quantize_k(0.75, 2), 2.0 / 3.0, 1e-15);   /* round(2.25) = 2 */
    ck_assert_double_eq_tol(quantize_k(0.0625, 3), 0.0, 1e-15);       /* round(0.4375) = 0 */
    ck_assert_double_eq_tol(quantize_k(0.125, 3), 1.0 / 7.0, 1e-15);  /* round(0.875) = 1 */
    ck_assert_double_eq_tol(quantize_k(0.25, 8), 64.0 / 255.0, 1e-15); /* round(63.75) = 64 */
    ck_assert_double_eq_tol(quantize_k(0.9375, 4), 14.0 / 15.0, 1e-15); /* round(14.0625) */
}
END_TEST

/* ---- Eqns 7 and 9: f_omega ------------------------------------------------------------------ */

START_TEST(test_fw_1bit)
{
    /* E|r| = (0.5 + 1.25 + 0 + 0.75 + 1.5) / 5 = 4 / 5 = 0.8; sign(0) = +1. */
    const float r[5] = {0.5f, -1.25f, 0.0f, 0.75f, -1.5f};
    const double want[5] = {0.8, -0.8, 0.8, 0.8, -0.8};
    float out[5];
    fw_quantize(r, 5, 1, out);
    check_all(out, want, 5);

    /* All-zero layer: E = 0, every output 0. */
    const float z[3] = {0.0f, 0.0f, 0.0f};
    const double zw[3] = {0.0, 0.0, 0.0};
    fw_quantize(z, 3, 1, out);
    check_all(out, zw, 3);
}
END_TEST

START_TEST(test_fw_kbit)
{
    /* r chosen so tanh(r) is rational: tanh(ln a) = (a^2 - 1) / (a^2 + 1).
     *   tanh(ln 3) = 8/10 = 0.8, tanh(-ln 2) = -3/5 = -0.6, tanh(+-ln 1.5) = +-5/13, tanh(0) = 0.
     * max|tanh| = 0.8, so y = tanh(r) / 1.6 + 1/2:
     *   ln 3 -> 1,  -ln 2 -> 1/8,  ln 1.5 -> 1/2 + 25/104 = 77/104,  0 -> 1/2,
     *   -ln 1.5 -> 1/2 - 25/104 = 27/104. */
    const float r[5] = {(float)log(3.0), (float)-log(2.0), (float)log(1.5), 0.0f,
                        (float)-log(1.5)};
    float out[5];

    /* k = 2 (n = 3): 3y = 3, 0.375, 2.221, 1.5, 0.779 -> codes 3, 0, 2, 2 (tie to even), 1;
     * out = 2c/3 - 1. */
    const double want2[5] = {1.0, -1.0, 1.0 / 3.0, 1.0 / 3.0, -1.0 / 3.0};
    fw_quantize(r, 5, 2, out);
    check_all(out, want2, 5);

    /* k = 3 (n = 7): 7y = 7, 0.875, 5.183, 3.5, 1.817 -> codes 7, 1, 5, 4 (tie to even), 2;
     * out = 2c/7 - 1. */
    const double want3[5] = {1.0, -5.0 / 7.0, 3.0 / 7.0, 1.0 / 7.0, -3.0 / 7.0};
    fw_quantize(r, 5, 3, out);
    check_all(out, want3, 5);

    /* k = 32: a copy. */
    fw_quantize(r, 5, 32, out);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(out[i], r[i]);

    /* All-zero layer: tanh/max taken as 0, so 2 quantize_k(1/2) - 1 = 2 * 2^(k-1)/n - 1 = 1/n. */
    const float z[2] = {0.0f, 0.0f};
    fw_quantize(z, 2, 2, out);
    ck_assert_double_eq_tol(out[0], 1.0 / 3.0, FTOL);
    ck_assert_double_eq_tol(out[1], 1.0 / 3.0, FTOL);
    fw_quantize(z, 2, 8, out);
    ck_assert_double_eq_tol(out[0], 1.0 / 255.0, FTOL);
    ck_assert_double_eq_tol(out[1], 1.0 / 255.0, FTOL);
}
END_TEST

/* ---- Eqn 11: f_alpha ------------------------------------------------------------------------ */

START_TEST(test_fa)
{
    /* clip to [0, 1]: 0, 0, 0.2, 0.5, 0.75, 1, 1. */
    const float r[7] = {-0.5f, 0.0f, 0.2f, 0.5f, 0.75f, 1.0f, 1.7f};
    float out[7];
    /* k = 2: 3x = 0, 0, 0.6, 1.5, 2.25, 3, 3 -> 0, 0, 1, 2 (tie to even), 2, 3, 3. */
    const double want2[7] = {0.0, 0.0, 1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 1.0, 1.0};
    fa_quantize(r, 7, 2, out);
    check_all(out, want2, 7);
    /* k = 1: x = 0, 0, 0.2, 0.5, 0.75, 1, 1 -> 0, 0, 0, 0 (tie to even), 1, 1, 1. */
    const double want1[7] = {0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0};
    fa_quantize(r, 7, 1, out);
    check_all(out, want1, 7);
    /* k = 32: clip only. */
    const double want32[7] = {0.0, 0.0, 0.2, 0.5, 0.75, 1.0, 1.0};
    fa_quantize(r, 7, 32, out);
    check_all(out, want32, 7);
}
END_TEST

/* ---- Eqn 12: f_gamma, float ----------------------------------------------------------------- */

START_TEST(test_fg_hand)
{
    /* k = 2, n = 3. Code c = round(3 (dr/(2m) + 1/2) + sigma) = round(x + sigma) after the clip,
     * out = 2m (c/3 - 1/2) = m (2c - 3) / 3.
     * Row 0, m = 4, x = 3 (dr + 4) / 8:
     *   dr = -4: x = 0,     sigma -0.49 -> y < 0, clipped to 0  -> c 0 -> -4
     *   dr = -1: x = 1.125, sigma -0.3  -> 0.825              -> c 1 -> -4/3
     *   dr =  0: x = 1.5,   sigma -0.25 -> 1.25               -> c 1 -> -4/3
     *   dr =  2: x = 2.25,  sigma  0.3  -> 2.55               -> c 3 -> 4
     *   dr =  4: x = 3,     sigma  0.49 -> y > 1, clipped to 1 -> c 3 -> 4
     * Row 1, m = 1 (its own max, not row 0's), x = 3 (dr + 1) / 2:
     *   dr = 0.5:  x = 2.25,  sigma  0.2  -> 2.45  -> c 2 -> 1/3
     *   dr = -1:   x = 0,     sigma  0.4  -> 0.4   -> c 0 -> -1
     *   dr = 0.25: x = 1.875, sigma -0.4  -> 1.475 -> c 1 -> -1/3
     *   dr = 0:    x = 1.5,   sigma  0    -> 1.5 exactly, tie to even -> c 2 -> 1/3
     *   dr = 0:    x = 1.5,   sigma  0.4  -> 1.9   -> c 2 -> 1/3
     * Row 2, all zeros (m = 0): 0 whatever sigma. */
    const float dr[15] = {-4.0f, -1.0f, 0.0f, 2.0f, 4.0f,  0.5f, -1.0f, 0.25f,
                          0.0f,  0.0f,  0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    const float sigma[15] = {-0.49f, -0.3f, -0.25f, 0.3f, 0.49f, 0.2f,  0.4f, -0.4f,
                             0.0f,   0.4f,  0.3f,   -0.3f, 0.0f, 0.49f, -0.49f};
    const double want[15] = {-4.0, -4.0 / 3.0, -4.0 / 3.0, 4.0, 4.0, 1.0 / 3.0, -1.0, -1.0 / 3.0,
                             1.0 / 3.0, 1.0 / 3.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    float out[15];
    fg_quantize(dr, 3, 5, 2, sigma, out);
    check_all(out, want, 15);

    /* k = 2, row 0 again with other noise: dr = -4, sigma 0.4 -> 0.4 -> c 0 -> -4;
     * dr = -1, sigma 0.4 -> 1.525 -> c 2 -> 4/3; dr = 0, sigma 0.25 -> 1.75 -> c 2 -> 4/3;
     * dr = 2, sigma 0.2 -> 2.45 -> c 2 -> 4/3; dr = 4, sigma -0.49 -> 2.51 -> c 3 -> 4. */
    const float sigma2[5] = {0.4f, 0.4f, 0.25f, 0.2f, -0.49f};
    const double want2[5] = {-4.0, 4.0 / 3.0, 4.0 / 3.0, 4.0 / 3.0, 4.0};
    fg_quantize(dr, 1, 5, 2, sigma2, out);
    check_all(out, want2, 5);

    /* k = 4, n = 15, row 0: x = 15 (dr + 4) / 8 = 0, 5.625, 7.5, 11.25, 15; sigma 0 for all:
     * c = 0, 6, 8 (tie to even), 11, 15; out = 4 (2c - 15) / 15. */
    const float zero[5] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    const double want4[5] = {-4.0, -12.0 / 15.0, 4.0 / 15.0, 28.0 / 15.0, 4.0};
    fg_quantize(dr, 1, 5, 4, zero, out);
    check_all(out, want4, 5);

    /* The clip to [0, 1] shows only at sigma = +1/2, the excluded end of its range: dr = m gives
     * 3 (1 + 0.5/3) = 3.5, which rounds (half to even) to 4 -> 20/3 unclipped; clipped, c 3 -> 4. */
    const float top = 4.0f, half = 0.5f;
    fg_quantize(&top, 1, 1, 2, &half, out);
    ck_assert_double_eq_tol(out[0], 4.0, FTOL);

    /* k = 32: a copy, no noise. */
    fg_quantize(dr, 3, 5, 32, sigma, out);
    for (int i = 0; i < 15; i++)
        ck_assert_float_eq(out[i], dr[i]);
}
END_TEST

/* ---- Float f_gamma vs the device's integer f_gamma ------------------------------------------ */

/* A fixed i16 row with max |g| = ROW_M: both extremes, zeros, +-small values, simple fractions of
 * the range, and the rest from a fixed seed. */
static void make_row(int16_t *g)
{
    static const int16_t fixed[] = {ROW_M, -ROW_M, 0, 0, 0, 0, 1, -1, 2, -2, 3, -7,
                                    15000, -15000, 10000, -20000, 29999, -29999, 100, -100};
    size_t nf = sizeof fixed / sizeof fixed[0];
    uint64_t seed = 0x5EEDF1047ull;
    for (size_t e = 0; e < ROW; e++)
        g[e] = e < nf ? fixed[e] : (int16_t)((int32_t)tu_below(&seed, 2 * ROW_M - 1) - (ROW_M - 1));
}

/* A noise value sigma in (-1/2, 1/2), exact in float: an odd multiple of 2^-25, so that x + sigma
 * never lands on a rounding tie. */
static float draw_sigma(uint64_t *s)
{
    int32_t j = (int32_t)(tu_next(s) >> 40); /* 0 .. 2^24 - 1 */
    return (float)ldexp(2.0 * j + 1.0 - 0x1.0p24, -25);
}

/* A non-zero LFSR seed. */
static uint32_t draw_seed(uint64_t *s)
{
    uint32_t v;
    do
        v = (uint32_t)tu_next(s);
    while (v == 0);
    return v;
}

#define DIST_TRIALS 4000

START_TEST(test_fg_float_vs_device)
{
    int16_t g[ROW];
    float gf[ROW], sigma[ROW], out[ROW];
    uint8_t codes[ROW];
    int32_t m_dev;
    make_row(g);
    for (int e = 0; e < ROW; e++)
        gf[e] = (float)g[e];
    uint64_t noise = 0xF1047D15ull;
    uint32_t lfsr = 0x00C0FFEEu; /* continues across trials and bitwidths */
    static const unsigned gbits[] = {1, 2, 4, 8};

    for (size_t gi = 0; gi < sizeof gbits / sizeof gbits[0]; gi++) {
        unsigned G = gbits[gi];
        int64_t n = ((int64_t)1 << G) - 1;
        /* x = n (g + m) / (2m) = lo + rem / (2m), exactly. */
        int64_t lo[ROW], rem[ROW];
        for (int e = 0; e < ROW; e++) {
            lo[e] = n * (g[e] + ROW_M) / (2 * ROW_M);
            rem[e] = n * (g[e] + ROW_M) % (2 * ROW_M);
        }
        long up_i[ROW] = {0}, up_f[ROW] = {0}, bad_i[ROW] = {0}, bad_f[ROW] = {0};

        for (int t = 0; t < DIST_TRIALS; t++) {
            fgamma_quantize(g, 1, ROW, G, &lfsr, codes, &m_dev);
            ck_assert_int_eq(m_dev, ROW_M);
            for (int e = 0; e < ROW; e++)
                sigma[e] = draw_sigma(&noise);
            fg_quantize(gf, 1, ROW, (int)G, sigma, out);
            for (int e = 0; e < ROW; e++) {
                int64_t ci = codes[e];
                int64_t cf = (int64_t)nearbyint(out[e] * (double)n / (2.0 * ROW_M) + n / 2.0);
                bad_i[e] += ci != lo[e] && ci != lo[e] + 1;
                bad_f[e] += cf != lo[e] && cf != lo[e] + 1;
                up_i[e] += ci == lo[e] + 1;
                up_f[e] += cf == lo[e] + 1;
            }
        }

        for (int e = 0; e < ROW; e++) {
            /* (a) Only floor(x) and floor(x) + 1; an integer x is never rounded away. */
            ck_assert_msg(bad_i[e] == 0 && bad_f[e] == 0,
                          "G=%u g[%d]=%d: codes outside {%lld, %lld}: device %ld, float %ld", G,
                          e, g[e], (long long)lo[e], (long long)lo[e] + 1, bad_i[e], bad_f[e]);
            if (rem[e] == 0) {
                ck_assert_msg(up_i[e] == 0 && up_f[e] == 0, "G=%u g[%d]=%d: integer x rounded up",
                              G, e, g[e]);
                continue;
            }
            /* (b) P(upper code) = frac(x) for both, within 5 binomial sigma. */
            double p = (double)rem[e] / (2.0 * ROW_M);
            double T = DIST_TRIALS;
            double tol = NSIGMA * sqrt(T * p * (1.0 - p)) + SLACK_COUNTS + T * TRUNC;
            ck_assert_msg(fabs(up_i[e] - T * p) <= tol,
                          "G=%u g[%d]=%d: device upper-code count %ld, expected %.1f +- %.1f", G,
                          e, g[e], up_i[e], T * p, tol);
            ck_assert_msg(fabs(up_f[e] - T * p) <= tol,
                          "G=%u g[%d]=%d: float upper-code count %ld, expected %.1f +- %.1f", G,
                          e, g[e], up_f[e], T * p, tol);
            /* (c) The two mean codes agree: the difference of two independent binomial means has
             * variance 2 p (1 - p) / T. */
            double diff = (double)(up_i[e] - up_f[e]) / T;
            double tol2 = NSIGMA * sqrt(2.0 * p * (1.0 - p) / T) + (2.0 * SLACK_COUNTS) / T + TRUNC;
            ck_assert_msg(fabs(diff) <= tol2,
                          "G=%u g[%d]=%d: mean codes differ by %g (bound %g)", G, e, g[e], diff,
                          tol2);
        }
    }
}
END_TEST

/* ---- Unbiasedness of the integer f_gamma (spec 4, bias bound) -------------------------------- */

#define BIAS_TRIALS 20000
#define BIAS_RESEED 1000 /* a fresh LFSR seed every this many trials, the state continuing between */

START_TEST(test_fg_device_unbiased)
{
    /* Row 0: the fixed row (m = 30000). Row 1: a small range, m = 7, x on a coarse grid. */
    int16_t g[2 * ROW];
    make_row(g);
    uint64_t gen = 0xB1A5ull;
    for (int e = 0; e < ROW; e++)
        g[ROW + e] = e == 5 ? -7 : (int16_t)((int32_t)tu_below(&gen, 15) - 7);
    const int32_t row_m[2] = {ROW_M, 7};

    uint8_t codes[2 * ROW];
    int32_t m_dev[2];
    uint64_t seeds = 0x5EED5ull;

    for (unsigned G = 1; G <= 8; G++) {
        int64_t n = ((int64_t)1 << G) - 1;
        uint64_t sum[2 * ROW] = {0};
        uint32_t lfsr = 1;
        for (int t = 0; t < BIAS_TRIALS; t++) {
            if (t % BIAS_RESEED == 0)
                lfsr = draw_seed(&seeds);
            fgamma_quantize(g, 2, ROW, G, &lfsr, codes, m_dev);
            for (int i = 0; i < 2 * ROW; i++)
                sum[i] += codes[i];
        }
        ck_assert_int_eq(m_dev[0], row_m[0]);
        ck_assert_int_eq(m_dev[1], row_m[1]);

        for (int i = 0; i < 2 * ROW; i++) {
            double m = row_m[i / ROW];
            double T = BIAS_TRIALS;
            double step = 2.0 * m / (double)n; /* one code step in input units */
            double x = (double)n * (g[i] + m) / (2.0 * m);
            double p = x - floor(x);
            double mean_c = (double)sum[i] / T;
            double mean = m * (2.0 * mean_c - (double)n) / (double)n;
            double sd = step * sqrt(p * (1.0 - p));
            double tol = NSIGMA * sd / sqrt(T) + step * (TRUNC + SLACK_COUNTS / T);
            ck_assert_msg(fabs(mean - g[i]) <= tol,
                          "G=%u row %d g[%d]=%d: mean dequantized %.6f, bound %.6f", G, i / ROW,
                          i % ROW, g[i], mean, tol);
        }
    }
}
END_TEST

START_TEST(test_fg_device_zero_row)
{
    /* m = 0: Q = n 2^15, c = (n - 1)/2 + (U >= 2^15), value m (2c - n)/n = 0 exactly; the mean of
     * 2c - n (each +-1) is within 5 / sqrt(T) of 0. One draw per element is still consumed. */
    int16_t g[ROW] = {0};
    uint8_t codes[ROW];
    int32_t m_dev = -1;
    uint64_t seeds = 0x2E20ull;
    for (unsigned G = 1; G <= 8; G++) {
        int64_t n = ((int64_t)1 << G) - 1;
        long sum = 0, count = 0;
        uint32_t lfsr = draw_seed(&seeds);
        for (int t = 0; t < 1000; t++) {
            uint32_t before = lfsr;
            fgamma_quantize(g, 1, ROW, G, &lfsr, codes, &m_dev);
            ck_assert_int_eq(m_dev, 0);
            ck_assert_uint_eq(lfsr, lfsr_jump(before, 16u * ROW));
            for (int e = 0; e < ROW; e++) {
                ck_assert_msg(codes[e] == (n - 1) / 2 || codes[e] == (n + 1) / 2,
                              "G=%u: code %u for a zero row", G, (unsigned)codes[e]);
                sum += 2 * (long)codes[e] - n;
                count++;
            }
        }
        double mean = (double)sum / (double)count;
        ck_assert_msg(fabs(mean) <= NSIGMA / sqrt((double)count),
                      "G=%u: zero-row mean of 2c - n is %g", G, mean);
    }
}
END_TEST

Suite *suite_float(void)
{
    Suite *s = suite_create("float");
    TCase *tc = tcase_create("paper");
    tcase_add_test(tc, test_quantize_k);
    tcase_add_test(tc, test_fw_1bit);
    tcase_add_test(tc, test_fw_kbit);
    tcase_add_test(tc, test_fa);
    tcase_add_test(tc, test_fg_hand);
    suite_add_tcase(s, tc);

    TCase *td = tcase_create("device_agreement");
    tcase_set_timeout(td, 300);
    tcase_add_test(td, test_fg_float_vs_device);
    tcase_add_test(td, test_fg_device_unbiased);
    tcase_add_test(td, test_fg_device_zero_row);
    suite_add_tcase(s, td);
    return s;
}
