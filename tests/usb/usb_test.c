/* The USB transport (driver/transport_usb.c) against emulated FTDI chips (ftdi_mock.c) under
 * umockdev: the real libusb stack, usbfs ioctls answered by the emulation, frames answered by the
 * golden model. Run under umockdev-wrapper (libumockdev-preload); `make test-usb` does. */
#define _GNU_SOURCE

#include <check.h>
#include <glib.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dorefa_proto.h"
#include "frame.h"
#include "ftdi_mock.h"
#include "transport.h"

#define RESP_CAP 8192

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

static int64_t elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static drf_transport *open_ok(const char *args)
{
    drf_transport *t = NULL;
    char err[256] = "";
    int rc = drf_transport_usb_open(args, &t, err, sizeof err);
    ck_assert_msg(rc == DOREFA_OK, "open '%s': %d %s", args, rc, err);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->ops->name, "usb");
    return t;
}

static int open_fails(const char *args, char *err, size_t errlen)
{
    drf_transport *t = (drf_transport *)1;
    err[0] = '\0';
    int rc = drf_transport_usb_open(args, &t, err, errlen);
    ck_assert_int_lt(rc, 0);
    ck_assert_ptr_null(t);
    ck_assert_msg(err[0], "no error message for '%s'", args);
    return rc;
}

/* The vendor requests (bmRequestType 0x40) device dev received. */
static size_t vendor_log(int dev, ftdi_mock_ctrl *out, size_t cap)
{
    ftdi_mock_ctrl all[256];
    size_t n = ftdi_mock_ctrl_log(mock, dev, all, 256), k = 0;
    for (size_t i = 0; i < n && i < 256; i++)
        if (all[i].request_type == 0x40 && k < cap)
            out[k++] = all[i];
    return k;
}

static void expect_ctrl(const ftdi_mock_ctrl *c, uint8_t req, uint16_t value, uint16_t index,
                        const char *what)
{
    ck_assert_msg(c->request_type == 0x40 && c->request == req && c->value == value &&
                      c->index == index && c->length == 0,
                  "%s: got type %02x req %02x value %04x index %04x len %u, want req %02x value "
                  "%04x index %04x",
                  what, c->request_type, c->request, c->value, c->index, c->length, req, value,
                  index);
}

/* The SIO_SET_BAUDRATE request the transport sends when opened with args. */
static void baud_request(int dev, const char *args, uint16_t *value, uint16_t *index)
{
    ftdi_mock_clear_log(mock, dev);
    drf_transport *t = open_ok(args);
    ftdi_mock_ctrl log[32];
    size_t n = vendor_log(dev, log, 32);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (log[i].request == 0x03) {
            *value = log[i].value;
            *index = log[i].index;
            found++;
        }
    ck_assert_int_eq(found, 1);
    t->ops->close(t);
}

/* Sends one command frame and returns the response payload (status byte first). */
static size_t call(drf_transport *t, uint8_t op, uint8_t tag, const uint8_t *payload, uint16_t len,
                   uint8_t *resp)
{
    static uint8_t frame[8192];
    size_t flen = frame_encode(frame, sizeof frame, op, tag, payload, len);
    ck_assert_uint_gt(flen, 0);
    ck_assert_int_eq(t->ops->write(t, frame, flen, 1000), DOREFA_OK);
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, RESP_CAP), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        uint8_t buf[1024];
        long n = t->ops->read(t, buf, sizeof buf, 200);
        ck_assert_msg(n >= 0, "read: %ld %s", n, t->err);
        for (long i = 0; i < n; i++) {
            enum frame_event ev = frame_rx_feed(&rx, buf[i]);
            if (ev == FRAME_NONE)
                continue;
            ck_assert_int_eq(ev, FRAME_OK);
            ck_assert_int_eq(i, n - 1); /* nothing after the one response */
            ck_assert_uint_eq(rx.opcode, DRF_RESP_BIT | op);
            ck_assert_uint_eq(rx.tag, tag);
            size_t rlen = rx.len;
            memcpy(resp, rx.payload, rlen);
            frame_rx_free(&rx);
            return rlen;
        }
        ck_assert_msg(elapsed_ms(&t0) < 5000, "no response to opcode %u", op);
    }
}

