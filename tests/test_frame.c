/* Framing (spec 8.1-8.2): the two CRCs, frame_encode, and the byte-at-a-time receiver's hunt,
 * header check, oversize discard, FCRC check and idle rules. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "crc.h"
#include "dorefa_proto.h"
#include "frame.h"
#include "test_util.h"

#define BIG (65535u + DRF_FRAME_OVERHEAD)

/* Feeds n bytes; returns the first non-NONE event and where it happened (*at), or FRAME_NONE. */
static enum frame_event feed(frame_rx *rx, const uint8_t *b, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++) {
        enum frame_event ev = frame_rx_feed(rx, b[i]);
        if (ev != FRAME_NONE) {
            if (at)
                *at = i;
            return ev;
        }
    }
    return FRAME_NONE;
}

/* Feeds a whole frame and checks it is reported complete on exactly its last byte. */
static void feed_expect(frame_rx *rx, const uint8_t *f, size_t n, enum frame_event want)
{
    size_t at = 0;
    enum frame_event ev = feed(rx, f, n, &at);
    ck_assert_int_eq(ev, want);
    ck_assert_uint_eq(at, n - 1);
}

/* Random bytes that contain no SYNC0, so they are pure hunting junk. */
static void junk_fill(uint64_t *s, uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t v;
        do
            v = (uint8_t)tu_next(s);
        while (v == DRF_SYNC0);
        b[i] = v;
    }
}

START_TEST(test_crc_check_values)
{
    const uint8_t *s = (const uint8_t *)"123456789";
    ck_assert_uint_eq(crc16_ccitt(s, 9), 0x29B1u);
    ck_assert_uint_eq(crc32_ieee(0, s, 9), 0xCBF43926u);
    ck_assert_uint_eq(crc16_ccitt(s, 0), 0xFFFFu);
    ck_assert_uint_eq(crc32_ieee(0, s, 0), 0u);
    /* continuation */
    ck_assert_uint_eq(crc32_ieee(crc32_ieee(0, s, 4), s + 4, 5), 0xCBF43926u);
}
END_TEST

START_TEST(test_crc32_vs_zlib)
{
    uint64_t seed = 0xC0FFEE;
    static uint8_t buf[5000];
    for (int it = 0; it < 200; it++) {
        size_t n = tu_below(&seed, sizeof buf + 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)tu_next(&seed);
        uLong z = crc32(0L, Z_NULL, 0);
        z = crc32(z, buf, (uInt)n);
        ck_assert_uint_eq(crc32_ieee(0, buf, n), (uint32_t)z);
        size_t cut = n ? tu_below(&seed, (uint32_t)n + 1) : 0;
        ck_assert_uint_eq(crc32_ieee(crc32_ieee(0, buf, cut), buf + cut, n - cut), (uint32_t)z);
    }
}
END_TEST

START_TEST(test_proto_names)
{
    ck_assert_str_eq(drf_status_name(DRF_ST_OK), "OK");
    ck_assert_str_eq(drf_status_name(DRF_ST_BAD_ADDR), "BAD_ADDR");
    ck_assert_str_eq(drf_status_name(DRF_ST_TRUNCATED), "TRUNCATED");
    ck_assert_str_eq(drf_status_name(8), "UNKNOWN");
    ck_assert_str_eq(drf_status_name(-1), "UNKNOWN");
    ck_assert_str_eq(drf_opcode_name(DRF_OP_INFO), "INFO");
    ck_assert_str_eq(drf_opcode_name(DRF_OP_QUANT_GRAD), "QUANT_GRAD");
    ck_assert_str_eq(drf_opcode_name(DRF_OP_ECHO), "ECHO");
    ck_assert_str_eq(drf_opcode_name(0), "UNKNOWN");
    ck_assert_str_eq(drf_opcode_name(0x0C), "UNKNOWN");
    for (int op = DRF_OP_INFO; op <= DRF_OP_ECHO; op++)
        ck_assert_str_ne(drf_opcode_name(op), "UNKNOWN");
}
END_TEST

