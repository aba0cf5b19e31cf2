/* The golden-model device through real frames: encode -> ref_device_rx -> ref_device_tx -> parse.
 * Every opcode against the reference functions, every error status with the device state checked
 * unchanged, the receiver rules (header errors, idle, oversize) and the duplicate-frame memory. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bitplane.h"
#include "crc.h"
#include "cmd_payload.h"
#include "device.h"
#include "dorefa_proto.h"
#include "falpha.h"
#include "fgamma.h"
#include "frame.h"
#include "gemm.h"
#include "lfsr.h"
#include "test_util.h"

#define FRAME_CAP (65535u + DRF_FRAME_OVERHEAD)
#define RAW_CAP (1u << 20)

/* A device under test plus the host side of the link. */
typedef struct {
    ref_device *dev;
    ref_device_config cfg;
    frame_rx prx;   /* parses responses */
    uint8_t tag;    /* next command tag */
    uint8_t *frame; /* an encoded command */
    uint8_t *raw;   /* response bytes drained by the last dut_responses */
    size_t raw_len;
    size_t last_off; /* offset of the last response frame in raw */
    /* the last response frame */
    uint8_t op, rtag, status;
    uint16_t len; /* payload length, status byte included */
    uint8_t *data;
} dut;

static void small_config(ref_device_config *cfg)
{
    ref_device_config_default(cfg);
    cfg->l_words = 4096;
    cfg->r_words = 4096;
    cfg->d_words = 65536;
}

static void dut_open(dut *t, const ref_device_config *cfg)
{
    memset(t, 0, sizeof *t);
    if (cfg)
        t->cfg = *cfg;
    else
        small_config(&t->cfg);
    t->dev = ref_device_new(&t->cfg);
    ck_assert_ptr_nonnull(t->dev);
    ck_assert_int_eq(frame_rx_init(&t->prx, 65535), 0);
    t->frame = malloc(FRAME_CAP);
    t->raw = malloc(RAW_CAP);
    t->data = malloc(65535);
    ck_assert(t->frame && t->raw && t->data);
}

static void dut_close(dut *t)
{
    ref_device_free(t->dev);
    frame_rx_free(&t->prx);
    free(t->frame);
    free(t->raw);
    free(t->data);
}

static void dut_send(dut *t, const uint8_t *bytes, size_t n) { ref_device_rx(t->dev, bytes, n); }

/* Drains every queued response byte and parses it; returns the number of response frames (the
 * device's output must be nothing but well-formed frames). The last frame's fields go to t. */
static int dut_responses(dut *t)
{
    size_t n;
    t->raw_len = 0;
    while ((n = ref_device_tx(t->dev, t->raw + t->raw_len, RAW_CAP - t->raw_len)) > 0)
        t->raw_len += n;
    ck_assert_uint_eq(ref_device_tx_pending(t->dev), 0);
    int frames = 0;
    size_t start = 0;
    for (size_t i = 0; i < t->raw_len; i++) {
        enum frame_event ev = frame_rx_feed(&t->prx, t->raw[i]);
        if (ev == FRAME_NONE)
            continue;
        ck_assert_int_eq(ev, FRAME_OK);
        ck_assert_uint_ge(t->prx.len, 1);
        t->op = t->prx.opcode;
        t->rtag = t->prx.tag;
        t->len = t->prx.len;
        t->status = t->prx.payload[0];
        memcpy(t->data, t->prx.payload + 1, t->len - 1u);
        t->last_off = start;
        start = i + 1;
        frames++;
    }
    ck_assert_uint_eq(start, t->raw_len);
    ck_assert_uint_eq(t->prx.junk_bytes, 0);
    return frames;
}

static size_t dut_encode(dut *t, uint8_t op, uint8_t tag, const uint8_t *pl, size_t len)
{
    size_t n = frame_encode(t->frame, FRAME_CAP, op, tag, pl, (uint16_t)len);
    ck_assert_uint_eq(n, len + DRF_FRAME_OVERHEAD);
    return n;
}

/* Like dut_encode, but moves the tag on (from tag0) until the FCRC holds no SYNC0, so that the
 * bytes after a deliberately broken header are pure hunting junk. */
static size_t dut_encode_clean(dut *t, uint8_t op, uint8_t tag0, const uint8_t *pl, size_t len)
{
    for (uint8_t tag = tag0;; tag++) {
        size_t n = dut_encode(t, op, tag, pl, len);
        if (!memchr(t->frame + n - 4, DRF_SYNC0, 4))
            return n;
    }
}

/* One command, one response with the right opcode and tag; returns its status. */
static int dut_cmd(dut *t, uint8_t op, const uint8_t *pl, size_t len)
{
    uint8_t tag = t->tag++;
    dut_send(t, t->frame, dut_encode(t, op, tag, pl, len));
    ck_assert_int_eq(dut_responses(t), 1);
    ck_assert_uint_eq(t->op, DRF_RESP_BIT | op);
    ck_assert_uint_eq(t->rtag, tag);
    if (t->status != DRF_ST_OK)
        ck_assert_uint_eq(t->len, 1); /* error responses carry only the status */
    return t->status;
}

/* ---- payload builders ---------------------------------------------------------------------- */

static void p_rw(uint8_t p[12], unsigned id, uint32_t addr, uint32_t count)
{
    drf_encode_read(p, id, addr, count);
}

static void p_gemm(uint8_t p[40], uint32_t lb, uint32_t rb, uint32_t M, uint32_t N, uint32_t K,
                   unsigned bl, unsigned br, unsigned fl, unsigned fr, unsigned mode,
                   uint32_t dst, uint32_t ldc, int32_t scale)
{
    drf_encode_gemm(p, &(drf_gemm_args){lb, rb, M, N, K, bl, br, fl, fr, mode, dst, ldc, scale});
}

static void p_qgrad(uint8_t p[24], uint32_t src, uint32_t S, uint32_t E, unsigned G, uint32_t dst,
                    uint32_t mdst)
{
    drf_encode_qgrad(p, &(drf_qgrad_args){src, S, E, G, dst, mdst});
}

static void p_qact(uint8_t p[24], uint32_t src, uint32_t M, uint32_t N, unsigned A, unsigned axis,
                   uint32_t thr, uint32_t dst)
{
    drf_encode_qact(p, &(drf_qact_args){src, M, N, A, axis, thr, dst});
}

static void p_pack(uint8_t p[28], uint32_t src, uint32_t sr, uint32_t sk, uint32_t rows,
                   uint32_t K, unsigned bits, unsigned buf, uint32_t dst)
{
    drf_encode_pack(p, &(drf_pack_args){src, sr, sk, rows, K, bits, buf, dst});
}

/* ---- memory access through WRITE / READ frames ---------------------------------------------- */

static void wr_words(dut *t, unsigned id, uint32_t addr, const void *words, uint32_t n)
{
    const unsigned wb = id == DRF_MEM_D ? 4u : 8u;
    const uint32_t per = (t->cfg.max_payload - DRF_WRITE_HDR_BYTES) / wb;
    uint8_t *p = malloc(t->cfg.max_payload);
    for (uint32_t done = 0; done < n;) {
        uint32_t c = n - done < per ? n - done : per;
        p_rw(p, id, addr + done, 0);
        for (uint32_t i = 0; i < c; i++) {
            if (id == DRF_MEM_D)
                drf_put32(p + 8 + 4 * i, ((const uint32_t *)words)[done + i]);
            else
                drf_put64(p + 8 + 8 * i, ((const uint64_t *)words)[done + i]);
        }
        ck_assert_int_eq(dut_cmd(t, DRF_OP_WRITE, p, 8 + (size_t)c * wb), DRF_ST_OK);
        done += c;
    }
    free(p);
}

static void rd_words(dut *t, unsigned id, uint32_t addr, void *words, uint32_t n)
{
    const unsigned wb = id == DRF_MEM_D ? 4u : 8u;
    const uint32_t per = (t->cfg.max_payload - 1u) / wb;
    for (uint32_t done = 0; done < n;) {
        uint32_t c = n - done < per ? n - done : per;
        uint8_t p[12];
        p_rw(p, id, addr + done, c);
        ck_assert_int_eq(dut_cmd(t, DRF_OP_READ, p, 12), DRF_ST_OK);
        ck_assert_uint_eq(t->len, 1u + c * wb);
        for (uint32_t i = 0; i < c; i++) {
            if (id == DRF_MEM_D)
                ((uint32_t *)words)[done + i] = drf_get32(t->data + 4 * i);
            else
                ((uint64_t *)words)[done + i] = drf_get64(t->data + 8 * i);
        }
        done += c;
    }
}

static void seed_lfsr(dut *t, uint32_t seed)
{
    uint8_t p[4];
    drf_put32(p, seed);
    ck_assert_int_eq(dut_cmd(t, DRF_OP_SEED, p, 4), DRF_ST_OK);
}

typedef struct {
    uint32_t ok, err, hdr, junk, dup, lfsr;
    uint64_t gemm, bin, cycles, busy;
} stats_t;

static stats_t get_stats(dut *t, uint8_t flags)
{
    uint8_t p[4] = {flags, 0, 0, 0};
    ck_assert_int_eq(dut_cmd(t, DRF_OP_STATS, p, 4), DRF_ST_OK);
    ck_assert_uint_eq(t->len, 1u + DRF_STATS_RESP_BYTES);
    const uint8_t *d = t->data;
    stats_t s = {drf_get32(d), drf_get32(d + 4), drf_get32(d + 8), drf_get32(d + 12),
                 drf_get32(d + 16), drf_get32(d + 20), drf_get64(d + 24), drf_get64(d + 32),
                 drf_get64(d + 40), drf_get64(d + 48)};
    return s;
}

/* ---- state snapshots ----------------------------------------------------------------------- */

typedef struct {
    uint64_t *l, *r;
    uint32_t *d;
    uint32_t lw, rw, dw, lfsr;
} snapshot;