/* Reads exactly len bytes (small reads of cap bytes at a time). */
static void read_exact(drf_transport *t, uint8_t *out, size_t len, size_t cap)
{
    size_t got = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (got < len) {
        size_t want = len - got < cap ? len - got : cap;
        long n = t->ops->read(t, out + got, want, 200);
        ck_assert_msg(n >= 0, "read: %ld %s", n, t->err);
        ck_assert_uint_le((size_t)n, want);
        got += (size_t)n;
        ck_assert_msg(elapsed_ms(&t0) < 5000, "only %zu of %zu bytes arrived", got, len);
    }
}

/* ---- open and configuration ---- */
START_TEST(test_open_ft2232h_defaults)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("");
    ftdi_mock_ctrl log[32];
    size_t n = vendor_log(dev, log, 32);
    ck_assert_uint_eq(n, 8);
    /* interface B (iCEBreaker's UART): port index 2 in every wIndex */
    expect_ctrl(&log[0], 0x00, 0x0000, 0x0002, "reset");
    expect_ctrl(&log[1], 0x0B, 0x0000, 0x0002, "bitmode reset");
    expect_ctrl(&log[2], 0x03, 0x0004, 0x0202, "3 Mbaud: 12 MHz / 4, bit 17 in wIndex");
    expect_ctrl(&log[3], 0x04, 0x0008, 0x0002, "8N1");
    expect_ctrl(&log[4], 0x02, 0x0000, 0x0002, "no flow control");
    expect_ctrl(&log[5], 0x09, 0x0002, 0x0002, "latency 2 ms");
    expect_ctrl(&log[6], 0x00, 0x0001, 0x0002, "purge RX");
    expect_ctrl(&log[7], 0x00, 0x0002, 0x0002, "purge TX");
    static const uint8_t ping[4] = {1, 2, 3, 4};
    ck_assert_int_eq(t->ops->write(t, ping, 4, 1000), DOREFA_OK);
    uint8_t b[8];
    ck_assert_int_eq(t->ops->read(t, b, sizeof b, 30), 0); /* junk: the device stays silent */
    ftdi_mock_traffic tr;
    ftdi_mock_traffic_get(mock, dev, &tr);
    ck_assert_uint_eq(tr.last_ep_out, 0x04);
    ck_assert_uint_eq(tr.last_ep_in, 0x83);
    ck_assert_uint_eq(tr.out_bytes, 4);
    t->ops->close(t);
}
END_TEST

START_TEST(test_open_options)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("0403:6010,if=A,latency=16,flow=rtscts,baud=12000000");
    ftdi_mock_ctrl log[32];
    size_t n = vendor_log(dev, log, 32);
    ck_assert_uint_eq(n, 8);
    expect_ctrl(&log[0], 0x00, 0x0000, 0x0001, "reset, port A");
    expect_ctrl(&log[2], 0x03, 0x0000, 0x0201, "12 Mbaud: divisor 1 coded as 0");
    expect_ctrl(&log[4], 0x02, 0x0000, 0x0101, "RTS/CTS in the high byte of wIndex");
    expect_ctrl(&log[5], 0x09, 0x0010, 0x0001, "latency 16 ms");
    static const uint8_t ping[1] = {0};
    ck_assert_int_eq(t->ops->write(t, ping, 1, 1000), DOREFA_OK);
    uint8_t b[4];
    ck_assert_int_eq(t->ops->read(t, b, sizeof b, 30), 0);
    ftdi_mock_traffic tr;
    ftdi_mock_traffic_get(mock, dev, &tr);
    ck_assert_uint_eq(tr.last_ep_out, 0x02);
    ck_assert_uint_eq(tr.last_ep_in, 0x81);
    t->ops->close(t);
    /* options without VID:PID ("usb:if=A,...") */
    ftdi_mock_clear_log(mock, dev);
    t = open_ok("if=A,baud=115200");
    n = vendor_log(dev, log, 32);
    ck_assert_uint_eq(n, 8);
    expect_ctrl(&log[2], 0x03, 0xC068, 0x0201, "115200 baud on port A");
    t->ops->close(t);
}
END_TEST