START_TEST(test_encode_layout)
{
    uint8_t pl[3] = {0xAA, 0xBB, 0xCC}, f[32];
    size_t n = frame_encode(f, sizeof f, 0x05, 0x7E, pl, 3);
    ck_assert_uint_eq(n, 15);
    ck_assert_uint_eq(f[0], 0xD0);
    ck_assert_uint_eq(f[1], 0x4E);
    ck_assert_uint_eq(f[2], 0x05);
    ck_assert_uint_eq(f[3], 0x7E);
    ck_assert_uint_eq(drf_get16(f + 4), 3);
    ck_assert_uint_eq(drf_get16(f + 6), crc16_ccitt(f, 6));
    ck_assert_mem_eq(f + 8, pl, 3);
    ck_assert_uint_eq(drf_get32(f + 11), (uint32_t)crc32(0L, f, 11));
    /* too small a buffer */
    ck_assert_uint_eq(frame_encode(f, 14, 0x05, 0x7E, pl, 3), 0);
    ck_assert_uint_eq(frame_encode(f, 15, 0x05, 0x7E, pl, 3), 15);
    /* empty payload, NULL allowed */
    ck_assert_uint_eq(frame_encode(f, sizeof f, 0x01, 0, NULL, 0), 12);
    ck_assert_uint_eq(drf_get32(f + 8), (uint32_t)crc32(0L, f, 8));
}
END_TEST

/* Encode / receive round trips at many lengths, both directions (opcode with bit 7). */
static void round_trips(uint32_t max_payload)
{
    uint64_t seed = max_payload;
    uint8_t *pl = malloc(65535), *f = malloc(BIG);
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, max_payload), 0);
    const uint32_t lens[] = {0, 1, 2, 3, 7, 8, 63, 64, 65, 255, 256, 1000, 4095, 4096, 4104};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0] + 2; li++) {
        uint32_t len = li < sizeof lens / sizeof lens[0] ? lens[li]
                       : li == sizeof lens / sizeof lens[0] ? max_payload - 1 : max_payload;
        if (len > max_payload)
            continue;
        for (uint32_t i = 0; i < len; i++)
            pl[i] = (uint8_t)tu_next(&seed);
        uint8_t op = (uint8_t)tu_next(&seed), tag = (uint8_t)tu_next(&seed);
        size_t n = frame_encode(f, BIG, op, tag, pl, (uint16_t)len);
        ck_assert_uint_eq(n, len + 12u);
        feed_expect(&rx, f, n, FRAME_OK);
        ck_assert_uint_eq(rx.opcode, op);
        ck_assert_uint_eq(rx.tag, tag);
        ck_assert_uint_eq(rx.len, len);
        ck_assert_mem_eq(rx.hdr, f, 8);
        ck_assert_uint_eq(rx.fcrc, drf_get32(f + 8 + len));
        if (len)
            ck_assert_mem_eq(rx.payload, pl, len);
    }
    ck_assert_uint_eq(rx.junk_bytes, 0);
    frame_rx_free(&rx);
    free(pl);
    free(f);
}

/* spec 10.4: frame bytes computed independently (Python's zlib and a bitwise CRC-16). */
START_TEST(test_known_frames)
{
    static const uint8_t info[] = {0xD0, 0x4E, 0x01, 0x01, 0x00, 0x00, 0xE0, 0x35,
                                   0x8B, 0x6A, 0xFA, 0x89};
    static const uint8_t seed[] = {0xD0, 0x4E, 0x09, 0x02, 0x04, 0x00, 0xB7, 0x25,
                                   0x78, 0x56, 0x34, 0x12, 0xAB, 0x17, 0x39, 0x75};
    static const uint8_t ok[] = {0xD0, 0x4E, 0x81, 0x01, 0x01, 0x00, 0xE9,
                                 0xDB, 0x00, 0xE0, 0x69, 0xBB, 0xD2};
    static const uint8_t seed_payload[] = {0x78, 0x56, 0x34, 0x12}, status_ok[] = {0x00};
    uint8_t buf[32];
    ck_assert_uint_eq(frame_encode(buf, sizeof buf, 0x01, 1, NULL, 0), sizeof info);
    ck_assert_mem_eq(buf, info, sizeof info);
    ck_assert_uint_eq(frame_encode(buf, sizeof buf, 0x09, 2, seed_payload, 4), sizeof seed);
    ck_assert_mem_eq(buf, seed, sizeof seed);
    ck_assert_uint_eq(frame_encode(buf, sizeof buf, 0x81, 1, status_ok, 1), sizeof ok);
    ck_assert_mem_eq(buf, ok, sizeof ok);
}
END_TEST

