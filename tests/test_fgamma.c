/* f_gamma in device semantics (spec 4): the exact recipe, range, determinism, known answers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fgamma.h"
#include "lfsr.h"
#include "test_util.h"

/* spec 10.2: one row, seed 0x12345678, every G. */
static const int16_t kat_g[8] = {1000, -1000, 0, 250, -32768, 32767, -1, 7};
static const uint8_t kat_codes[8][8] = {
    {0, 0, 0, 1, 0, 1, 0, 1},           {1, 1, 1, 2, 0, 3, 1, 2},
    {3, 3, 3, 4, 0, 7, 3, 4},           {7, 7, 7, 8, 0, 15, 7, 8},
    {16, 15, 15, 16, 0, 31, 15, 16},    {32, 30, 31, 32, 0, 63, 31, 32},
    {65, 62, 63, 64, 0, 127, 63, 64},   {131, 124, 127, 128, 0, 255, 127, 128},
};

START_TEST(test_known_answers)
{
    for (unsigned G = 1; G <= 8; G++) {
        uint8_t c[8];
        int32_t m;
        uint32_t s = 0x12345678u;
        fgamma_quantize(kat_g, 1, 8, G, &s, c, &m);
        ck_assert_int_eq(m, 32767); /* -32768 saturates to -32767 */
        ck_assert_mem_eq(c, kat_codes[G - 1], 8);
        ck_assert_uint_eq(s, 0xCBCDCE8Du); /* 8 draws */
    }
    /* two rows, the first all zero (m = 0: x = n/2) */
    static const int16_t g2[8] = {0, 0, 0, 0, 3, -3, 1, -1};
    static const uint8_t want2[8] = {1, 1, 1, 2, 3, 0, 2, 1};
    uint8_t c[8];
    int32_t m[2];
    uint32_t s = 0x12345678u;
    fgamma_quantize(g2, 2, 4, 2, &s, c, m);
    ck_assert_int_eq(m[0], 0);
    ck_assert_int_eq(m[1], 3);
    ck_assert_mem_eq(c, want2, 8);
}
END_TEST

/* Checks one element against the definition, without fgamma_code's arithmetic: Q is the floor of
 * n*t*2^15/m iff Q*m <= n*t*2^15 < (Q+1)*m; then c = (Q + U) >> 16. */
static void check_element(int32_t g, int32_t m, unsigned G, uint16_t U, uint8_t c)
{
    uint64_t n = (1u << G) - 1u;
    uint64_t Q;
    if (m == 0) {
        Q = n << 15;
    } else {
        uint64_t num = n * (uint64_t)(g + m) * 32768u;
        Q = num / (uint64_t)m;
        ck_assert(Q * (uint64_t)m <= num && (Q + 1) * (uint64_t)m > num);
        ck_assert_uint_le(Q, n << 16);
    }
    ck_assert_uint_eq(c, (Q + U) >> 16);
    ck_assert_uint_le(c, n);
}