START_TEST(test_open_sync_fifo)
{
    int h = ftdi_mock_add(mock, &FTDI_MOCK_FT232H);
    int d2 = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("0403:6014,mode=fifo");
    ftdi_mock_ctrl log[32];
    size_t n = vendor_log(h, log, 32);
    ck_assert_uint_eq(n, 7); /* no baud rate and no line format in FIFO mode */
    expect_ctrl(&log[0], 0x00, 0x0000, 0x0000, "reset (single port: index 0)");
    expect_ctrl(&log[1], 0x0B, 0x0000, 0x0000, "bitmode reset");
    expect_ctrl(&log[2], 0x02, 0x0000, 0x0100, "RTS/CTS");
    expect_ctrl(&log[3], 0x09, 0x0002, 0x0000, "latency");
    expect_ctrl(&log[4], 0x0B, 0x40FF, 0x0000, "synchronous FIFO, all pins");
    expect_ctrl(&log[5], 0x00, 0x0001, 0x0000, "purge RX");
    expect_ctrl(&log[6], 0x00, 0x0002, 0x0000, "purge TX");
    t->ops->close(t);

    /* FT2232H: FIFO mode is on channel A, the default interface in that mode */
    t = open_ok("0403:6010,mode=fifo");
    n = vendor_log(d2, log, 32);
    ck_assert_uint_eq(n, 7);
    expect_ctrl(&log[4], 0x0B, 0x40FF, 0x0001, "synchronous FIFO on port A");
    t->ops->close(t);

    char err[256];
    ck_assert_int_eq(open_fails("0403:6010,mode=fifo,if=B", err, sizeof err), DOREFA_E_ARG);
    ck_assert_ptr_nonnull(strstr(err, "interface A"));
}
END_TEST