START_TEST(test_round_trip)
{
    round_trips(64);
    round_trips(4104);
    round_trips(65535);
}
END_TEST

START_TEST(test_junk_before_frame)
{
    uint64_t seed = 7;
    uint8_t j[300], f[64], pl[5] = {1, 2, 3, 4, 5};
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 4104), 0);
    junk_fill(&seed, j, sizeof j);
    ck_assert_int_eq(feed(&rx, j, sizeof j, NULL), FRAME_NONE);
    ck_assert_uint_eq(rx.junk_bytes, sizeof j);
    size_t n = frame_encode(f, sizeof f, 0x0B, 9, pl, 5);
    feed_expect(&rx, f, n, FRAME_OK);
    ck_assert_mem_eq(rx.payload, pl, 5);
    /* SYNC0 followed by neither SYNC1 nor SYNC0: both bytes are junk */
    uint8_t bad[] = {0xD0, 0x12, 0xD0, 0x4F, 0x4E};
    ck_assert_int_eq(feed(&rx, bad, sizeof bad, NULL), FRAME_NONE);
    ck_assert_uint_eq(rx.junk_bytes, sizeof j + 5);
    feed_expect(&rx, f, n, FRAME_OK);
    frame_rx_free(&rx);
}
END_TEST

START_TEST(test_sync0_sync0_sync1)
{
    uint8_t f[64], pl[2] = {0xD0, 0x4E};
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 4104), 0);
    size_t n = frame_encode(f, sizeof f, 0x0B, 0xD0, pl, 2);
    uint8_t pre[] = {0xD0};
    ck_assert_int_eq(feed(&rx, pre, 1, NULL), FRAME_NONE);
    feed_expect(&rx, f, n, FRAME_OK); /* D0 D0 4E ...: hunting continues from the second D0 */
    ck_assert_uint_eq(rx.junk_bytes, 1);
    ck_assert_uint_eq(rx.tag, 0xD0);
    ck_assert_mem_eq(rx.payload, pl, 2);
    uint8_t many[5] = {0xD0, 0xD0, 0xD0, 0xD0, 0xD0};
    ck_assert_int_eq(feed(&rx, many, 5, NULL), FRAME_NONE);
    feed_expect(&rx, f, n, FRAME_OK);
    ck_assert_uint_eq(rx.junk_bytes, 6);
    frame_rx_free(&rx);
}
END_TEST

START_TEST(test_header_error)
{
    uint8_t f[64], g[64], pl[4] = {0x11, 0x22, 0x33, 0x44};
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 4104), 0);
    size_t n = frame_encode(f, sizeof f, 0x0B, 3, pl, 4);
    size_t m = frame_encode(g, sizeof g, 0x0B, 4, pl, 4);
    for (int byte = 2; byte < 8; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t c[64];
            memcpy(c, f, n);
            c[byte] ^= (uint8_t)(1u << bit);
            size_t at = 0;
            uint32_t junk0 = rx.junk_bytes;
            ck_assert_int_eq(feed(&rx, c, 8, &at), FRAME_HDR_ERROR);
            ck_assert_uint_eq(at, 7);
            /* the rest of the bad frame is hunted through as junk (it holds no SYNC0) */
            ck_assert_int_eq(feed(&rx, c + 8, n - 8, NULL), FRAME_NONE);
            ck_assert_uint_eq(rx.junk_bytes, junk0 + n - 8);
            feed_expect(&rx, g, m, FRAME_OK);
            ck_assert_uint_eq(rx.tag, 4);
        }
    }
    /* Hunting resumes with the byte after the bad header: a frame right behind it parses. */
    uint8_t c[128];
    memcpy(c, f, 8);
    c[6] ^= 1;
    memcpy(c + 8, g, m);
    size_t at = 0;
    ck_assert_int_eq(feed(&rx, c, 8 + m, &at), FRAME_HDR_ERROR);
    ck_assert_int_eq(feed(&rx, c + at + 1, 8 + m - at - 1, &at), FRAME_OK);
    ck_assert_uint_eq(at, m - 1);
    frame_rx_free(&rx);
}
END_TEST