static void snap_take(dut *t, snapshot *s)
{
    const uint64_t *l = ref_device_mem64(t->dev, DRF_MEM_L, &s->lw);
    const uint64_t *r = ref_device_mem64(t->dev, DRF_MEM_R, &s->rw);
    const uint32_t *d = ref_device_mem32(t->dev, &s->dw);
    s->l = malloc((size_t)s->lw * 8);
    s->r = malloc((size_t)s->rw * 8);
    s->d = malloc((size_t)s->dw * 4);
    memcpy(s->l, l, (size_t)s->lw * 8);
    memcpy(s->r, r, (size_t)s->rw * 8);
    memcpy(s->d, d, (size_t)s->dw * 4);
    s->lfsr = ref_device_lfsr(t->dev);
}

static void snap_check_free(dut *t, snapshot *s)
{
    ck_assert(memcmp(s->l, ref_device_mem64(t->dev, DRF_MEM_L, NULL), (size_t)s->lw * 8) == 0);
    ck_assert(memcmp(s->r, ref_device_mem64(t->dev, DRF_MEM_R, NULL), (size_t)s->rw * 8) == 0);
    ck_assert(memcmp(s->d, ref_device_mem32(t->dev, NULL), (size_t)s->dw * 4) == 0);
    ck_assert_uint_eq(s->lfsr, ref_device_lfsr(t->dev));
    free(s->l);
    free(s->r);
    free(s->d);
}

/* Random contents in every memory (directly: this is setup, not under test) and a random seed. */
static void fill_random(dut *t, uint64_t *seed)
{
    uint32_t lw, rw, dw;
    uint64_t *l = ref_device_mem64(t->dev, DRF_MEM_L, &lw), *r = ref_device_mem64(t->dev, 1, &rw);
    uint32_t *d = ref_device_mem32(t->dev, &dw);
    for (uint32_t i = 0; i < lw; i++)
        l[i] = tu_next(seed);
    for (uint32_t i = 0; i < rw; i++)
        r[i] = tu_next(seed);
    for (uint32_t i = 0; i < dw; i++)
        d[i] = (uint32_t)tu_next(seed);
    seed_lfsr(t, (uint32_t)tu_next(seed) | 1u);
}

/* A command that must fail with `want`, leave the state intact and not disturb the next command. */
static void expect_error(dut *t, uint8_t op, const uint8_t *pl, size_t len, int want, int line)
{
    snapshot s;
    snap_take(t, &s);
    int st = dut_cmd(t, op, pl, len);
    ck_assert_msg(st == want, "line %d: opcode 0x%02x len %zu: status %s, want %s", line, op, len,
                  drf_status_name(st), drf_status_name(want));
    snap_check_free(t, &s);
    uint8_t e[3] = {1, 2, 3};
    ck_assert_int_eq(dut_cmd(t, DRF_OP_ECHO, e, 3), DRF_ST_OK);
    ck_assert_uint_eq(t->len, 4);
    ck_assert_mem_eq(t->data, e, 3);
}
#define EXPECT(op, pl, len, want) expect_error(&t, (op), (pl), (len), (want), __LINE__)

/* ---- tests --------------------------------------------------------------------------------- */

START_TEST(test_config)
{
    ref_device_config c;
    ref_device_config_default(&c);
    ck_assert_uint_eq(c.max_payload, 4104);
    ck_assert_uint_eq(c.l_words, 65536);
    ck_assert_uint_eq(c.r_words, 65536);
    ck_assert_uint_eq(c.d_words, 1048576);
    ck_assert_uint_eq(c.max_k, 32768);
    ck_assert_uint_eq(c.rx_timeout_us, 10000);

    ref_device_config b;
    small_config(&b);
    b.max_payload = 63;
    ck_assert_ptr_null(ref_device_new(&b));
    b.max_payload = 65536;
    ck_assert_ptr_null(ref_device_new(&b));
    small_config(&b);
    b.max_k = 0;
    ck_assert_ptr_null(ref_device_new(&b));
    b.max_k = 32769;
    ck_assert_ptr_null(ref_device_new(&b));
    small_config(&b);
    b.l_words = 0;
    ck_assert_ptr_null(ref_device_new(&b));
    small_config(&b);
    b.r_words = 0;
    ck_assert_ptr_null(ref_device_new(&b));
    small_config(&b);
    b.d_words = 0;
    ck_assert_ptr_null(ref_device_new(&b));

    const uint32_t mp[2] = {64, 65535}, mk[2] = {1, 32768};
    for (int i = 0; i < 2; i++) {
        small_config(&b);
        b.max_payload = mp[i];
        b.max_k = mk[i];
        ref_device *d = ref_device_new(&b);
        ck_assert_ptr_nonnull(d);
        ref_device_free(d);
    }
    ref_device_free(NULL);

    /* NULL config: the defaults, as INFO reports them */
    dut t;
    memset(&t, 0, sizeof t);
    t.dev = ref_device_new(NULL);
    ck_assert_ptr_nonnull(t.dev);
    t.cfg = c;
    ck_assert_int_eq(frame_rx_init(&t.prx, 65535), 0);
    t.frame = malloc(FRAME_CAP);
    t.raw = malloc(RAW_CAP);
    t.data = malloc(65535);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_INFO, NULL, 0), DRF_ST_OK);
    ck_assert_uint_eq(drf_get32(t.data + 8), 4104);
    ck_assert_uint_eq(drf_get32(t.data + 12), 65536);
    ck_assert_uint_eq(drf_get32(t.data + 16), 65536);
    ck_assert_uint_eq(drf_get32(t.data + 20), 1048576);
    ck_assert_uint_eq(drf_get32(t.data + 24), 32768);
    uint32_t w;
    ck_assert_ptr_nonnull(ref_device_mem64(t.dev, DRF_MEM_L, &w));
    ck_assert_uint_eq(w, 65536);
    ck_assert_ptr_null(ref_device_mem64(t.dev, DRF_MEM_D, &w));
    ck_assert_uint_eq(ref_device_lfsr(t.dev), DRF_LFSR_RESET_STATE);
    dut_close(&t);
}
END_TEST

START_TEST(test_info)
{
    ref_device_config c;
    small_config(&c);
    c.l_words = 1000;
    c.r_words = 2000;
    c.d_words = 3000;
    c.max_k = 777;
    c.rx_timeout_us = 1234;
    c.max_payload = 200;
    dut t;
    dut_open(&t, &c);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_INFO, NULL, 0), DRF_ST_OK);
    ck_assert_uint_eq(t.len, 1u + DRF_INFO_RESP_BYTES);
    const uint8_t *d = t.data;
    ck_assert_mem_eq(d, "DRFA", 4);
    ck_assert_uint_eq(drf_get16(d + 4), DRF_PROTOCOL_VERSION);
    ck_assert_uint_eq(drf_get16(d + 6), 0);
    ck_assert_uint_eq(drf_get32(d + 8), 200);
    ck_assert_uint_eq(drf_get32(d + 12), 1000);
    ck_assert_uint_eq(drf_get32(d + 16), 2000);
    ck_assert_uint_eq(drf_get32(d + 20), 3000);
    ck_assert_uint_eq(drf_get32(d + 24), 777);
    ck_assert_uint_eq(drf_get16(d + 28), 8);
    ck_assert_uint_eq(drf_get16(d + 30), 8);
    ck_assert_uint_eq(drf_get16(d + 32), 64);
    ck_assert_uint_eq(drf_get16(d + 34), 1);
    ck_assert_uint_eq(drf_get32(d + 36), 0);
    ck_assert_uint_eq(drf_get32(d + 40), 1234);
    ck_assert_uint_eq(drf_get32(d + 44), 0);
    dut_close(&t);
}
END_TEST

START_TEST(test_write_read)
{
    uint64_t seed = 11;
    dut t;
    dut_open(&t, NULL);
    static uint64_t w64[4096], r64[4096];
    static uint32_t w32[8192], r32[8192];
    for (unsigned id = 0; id < 3; id++) {
        uint32_t words = id == DRF_MEM_D ? t.cfg.d_words : t.cfg.l_words;
        for (int it = 0; it < 12; it++) {
            uint32_t n = it == 0 ? 1 : 1 + tu_below(&seed, id == DRF_MEM_D ? 3000 : 1500);
            uint32_t addr = it == 1 ? words - n : tu_below(&seed, words - n + 1);
            if (id == DRF_MEM_D) {
                for (uint32_t i = 0; i < n; i++)
                    w32[i] = (uint32_t)tu_next(&seed);
                wr_words(&t, id, addr, w32, n);
                rd_words(&t, id, addr, r32, n);
                ck_assert(memcmp(w32, r32, (size_t)n * 4) == 0);
                ck_assert(memcmp(ref_device_mem32(t.dev, NULL) + addr, w32, (size_t)n * 4) == 0);
            } else {
                for (uint32_t i = 0; i < n; i++)
                    w64[i] = tu_next(&seed);
                wr_words(&t, id, addr, w64, n);
                rd_words(&t, id, addr, r64, n);
                ck_assert(memcmp(w64, r64, (size_t)n * 8) == 0);
                ck_assert(memcmp(ref_device_mem64(t.dev, (int)id, NULL) + addr, w64,
                                 (size_t)n * 8) == 0);
            }
        }
    }
    /* The largest READ per frame: 1 + count * wordbytes <= max_payload */
    uint8_t p[12];
    p_rw(p, DRF_MEM_L, 0, (4104 - 1) / 8);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_READ, p, 12), DRF_ST_OK);
    ck_assert_uint_eq(t.len, 1 + 512 * 8);
    p_rw(p, DRF_MEM_D, 0, (4104 - 1) / 4);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_READ, p, 12), DRF_ST_OK);
    ck_assert_uint_eq(t.len, 1 + 1025 * 4);
    /* WRITE and READ leave the LFSR alone; the data bytes are little-endian words */
    ck_assert_uint_eq(ref_device_lfsr(t.dev), DRF_LFSR_RESET_STATE);
    uint8_t wp[16] = {DRF_MEM_R, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_WRITE, wp, 16), DRF_ST_OK);
    ck_assert_uint_eq(ref_device_mem64(t.dev, DRF_MEM_R, NULL)[5], 0x0807060504030201ull);
    dut_close(&t);
}
END_TEST

