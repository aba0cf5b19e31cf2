/* f_alpha in device semantics (spec 5): threshold counting per channel. */
#include <check.h>
#include <stdlib.h>

#include "falpha.h"
#include "test_util.h"

/* Hand-worked: 2-bit output, thresholds {10, 20, 30} up, {5, 0, -5} down (negative BN scale). */
START_TEST(test_hand_cases)
{
    const int32_t thr[2 * 4] = {0, 10, 20, 30, /* channel 0: count acc >= T */
                                1, 5, 0, -5}; /* channel 1: count acc <= T */
    const int32_t acc[2 * 5] = {9, 10, 19, 30, 1000, /* row = channel 0 */
                                6, 5, 0, -5, -1000};  /* row = channel 1 */
    uint8_t c[10];
    falpha_quantize(acc, 2, 5, 2, 0, thr, c);
    static const uint8_t want[10] = {0, 1, 1, 3, 3, 0, 1, 2, 3, 3};
    ck_assert_mem_eq(c, want, 10);

    /* axis 1: the same table indexed by column */
    const int32_t acc_t[5 * 2] = {9, 6, 10, 5, 19, 0, 30, -5, 1000, -1000};
    uint8_t ct[10];
    falpha_quantize(acc_t, 5, 2, 2, 1, thr, ct);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(ct[2 * i], want[i]);
        ck_assert_uint_eq(ct[2 * i + 1], want[5 + i]);
    }
    /* reserved flag bits are ignored */
    const int32_t thr_r[4] = {(int32_t)0xFFFFFFFEu, 10, 20, 30};
    falpha_quantize(acc, 1, 5, 2, 0, thr_r, c);
    ck_assert_mem_eq(c, want, 5);
}
END_TEST

/* 1-bit and 8-bit extremes, INT32 limits. */
START_TEST(test_extremes)
{
    int32_t thr1[2] = {0, 0};
    int32_t acc[3] = {INT32_MIN, -1, 0};
    uint8_t c[3];
    falpha_quantize(acc, 1, 3, 1, 0, thr1, c);
    ck_assert_uint_eq(c[0], 0);
    ck_assert_uint_eq(c[1], 0);
    ck_assert_uint_eq(c[2], 1);
    int32_t thr8[256];
    thr8[0] = 0;
    for (int t = 0; t < 255; t++)
        thr8[1 + t] = INT32_MIN + 1 + t; /* all passed by INT32_MAX, none by INT32_MIN */
    int32_t a8[2] = {INT32_MAX, INT32_MIN};
    falpha_quantize(a8, 1, 2, 8, 0, thr8, c);
    ck_assert_uint_eq(c[0], 255);
    ck_assert_uint_eq(c[1], 0);
}
END_TEST

/* With monotone thresholds (what BN folding gives) the count is the quantize_A of a clipped affine
 * map; with shuffled thresholds the count is unchanged. */
START_TEST(test_matches_affine_quantizer)
{
    uint64_t seed = 0xA1FA;
    for (unsigned A = 1; A <= 8; A++) {
        uint32_t n = (1u << A) - 1u, rec = falpha_record_words(A);
        /* channel: code = clamp(floor((acc - bias) / w) + 1, 0, n) with step w > 0 */
        int32_t w = 1 + (int32_t)tu_below(&seed, 50), bias = (int32_t)tu_below(&seed, 1000) - 500;
        int32_t *thr = malloc(sizeof *thr * rec * 2);
        thr[0] = 0;
        for (uint32_t t = 0; t < n; t++)
            thr[1 + t] = bias + (int32_t)t * w;
        /* channel 1: same thresholds shuffled */
        for (uint32_t t = 0; t < rec; t++)
            thr[rec + t] = thr[t];
        for (uint32_t t = n - 1; t > 0; t--) {
            uint32_t u = tu_below(&seed, t + 1);
            int32_t tmp = thr[rec + 1 + t];
            thr[rec + 1 + t] = thr[rec + 1 + u];
            thr[rec + 1 + u] = tmp;
        }
        int32_t acc[2 * 64];
        uint8_t c[2 * 64];
        for (int j = 0; j < 64; j++)
            acc[j] = acc[64 + j] = bias - 3 * w + (int32_t)tu_below(&seed, (uint32_t)(w * (int32_t)n + 6 * w));
        falpha_quantize(acc, 2, 64, A, 0, thr, c);
        for (int j = 0; j < 64; j++) {
            int32_t d = acc[j] - bias;
            int32_t want = d < 0 ? 0 : d / w + 1;
            if (want > (int32_t)n)
                want = (int32_t)n;
            ck_assert_int_eq(c[j], want);
            ck_assert_int_eq(c[64 + j], want);
        }
        free(thr);
    }
}
END_TEST

Suite *suite_falpha(void);
Suite *suite_falpha(void)
{
    Suite *s = suite_create("falpha");
    TCase *tc = tcase_create("device");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_hand_cases);
    tcase_add_test(tc, test_extremes);
    tcase_add_test(tc, test_matches_affine_quantizer);
    suite_add_tcase(s, tc);
    return s;
}