START_TEST(test_baud_divisors)
{
    int h2 = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    int x = ftdi_mock_add(mock, &FTDI_MOCK_FT231X);
    static const struct {
        int ft231x;
        const char *args;
        uint16_t value, index;
    } cases[] = {
        /* FT2232H port B: 12 MHz clock (bit 17 -> wIndex 0x02xx), n + f/8 with f coded
         * {0,3,2,4,1,5,6,7}, bit 16 of the code in wIndex bit 8 */
        {0, "0403:6010,baud=12000000", 0x0000, 0x0202}, /* divisor 1 -> code 0 */
        {0, "0403:6010,baud=8000000", 0x0001, 0x0202},  /* divisor 1.5 -> code 1 */
        {0, "0403:6010,baud=6000000", 0x0002, 0x0202},
        {0, "0403:6010,baud=3000000", 0x0004, 0x0202},
        {0, "0403:6010,baud=2000000", 0x0006, 0x0202},
        {0, "0403:6010,baud=1000000", 0x000C, 0x0202},
        {0, "0403:6010,baud=921600", 0x000D, 0x0202},  /* 104.17 eighths -> 13.0 */
        {0, "0403:6010,baud=115200", 0xC068, 0x0202},  /* 833 eighths = 104 + 1/8 */
        {0, "0403:6010,baud=888889", 0x400D, 0x0202},  /* 13.5 */
        {0, "0403:6010,baud=897196", 0x000D, 0x0302},  /* 13 + 3/8: code 4 -> bit 16 */
        {0, "0403:6010,baud=300", 0x2710, 0x0002},     /* below 1200: 3 MHz clock, 10000 */
        /* FT231X: 3 MHz clock, single port (index byte 0) */
        {1, "0403:6015,baud=3000000", 0x0000, 0x0000},
        {1, "0403:6015,baud=2000000", 0x0001, 0x0000},
        {1, "0403:6015,baud=1000000", 0x0003, 0x0000},
        {1, "0403:6015,baud=921600", 0x8003, 0x0000}, /* 26 eighths = 3 + 2/8 */
        {1, "0403:6015,baud=115200", 0x001A, 0x0000},
        {1, "0403:6015,baud=888889", 0x0003, 0x0100}, /* 27 eighths = 3 + 3/8: code 4 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t v = 0, ix = 0;
        baud_request(cases[i].ft231x ? x : h2, cases[i].args, &v, &ix);
        ck_assert_msg(v == cases[i].value && ix == cases[i].index,
                      "%s: value %04x index %04x, want %04x %04x", cases[i].args, v, ix,
                      cases[i].value, cases[i].index);
    }
    char err[256];
    /* FT231X tops out at 3 Mbaud; 9 Mbaud is 11 % from the nearest H rate (8 Mbaud) */
    ck_assert_int_eq(open_fails("0403:6015,baud=12000000", err, sizeof err), DOREFA_E_ARG);
    ck_assert_ptr_nonnull(strstr(err, "3 Mbaud"));
    ck_assert_int_eq(open_fails("0403:6010,baud=9000000", err, sizeof err), DOREFA_E_ARG);
    ck_assert_int_eq(open_fails("0403:6010,baud=13000000", err, sizeof err), DOREFA_E_URI);
}
END_TEST

START_TEST(test_uri_errors)
{
    ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    char err[256];
    ck_assert_int_eq(open_fails("zz", err, sizeof err), DOREFA_E_URI);
    ck_assert_int_eq(open_fails("0403", err, sizeof err), DOREFA_E_URI);
    ck_assert_int_eq(open_fails("0403:6010,if=E", err, sizeof err), DOREFA_E_URI);
    ck_assert_int_eq(open_fails(",speed=1", err, sizeof err), DOREFA_E_URI);
    ck_assert_ptr_nonnull(strstr(err, "speed"));
    ck_assert_int_eq(open_fails("0403:6010,mode=spi", err, sizeof err), DOREFA_E_URI);
    ck_assert_int_eq(open_fails("0403:6010,if=C", err, sizeof err), DOREFA_E_ARG);
    ck_assert_ptr_nonnull(strstr(err, "interface C"));
}
END_TEST

/* ---- device selection and the "not found" message ---- */
START_TEST(test_wrong_vid_pid)
{
    ftdi_mock_add(mock, &FTDI_MOCK_FT231X);
    char err[256];
    ck_assert_int_eq(open_fails("0403:6010", err, sizeof err), DOREFA_E_NODEV);
    ck_assert_msg(strstr(err, "no USB device 0403:6010"), "%s", err);
    ck_assert_msg(strstr(err, "0403:6015 at bus 1 addr 2 serial DRF231X"), "%s", err);
    ck_assert_msg(strstr(err, "1d6b:0002 at bus 1 addr 1"), "%s", err);
    ck_assert_int_eq(open_fails("1234:5678", err, sizeof err), DOREFA_E_NODEV);
    ck_assert_msg(strstr(err, "no USB device 1234:5678"), "%s", err);
}
END_TEST

START_TEST(test_no_ftdi_at_all)
{
    char err[256];
    ck_assert_int_eq(open_fails("", err, sizeof err), DOREFA_E_NODEV);
    ck_assert_msg(strstr(err, "no FTDI FT2232H/FT232H/FT231X"), "%s", err);
    ck_assert_msg(strstr(err, "1d6b:0002"), "%s", err);
    ck_assert_msg(strstr(err, "no FTDI devices"), "%s", err);
}
END_TEST

START_TEST(test_select_by_serial)
{
    ftdi_mock_chip second = FTDI_MOCK_FT2232H;
    second.serial = "BOARD2";
    int a = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    int b = ftdi_mock_add(mock, &second);
    drf_transport *t = open_ok("0403:6010:BOARD2");
    static const uint8_t ping[3] = {9, 9, 9};
    ck_assert_int_eq(t->ops->write(t, ping, 3, 1000), DOREFA_OK);
    ftdi_mock_traffic ta, tb;
    ftdi_mock_traffic_get(mock, a, &ta);
    ftdi_mock_traffic_get(mock, b, &tb);
    ck_assert_uint_eq(ta.out_bytes, 0);
    ck_assert_uint_eq(tb.out_bytes, 3);
    t->ops->close(t);
    char err[256];
    ck_assert_int_eq(open_fails("0403:6010:NOPE", err, sizeof err), DOREFA_E_NODEV);
    ck_assert_msg(strstr(err, "with serial NOPE"), "%s", err);
    ck_assert_msg(strstr(err, "serial DRF2232") && strstr(err, "serial BOARD2"), "%s", err);
}
END_TEST

START_TEST(test_default_prefers_ft2232h)
{
    int x = ftdi_mock_add(mock, &FTDI_MOCK_FT231X);
    int h = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("");
    ck_assert_uint_gt(vendor_log(h, (ftdi_mock_ctrl[32]){0}, 32), 0);
    ck_assert_uint_eq(vendor_log(x, (ftdi_mock_ctrl[32]){0}, 32), 0);
    t->ops->close(t);
}
END_TEST

/* ---- frames through the golden model ---- */
static void info_round_trip(const char *args)
{
    drf_transport *t = open_ok(args);
    uint8_t resp[RESP_CAP];
    size_t n = call(t, DRF_OP_INFO, 7, NULL, 0, resp);
    ck_assert_uint_eq(n, 1 + DRF_INFO_RESP_BYTES);
    ck_assert_uint_eq(resp[0], DRF_ST_OK);
    ck_assert_mem_eq(resp + 1, "DRFA", 4);
    ck_assert_uint_eq(drf_get16(resp + 5), DRF_PROTOCOL_VERSION);
    ck_assert_uint_eq(drf_get32(resp + 9), 4104);
    t->ops->close(t);
}

START_TEST(test_info_ft2232h) { ftdi_mock_add(mock, &FTDI_MOCK_FT2232H); info_round_trip(""); }
END_TEST

START_TEST(test_info_ft231x)
{
    ftdi_mock_add(mock, &FTDI_MOCK_FT231X);
    info_round_trip("0403:6015");
}
END_TEST

START_TEST(test_info_ft232h_fifo)
{
    ftdi_mock_add(mock, &FTDI_MOCK_FT232H);
    info_round_trip("0403:6014,mode=fifo");
}
END_TEST

static void echo_round_trip(const ftdi_mock_chip *chip, const char *args, uint16_t len)
{
    int dev = ftdi_mock_add(mock, chip);
    drf_transport *t = open_ok(args);
    static uint8_t data[4103], resp[RESP_CAP];
    uint64_t s = len;
    for (uint16_t i = 0; i < len; i++)
        data[i] = (uint8_t)((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 56);
    size_t n = call(t, DRF_OP_ECHO, 0x21, data, len, resp);
    ck_assert_uint_eq(n, 1u + len);
    ck_assert_uint_eq(resp[0], DRF_ST_OK);
    ck_assert_mem_eq(resp + 1, data, len);
    ftdi_mock_traffic tr;
    ftdi_mock_traffic_get(mock, dev, &tr);
    size_t frame = (size_t)len + 1 + DRF_FRAME_OVERHEAD;
    ck_assert_uint_eq(tr.in_bytes, frame);
    /* the response crossed packets: each carried its own status bytes */
    int per = chip->high_speed ? 510 : 62;
    ck_assert_uint_ge(tr.in_packets, (frame + (size_t)per - 1) / (size_t)per);
    t->ops->close(t);
}

START_TEST(test_echo_large_ft2232h) { echo_round_trip(&FTDI_MOCK_FT2232H, "", 4103); }
END_TEST

START_TEST(test_echo_large_ft231x) { echo_round_trip(&FTDI_MOCK_FT231X, "0403:6015", 4103); }
END_TEST

START_TEST(test_write_read_d)
{
    ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("");
    uint8_t resp[RESP_CAP];
    ck_assert_uint_eq(call(t, DRF_OP_RESET, 1, NULL, 0, resp), 1);
    ck_assert_uint_eq(resp[0], DRF_ST_OK);
    enum { WORDS = 1000 };
    uint8_t w[DRF_WRITE_HDR_BYTES + 4 * WORDS] = {DRF_MEM_D, 0, 0, 0};
    drf_put32(w + 4, 123);
    for (uint32_t i = 0; i < WORDS; i++)
        drf_put32(w + 8 + 4 * i, 0x9E3779B9u * (i + 1));
    ck_assert_uint_eq(call(t, DRF_OP_WRITE, 2, w, sizeof w, resp), 1);
    ck_assert_uint_eq(resp[0], DRF_ST_OK);
    uint8_t r[DRF_READ_BYTES] = {DRF_MEM_D, 0, 0, 0};
    drf_put32(r + 4, 123);
    drf_put32(r + 8, WORDS);
    ck_assert_uint_eq(call(t, DRF_OP_READ, 3, r, sizeof r, resp), 1 + 4 * WORDS);
    ck_assert_uint_eq(resp[0], DRF_ST_OK);
    ck_assert_mem_eq(resp + 1, w + 8, 4 * WORDS);
    /* an error status travels the same way */
    drf_put32(r + 4, 1048576u);
    ck_assert_uint_eq(call(t, DRF_OP_READ, 4, r, sizeof r, resp), 1);
    ck_assert_uint_eq(resp[0], DRF_ST_BAD_ADDR);
    t->ops->close(t);
}
END_TEST

/* ---- status bytes ---- */
static void stripping(const ftdi_mock_chip *chip, const char *args, int packet_limit, size_t len,
                      size_t cap)
{
    int dev = ftdi_mock_add(mock, chip);
    drf_transport *t = open_ok(args);
    ftdi_mock_set_packet_data_limit(mock, dev, packet_limit);
    static uint8_t data[20000], got[20000];
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 8)); /* 0x31 0x60 patterns would show leaks */
    ftdi_mock_push_in(mock, dev, data, len);
    read_exact(t, got, len, cap);
    ck_assert_mem_eq(got, data, len);
    uint8_t more[16];
    ck_assert_int_eq(t->ops->read(t, more, sizeof more, 20), 0); /* no status byte left over */
    ftdi_mock_traffic tr;
    ftdi_mock_traffic_get(mock, dev, &tr);
    ck_assert_uint_eq(tr.in_bytes, len);
    t->ops->close(t);
}