START_TEST(test_bad_fcrc)
{
    uint8_t f[64], pl[6] = {1, 2, 3, 4, 5, 6};
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 4104), 0);
    size_t n = frame_encode(f, sizeof f, 0x04, 0x55, pl, 6);
    for (size_t i = 8; i < n; i++) {
        uint8_t c[64];
        memcpy(c, f, n);
        c[i] ^= 0x20;
        feed_expect(&rx, c, n, FRAME_BAD_CRC);
        ck_assert_uint_eq(rx.opcode, 0x04);
        ck_assert_uint_eq(rx.tag, 0x55);
        feed_expect(&rx, f, n, FRAME_OK);
    }
    ck_assert_uint_eq(rx.junk_bytes, 0);
    frame_rx_free(&rx);
}
END_TEST

START_TEST(test_oversize)
{
    uint8_t *f = malloc(BIG), *pl = calloc(1, 65535), g[64];
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 64), 0);
    size_t m = frame_encode(g, sizeof g, 0x0B, 1, NULL, 0);
    /* an oversize payload that itself looks like a frame: it must be skipped, not parsed */
    memcpy(pl, g, m);
    const uint32_t lens[] = {65, 100, 4104, 65535};
    for (size_t li = 0; li < 4; li++) {
        size_t n = frame_encode(f, BIG, 0x03, (uint8_t)li, pl, (uint16_t)lens[li]);
        feed_expect(&rx, f, n, FRAME_TOO_LONG);
        ck_assert_uint_eq(rx.opcode, 0x03);
        ck_assert_uint_eq(rx.tag, li);
        ck_assert_uint_eq(rx.len, lens[li]);
        feed_expect(&rx, g, m, FRAME_OK);
    }
    /* the discard counts len + 4 bytes whatever they are (the FCRC is not checked) */
    size_t n = frame_encode(f, BIG, 0x03, 9, pl, 70);
    memset(f + 8, 0xD0, 74);
    feed_expect(&rx, f, n, FRAME_TOO_LONG);
    /* exactly max_payload is fine */
    n = frame_encode(f, BIG, 0x03, 9, pl, 64);
    feed_expect(&rx, f, n, FRAME_OK);
    ck_assert_uint_eq(rx.junk_bytes, 0);
    frame_rx_free(&rx);
    free(f);
    free(pl);
}
END_TEST

START_TEST(test_idle)
{
    uint8_t f[128], pl[40], big[256], zero[100] = {0};
    memset(pl, 0x5A, sizeof pl);
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 64), 0);
    size_t n = frame_encode(f, sizeof f, 0x07, 0x21, pl, 40);
    /* idle while hunting: nothing */
    ck_assert_int_eq(frame_rx_idle(&rx), FRAME_NONE);
    /* idle at every point inside a frame */
    for (size_t k = 1; k < n; k++) {
        uint32_t junk0 = rx.junk_bytes;
        ck_assert_int_eq(feed(&rx, f, k, NULL), FRAME_NONE);
        enum frame_event ev = frame_rx_idle(&rx);
        if (k == 1) {
            ck_assert_int_eq(ev, FRAME_NONE); /* a lone SYNC0 is hunting junk */
            ck_assert_uint_eq(rx.junk_bytes, junk0 + 1);
        } else if (k < 8) {
            ck_assert_int_eq(ev, FRAME_HDR_ERROR);
        } else {
            ck_assert_int_eq(ev, FRAME_TRUNCATED);
            ck_assert_uint_eq(rx.opcode, 0x07);
            ck_assert_uint_eq(rx.tag, 0x21);
        }
        ck_assert_int_eq(frame_rx_idle(&rx), FRAME_NONE); /* back to hunting */
        feed_expect(&rx, f, n, FRAME_OK);
    }
    /* empty payload: idle with a complete header before the FCRC */
    uint8_t e[16];
    size_t en = frame_encode(e, sizeof e, 0x01, 2, NULL, 0);
    ck_assert_int_eq(feed(&rx, e, 8, NULL), FRAME_NONE);
    ck_assert_int_eq(frame_rx_idle(&rx), FRAME_TRUNCATED);
    feed_expect(&rx, e, en, FRAME_OK);
    /* idle while discarding an oversize frame: TOO_LONG */
    size_t bn = frame_encode(big, sizeof big, 0x03, 5, zero, 100);
    ck_assert_int_eq(feed(&rx, big, 50, NULL), FRAME_NONE);
    ck_assert_int_eq(frame_rx_idle(&rx), FRAME_TOO_LONG);
    ck_assert_uint_eq(rx.tag, 5);
    ck_assert_int_eq(feed(&rx, big, 8, NULL), FRAME_NONE);
    ck_assert_int_eq(frame_rx_idle(&rx), FRAME_TOO_LONG); /* header alone: len + 4 still owed */
    (void)bn;
    /* truncated frame followed (after idle) by a good one */
    ck_assert_int_eq(feed(&rx, f, n - 1, NULL), FRAME_NONE);
    ck_assert_int_eq(frame_rx_idle(&rx), FRAME_TRUNCATED);
    feed_expect(&rx, f, n, FRAME_OK);
    frame_rx_free(&rx);
}
END_TEST