START_TEST(test_reset)
{
    uint64_t seed = 12;
    dut t;
    dut_open(&t, NULL);
    fill_random(&t, &seed);
    uint8_t bad = 0;
    /* RESET with a payload is BAD_LENGTH and resets nothing */
    expect_error(&t, DRF_OP_RESET, &bad, 1, DRF_ST_BAD_LENGTH, __LINE__);
    uint8_t junk[3] = {1, 2, 3};
    dut_send(&t, junk, 3);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_RESET, NULL, 0), DRF_ST_OK);
    ck_assert_uint_eq(t.len, 1);
    uint32_t w;
    const uint64_t *l = ref_device_mem64(t.dev, DRF_MEM_L, &w);
    for (uint32_t i = 0; i < w; i++)
        ck_assert_uint_eq(l[i], 0);
    const uint64_t *r = ref_device_mem64(t.dev, DRF_MEM_R, &w);
    for (uint32_t i = 0; i < w; i++)
        ck_assert_uint_eq(r[i], 0);
    const uint32_t *d = ref_device_mem32(t.dev, &w);
    for (uint32_t i = 0; i < w; i++)
        ck_assert_uint_eq(d[i], 0);
    ck_assert_uint_eq(ref_device_lfsr(t.dev), DRF_LFSR_RESET_STATE);
    stats_t s = get_stats(&t, 0);
    ck_assert_uint_eq(s.ok, 1); /* the RESET itself */
    ck_assert_uint_eq(s.err, 0);
    ck_assert_uint_eq(s.junk, 0);
    ck_assert_uint_eq(s.lfsr, DRF_LFSR_RESET_STATE);
    dut_close(&t);
}
END_TEST

/* Writes a random rows x K code matrix through WRITE frames into memory `mem` at base, with random
 * garbage in the padding bits (which every computation must ignore); returns the codes. */
static uint8_t *put_operand(dut *t, uint64_t *seed, unsigned mem, uint32_t base, uint32_t rows,
                            uint32_t K, unsigned bits, int extreme)
{
    uint8_t *codes = malloc((size_t)rows * K);
    for (size_t i = 0; i < (size_t)rows * K; i++)
        codes[i] = extreme ? (uint8_t)(extreme > 0 ? (1u << bits) - 1u : 0u)
                           : (uint8_t)tu_below(seed, 1u << bits);
    uint32_t words = (uint32_t)bitplane_words(rows, K, bits);
    uint64_t *w = malloc((size_t)words * 8), *valid = malloc((size_t)words * 8);
    bitplane_pack(w, codes, K, rows, K, bits);
    /* the bits bitplane_pack can set at all are the non-padding bits, whatever the layout */
    uint8_t *ones = malloc((size_t)rows * K);
    memset(ones, (1 << bits) - 1, (size_t)rows * K);
    bitplane_pack(valid, ones, K, rows, K, bits);
    for (uint32_t i = 0; i < words; i++)
        w[i] |= tu_next(seed) & ~valid[i];
    wr_words(t, mem, base, w, words);
    free(w);
    free(valid);
    free(ones);
    return codes;
}

/* One GEMM through frames against gemm_naive; the D region is prefilled with random words so that
 * untouched words (j >= N within ldc) and the ACC64 accumulation are both checked. */
static void gemm_case(dut *t, uint64_t *seed, uint32_t M, uint32_t N, uint32_t K, unsigned bl,
                      unsigned br, unsigned fl, unsigned fr, unsigned mode, int32_t scale,
                      uint32_t lb, uint32_t rb, uint32_t dst, uint32_t ldc, int el, int er)
{
    uint8_t *lc = put_operand(t, seed, DRF_MEM_L, lb, M, K, bl, el);
    uint8_t *rc = put_operand(t, seed, DRF_MEM_R, rb, N, K, br, er);
    uint64_t elems = (uint64_t)(M - 1) * ldc + N;
    uint32_t words = (uint32_t)(mode == DRF_GEMM_ACC64 ? 2 * elems : elems);
    uint32_t *before = malloc((size_t)words * 4), *after = malloc((size_t)words * 4);
    for (uint32_t i = 0; i < words; i++)
        before[i] = (uint32_t)tu_next(seed);
    wr_words(t, DRF_MEM_D, dst, before, words);
    uint8_t p[40];
    p_gemm(p, lb, rb, M, N, K, bl, br, fl, fr, mode, dst, ldc, scale);
    ck_assert_int_eq(dut_cmd(t, DRF_OP_GEMM, p, 40), DRF_ST_OK);
    ck_assert_uint_eq(t->len, 1);
    rd_words(t, DRF_MEM_D, dst, after, words);
    int64_t *c = malloc((size_t)M * N * 8);
    gemm_naive(lc, K, bl, fl, rc, K, br, fr, M, N, K, c, N);
    for (uint32_t i = 0; i < M; i++) {
        for (uint32_t j = 0; j < ldc && (uint64_t)i * ldc + j < elems; j++) {
            uint64_t e = (uint64_t)i * ldc + j;
            if (mode == DRF_GEMM_WRITE32) {
                uint32_t want = j < N ? (uint32_t)c[(size_t)i * N + j] : before[e];
                ck_assert_uint_eq(after[e], want);
            } else {
                uint64_t old = before[2 * e] | (uint64_t)before[2 * e + 1] << 32;
                uint64_t want = j < N ? old + (uint64_t)((int64_t)scale * c[(size_t)i * N + j])
                                      : old;
                ck_assert_uint_eq(after[2 * e] | (uint64_t)after[2 * e + 1] << 32, want);
            }
        }
    }
    free(c);
    free(lc);
    free(rc);
    free(before);
    free(after);
}

/* The most rows (up to want) whose operand fits room words; row pitches are multiples of 8. */
static uint32_t fit_rows(uint32_t want, uint32_t room, unsigned bits, uint32_t K)
{
    uint32_t per = bits * bitplane_kw(K), max = room / per / 8 * 8;
    return want < max ? want : max;
}

static void gemm_random(unsigned mode, uint64_t seed0)
{
    uint64_t seed = seed0;
    dut t;
    dut_open(&t, NULL);
    static const uint32_t Ks[] = {1, 2, 63, 64, 65, 127, 200, 640, 1000, 1999};
    for (int it = 0; it < 48; it++) {
        uint32_t K = Ks[tu_below(&seed, 10)];
        unsigned bl = 1 + tu_below(&seed, 8), br = 1 + tu_below(&seed, 8);
        if (it < 8) {
            bl = it & 1 ? 8 : 1;
            br = it & 2 ? 8 : 1;
        }
        unsigned fl = (unsigned)it & 1, fr = ((unsigned)it >> 1) & 1;
        uint32_t lb = 8 * tu_below(&seed, 25), rb = 8 * tu_below(&seed, 25); /* aligned bases */
        uint32_t M = fit_rows(1 + tu_below(&seed, 24), 4096 - lb, bl, K);
        uint32_t N = fit_rows(1 + tu_below(&seed, 24), 4096 - rb, br, K);
        ck_assert_uint_ge(M, 1);
        ck_assert_uint_ge(N, 1);
        uint32_t ldc = N + (tu_below(&seed, 2) ? tu_below(&seed, 5) : 0);
        uint32_t dst = tu_below(&seed, 1000);
        int32_t scale = 0;
        if (mode == DRF_GEMM_ACC64) {
            static const int32_t sc[] = {1, -1, INT16_MAX, INT16_MIN, 0, -2};
            scale = it < 6 ? sc[it] : (int16_t)(uint16_t)tu_next(&seed);
        }
        gemm_case(&t, &seed, M, N, K, bl, br, fl, fr, mode, scale, lb, rb, dst, ldc, 0, 0);
    }
    /* Results hit the int32 bound exactly: K = 32768 and all codes extreme, 8 x 8 bits */
    ref_device_config big;
    small_config(&big);
    big.l_words = big.r_words = 8 * 8 * 512; /* one row: pitch 8, 8 planes, 512 words */
    dut_close(&t);
    dut_open(&t, &big);
    for (unsigned f = 0; f < 4; f++)
        gemm_case(&t, &seed, 1, 1, 32768, 8, 8, f & 1, f >> 1, mode, mode ? -3 : 0, 0, 0, 7, 1,
                  1, f == 3 ? -1 : 1);
    if (mode == DRF_GEMM_WRITE32)
        ck_assert_int_eq((int32_t)ref_device_mem32(t.dev, NULL)[7], -2130739200);
    dut_close(&t);
}

START_TEST(test_gemm_write32) { gemm_random(DRF_GEMM_WRITE32, 21); }
END_TEST

START_TEST(test_gemm_acc64)
{
    gemm_random(DRF_GEMM_ACC64, 22);
    /* the 64-bit accumulation wraps modulo 2^64 */
    uint64_t seed = 23;
    dut t;
    dut_open(&t, NULL);
    uint64_t one = 1; /* L = R = a single 1-bit code 1, UU: C = 1 */
    wr_words(&t, DRF_MEM_L, 0, &one, 1);
    wr_words(&t, DRF_MEM_R, 0, &one, 1);
    uint32_t acc[2] = {0xFFFFFFFFu, 0x7FFFFFFFu}; /* INT64_MAX */
    wr_words(&t, DRF_MEM_D, 10, acc, 2);
    uint8_t p[40];
    p_gemm(p, 0, 0, 1, 1, 1, 1, 1, DRF_FMT_U, DRF_FMT_U, DRF_GEMM_ACC64, 10, 1, 5);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, p, 40), DRF_ST_OK);
    rd_words(&t, DRF_MEM_D, 10, acc, 2);
    ck_assert_uint_eq(acc[0], 4);
    ck_assert_uint_eq(acc[1], 0x80000000u);
    p_gemm(p, 0, 0, 1, 1, 1, 1, 1, DRF_FMT_U, DRF_FMT_U, DRF_GEMM_ACC64, 10, 1, -5);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, p, 40), DRF_ST_OK);
    rd_words(&t, DRF_MEM_D, 10, acc, 2);
    ck_assert_uint_eq(acc[0], 0xFFFFFFFFu);
    ck_assert_uint_eq(acc[1], 0x7FFFFFFFu);
    (void)seed;
    dut_close(&t);
}
END_TEST