START_TEST(test_strip_full_packets_hs) { stripping(&FTDI_MOCK_FT2232H, "", 0, 20000, 20000); }
END_TEST

START_TEST(test_strip_full_packets_fs)
{
    stripping(&FTDI_MOCK_FT231X, "0403:6015", 0, 20000, 3);
}
END_TEST

START_TEST(test_strip_short_packets) { stripping(&FTDI_MOCK_FT2232H, "", 5, 3001, 1000); }
END_TEST

START_TEST(test_status_only_and_timeout)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("latency=5");
    uint8_t b[64];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(t->ops->read(t, b, sizeof b, 150), 0);
    int64_t ms = elapsed_ms(&t0);
    ck_assert_int_ge(ms, 140);
    ck_assert_int_lt(ms, 1000);
    ftdi_mock_traffic tr;
    ftdi_mock_traffic_get(mock, dev, &tr);
    ck_assert_uint_ge(tr.status_only_packets, 5); /* one per latency period, all discarded */
    ck_assert_uint_eq(tr.in_bytes, 0);
    t->ops->close(t);
}
END_TEST

START_TEST(test_purge)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("");
    static const uint8_t junk[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    ftdi_mock_push_in(mock, dev, junk, sizeof junk);
    uint8_t b[4];
    ck_assert_int_eq(t->ops->read(t, b, 4, 200), 4); /* 6 more wait in the transport */
    ftdi_mock_push_in(mock, dev, junk, sizeof junk);  /* and 10 in the chip */
    ftdi_mock_clear_log(mock, dev);
    t->ops->purge(t);
    ftdi_mock_ctrl log[8];
    ck_assert_uint_eq(vendor_log(dev, log, 8), 2);
    expect_ctrl(&log[0], 0x00, 0x0001, 0x0002, "purge RX");
    expect_ctrl(&log[1], 0x00, 0x0002, 0x0002, "purge TX");
    ck_assert_int_eq(t->ops->read(t, b, 4, 50), 0);
    t->ops->close(t);
}
END_TEST