/* Without idle, a truncated frame swallows the next frame's bytes as its own payload. */
START_TEST(test_truncated_without_idle)
{
    uint8_t f[64], g[64], pl[10] = {0};
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 4104), 0);
    size_t n = frame_encode(f, sizeof f, 0x0B, 1, pl, 10);
    size_t m = frame_encode(g, sizeof g, 0x0B, 2, pl, 10);
    ck_assert_int_eq(feed(&rx, f, n - 3, NULL), FRAME_NONE);
    size_t at = 0;
    ck_assert_int_eq(feed(&rx, g, m, &at), FRAME_BAD_CRC);
    ck_assert_uint_eq(at, 2);
    ck_assert_uint_eq(rx.tag, 1);
    frame_rx_free(&rx);
}
END_TEST

/* A long stream of random frames, junk and damaged frames: every event in order. */
START_TEST(test_stream)
{
    uint64_t seed = 99;
    size_t cap = 1u << 22;
    uint8_t *stream = malloc(cap), pl[300];
    enum frame_event want[4000];
    uint8_t want_tag[4000];
    size_t nw = 0, len = 0;
    while (nw < 3000 && len + 400 < cap) {
        size_t j = tu_below(&seed, 4) == 0 ? tu_below(&seed, 20) : 0;
        junk_fill(&seed, stream + len, j);
        len += j;
        uint16_t pn = (uint16_t)tu_below(&seed, 300);
        for (size_t i = 0; i < pn; i++)
            pl[i] = (uint8_t)tu_next(&seed);
        uint8_t tag = (uint8_t)nw;
        size_t n = frame_encode(stream + len, cap - len, (uint8_t)tu_next(&seed), tag, pl, pn);
        uint32_t kind = tu_below(&seed, 10);
        if (kind == 0 && pn > 0) {
            stream[len + 8 + tu_below(&seed, pn)] ^= 0x01;
            want[nw] = FRAME_BAD_CRC;
        } else if (kind == 1 && pn > 0) {
            /* a header error: the bad frame's payload must hold no SYNC0 to be pure junk */
            for (size_t i = 0; i < n - 8; i++)
                if (stream[len + 8 + i] == DRF_SYNC0)
                    stream[len + 8 + i] = 0;
            stream[len + 2 + tu_below(&seed, 6)] ^= 0x80;
            want[nw] = FRAME_HDR_ERROR;
        } else {
            want[nw] = FRAME_OK;
        }
        want_tag[nw++] = tag;
        len += n;
    }
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 300), 0);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        enum frame_event ev = frame_rx_feed(&rx, stream[i]);
        if (ev == FRAME_NONE)
            continue;
        ck_assert_uint_lt(k, nw);
        ck_assert_int_eq(ev, want[k]);
        if (ev != FRAME_HDR_ERROR)
            ck_assert_uint_eq(rx.tag, want_tag[k]);
        k++;
    }
    ck_assert_uint_eq(k, nw);
    frame_rx_free(&rx);
    free(stream);
}
END_TEST

Suite *suite_frame(void);
Suite *suite_frame(void)
{
    Suite *s = suite_create("frame");
    TCase *tc = tcase_create("frame");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_crc_check_values);
    tcase_add_test(tc, test_crc32_vs_zlib);
    tcase_add_test(tc, test_proto_names);
    tcase_add_test(tc, test_encode_layout);
    tcase_add_test(tc, test_known_frames);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_junk_before_frame);
    tcase_add_test(tc, test_sync0_sync0_sync1);
    tcase_add_test(tc, test_header_error);
    tcase_add_test(tc, test_bad_fcrc);
    tcase_add_test(tc, test_oversize);
    tcase_add_test(tc, test_idle);
    tcase_add_test(tc, test_truncated_without_idle);
    tcase_add_test(tc, test_stream);
    suite_add_tcase(s, tc);
    return s;
}