/* Packs a little-endian byte image into D words. */
static void bytes_to_words(uint32_t *w, const uint8_t *b, size_t nwords)
{
    for (size_t i = 0; i < nwords; i++)
        w[i] = drf_get32(b + 4 * i);
}

START_TEST(test_quant_grad)
{
    uint64_t seed = 31;
    dut t;
    dut_open(&t, NULL);
    fill_random(&t, &seed);
    static const unsigned Gs[] = {1, 2, 3, 4, 8, 5};
    static const uint32_t Ss[] = {1, 5, 3, 2, 7, 4}, Es[] = {1, 37, 64, 301, 9, 1000};
    for (int it = 0; it < 6; it++) {
        uint32_t S = Ss[it], E = Es[it], n = S * E, G = Gs[it];
        uint32_t src = 100 + (uint32_t)it, dst = 20000 + 3 * (uint32_t)it, mdst = 40000;
        uint32_t sw = (n + 1) / 2, dw = (n + 3) / 4;
        int16_t *g = malloc((size_t)n * 2 + 2);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = tu_below(&seed, 10);
            g[i] = k == 0   ? INT16_MIN
                   : k == 1 ? INT16_MAX
                            : (int16_t)((int32_t)tu_below(&seed, 2001) - 1000);
        }
        if (S > 2) /* a row of zeros (m = 0) and a row holding -32768 */
            for (uint32_t e = 0; e < E; e++) {
                g[E + e] = 0;
                g[2 * E + e] = e == E / 2 ? INT16_MIN : (int16_t)(e % 7);
            }
        /* i16 view image; the unused half of an odd last word holds garbage */
        uint8_t *img = malloc((size_t)sw * 4);
        for (uint32_t i = 0; i < 2 * sw; i++)
            drf_put16(img + 2 * i, i < n ? (uint16_t)g[i] : 0xBEEF);
        uint32_t *w = malloc((size_t)sw * 4);
        bytes_to_words(w, img, sw);
        wr_words(&t, DRF_MEM_D, src, w, sw);
        uint32_t s0 = (uint32_t)tu_next(&seed) | 1u;
        seed_lfsr(&t, s0);
        uint32_t dbefore[1];
        rd_words(&t, DRF_MEM_D, dst + dw - 1, dbefore, 1);

        uint8_t p[24];
        p_qgrad(p, src, S, E, G, dst, mdst);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_GRAD, p, 24), DRF_ST_OK);
        ck_assert_uint_eq(t.len, 1);

        uint32_t lfsr = s0;
        uint8_t *codes = malloc(n);
        int32_t *m = malloc((size_t)S * 4);
        fgamma_quantize(g, S, E, G, &lfsr, codes, m);
        ck_assert_uint_eq(lfsr, lfsr_jump(s0, 16ull * n));
        ck_assert_uint_eq(ref_device_lfsr(t.dev), lfsr);
        ck_assert_uint_eq(get_stats(&t, 0).lfsr, lfsr);

        uint32_t *got = malloc((size_t)dw * 4), gm[8];
        rd_words(&t, DRF_MEM_D, dst, got, dw);
        rd_words(&t, DRF_MEM_D, mdst, gm, S);
        for (uint32_t i = 0; i < 4 * dw; i++) {
            uint8_t b = (uint8_t)(got[i / 4] >> (8 * (i % 4)));
            uint8_t want = i < n ? codes[i] : (uint8_t)(dbefore[0] >> (8 * (i % 4)));
            ck_assert_uint_eq(b, want);
            if (i < n)
                ck_assert_uint_lt(b, 1u << G);
        }
        for (uint32_t s = 0; s < S; s++)
            ck_assert_int_eq((int32_t)gm[s], m[s]);
        if (S > 2) {
            ck_assert_int_eq(m[1], 0);
            ck_assert_int_eq(m[2], 32767); /* -32768 saturates */
        }
        free(g);
        free(img);
        free(w);
        free(codes);
        free(m);
        free(got);
    }
    dut_close(&t);
}
END_TEST

START_TEST(test_quant_act)
{
    uint64_t seed = 41;
    dut t;
    dut_open(&t, NULL);
    fill_random(&t, &seed);
    static const unsigned As[] = {1, 2, 3, 8, 4, 8};
    static const uint32_t Ms[] = {7, 1, 5, 3, 16, 1}, Ns[] = {9, 1, 13, 5, 16, 3};
    for (int it = 0; it < 12; it++) {
        unsigned A = As[it % 6], axis = (unsigned)it / 6;
        uint32_t M = Ms[it % 6], N = Ns[it % 6], n = M * N, C = axis ? N : M;
        uint32_t rec = falpha_record_words(A), nt = rec - 1;
        uint32_t src = 10 + (uint32_t)it, thr = 5000, dst = 30001 + (uint32_t)it;
        uint32_t dw = (n + 3) / 4;
        int32_t *acc = malloc((size_t)n * 4), *tab = malloc((size_t)C * rec * 4),
                *clean = malloc((size_t)C * rec * 4);
        for (uint32_t i = 0; i < n; i++)
            acc[i] = (int32_t)tu_below(&seed, 2000) - 1000;
        for (uint32_t ch = 0; ch < C; ch++) {
            uint32_t flags = (uint32_t)tu_next(&seed); /* reserved bits set: ignored */
            tab[ch * rec] = (int32_t)flags;
            clean[ch * rec] = (int32_t)(flags & 1u);
            int32_t v = -1100;
            for (uint32_t k = 0; k < nt; k++) {
                /* monotone for most channels, unordered for some */
                v += (int32_t)tu_below(&seed, 2200 / nt + 2);
                int32_t x = ch % 3 == 2 ? (int32_t)tu_below(&seed, 2200) - 1100 : v;
                tab[ch * rec + 1 + k] = clean[ch * rec + 1 + k] = x;
            }
        }
        acc[0] = tab[1]; /* equality with a threshold */
        wr_words(&t, DRF_MEM_D, src, acc, n);
        wr_words(&t, DRF_MEM_D, thr, tab, C * rec);
        uint32_t last[1];
        rd_words(&t, DRF_MEM_D, dst + dw - 1, last, 1);
        uint8_t p[24];
        p_qact(p, src, M, N, A, axis, thr, dst);
        uint32_t lfsr = ref_device_lfsr(t.dev);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_ACT, p, 24), DRF_ST_OK);
        ck_assert_uint_eq(ref_device_lfsr(t.dev), lfsr);
        uint8_t *codes = malloc(n);
        falpha_quantize(acc, M, N, A, axis, clean, codes);
        /* an independent count for the first few elements */
        for (uint32_t e = 0; e < n && e < 8; e++) {
            const int32_t *r = clean + (axis ? e % N : e / N) * rec;
            unsigned cnt = 0;
            for (uint32_t k = 0; k < nt; k++)
                cnt += r[0] ? acc[e] <= r[1 + k] : acc[e] >= r[1 + k];
            ck_assert_uint_eq(codes[e], cnt);
        }
        uint32_t *got = malloc((size_t)dw * 4);
        rd_words(&t, DRF_MEM_D, dst, got, dw);
        for (uint32_t i = 0; i < 4 * dw; i++) {
            uint8_t b = (uint8_t)(got[i / 4] >> (8 * (i % 4)));
            ck_assert_uint_eq(b, i < n ? codes[i] : (uint8_t)(last[0] >> (8 * (i % 4))));
        }
        free(acc);
        free(tab);
        free(clean);
        free(codes);
        free(got);
    }
    dut_close(&t);
}
END_TEST

/* PACK of a code matrix in D (random high bits) into L or R, in either orientation, against
 * bitplane_pack of the gathered, masked codes; the words around the operand are untouched. */
static uint8_t *pack_case(dut *t, uint64_t *seed, uint32_t rows, uint32_t K, unsigned bits,
                          unsigned buf, uint32_t dst, int transposed, uint32_t pad)
{
    uint32_t src = 77;
    uint32_t sr = transposed ? 1 : K + pad, sk = transposed ? rows + pad : 1;
    uint64_t maxidx = (uint64_t)(rows - 1) * sr + (uint64_t)(K - 1) * sk;
    uint32_t nw = (uint32_t)(maxidx / 4 + 1);
    uint8_t *img = malloc((size_t)nw * 4);
    for (size_t i = 0; i < (size_t)nw * 4; i++)
        img[i] = (uint8_t)tu_next(seed);
    uint32_t *w = malloc((size_t)nw * 4);
    bytes_to_words(w, img, nw);
    wr_words(t, DRF_MEM_D, src, w, nw);

    uint32_t words = (uint32_t)bitplane_words(rows, K, bits);
    uint64_t *pre = malloc(((size_t)words + 2) * 8), *got = malloc(((size_t)words + 2) * 8);
    for (uint32_t i = 0; i < words + 2; i++)
        pre[i] = ~0ull ^ tu_below(seed, 3);
    wr_words(t, buf, dst - 1, pre, words + 2);

    uint8_t p[28];
    p_pack(p, src, sr, sk, rows, K, bits, buf, dst);
    ck_assert_int_eq(dut_cmd(t, DRF_OP_PACK, p, 28), DRF_ST_OK);

    uint8_t *x = malloc((size_t)rows * K);
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t k = 0; k < K; k++)
            x[(size_t)r * K + k] = img[(uint64_t)r * sr + (uint64_t)k * sk] & ((1u << bits) - 1u);
    uint64_t *want = malloc((size_t)words * 8);
    memcpy(want, pre + 1, (size_t)words * 8); /* pad rows keep what they held */
    bitplane_pack(want, x, K, rows, K, bits);
    rd_words(t, buf, dst - 1, got, words + 2);
    ck_assert_uint_eq(got[0], pre[0]);
    ck_assert_uint_eq(got[words + 1], pre[words + 1]);
    ck_assert(memcmp(got + 1, want, (size_t)words * 8) == 0);
    free(img);
    free(w);
    free(pre);
    free(got);
    free(want);
    return x;
}