/* ---- failures: bounded, with clear codes ---- */
START_TEST(test_gone_during_read)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("");
    static const uint8_t half[5] = {DRF_SYNC0, DRF_SYNC1, DRF_OP_INFO, 0, 0}; /* no answer */
    ck_assert_int_eq(t->ops->write(t, half, sizeof half, 1000), DOREFA_OK);
    ftdi_mock_vanish_in(mock, dev, 150);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint8_t b[64];
    long n = t->ops->read(t, b, sizeof b, 10000);
    int64_t ms = elapsed_ms(&t0);
    ck_assert_int_eq(n, DOREFA_E_GONE);
    ck_assert_int_lt(ms, 2000);
    ck_assert_msg(strstr(t->err, "disappeared"), "%s", t->err);
    /* later calls fail at once */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(t->ops->write(t, half, sizeof half, 10000), DOREFA_E_GONE);
    ck_assert_int_eq(t->ops->read(t, b, sizeof b, 10000), DOREFA_E_GONE);
    t->ops->purge(t);
    ck_assert_int_lt(elapsed_ms(&t0), 500);
    t->ops->close(t);
}
END_TEST

START_TEST(test_gone_during_write)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT231X);
    drf_transport *t = open_ok("0403:6015");
    ftdi_mock_stall_out(mock, dev, 1);
    ftdi_mock_vanish_in(mock, dev, 150);
    static uint8_t big[100000];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(t->ops->write(t, big, sizeof big, 10000), DOREFA_E_GONE);
    ck_assert_int_lt(elapsed_ms(&t0), 2000);
    ck_assert_msg(strstr(t->err, "disappeared") && strstr(t->err, "write"), "%s", t->err);
    t->ops->close(t);
}
END_TEST

