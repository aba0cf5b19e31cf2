/* The f_gamma LFSR: known-answer sequence, maximal period, jump-ahead, uniformity of draws. */
#include <check.h>
#include <math.h>

#include "dorefa_proto.h"
#include "lfsr.h"

/* spec 10.1 */
START_TEST(test_known_steps)
{
    static const uint32_t want[8] = {0x80200003u, 0xC0300002u, 0x60180001u, 0xB02C0003u,
                                     0xD8360002u, 0x6C1B0001u, 0xB62D8003u, 0xDB36C002u};
    uint32_t s = DRF_LFSR_RESET_STATE;
    for (int i = 0; i < 8; i++) {
        s = lfsr_step(s);
        ck_assert_uint_eq(s, want[i]);
    }
}
END_TEST

START_TEST(test_known_draws)
{
    static const uint16_t want[8] = {0xB6C3, 0x3DB5, 0xF3CF, 0x2FA6, 0xDE3E, 0x8D95, 0xE500, 0x42A4};
    uint32_t s = DRF_LFSR_RESET_STATE;
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(lfsr_draw(&s), want[i]);
    ck_assert_uint_eq(s, 0x972542A4u);
}
END_TEST

/* The period is 2^32 - 1 iff the jump by P returns every state and no jump by P/p (p a prime
 * factor of P = 3*5*17*257*65537) does: the polynomial is then primitive. */
START_TEST(test_period_maximal)
{
    const uint64_t P = 0xFFFFFFFFull;
    static const uint32_t primes[5] = {3, 5, 17, 257, 65537};
    ck_assert_uint_eq(3ull * 5 * 17 * 257 * 65537, P);
    gf2_mat32 full;
    lfsr_jump_matrix(&full, P);
    for (int c = 0; c < 32; c++)
        ck_assert_uint_eq(full.col[c], 1u << c); /* identity: every state returns */
    for (int i = 0; i < 5; i++) {
        gf2_mat32 part;
        lfsr_jump_matrix(&part, P / primes[i]);
        uint32_t s = DRF_LFSR_RESET_STATE;
        ck_assert_uint_ne(gf2_apply(&part, s), s);
    }
}
END_TEST

START_TEST(test_jump_equals_stepping)
{
    uint32_t s = 0xDEADBEEFu;
    uint32_t start = s;
    for (uint64_t n = 1; n <= 5000; n++) {
        s = lfsr_step(s);
        if (n % 97 == 0 || n < 40)
            ck_assert_uint_eq(lfsr_jump(start, n), s);
    }
}
END_TEST

/* The lane model of spec 7: lane j of an L-lane device sees the state 16(j+1) steps ahead. */
START_TEST(test_lanes_match_serial)
{
    for (unsigned lanes = 1; lanes <= 8; lanes++) {
        gf2_mat32 lane[8], adv;
        for (unsigned j = 0; j < lanes; j++)
            lfsr_jump_matrix(&lane[j], 16ull * (j + 1));
        lfsr_jump_matrix(&adv, 16ull * lanes);
        uint32_t serial = 0x0BADF00Du, par = serial;
        for (int round = 0; round < 50; round++) {
            for (unsigned j = 0; j < lanes; j++)
                ck_assert_uint_eq(gf2_apply(&lane[j], par) & 0xFFFFu, lfsr_draw(&serial));
            par = gf2_apply(&adv, par);
            ck_assert_uint_eq(par, serial);
        }
    }
}
END_TEST

/* Draws are uniform: chi-square of the top 8 bits over 2^20 draws, 255 degrees of freedom.
 * The 0.9999 quantile of chi2(255) is about 350; a broken tap mask fails by orders of magnitude. */
START_TEST(test_draws_uniform)
{
    static uint32_t hist[256];
    const uint32_t n = 1u << 20;
    uint32_t s = DRF_LFSR_RESET_STATE;
    for (uint32_t i = 0; i < n; i++)
        hist[lfsr_draw(&s) >> 8]++;
    double e = n / 256.0, chi2 = 0;
    for (int i = 0; i < 256; i++)
        chi2 += (hist[i] - e) * (hist[i] - e) / e;
    ck_assert_double_lt(chi2, 350.0);
    /* and the low bits: parity of consecutive draws is not correlated */
    s = DRF_LFSR_RESET_STATE;
    uint32_t same = 0;
    uint16_t prev = lfsr_draw(&s);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t u = lfsr_draw(&s);
        same += (u & 1u) == (prev & 1u);
        prev = u;
    }
    ck_assert_double_lt(fabs(same - n / 2.0), 5 * sqrt(n / 4.0));
}
END_TEST

Suite *suite_lfsr(void);
Suite *suite_lfsr(void)
{
    Suite *s = suite_create("lfsr");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_known_steps);
    tcase_add_test(tc, test_known_draws);
    tcase_add_test(tc, test_period_maximal);
    tcase_add_test(tc, test_jump_equals_stepping);
    tcase_add_test(tc, test_lanes_match_serial);
    tcase_add_test(tc, test_draws_uniform);
    suite_add_tcase(s, tc);
    return s;
}