START_TEST(test_pack)
{
    uint64_t seed = 51;
    dut t;
    dut_open(&t, NULL);
    static const uint32_t Rs[] = {1, 3, 8, 17, 5, 2}, Ks[] = {1, 64, 65, 100, 300, 1000};
    for (int it = 0; it < 24; it++) {
        unsigned bits = 1 + tu_below(&seed, 8), buf = (unsigned)it & 1;
        uint32_t rows = Rs[it % 6], K = Ks[(it / 2) % 6];
        free(pack_case(&t, &seed, rows, K, bits, buf, 8 * (1 + tu_below(&seed, 60)), (it / 4) & 1,
                       tu_below(&seed, 3)));
    }
    /* stride 0 broadcasts one code */
    uint8_t p[28];
    uint32_t code = 0x00000005u;
    wr_words(&t, DRF_MEM_D, 9, &code, 1);
    p_pack(p, 9, 0, 0, 2, 70, 3, DRF_MEM_L, 0);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_PACK, p, 28), DRF_ST_OK);
    uint64_t got[48], want[48]; /* pitch 8 x 3 planes x 2 words */
    uint8_t fives[140];
    memset(fives, 5, sizeof fives);
    rd_words(&t, DRF_MEM_L, 0, got, 48);
    memcpy(want, got, sizeof want); /* pad rows keep their words */
    bitplane_pack(want, fives, 70, 2, 70, 3);
    ck_assert(memcmp(got, want, sizeof want) == 0);
    int ones = 0; /* planes 0 and 2 of 2 rows x 70 columns are all ones, padding zero */
    for (int i = 0; i < 48; i++)
        for (int b = 0; b < 64 && i % 8 < 2; b++)
            ones += (int)((got[i] >> b) & 1u);
    ck_assert_int_eq(ones, 2 * 2 * 70);

    /* End to end: f-codes packed into L (rows) and R (transposed) feed a GEMM */
    uint32_t M = 6, N = 5, K = 130;
    uint8_t *lc = pack_case(&t, &seed, M, K, 2, DRF_MEM_L, 16, 0, 0);
    uint8_t *rc = pack_case(&t, &seed, N, K, 3, DRF_MEM_R, 24, 1, 1);
    uint8_t g[40];
    p_gemm(g, 16, 24, M, N, K, 2, 3, DRF_FMT_S, DRF_FMT_U, DRF_GEMM_WRITE32, 500, N, 0);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, g, 40), DRF_ST_OK);
    int64_t c[30];
    uint32_t d[30];
    gemm_naive(lc, K, 2, DRF_FMT_S, rc, K, 3, DRF_FMT_U, M, N, K, c, N);
    rd_words(&t, DRF_MEM_D, 500, d, M * N);
    for (int i = 0; i < 30; i++)
        ck_assert_int_eq((int32_t)d[i], c[i]);
    free(lc);
    free(rc);
    dut_close(&t);
}
END_TEST

START_TEST(test_seed_stats)
{
    uint64_t seed = 61;
    dut t;
    dut_open(&t, NULL);
    stats_t s = get_stats(&t, 0);
    ck_assert_uint_eq(s.ok, 0);
    ck_assert_uint_eq(s.lfsr, 1);
    seed_lfsr(&t, 0xDEADBEEFu);
    ck_assert_uint_eq(ref_device_lfsr(t.dev), 0xDEADBEEFu);
    s = get_stats(&t, 0);
    ck_assert_uint_eq(s.lfsr, 0xDEADBEEFu);
    ck_assert_uint_eq(s.ok, 2); /* STATS, SEED; this STATS not yet counted */

    /* every counter */
    uint8_t junk[5] = {0x00, 0x11, 0xD0, 0x22, 0x33};
    dut_send(&t, junk, 5);
    ck_assert_int_eq(dut_responses(&t), 0);
    size_t n = dut_encode_clean(&t, DRF_OP_ECHO, t.tag++, NULL, 0);
    t.frame[5] ^= 1; /* header error */
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 0);
    ck_assert_int_eq(dut_cmd(&t, 0x55, NULL, 0), DRF_ST_BAD_OPCODE);
    n = dut_encode(&t, DRF_OP_INFO, t.tag++, NULL, 0);
    dut_send(&t, t.frame, n);
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 2);
    uint64_t bin = 0;
    for (int i = 0; i < 3; i++) {
        uint32_t M = 2 + (uint32_t)i, N = 3, K = 100 + (uint32_t)i;
        uint8_t p[40];
        p_gemm(p, 0, 0, M, N, K, 2, (unsigned)i + 1, 0, 1, 0, 0, N, 0);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, p, 40), DRF_ST_OK);
        bin += 2ull * M * N * K * 2 * ((unsigned)i + 1);
        p[20] = 0; /* a failed GEMM counts nothing */
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, p, 40), DRF_ST_BAD_ARG);
    }
    s = get_stats(&t, 1);
    ck_assert_uint_eq(s.ok, 3 + 1 + 3);
    ck_assert_uint_eq(s.err, 1 + 3);
    ck_assert_uint_eq(s.hdr, 1);
    ck_assert_uint_eq(s.junk, 5 + 4); /* the bytes after the bad header are hunted through */
    ck_assert_uint_eq(s.dup, 1);
    ck_assert_uint_eq(s.lfsr, 0xDEADBEEFu);
    ck_assert_uint_eq(s.gemm, 3);
    ck_assert_uint_eq(s.bin, bin);
    ck_assert_uint_eq(s.cycles, 0);
    ck_assert_uint_eq(s.busy, 0);
    /* cleared after reading; the clearing STATS itself is then counted; the LFSR stays */
    s = get_stats(&t, 0);
    ck_assert_uint_eq(s.ok, 1);
    ck_assert_uint_eq(s.err + s.hdr + s.junk + s.dup, 0);
    ck_assert_uint_eq(s.gemm + s.bin, 0);
    ck_assert_uint_eq(s.lfsr, 0xDEADBEEFu);
    (void)seed;
    dut_close(&t);
}
END_TEST

START_TEST(test_echo)
{
    uint64_t seed = 71;
    dut t;
    dut_open(&t, NULL);
    uint8_t *p = malloc(4104);
    for (int i = 0; i < 4104; i++)
        p[i] = (uint8_t)tu_next(&seed);
    const size_t lens[] = {0, 1, 2, 100, 4102, 4103};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_ECHO, p, lens[i]), DRF_ST_OK);
        ck_assert_uint_eq(t.len, lens[i] + 1);
        ck_assert(memcmp(t.data, p, lens[i]) == 0);
    }
    expect_error(&t, DRF_OP_ECHO, p, 4104, DRF_ST_BAD_LENGTH, __LINE__);
    /* several frames in one buffer are answered in order; the queue drains in any pieces */
    size_t total = 0;
    uint8_t *buf = malloc(10 * 200);
    for (int i = 0; i < 10; i++)
        total += frame_encode(buf + total, 2000 - total, DRF_OP_ECHO, (uint8_t)(100 + i), p,
                              (uint16_t)(10 * i));
    dut_send(&t, buf, total);
    size_t pend = ref_device_tx_pending(t.dev), got = 0, k;
    ck_assert_uint_eq(pend, total + 10);
    uint8_t piece[7];
    frame_rx rx;
    ck_assert_int_eq(frame_rx_init(&rx, 4104), 0);
    int frames = 0;
    while ((k = ref_device_tx(t.dev, piece, sizeof piece)) > 0) {
        got += k;
        for (size_t i = 0; i < k; i++) {
            enum frame_event ev = frame_rx_feed(&rx, piece[i]);
            if (ev == FRAME_NONE)
                continue;
            ck_assert_int_eq(ev, FRAME_OK);
            ck_assert_uint_eq(rx.tag, 100 + frames);
            ck_assert_uint_eq(rx.len, 1 + 10 * frames);
            frames++;
        }
    }
    ck_assert_uint_eq(got, pend);
    ck_assert_int_eq(frames, 10);
    ck_assert_uint_eq(ref_device_tx_pending(t.dev), 0);
    frame_rx_free(&rx);
    free(buf);
    free(p);
    dut_close(&t);
}
END_TEST

START_TEST(test_bad_opcode_length)
{
    uint64_t seed = 81;
    dut t;
    dut_open(&t, NULL);
    fill_random(&t, &seed);
    uint8_t p[64] = {0};
    static const uint8_t bad_ops[] = {0x00, 0x0C, 0x0F, 0x7F, 0x80, 0x81, 0x85, 0xFF};
    for (int i = 0; i < 8; i++) {
        EXPECT(bad_ops[i], p, 0, DRF_ST_BAD_OPCODE);
        EXPECT(bad_ops[i], p, 24, DRF_ST_BAD_OPCODE); /* opcode before length */
        /* the response echoes the opcode and the tag */
        ck_assert_int_eq(dut_cmd(&t, bad_ops[i], p, 3), DRF_ST_BAD_OPCODE);
    }
    EXPECT(DRF_OP_INFO, p, 1, DRF_ST_BAD_LENGTH);
    EXPECT(DRF_OP_RESET, p, 4, DRF_ST_BAD_LENGTH);
    static const uint8_t fixed_ops[] = {DRF_OP_READ, DRF_OP_GEMM, DRF_OP_QUANT_GRAD,
                                        DRF_OP_QUANT_ACT, DRF_OP_PACK, DRF_OP_SEED, DRF_OP_STATS};
    static const size_t fixed_len[] = {12, 40, 24, 24, 28, 4, 4};
    for (int i = 0; i < 7; i++) {
        /* all-zero payloads: the length check must come before any argument check */
        EXPECT(fixed_ops[i], p, fixed_len[i] - 1, DRF_ST_BAD_LENGTH);
        EXPECT(fixed_ops[i], p, fixed_len[i] + 1, DRF_ST_BAD_LENGTH);
        EXPECT(fixed_ops[i], p, 0, DRF_ST_BAD_LENGTH);
    }
    /* WRITE: the buffer id first (it fixes the word size), then the length */
    EXPECT(DRF_OP_WRITE, p, 0, DRF_ST_BAD_LENGTH);
    p[0] = 3;
    EXPECT(DRF_OP_WRITE, p, 1, DRF_ST_BAD_ARG);
    EXPECT(DRF_OP_WRITE, p, 16, DRF_ST_BAD_ARG);
    p[0] = DRF_MEM_L;
    EXPECT(DRF_OP_WRITE, p, 1, DRF_ST_BAD_LENGTH);
    EXPECT(DRF_OP_WRITE, p, 8, DRF_ST_BAD_LENGTH);
    EXPECT(DRF_OP_WRITE, p, 12, DRF_ST_BAD_LENGTH);
    EXPECT(DRF_OP_WRITE, p, 20, DRF_ST_BAD_LENGTH);
    p[0] = DRF_MEM_D;
    EXPECT(DRF_OP_WRITE, p, 8, DRF_ST_BAD_LENGTH);
    EXPECT(DRF_OP_WRITE, p, 14, DRF_ST_BAD_LENGTH);
    p[1] = 1; /* length before the reserved bytes */
    EXPECT(DRF_OP_WRITE, p, 14, DRF_ST_BAD_LENGTH);
    /* READ: a response longer than max_payload is BAD_LENGTH, checked before the address */
    p_rw(p, DRF_MEM_L, 0, 513);
    EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_LENGTH);
    p_rw(p, DRF_MEM_D, 0, 1026);
    EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_LENGTH);
    p_rw(p, DRF_MEM_R, 0xFFFFFFF0u, 0xFFFFFFFFu);
    EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_LENGTH);
    dut_close(&t);
}
END_TEST