START_TEST(test_gone_before_open)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    ftdi_mock_vanish_in(mock, dev, 0);
    char err[256];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = open_fails("", err, sizeof err);
    ck_assert_msg(rc == DOREFA_E_GONE, "%d %s", rc, err);
    ck_assert_int_lt(elapsed_ms(&t0), 2000);
}
END_TEST

START_TEST(test_write_timeout)
{
    int dev = ftdi_mock_add(mock, &FTDI_MOCK_FT2232H);
    drf_transport *t = open_ok("");
    ftdi_mock_stall_out(mock, dev, 1);
    static const uint8_t b[100] = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(t->ops->write(t, b, sizeof b, 200), DOREFA_E_TIMEOUT);
    int64_t ms = elapsed_ms(&t0);
    ck_assert_int_ge(ms, 190);
    ck_assert_int_lt(ms, 1500);
    ck_assert_msg(strstr(t->err, "timed out") && strstr(t->err, "0 of 100"), "%s", t->err);
    /* the device reads again: the link works */
    ftdi_mock_stall_out(mock, dev, 0);
    uint8_t resp[RESP_CAP];
    ck_assert_uint_eq(call(t, DRF_OP_ECHO, 1, b, 10, resp), 11);
    t->ops->close(t);
}
END_TEST

Suite *suite_usb_transport(void);
#ifdef DRF_USB_API_TESTS
Suite *suite_usb_api(void);
#endif

Suite *suite_usb_transport(void)
{
    Suite *s = suite_create("usb_transport");
    TCase *tc = tcase_create("open");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open_ft2232h_defaults);
    tcase_add_test(tc, test_open_options);
    tcase_add_test(tc, test_open_sync_fifo);
    tcase_add_test(tc, test_baud_divisors);
    tcase_add_test(tc, test_uri_errors);
    tcase_add_test(tc, test_wrong_vid_pid);
    tcase_add_test(tc, test_no_ftdi_at_all);
    tcase_add_test(tc, test_select_by_serial);
    tcase_add_test(tc, test_default_prefers_ft2232h);
    suite_add_tcase(s, tc);

    tc = tcase_create("frames");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_info_ft2232h);
    tcase_add_test(tc, test_info_ft231x);
    tcase_add_test(tc, test_info_ft232h_fifo);
    tcase_add_test(tc, test_echo_large_ft2232h);
    tcase_add_test(tc, test_echo_large_ft231x);
    tcase_add_test(tc, test_write_read_d);
    suite_add_tcase(s, tc);

    tc = tcase_create("status_bytes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_strip_full_packets_hs);
    tcase_add_test(tc, test_strip_full_packets_fs);
    tcase_add_test(tc, test_strip_short_packets);
    tcase_add_test(tc, test_status_only_and_timeout);
    tcase_add_test(tc, test_purge);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_gone_during_read);
    tcase_add_test(tc, test_gone_during_write);
    tcase_add_test(tc, test_gone_before_open);
    tcase_add_test(tc, test_write_timeout);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!ftdi_mock_ensure_preload(argv)) {
        const char *pre = getenv("LD_PRELOAD");
        printf("usb tests skipped: libumockdev-preload is not loaded (LD_PRELOAD=%s), so umockdev "
               "cannot emulate devices in this environment; run under umockdev-wrapper\n",
               pre ? pre : "unset");
        return EXIT_SUCCESS;
    }
    SRunner *sr = srunner_create(suite_usb_transport());
#ifdef DRF_USB_API_TESTS
    srunner_add_suite(sr, suite_usb_api()); /* tests/usb/usb_api_test.c: dorefa_* over usb: */
#endif
    srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY=verbose lists every test */
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
