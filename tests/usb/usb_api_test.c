/* libdorefa's API over "usb:" (driver/protocol.c on top of driver/transport_usb.c) against the
 * emulated FTDI chips of ftdi_mock.c: the same calls a board would get. Built into usb_test when
 * the protocol layer is present (DRF_USB_API_TESTS). */
#define _GNU_SOURCE

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dorefa.h"
#include "ftdi_mock.h"

Suite *suite_usb_api(void);

static ftdi_mock *mock;

static void setup(void)
{
    mock = ftdi_mock_new();
    ck_assert_msg(mock, "not running under libumockdev-preload (use umockdev-wrapper)");
}

static void teardown(void)
{
    ftdi_mock_free(mock);
    mock = NULL;
}

static dorefa_dev *open_ok(const char *uri)
{
    dorefa_dev *d = NULL;
    int rc = dorefa_open(uri, NULL, &d);
    ck_assert_msg(rc == DOREFA_OK, "dorefa_open(%s): %s: %s", uri, dorefa_strerror(rc),
                  dorefa_open_error());
    return d;
}

static void info_echo(const char *uri)
{
    dorefa_dev *d = open_ok(uri);
    dorefa_info info;
    ck_assert_int_eq(dorefa_info_get(d, &info), DOREFA_OK);
    ck_assert_uint_eq(info.version, 1);
    ck_assert_uint_eq(info.implementation, 0); /* the golden model answers */
    ck_assert_uint_eq(info.max_payload, 4104);
    static uint8_t data[3000], back[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    ck_assert_int_eq(dorefa_echo(d, data, sizeof data, back), DOREFA_OK);
    ck_assert_mem_eq(back, data, sizeof data);
    dorefa_close(d);
}

START_TEST(test_api_ft2232h) { ftdi_mock_add(mock, &FTDI_MOCK_FT2232H); info_echo("usb"); }
END_TEST

START_TEST(test_api_ft231x)
{
    ftdi_mock_add(mock, &FTDI_MOCK_FT231X);
    info_echo("usb:0403:6015");
}
END_TEST

START_TEST(test_api_write_read_gemm)
{
    ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    dorefa_dev *d = open_ok("usb:0403:6010");
    ck_assert_int_eq(dorefa_reset(d), DOREFA_OK);
    /* 3000 D words: more than one frame's worth */
    enum { WORDS = 3000 };
    static uint32_t w[WORDS], r[WORDS];
    for (uint32_t i = 0; i < WORDS; i++)
        w[i] = 0x01000193u * (i + 7);
    ck_assert_int_eq(dorefa_write(d, 2, 64, w, WORDS), DOREFA_OK);
    ck_assert_int_eq(dorefa_read(d, 2, 64, r, WORDS), DOREFA_OK);
    ck_assert_mem_eq(r, w, sizeof w);
    /* a small unsigned GEMM, checked against plain integer math */
    enum { M = 5, N = 7, K = 40 };
    uint8_t l[M * K], rr[N * K];
    for (int i = 0; i < M * K; i++)
        l[i] = (uint8_t)((i * 5 + 1) % 8);
    for (int i = 0; i < N * K; i++)
        rr[i] = (uint8_t)((i * 3 + 2) % 4);
    int64_t c[M * N];
    ck_assert_int_eq(dorefa_gemm_host(d, l, rr, M, N, K, 3, 2, 0, 0, c), DOREFA_OK);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            int64_t want = 0;
            for (int k = 0; k < K; k++)
                want += (int64_t)l[i * K + k] * rr[j * K + k];
            ck_assert_int_eq(c[i * N + j], want);
        }
    dorefa_stats st;
    ck_assert_int_eq(dorefa_stats_get(d, 0, &st), DOREFA_OK);
    ck_assert_uint_gt(st.gemm_ops, 0);
    ck_assert_uint_eq(st.frames_err, 0);
    dorefa_close(d);
}
END_TEST

START_TEST(test_api_nodev)
{
    ftdi_mock_add(mock, &FTDI_MOCK_FT231X);
    dorefa_dev *d = (dorefa_dev *)1;
    ck_assert_int_eq(dorefa_open("usb:0403:6010", NULL, &d), DOREFA_E_NODEV);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(dorefa_open_error(), "0403:6015"), "%s", dorefa_open_error());
}
END_TEST

START_TEST(test_api_gone)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    dorefa_dev *d = open_ok("usb");
    ftdi_mock_vanish_in(mock, dev, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint8_t b[4] = {1, 2, 3, 4}, back[4];
    ck_assert_int_eq(dorefa_echo(d, b, 4, back), DOREFA_E_GONE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 3000);
    ck_assert_msg(strstr(dorefa_last_error(d), "disappeared"), "%s", dorefa_last_error(d));
    dorefa_close(d);
}
END_TEST

Suite *suite_usb_api(void)
{
    Suite *s = suite_create("usb_api");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_api_ft2232h);
    tcase_add_test(tc, test_api_ft231x);
    tcase_add_test(tc, test_api_write_read_gemm);
    tcase_add_test(tc, test_api_nodev);
    tcase_add_test(tc, test_api_gone);
    suite_add_tcase(s, tc);
    return s;
}