START_TEST(test_bad_arg)
{
    uint64_t seed = 82;
    ref_device_config c;
    small_config(&c);
    c.max_k = 1000;
    dut t;
    dut_open(&t, &c);
    fill_random(&t, &seed);
    uint8_t p[40];

    /* WRITE / READ */
    uint8_t w[16] = {DRF_MEM_L, 0, 0, 0, 0, 0, 0, 0};
    for (int b = 1; b < 4; b++) {
        w[b] = 0x80;
        EXPECT(DRF_OP_WRITE, w, 16, DRF_ST_BAD_ARG);
        w[b] = 0;
    }
    p_rw(p, 3, 0, 1);
    EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_ARG);
    p_rw(p, 0xFF, 0, 1);
    EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_ARG);
    p_rw(p, DRF_MEM_D, 0, 0);
    EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_ARG);
    p_rw(p, DRF_MEM_D, 0, 1);
    p[3] = 1;
    EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_ARG);

    /* GEMM: each field out of range, everything else valid */
#define GEMM_OK() p_gemm(p, 0, 0, 4, 4, 100, 2, 2, 1, 1, 0, 0, 4, 0)
    GEMM_OK();
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, p, 40), DRF_ST_OK);
    static const struct { int off, size; uint32_t v; } gbad[] = {
        {0, 4, 4}, {0, 4, 1}, {0, 4, 0xFFFFFFF9u}, {4, 4, 7}, {4, 4, 12}, /* bases: multiples of 8 */
        {8, 4, 0}, {12, 4, 0}, {16, 4, 0}, {16, 4, 1001}, {16, 4, 32768}, {16, 4, 0xFFFFFFFFu},
        {20, 1, 0}, {20, 1, 9}, {21, 1, 0}, {21, 1, 9}, {21, 1, 0xFF}, {22, 1, 2}, {23, 1, 2},
        {24, 1, 2}, {24, 1, 0xFF}, {25, 1, 1}, {26, 1, 1}, {27, 1, 0x80}, {32, 4, 3}, {32, 4, 0},
        {36, 4, 1}, {36, 4, 0xFFFFFFFFu},
    };
    for (size_t i = 0; i < sizeof gbad / sizeof gbad[0]; i++) {
        GEMM_OK();
        if (gbad[i].size == 4)
            drf_put32(p + gbad[i].off, gbad[i].v);
        else
            p[gbad[i].off] = (uint8_t)gbad[i].v;
        EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ARG);
    }
    /* arguments before addresses */
    GEMM_OK();
    drf_put32(p, 0xFFFFFFFFu);
    p[23] = 7;
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ARG);
    /* K = max_k is fine; an ACC64 scale is any i16, and nothing outside it */
    GEMM_OK();
    drf_put32(p + 16, 1000);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, p, 40), DRF_ST_OK);
    static const struct { uint32_t v; int st; } scl[] = {
        {0xFFFF8000u, DRF_ST_OK}, {0x00007FFFu, DRF_ST_OK}, {0xFFFFFFFFu, DRF_ST_OK},
        {0, DRF_ST_OK}, {0x00008000u, DRF_ST_BAD_ARG}, {0xFFFF7FFFu, DRF_ST_BAD_ARG},
        {0x80000000u, DRF_ST_BAD_ARG}, {0x7FFFFFFFu, DRF_ST_BAD_ARG}, {0x00010000u, DRF_ST_BAD_ARG},
        {0xFF00FFFFu, DRF_ST_BAD_ARG}, {0x00FF8000u, DRF_ST_BAD_ARG}, {0xFFFE0001u, DRF_ST_BAD_ARG},
    };
    for (size_t i = 0; i < sizeof scl / sizeof scl[0]; i++) {
        GEMM_OK();
        p[24] = DRF_GEMM_ACC64;
        drf_put32(p + 36, scl[i].v);
        ck_assert_msg(dut_cmd(&t, DRF_OP_GEMM, p, 40) == scl[i].st, "ACC64 scale 0x%08x", scl[i].v);
    }

    /* QUANT_GRAD */
    static const struct { int off, size; uint32_t v; } qbad[] = {
        {4, 4, 0}, {8, 4, 0}, {12, 1, 0}, {12, 1, 9}, {13, 1, 1}, {14, 1, 1}, {15, 1, 1},
    };
    for (size_t i = 0; i < sizeof qbad / sizeof qbad[0]; i++) {
        p_qgrad(p, 0, 2, 3, 4, 100, 200);
        if (qbad[i].size == 4)
            drf_put32(p + qbad[i].off, qbad[i].v);
        else
            p[qbad[i].off] = (uint8_t)qbad[i].v;
        EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ARG);
    }
    /* QUANT_ACT */
    static const struct { int off, size; uint32_t v; } abad[] = {
        {4, 4, 0}, {8, 4, 0}, {12, 1, 0}, {12, 1, 9}, {13, 1, 2}, {14, 1, 1}, {15, 1, 1},
    };
    for (size_t i = 0; i < sizeof abad / sizeof abad[0]; i++) {
        p_qact(p, 0, 2, 3, 2, 0, 100, 200);
        if (abad[i].size == 4)
            drf_put32(p + abad[i].off, abad[i].v);
        else
            p[abad[i].off] = (uint8_t)abad[i].v;
        EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ARG);
    }
    /* PACK */
    static const struct { int off, size; uint32_t v; } pbad[] = {
        {12, 4, 0}, {16, 4, 0}, {16, 4, 1001}, {20, 1, 0}, {20, 1, 9}, {21, 1, 2}, {21, 1, 3},
        {22, 1, 1}, {23, 1, 1}, {24, 4, 3}, {24, 4, 0xFFFFFFFCu}, /* dst: a multiple of 8 */
    };
    for (size_t i = 0; i < sizeof pbad / sizeof pbad[0]; i++) {
        p_pack(p, 0, 100, 1, 2, 100, 3, DRF_MEM_R, 0);
        if (pbad[i].size == 4)
            drf_put32(p + pbad[i].off, pbad[i].v);
        else
            p[pbad[i].off] = (uint8_t)pbad[i].v;
        EXPECT(DRF_OP_PACK, p, 28, DRF_ST_BAD_ARG);
    }
    p_pack(p, 0, 100, 1, 2, 1000, 3, DRF_MEM_R, 0);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_PACK, p, 28), DRF_ST_OK);

    /* SEED 0, STATS reserved bits */
    memset(p, 0, 4);
    EXPECT(DRF_OP_SEED, p, 4, DRF_ST_BAD_ARG);
    for (int b = 0; b < 4; b++) {
        memset(p, 0, 4);
        p[b] = b ? 1 : 2;
        EXPECT(DRF_OP_STATS, p, 4, DRF_ST_BAD_ARG);
        p[0] = 0x81;
        EXPECT(DRF_OP_STATS, p, 4, DRF_ST_BAD_ARG);
    }
    dut_close(&t);
}
END_TEST