START_TEST(test_random_rows_follow_recipe)
{
    uint64_t seed = 0xF6A11A;
    for (int iter = 0; iter < 400; iter++) {
        uint32_t S = 1 + tu_below(&seed, 4), E = 1 + tu_below(&seed, 300);
        unsigned G = 1 + tu_below(&seed, 8);
        int16_t *g = malloc(sizeof *g * S * E);
        uint8_t *c = malloc(S * E);
        int32_t *m = malloc(sizeof *m * S);
        int range = 1 << tu_below(&seed, 16); /* small and large magnitudes */
        for (uint32_t i = 0; i < S * E; i++) {
            int32_t v = (int32_t)tu_below(&seed, 2u * range + 1) - range;
            g[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
        }
        if (iter % 10 == 0) /* an all-zero row */
            memset(g, 0, sizeof *g * E);
        uint32_t s0 = (uint32_t)tu_next(&seed) | 1u, s = s0, replay = s0;
        fgamma_quantize(g, S, E, G, &s, c, m);
        for (uint32_t r = 0; r < S; r++) {
            int32_t mx = 0;
            for (uint32_t e = 0; e < E; e++) {
                int32_t v = g[r * E + e] == -32768 ? -32767 : g[r * E + e];
                mx = abs(v) > mx ? abs(v) : mx;
            }
            ck_assert_int_eq(m[r], mx);
            for (uint32_t e = 0; e < E; e++) {
                int32_t v = g[r * E + e] == -32768 ? -32767 : g[r * E + e];
                check_element(v, mx, G, lfsr_draw(&replay), c[r * E + e]);
            }
        }
        ck_assert_uint_eq(s, replay); /* exactly one draw per element */
        free(g);
        free(c);
        free(m);
    }
}
END_TEST

START_TEST(test_deterministic_per_seed)
{
    int16_t g[256];
    uint8_t a[256], b[256];
    int32_t m;
    uint64_t seed = 42;
    for (int i = 0; i < 256; i++)
        g[i] = (int16_t)((int)tu_below(&seed, 20001) - 10000);
    uint32_t s1 = 777, s2 = 777, s3 = 778;
    fgamma_quantize(g, 1, 256, 4, &s1, a, &m);
    fgamma_quantize(g, 1, 256, 4, &s2, b, &m);
    ck_assert_mem_eq(a, b, 256);
    ck_assert_uint_eq(s1, s2);
    fgamma_quantize(g, 1, 256, 4, &s3, b, &m);
    ck_assert(memcmp(a, b, 256) != 0); /* another seed, other noise */
}
END_TEST

/* Single-element rows: |g| = m, so t is 0 or 2m and the code is 0 or n whatever the noise. */
START_TEST(test_single_element_rows)
{
    int16_t g[6] = {5, -5, 32767, -32768, 1, 0};
    uint8_t c[6];
    int32_t m[6];
    for (unsigned G = 1; G <= 8; G++) {
        uint32_t s = 99;
        unsigned n = (1u << G) - 1u;
        fgamma_quantize(g, 6, 1, G, &s, c, m);
        ck_assert_uint_eq(c[0], n);
        ck_assert_uint_eq(c[1], 0);
        ck_assert_uint_eq(c[2], n);
        ck_assert_uint_eq(c[3], 0);
        ck_assert_uint_eq(c[4], n);
        ck_assert(c[5] == (n - 1) / 2 || c[5] == (n + 1) / 2); /* m = 0 */
        ck_assert_int_eq(m[3], 32767);
        ck_assert_int_eq(m[5], 0);
    }
}
END_TEST

/* Over all 2^16 noise values the mean code is exactly Q / 2^16, and Q / 2^16 lies in
 * (x - 2^-16, x]: the bias bound of spec 4, checked exhaustively for a set of (m, g). */
START_TEST(test_exact_expectation_and_bias_bound)
{
    static const int32_t ms[] = {1, 2, 3, 7, 255, 1000, 12345, 32767};
    for (unsigned G = 1; G <= 8; G++) {
        uint64_t n = (1u << G) - 1u;
        for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
            int32_t m = ms[k];
            int32_t step = m > 64 ? m / 29 : 1;
            for (int32_t g = -m; g <= m; g += step) {
                uint64_t sum = 0;
                for (uint32_t U = 0; U < 65536; U += 1)
                    sum += fgamma_code(g, m, G, (uint16_t)U);
                /* sum / 2^16 = E[c]; x * 2^16 = n (g + m) 2^15 / m, so compare sum * m with
                 * n (g + m) 2^15 exactly: x*2^16 - 1 < E[c]*2^16 <= x*2^16 */
                uint64_t x16m = n * (uint64_t)(g + m) * 32768u; /* x * 2^16 * m */
                ck_assert_uint_le(sum * (uint64_t)m, x16m);
                ck_assert_uint_gt((sum + 1) * (uint64_t)m, x16m);
            }
        }
    }
}
END_TEST

Suite *suite_fgamma(void);
Suite *suite_fgamma(void)
{
    Suite *s = suite_create("fgamma");
    TCase *tc = tcase_create("device");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_known_answers);
    tcase_add_test(tc, test_random_rows_follow_recipe);
    tcase_add_test(tc, test_deterministic_per_seed);
    tcase_add_test(tc, test_single_element_rows);
    tcase_add_test(tc, test_exact_expectation_and_bias_bound);
    suite_add_tcase(s, tc);
    return s;
}