START_TEST(test_bad_addr)
{
    uint64_t seed = 83;
    dut t;
    dut_open(&t, NULL);
    fill_random(&t, &seed);
    const uint32_t LW = 4096, DW = 65536, X = 0xFFFFFFFFu;
    uint8_t p[40], w[24] = {0};

    /* WRITE / READ at and past the end */
    for (unsigned id = 0; id < 3; id++) {
        uint32_t words = id == DRF_MEM_D ? DW : LW, wb = id == DRF_MEM_D ? 4 : 8;
        w[0] = (uint8_t)id;
        drf_put32(w + 4, words - 1);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_WRITE, w, 8 + wb), DRF_ST_OK);
        EXPECT(DRF_OP_WRITE, w, 8 + 2 * wb, DRF_ST_BAD_ADDR);
        drf_put32(w + 4, words);
        EXPECT(DRF_OP_WRITE, w, 8 + wb, DRF_ST_BAD_ADDR);
        drf_put32(w + 4, X);
        EXPECT(DRF_OP_WRITE, w, 8 + wb, DRF_ST_BAD_ADDR);
        p_rw(p, id, words - 2, 2);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_READ, p, 12), DRF_ST_OK);
        p_rw(p, id, words - 2, 3);
        EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_ADDR);
        p_rw(p, id, X, 1);
        EXPECT(DRF_OP_READ, p, 12, DRF_ST_BAD_ADDR);
    }

    /* GEMM: pitch 8 x 2 bits x KW 2 = 32 words of L; 8 x 3 x 2 = 48 words of R */
    const uint32_t M = 3, N = 5, K = 100;
    p_gemm(p, LW - 32, LW - 48, M, N, K, 2, 3, 0, 1, 0, DW - 2 * 7 - 5, 7, 0);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, p, 40), DRF_ST_OK);
    p_gemm(p, LW - 24, LW - 48, M, N, K, 2, 3, 0, 1, 0, 0, 7, 0);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);
    p_gemm(p, 0, LW - 40, M, N, K, 2, 3, 0, 1, 0, 0, 7, 0);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);
    p_gemm(p, 0, 0, M, N, K, 2, 3, 0, 1, 0, DW - 2 * 7 - 4, 7, 0);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);
    p_gemm(p, 0, 0, M, N, K, 2, 3, 0, 1, 1, DW - 2 * (2 * 7 + 5), 7, 9); /* ACC64: twice */
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_GEMM, p, 40), DRF_ST_OK);
    p_gemm(p, 0, 0, M, N, K, 2, 3, 0, 1, 1, DW - 2 * (2 * 7 + 5) + 1, 7, 9);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);
    /* no 32-bit wrap-around anywhere */
    p_gemm(p, X & ~7u, 0, M, N, K, 2, 3, 0, 1, 0, 0, 7, 0);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);
    p_gemm(p, 0, 0, X, X, 32768, 8, 8, 1, 1, 1, X, X, 1);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);
    p_gemm(p, 0, 0, 2, 1, 1, 1, 1, 0, 0, 0, 0, X, 0);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);
    p_gemm(p, 0, 0, 2, 1, 1, 1, 1, 0, 0, 1, 0, X, 0);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);
    p_gemm(p, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, X, 1, 0);
    EXPECT(DRF_OP_GEMM, p, 40, DRF_ST_BAD_ADDR);

    /* QUANT_GRAD: S = 2, E = 5: src 5 words (i16), dst 3 words (u8), mdst 2 words */
    p_qgrad(p, DW - 5, 2, 5, 4, DW - 8, DW - 10);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_GRAD, p, 24), DRF_ST_OK);
    p_qgrad(p, DW - 4, 2, 5, 4, 0, 10);
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 0, 2, 5, 4, DW - 2, 10);
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 0, 2, 5, 4, 10, DW - 1);
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 0, X, X, 8, 0, 0);
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, X, 1, 1, 8, 0, 1);
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    /* S = 1, E = 5: src 3 words (odd: half a word), dst 2 words (5 codes), mdst 1 */
    p_qgrad(p, DW - 3, 1, 5, 2, DW - 5, DW - 6);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_GRAD, p, 24), DRF_ST_OK);
    p_qgrad(p, DW - 2, 1, 5, 2, 0, 10);
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 0, 1, 5, 2, DW - 1, 10);
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 0, 1, 5, 2, 3, 10);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_GRAD, p, 24), DRF_ST_OK);
    p_qgrad(p, 0, 1, 5, 2, 2, 10); /* the odd src half-word still makes word 2 src's */
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 0, 1, 5, 2, 3, 4); /* the fifth code makes word 4 dst's */
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    /* overlaps, word-granular: src [100,105) dst [105,108) mdst [108,110) just fit */
    p_qgrad(p, 100, 2, 5, 4, 105, 108);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_GRAD, p, 24), DRF_ST_OK);
    p_qgrad(p, 100, 2, 5, 4, 104, 108); /* src / dst */
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 100, 2, 5, 4, 105, 107); /* dst / mdst */
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 100, 2, 5, 4, 200, 99); /* mdst / src */
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);
    p_qgrad(p, 100, 2, 5, 4, 100, 300); /* identical */
    EXPECT(DRF_OP_QUANT_GRAD, p, 24, DRF_ST_BAD_ADDR);

    /* QUANT_ACT: M = 3, N = 5, A = 2: src 15 words, thr (axis 0) 3 x 4 = 12, dst 4 */
    p_qact(p, DW - 15, 3, 5, 2, 0, DW - 27, DW - 31);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_ACT, p, 24), DRF_ST_OK);
    p_qact(p, DW - 14, 3, 5, 2, 0, 100, 200);
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    p_qact(p, 0, 3, 5, 2, 0, DW - 11, 200);
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    p_qact(p, 0, 3, 5, 2, 1, DW - 12 - 7, 200); /* axis 1: 5 records = 20 words */
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    p_qact(p, 0, 3, 5, 2, 0, 100, DW - 3);
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    p_qact(p, 0, X, X, 8, 1, 100, 200);
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    /* M = 1, N = 5: dst 2 words */
    p_qact(p, 0, 1, 5, 1, 0, 5, DW - 2);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_ACT, p, 24), DRF_ST_OK);
    p_qact(p, 0, 1, 5, 1, 0, 5, DW - 1);
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    p_qact(p, 0, 1, 5, 1, 0, 10, 7);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_ACT, p, 24), DRF_ST_OK);
    p_qact(p, 0, 1, 5, 1, 0, 8, 6); /* thr [8,10) and dst [6,8) */
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_ACT, p, 24), DRF_ST_OK);
    p_qact(p, 0, 1, 5, 1, 0, 7, 6);
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    p_qact(p, 100, 3, 5, 2, 0, 115, 127);
    ck_assert_int_eq(dut_cmd(&t, DRF_OP_QUANT_ACT, p, 24), DRF_ST_OK);
    p_qact(p, 100, 3, 5, 2, 0, 114, 127); /* src / thr */
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    p_qact(p, 100, 3, 5, 2, 0, 115, 126); /* thr / dst */
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);
    p_qact(p, 100, 3, 5, 2, 0, 200, 97); /* dst / src */
    EXPECT(DRF_OP_QUANT_ACT, p, 24, DRF_ST_BAD_ADDR);

    /* PACK: rows 3 (pitch 8), K 100, bits 2 -> 32 words; largest element 2*100 + 99 = 299 -> 75
     * words of D */
    for (unsigned buf = 0; buf < 2; buf++) {
        p_pack(p, DW - 75, 100, 1, 3, 100, 2, buf, LW - 32);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_PACK, p, 28), DRF_ST_OK);
        p_pack(p, DW - 74, 100, 1, 3, 100, 2, buf, 0);
        EXPECT(DRF_OP_PACK, p, 28, DRF_ST_BAD_ADDR);
        p_pack(p, 0, 100, 1, 3, 100, 2, buf, LW - 24);
        EXPECT(DRF_OP_PACK, p, 28, DRF_ST_BAD_ADDR);
        p_pack(p, 0, X, X, X, 32768, 8, buf, 0); /* the largest index exceeds 2^64 */
        EXPECT(DRF_OP_PACK, p, 28, DRF_ST_BAD_ADDR);
        p_pack(p, 0, 0, X, 1, 32768, 1, buf, 0);
        EXPECT(DRF_OP_PACK, p, 28, DRF_ST_BAD_ADDR);
        p_pack(p, X, 0, 0, 1, 1, 1, buf, 0);
        EXPECT(DRF_OP_PACK, p, 28, DRF_ST_BAD_ADDR);
        p_pack(p, 0, 0, 0, 1, 1, 1, buf, X & ~7u);
        EXPECT(DRF_OP_PACK, p, 28, DRF_ST_BAD_ADDR);
    }
    dut_close(&t);
}
END_TEST

/* Frames broken on the wire: BAD_CRC, TRUNCATED, TOO_LONG, header errors. */
START_TEST(test_bad_frames)
{
    uint64_t seed = 91;
    dut t;
    dut_open(&t, NULL);
    fill_random(&t, &seed);
    uint8_t w[8 + 64];
    memset(w, 0x3C, sizeof w);
    p_rw(w, DRF_MEM_D, 10, 0);
    snapshot s;

    /* FCRC mismatch, in the payload or the FCRC itself */
    for (int where = 0; where < 2; where++) {
        snap_take(&t, &s);
        size_t n = dut_encode(&t, DRF_OP_WRITE, 0x42, w, sizeof w);
        t.frame[where ? n - 1 : 20] ^= 0x04;
        dut_send(&t, t.frame, n);
        ck_assert_int_eq(dut_responses(&t), 1);
        ck_assert_uint_eq(t.op, DRF_RESP_BIT | DRF_OP_WRITE);
        ck_assert_uint_eq(t.rtag, 0x42);
        ck_assert_uint_eq(t.status, DRF_ST_BAD_CRC);
        ck_assert_uint_eq(t.len, 1);
        snap_check_free(&t, &s);
    }
    /* an unknown opcode with a bad FCRC: FCRC first */
    size_t n = dut_encode(&t, 0x77, 0x43, w, 4);
    t.frame[n - 2] ^= 1;
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 1);
    ck_assert_uint_eq(t.status, DRF_ST_BAD_CRC);
    ck_assert_uint_eq(t.op, 0xF7);

    /* idle mid-frame: TRUNCATED after a complete header, silence before */
    for (size_t cut = 1; cut < 8 + sizeof w + 4; cut += 3) {
        snap_take(&t, &s);
        n = dut_encode(&t, DRF_OP_WRITE, 0x44, w, sizeof w);
        dut_send(&t, t.frame, cut);
        ck_assert_int_eq(dut_responses(&t), 0);
        ref_device_idle(t.dev);
        int r = dut_responses(&t);
        if (cut < 8) {
            ck_assert_int_eq(r, 0);
        } else {
            ck_assert_int_eq(r, 1);
            ck_assert_uint_eq(t.status, DRF_ST_TRUNCATED);
            ck_assert_uint_eq(t.rtag, 0x44);
            ck_assert_uint_eq(t.op, DRF_RESP_BIT | DRF_OP_WRITE);
        }
        ref_device_idle(t.dev); /* idle while hunting: nothing */
        ck_assert_int_eq(dut_responses(&t), 0);
        snap_check_free(&t, &s);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_ECHO, w, 5), DRF_ST_OK);
    }

    /* len over the limit: the next len + 4 bytes are discarded, even a valid frame inside */
    {
        snap_take(&t, &s);
        uint8_t *big = calloc(1, 5000);
        size_t inner = frame_encode(big + 100, 4000, DRF_OP_WRITE, 0x45, w, sizeof w);
        ck_assert_uint_gt(inner, 0);
        uint8_t hdr[8] = {DRF_SYNC0, DRF_SYNC1, DRF_OP_WRITE, 0x46, 0, 0, 0, 0};
        drf_put16(hdr + 4, 4105);
        drf_put16(hdr + 6, crc16_ccitt(hdr, 6));
        memcpy(big, hdr, 8);
        dut_send(&t, big, 8 + 4105 + 3);
        ck_assert_int_eq(dut_responses(&t), 0);
        dut_send(&t, big + 8 + 4105 + 3, 1);
        ck_assert_int_eq(dut_responses(&t), 1);
        ck_assert_uint_eq(t.status, DRF_ST_TOO_LONG);
        ck_assert_uint_eq(t.rtag, 0x46);
        ck_assert_uint_eq(t.op, DRF_RESP_BIT | DRF_OP_WRITE);
        snap_check_free(&t, &s);
        /* idle while discarding: TOO_LONG */
        drf_put16(hdr + 4, 0xFFFF);
        drf_put16(hdr + 6, crc16_ccitt(hdr, 6));
        dut_send(&t, hdr, 8);
        dut_send(&t, big + 8, 100);
        ck_assert_int_eq(dut_responses(&t), 0);
        ref_device_idle(t.dev);
        ck_assert_int_eq(dut_responses(&t), 1);
        ck_assert_uint_eq(t.status, DRF_ST_TOO_LONG);
        free(big);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_ECHO, w, 5), DRF_ST_OK);
    }

    /* header CRC corruption: no response, counted; the next frame works */
    stats_t before = get_stats(&t, 1);
    (void)before;
    int hdr_errs = 0, silent = 0;
    for (int byte = 2; byte < 8; byte++) {
        snap_take(&t, &s);
        n = dut_encode_clean(&t, DRF_OP_WRITE, 0x47, w, sizeof w);
        t.frame[byte] ^= 0x10;
        dut_send(&t, t.frame, n);
        hdr_errs++;
        ck_assert_int_eq(dut_responses(&t), 0);
        snap_check_free(&t, &s);
        ck_assert_int_eq(dut_cmd(&t, DRF_OP_ECHO, w, 5), DRF_ST_OK);
        silent++;
    }
    /* idle inside an incomplete header is also a header error */
    n = dut_encode(&t, DRF_OP_ECHO, 0x48, w, 0);
    dut_send(&t, t.frame, 5);
    ref_device_idle(t.dev);
    ck_assert_int_eq(dut_responses(&t), 0);
    hdr_errs++;
    stats_t st = get_stats(&t, 0);
    ck_assert_uint_eq(st.hdr, (uint32_t)hdr_errs);
    ck_assert_uint_eq(st.ok, 1u + (uint32_t)silent); /* + the clearing STATS */
    ck_assert_uint_eq(st.err, 0);
    ck_assert_uint_eq(st.junk, 6u * (sizeof w + 4)); /* payload + FCRC hunted through: no 0xD0 */
    dut_close(&t);
}
END_TEST

/* Rule 5: an identical frame gets the cached response and executes nothing. */
START_TEST(test_duplicate)
{
    uint64_t seed = 95;
    dut t;
    dut_open(&t, NULL);
    free(put_operand(&t, &seed, DRF_MEM_L, 0, 1, 64, 1, 1)); /* all-ones codes: C = 64 (UU) */
    free(put_operand(&t, &seed, DRF_MEM_R, 0, 1, 64, 1, 1));
    uint8_t g[40];
    p_gemm(g, 0, 0, 1, 1, 64, 1, 1, 0, 0, DRF_GEMM_ACC64, 100, 1, 3);
    uint8_t first[128], again[128];
    size_t n = dut_encode(&t, DRF_OP_GEMM, 0x10, g, 40);
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 1);
    ck_assert_uint_eq(t.status, DRF_ST_OK);
    ck_assert_uint_le(t.raw_len, sizeof first);
    memcpy(first, t.raw, t.raw_len);
    size_t flen = t.raw_len;
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 1);
    ck_assert_uint_eq(t.raw_len, flen);
    memcpy(again, t.raw, t.raw_len);
    ck_assert_mem_eq(first, again, flen);
    const uint32_t *d = ref_device_mem32(t.dev, NULL);
    ck_assert_uint_eq(d[100], 3 * 64); /* accumulated once */
    /* a garbled retry (BAD_CRC) in between does not forget the frame */
    uint8_t bad[128];
    memcpy(bad, t.frame, n);
    bad[20] ^= 1;
    dut_send(&t, bad, n);
    ck_assert_int_eq(dut_responses(&t), 1);
    ck_assert_uint_eq(t.status, DRF_ST_BAD_CRC);
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 1);
    ck_assert_mem_eq(t.raw, first, flen);
    ck_assert_uint_eq(d[100], 3 * 64);
    /* a new tag executes again */
    n = dut_encode(&t, DRF_OP_GEMM, 0x11, g, 40);
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 1);
    ck_assert_uint_eq(d[100], 6 * 64);
    stats_t s = get_stats(&t, 0);
    ck_assert_uint_eq(s.dup, 2);
    ck_assert_uint_eq(s.gemm, 2);
    ck_assert_uint_eq(s.err, 1);
    ck_assert_uint_eq(s.ok, 2 + 2); /* two WRITEs, two GEMMs; duplicates excluded */

    /* QUANT_GRAD resent: the LFSR advances once */
    uint32_t grad[4] = {0x00050003u, 0xFFF0FFFFu, 0x7FFF8000u, 0x00000001u};
    wr_words(&t, DRF_MEM_D, 200, grad, 4);
    uint8_t q[24];
    p_qgrad(q, 200, 2, 4, 3, 300, 310);
    uint32_t l0 = ref_device_lfsr(t.dev);
    n = dut_encode(&t, DRF_OP_QUANT_GRAD, 0x20, q, 24);
    dut_send(&t, t.frame, n);
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 2);
    ck_assert_uint_eq(ref_device_lfsr(t.dev), lfsr_jump(l0, 16 * 8));

    /* only one frame of history: A, B, A executes A twice */
    uint8_t e1[2] = {1, 1};
    size_t na = frame_encode(bad, sizeof bad, DRF_OP_SEED, 0x30, (const uint8_t[4]){9, 0, 0, 0}, 4);
    dut_send(&t, bad, na);
    dut_send(&t, t.frame, dut_encode(&t, DRF_OP_ECHO, 0x31, e1, 2));
    dut_send(&t, bad, na);
    ck_assert_int_eq(dut_responses(&t), 3);
    s = get_stats(&t, 0);
    ck_assert_uint_eq(s.dup, 3);

    /* an error response is remembered and resent too (not counted again as an error) */
    uint32_t err0 = s.err;
    g[20] = 0;
    n = dut_encode(&t, DRF_OP_GEMM, 0x40, g, 40);
    dut_send(&t, t.frame, n);
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 2);
    ck_assert_uint_eq(t.status, DRF_ST_BAD_ARG);
    s = get_stats(&t, 0);
    ck_assert_uint_eq(s.dup, 4);
    ck_assert_uint_eq(s.err, err0 + 1);

    /* a STATS duplicate returns the cached (stale) counters */
    uint8_t sp[4] = {0};
    n = dut_encode(&t, DRF_OP_STATS, 0x50, sp, 4);
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 1);
    memcpy(first, t.raw, t.raw_len);
    flen = t.raw_len;
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 1);
    ck_assert_mem_eq(t.raw, first, flen);

    /* responses of rules 3, 4 and 7 are not remembered: the same bad frame twice, two errors */
    n = dut_encode(&t, DRF_OP_ECHO, 0x60, e1, 2);
    t.frame[n - 1] ^= 0x40;
    dut_send(&t, t.frame, n);
    dut_send(&t, t.frame, n);
    ck_assert_int_eq(dut_responses(&t), 2);
    ck_assert_uint_eq(t.status, DRF_ST_BAD_CRC);

    /* RESET clears the memory: X, RESET, X executes X again; RESET twice executes twice */
    uint8_t wx[12] = {DRF_MEM_D, 0, 0, 0, 50, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD};
    size_t nx = frame_encode(bad, sizeof bad, DRF_OP_WRITE, 0x70, wx, 12);
    dut_send(&t, bad, nx);
    n = dut_encode(&t, DRF_OP_RESET, 0x71, NULL, 0);
    dut_send(&t, t.frame, n);
    dut_send(&t, t.frame, n);
    dut_send(&t, bad, nx);
    ck_assert_int_eq(dut_responses(&t), 4);
    ck_assert_uint_eq(d[50], 0xDDCCBBAAu);
    s = get_stats(&t, 0);
    ck_assert_uint_eq(s.dup, 0);
    ck_assert_uint_eq(s.ok, 2); /* the second RESET and the WRITE */
    dut_send(&t, bad, nx);      /* the STATS in between: X executes again */
    ck_assert_int_eq(dut_responses(&t), 1);
    dut_send(&t, bad, nx);
    ck_assert_int_eq(dut_responses(&t), 1);
    s = get_stats(&t, 0);
    ck_assert_uint_eq(s.dup, 1);
    dut_close(&t);
}
END_TEST

Suite *suite_device(void);
Suite *suite_device(void)
{
    Suite *s = suite_create("device");
    TCase *tc = tcase_create("device");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_info);
    tcase_add_test(tc, test_write_read);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_gemm_write32);
    tcase_add_test(tc, test_gemm_acc64);
    tcase_add_test(tc, test_quant_grad);
    tcase_add_test(tc, test_quant_act);
    tcase_add_test(tc, test_pack);
    tcase_add_test(tc, test_seed_stats);
    tcase_add_test(tc, test_echo);
    tcase_add_test(tc, test_bad_opcode_length);
    tcase_add_test(tc, test_bad_arg);
    tcase_add_test(tc, test_bad_addr);
    tcase_add_test(tc, test_bad_frames);
    tcase_add_test(tc, test_duplicate);
    suite_add_tcase(s, tc);
    return s;
}
