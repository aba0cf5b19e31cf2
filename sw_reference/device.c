/* The golden-model device (spec 2-9): memories, LFSR, statistics, duplicate-frame memory and the
 * command executor. Every command is validated completely (opcode, length, arguments in payload
 * order, addresses) before anything is written, so a failing command changes no state but the
 * statistics counters. */
#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitplane.h"
#include "dorefa_proto.h"
#include "falpha.h"
#include "fgamma.h"
#include "frame.h"
#include "gemm.h"

#define DUP_KEY_BYTES (DRF_HDR_BYTES + DRF_FCRC_BYTES)

/* INFO geometry of the golden model (spec 9.1; informative for the golden model). */
#define REF_ARRAY_ROWS 8u
#define REF_ARRAY_COLS 8u
#define REF_DPU_WIDTH 64u
#define REF_FGAMMA_LANES 1u
#define REF_IMPLEMENTATION 0u

struct ref_device {
    ref_device_config cfg;
    uint64_t *mem64[2]; /* L, R */
    uint32_t *d;
    uint32_t lfsr;

    frame_rx rx; /* also holds the junk_bytes counter */
    uint32_t frames_ok, frames_err, hdr_errors, dup_frames;
    uint64_t gemm_ops, bin_ops;

    /* Rule 5: header + FCRC of the last executed frame and its complete response frame. */
    int dup_valid;
    uint8_t dup_key[DUP_KEY_BYTES];
    uint8_t *dup_resp;
    size_t dup_len;

    uint8_t *resp;     /* response payload being built: status + data, max_payload bytes */
    uint64_t *scratch; /* operand copies for f_gamma, f_alpha, GEMM results; sized at creation */
    uint8_t *frame;    /* an encoded error response, max_payload + overhead bytes */

    uint8_t *tx; /* response byte queue: tx[tx_head .. tx_len) pending */
    size_t tx_head, tx_len, tx_cap;
};

void ref_device_config_default(ref_device_config *cfg)
{
    cfg->max_payload = 4104;
    cfg->l_words = 65536;
    cfg->r_words = 65536;
    cfg->d_words = 1048576;
    cfg->max_k = DRF_K_MAX;
    cfg->rx_timeout_us = 10000;
}

/* Scratch bytes the largest command can need: GEMM results as int64 are at most 8 bytes per D
 * word of the destination region; f_gamma / f_alpha copies at most 4 bytes per D word of their
 * (disjoint) regions plus alignment; PACK gathers rows x K codes, at most 64 per word of L or R. */
static uint64_t scratch_bytes(const ref_device_config *cfg)
{
    uint64_t n = 8u * (uint64_t)cfg->d_words + 64u;
    uint64_t lr = cfg->l_words > cfg->r_words ? cfg->l_words : cfg->r_words;
    return n > 64u * lr ? n : 64u * lr;
}

ref_device *ref_device_new(const ref_device_config *cfg)
{
    ref_device_config def;
    if (!cfg) {
        ref_device_config_default(&def);
        cfg = &def;
    }
    if (cfg->max_payload < DRF_MIN_MAX_PAYLOAD || cfg->max_payload > 65535u || cfg->max_k < 1 ||
        cfg->max_k > DRF_K_MAX || !cfg->l_words || !cfg->r_words || !cfg->d_words)
        return NULL;
    uint64_t sb = scratch_bytes(cfg);
    if (sb > SIZE_MAX)
        return NULL;
    ref_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return NULL;
    dev->cfg = *cfg;
    dev->lfsr = DRF_LFSR_RESET_STATE;
    dev->mem64[0] = calloc(cfg->l_words, sizeof(uint64_t));
    dev->mem64[1] = calloc(cfg->r_words, sizeof(uint64_t));
    dev->d = calloc(cfg->d_words, sizeof(uint32_t));
    dev->dup_resp = malloc(cfg->max_payload + DRF_FRAME_OVERHEAD);
    dev->frame = malloc(cfg->max_payload + DRF_FRAME_OVERHEAD);
    dev->resp = malloc(cfg->max_payload);
    dev->scratch = malloc((size_t)sb);
    int rx_ok = frame_rx_init(&dev->rx, cfg->max_payload) == 0;
    if (!rx_ok || !dev->mem64[0] || !dev->mem64[1] || !dev->d || !dev->dup_resp || !dev->frame ||
        !dev->resp || !dev->scratch) {
        ref_device_free(dev);
        return NULL;
    }
    return dev;
}

void ref_device_free(ref_device *dev)
{
    if (!dev)
        return;
    free(dev->mem64[0]);
    free(dev->mem64[1]);
    free(dev->d);
    free(dev->dup_resp);
    free(dev->frame);
    free(dev->resp);
    free(dev->scratch);
    free(dev->tx);
    frame_rx_free(&dev->rx);
    free(dev);
}

uint64_t *ref_device_mem64(ref_device *dev, int mem, uint32_t *words)
{
    if (mem != DRF_MEM_L && mem != DRF_MEM_R)
        return NULL;
    if (words)
        *words = mem == DRF_MEM_L ? dev->cfg.l_words : dev->cfg.r_words;
    return dev->mem64[mem];
}

uint32_t *ref_device_mem32(ref_device *dev, uint32_t *words)
{
    if (words)
        *words = dev->cfg.d_words;
    return dev->d;
}

uint32_t ref_device_lfsr(const ref_device *dev) { return dev->lfsr; }

/* ---- response queue ---------------------------------------------------------------------- */

static void tx_push(ref_device *dev, const uint8_t *bytes, size_t n)
{
    if (dev->tx_head && dev->tx_head == dev->tx_len)
        dev->tx_head = dev->tx_len = 0;
    if (dev->tx_cap - dev->tx_len < n && dev->tx_head) {
        memmove(dev->tx, dev->tx + dev->tx_head, dev->tx_len - dev->tx_head);
        dev->tx_len -= dev->tx_head;
        dev->tx_head = 0;
    }
    if (dev->tx_cap - dev->tx_len < n) {
        size_t cap = dev->tx_cap ? dev->tx_cap : 4096u;
        while (cap - dev->tx_len < n)
            cap *= 2;
        uint8_t *p = realloc(dev->tx, cap);
        if (!p) {
            /* A link cannot report this; losing a response silently would be worse. */
            fprintf(stderr, "ref_device: out of memory for the response queue\n");
            abort();
        }
        dev->tx = p;
        dev->tx_cap = cap;
    }
    memcpy(dev->tx + dev->tx_len, bytes, n);
    dev->tx_len += n;
}

size_t ref_device_tx(ref_device *dev, uint8_t *out, size_t cap)
{
    size_t n = dev->tx_len - dev->tx_head;
    if (n > cap)
        n = cap;
    if (n)
        memcpy(out, dev->tx + dev->tx_head, n);
    dev->tx_head += n;
    if (dev->tx_head == dev->tx_len)
        dev->tx_head = dev->tx_len = 0;
    return n;
}

size_t ref_device_tx_pending(const ref_device *dev) { return dev->tx_len - dev->tx_head; }

/* ---- memory views and range checks (spec 2.2-2.3) ------------------------------------------- */

static int32_t as_i32(uint32_t w) { return w < 0x80000000u ? (int32_t)w : -(int32_t)(~w) - 1; }

static uint8_t d_get_u8(const uint32_t *d, uint64_t base, uint64_t i)
{
    return (uint8_t)(d[base + i / 4u] >> (8u * (unsigned)(i % 4u)));
}

static void d_put_u8(uint32_t *d, uint64_t base, uint64_t i, uint8_t v)
{
    unsigned sh = 8u * (unsigned)(i % 4u);
    uint32_t *w = &d[base + i / 4u];
    *w = (*w & ~(0xFFu << sh)) | ((uint32_t)v << sh);
}

static int16_t d_get_i16(const uint32_t *d, uint64_t base, uint64_t i)
{
    uint32_t h = (d[base + i / 2u] >> (16u * (unsigned)(i % 2u))) & 0xFFFFu;
    return (int16_t)(h < 0x8000u ? (int32_t)h : (int32_t)h - 65536);
}

/* Whether words [base, base + words) lie inside a memory of `size` words; no overflow for any
 * operands below 2^64. */
static int region_ok(uint64_t base, uint64_t words, uint64_t size)
{
    return words <= size && base <= size - words;
}

/* Whether two in-range word regions share a word. */
static int overlap(uint64_t a, uint64_t na, uint64_t b, uint64_t nb)
{
    return a < b + nb && b < a + na;
}

static uint64_t mem_words(const ref_device *dev, unsigned id)
{
    return id == DRF_MEM_L ? dev->cfg.l_words : id == DRF_MEM_R ? dev->cfg.r_words
                                                                : dev->cfg.d_words;
}

static int bits_ok(unsigned b) { return b >= 1 && b <= DRF_BITS_MAX; }

static int zero_bytes(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void clear_counters(ref_device *dev)
{
    dev->frames_ok = dev->frames_err = dev->hdr_errors = dev->dup_frames = 0;
    dev->rx.junk_bytes = 0;
    dev->gemm_ops = dev->bin_ops = 0;
}

/* ---- commands (spec 9): each validates fully, then executes; data goes to out ------------- */

static int cmd_info(ref_device *dev, size_t len, uint8_t *out, size_t *n)
{
    if (len != 0)
        return DRF_ST_BAD_LENGTH;
    memset(out, 0, DRF_INFO_RESP_BYTES);
    memcpy(out, "DRFA", 4);
    drf_put16(out + 4, DRF_PROTOCOL_VERSION);
    drf_put16(out + 6, REF_IMPLEMENTATION);
    drf_put32(out + 8, dev->cfg.max_payload);
    drf_put32(out + 12, dev->cfg.l_words);
    drf_put32(out + 16, dev->cfg.r_words);
    drf_put32(out + 20, dev->cfg.d_words);
    drf_put32(out + 24, dev->cfg.max_k);
    drf_put16(out + 28, REF_ARRAY_ROWS);
    drf_put16(out + 30, REF_ARRAY_COLS);
    drf_put16(out + 32, REF_DPU_WIDTH);
    drf_put16(out + 34, REF_FGAMMA_LANES);
    drf_put32(out + 36, 0); /* core clock: none */
    drf_put32(out + 40, dev->cfg.rx_timeout_us);
    drf_put32(out + 44, 0); /* feature bits */
    *n = DRF_INFO_RESP_BYTES;
    return DRF_ST_OK;
}

static int cmd_reset(ref_device *dev, size_t len)
{
    if (len != 0)
        return DRF_ST_BAD_LENGTH;
    memset(dev->mem64[0], 0, (size_t)dev->cfg.l_words * sizeof(uint64_t));
    memset(dev->mem64[1], 0, (size_t)dev->cfg.r_words * sizeof(uint64_t));
    memset(dev->d, 0, (size_t)dev->cfg.d_words * sizeof(uint32_t));
    dev->lfsr = DRF_LFSR_RESET_STATE;
    clear_counters(dev);
    /* The duplicate-frame memory is cleared by the caller after the response is sent. */
    return DRF_ST_OK;
}

static int cmd_write(ref_device *dev, const uint8_t *p, size_t len)
{
    if (len < 1)
        return DRF_ST_BAD_LENGTH;
    unsigned id = p[0];
    if (id > DRF_MEM_D)
        return DRF_ST_BAD_ARG; /* checked before the length: the word size depends on it */
    size_t wb = id == DRF_MEM_D ? 4u : 8u;
    if (len < DRF_WRITE_HDR_BYTES + wb || (len - DRF_WRITE_HDR_BYTES) % wb)
        return DRF_ST_BAD_LENGTH;
    if (!zero_bytes(p + 1, 3))
        return DRF_ST_BAD_ARG;
    uint32_t addr = drf_get32(p + 4);
    uint64_t count = (len - DRF_WRITE_HDR_BYTES) / wb;
    if (!region_ok(addr, count, mem_words(dev, id)))
        return DRF_ST_BAD_ADDR;
    const uint8_t *src = p + DRF_WRITE_HDR_BYTES;
    for (uint64_t i = 0; i < count; i++) {
        if (id == DRF_MEM_D)
            dev->d[addr + i] = drf_get32(src + 4 * i);
        else
            dev->mem64[id][addr + i] = drf_get64(src + 8 * i);
    }
    return DRF_ST_OK;
}

static int cmd_read(ref_device *dev, const uint8_t *p, size_t len, uint8_t *out, size_t *n)
{
    if (len != DRF_READ_BYTES)
        return DRF_ST_BAD_LENGTH;
    unsigned id = p[0];
    if (id > DRF_MEM_D || !zero_bytes(p + 1, 3))
        return DRF_ST_BAD_ARG;
    uint32_t addr = drf_get32(p + 4), count = drf_get32(p + 8);
    if (count == 0)
        return DRF_ST_BAD_ARG;
    uint64_t wb = id == DRF_MEM_D ? 4u : 8u;
    if (1u + (uint64_t)count * wb > dev->cfg.max_payload)
        return DRF_ST_BAD_LENGTH;
    if (!region_ok(addr, count, mem_words(dev, id)))
        return DRF_ST_BAD_ADDR;
    for (uint32_t i = 0; i < count; i++) {
        if (id == DRF_MEM_D)
            drf_put32(out + 4 * (size_t)i, dev->d[addr + i]);
        else
            drf_put64(out + 8 * (size_t)i, dev->mem64[id][addr + i]);
    }
    *n = (size_t)(count * wb);
    return DRF_ST_OK;
}

static int cmd_gemm(ref_device *dev, const uint8_t *p, size_t len)
{
    if (len != DRF_GEMM_BYTES)
        return DRF_ST_BAD_LENGTH;
    uint32_t lbase = drf_get32(p), rbase = drf_get32(p + 4);
    uint32_t M = drf_get32(p + 8), N = drf_get32(p + 12), K = drf_get32(p + 16);
    unsigned bl = p[20], br = p[21], fl = p[22], fr = p[23], mode = p[24];
    uint32_t dst = drf_get32(p + 28), ldc = drf_get32(p + 32);
    int32_t scale = as_i32(drf_get32(p + 36));
    if (lbase % DRF_ROW_ALIGN || rbase % DRF_ROW_ALIGN || M == 0 || N == 0 || K == 0 ||
        K > dev->cfg.max_k || !bits_ok(bl) || !bits_ok(br) ||
        fl > DRF_FMT_S || fr > DRF_FMT_S || mode > DRF_GEMM_ACC64 || !zero_bytes(p + 25, 3) ||
        ldc < N || (mode == DRF_GEMM_WRITE32 && scale != 0) || scale < INT16_MIN || scale > INT16_MAX)
        return DRF_ST_BAD_ARG;

    uint64_t elems = (uint64_t)(M - 1) * ldc + N; /* < 2^64: (2^32 - 1)^2 + 2^32 */
    if (!region_ok(lbase, bitplane_words(M, K, bl), dev->cfg.l_words) ||
        !region_ok(rbase, bitplane_words(N, K, br), dev->cfg.r_words) ||
        elems > dev->cfg.d_words ||
        !region_ok(dst, mode == DRF_GEMM_ACC64 ? 2 * elems : elems, dev->cfg.d_words))
        return DRF_ST_BAD_ADDR;

    /* Operands are read in place; M*N <= elems <= d_words, so the results fit the scratch. */
    gemm_operand lo = {dev->mem64[0] + lbase, M, bl, fl};
    gemm_operand ro = {dev->mem64[1] + rbase, N, br, fr};
    int64_t *c = (int64_t *)dev->scratch;
    gemm_bitserial(&lo, &ro, K, c, N);
    for (uint32_t i = 0; i < M; i++) {
        for (uint32_t j = 0; j < N; j++) {
            uint64_t e = (uint64_t)i * ldc + j;
            int64_t v = c[(size_t)i * N + j];
            if (mode == DRF_GEMM_WRITE32) {
                dev->d[dst + e] = (uint32_t)v; /* exact: |C| < 2^31 by the K bound */
            } else {
                uint32_t *w = &dev->d[dst + 2 * e];
                uint64_t acc = (uint64_t)w[0] | ((uint64_t)w[1] << 32);
                acc += (uint64_t)((int64_t)scale * v); /* |scale*C| < 2^62; sum wraps mod 2^64 */
                w[0] = (uint32_t)acc;
                w[1] = (uint32_t)(acc >> 32);
            }
        }
    }
    dev->gemm_ops++;
    dev->bin_ops += 2u * (uint64_t)M * N * K * bl * br; /* a counter: wraps */
    return DRF_ST_OK;
}

static int cmd_quant_grad(ref_device *dev, const uint8_t *p, size_t len)
{
    if (len != DRF_QGRAD_BYTES)
        return DRF_ST_BAD_LENGTH;
    uint32_t src = drf_get32(p), S = drf_get32(p + 4), E = drf_get32(p + 8);
    unsigned G = p[12];
    uint32_t dst = drf_get32(p + 16), mdst = drf_get32(p + 20);
    if (S == 0 || E == 0 || !bits_ok(G) || !zero_bytes(p + 13, 3))
        return DRF_ST_BAD_ARG;

    uint64_t n = (uint64_t)S * E, dw = dev->cfg.d_words;
    uint64_t src_w = (n + 1) / 2, dst_w = (n + 3) / 4;
    if (!region_ok(src, src_w, dw) || !region_ok(dst, dst_w, dw) || !region_ok(mdst, S, dw) ||
        overlap(src, src_w, dst, dst_w) || overlap(src, src_w, mdst, S) ||
        overlap(dst, dst_w, mdst, S))
        return DRF_ST_BAD_ADDR;

    /* Disjoint regions in D: 2n + n + 4S bytes <= 4 * (src_w + dst_w + S) <= 4 * d_words. */
    int16_t *g = (int16_t *)dev->scratch;
    int32_t *m = (int32_t *)(dev->scratch + (2 * n + 7) / 8);
    uint8_t *codes = (uint8_t *)(m + S);
    for (uint64_t i = 0; i < n; i++)
        g[i] = d_get_i16(dev->d, src, i); /* fgamma_quantize saturates -32768 itself */
    fgamma_quantize(g, S, E, G, &dev->lfsr, codes, m);
    for (uint64_t i = 0; i < n; i++)
        d_put_u8(dev->d, dst, i, codes[i]);
    for (uint32_t s = 0; s < S; s++)
        dev->d[mdst + s] = (uint32_t)m[s];
    return DRF_ST_OK;
}

static int cmd_quant_act(ref_device *dev, const uint8_t *p, size_t len)
{
    if (len != DRF_QACT_BYTES)
        return DRF_ST_BAD_LENGTH;
    uint32_t src = drf_get32(p), M = drf_get32(p + 4), N = drf_get32(p + 8);
    unsigned A = p[12], axis = p[13];
    uint32_t thr = drf_get32(p + 16), dst = drf_get32(p + 20);
    if (M == 0 || N == 0 || !bits_ok(A) || axis > 1 || !zero_bytes(p + 14, 2))
        return DRF_ST_BAD_ARG;

    uint64_t n = (uint64_t)M * N, dw = dev->cfg.d_words;
    uint64_t thr_w = (uint64_t)(axis ? N : M) * falpha_record_words(A), dst_w = (n + 3) / 4;
    if (!region_ok(src, n, dw) || !region_ok(thr, thr_w, dw) || !region_ok(dst, dst_w, dw) ||
        overlap(src, n, thr, thr_w) || overlap(src, n, dst, dst_w) ||
        overlap(thr, thr_w, dst, dst_w))
        return DRF_ST_BAD_ADDR;

    /* Disjoint regions in D: 4n + 4 thr_w + n bytes <= 4 * d_words. */
    int32_t *acc = (int32_t *)dev->scratch;
    int32_t *t = acc + n;
    uint8_t *codes = (uint8_t *)(t + thr_w);
    for (uint64_t i = 0; i < n; i++)
        acc[i] = as_i32(dev->d[src + i]);
    for (uint64_t i = 0; i < thr_w; i++)
        t[i] = as_i32(dev->d[thr + i]);
    falpha_quantize(acc, M, N, A, axis, t, codes);
    for (uint64_t i = 0; i < n; i++)
        d_put_u8(dev->d, dst, i, codes[i]);
    return DRF_ST_OK;
}

static int cmd_pack(ref_device *dev, const uint8_t *p, size_t len)
{
    if (len != DRF_PACK_BYTES)
        return DRF_ST_BAD_LENGTH;
    uint32_t src = drf_get32(p), sr = drf_get32(p + 4), sk = drf_get32(p + 8);
    uint32_t rows = drf_get32(p + 12), K = drf_get32(p + 16);
    unsigned bits = p[20], buf = p[21];
    uint32_t dst = drf_get32(p + 24);
    if (rows == 0 || K == 0 || K > dev->cfg.max_k || !bits_ok(bits) || buf > DRF_MEM_R ||
        !zero_bytes(p + 22, 2) || dst % DRF_ROW_ALIGN)
        return DRF_ST_BAD_ARG;

    /* Largest element index; the sum can exceed 2^64 - 1 only for regions far outside D. */
    uint64_t a = (uint64_t)(rows - 1) * sr, b = (uint64_t)(K - 1) * sk;
    if (a > UINT64_MAX - b || !region_ok(src, (a + b) / 4 + 1, dev->cfg.d_words) ||
        !region_ok(dst, bitplane_words(rows, K, bits), mem_words(dev, buf)))
        return DRF_ST_BAD_ADDR;

    /* Gather the whole matrix, then pack it in one go: the layout (2.1) interleaves rows, and
     * rows * K <= 64 * rows * bits * KW <= 64 * words of the destination fits the scratch. */
    uint8_t *x = (uint8_t *)dev->scratch;
    uint8_t mask = (uint8_t)((1u << bits) - 1u);
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t k = 0; k < K; k++)
            x[(size_t)r * K + k] =
                d_get_u8(dev->d, src, (uint64_t)r * sr + (uint64_t)k * sk) & mask;
    bitplane_pack(dev->mem64[buf] + dst, x, K, rows, K, bits);
    return DRF_ST_OK;
}

static int cmd_seed(ref_device *dev, const uint8_t *p, size_t len)
{
    if (len != DRF_SEED_BYTES)
        return DRF_ST_BAD_LENGTH;
    uint32_t seed = drf_get32(p);
    if (seed == 0)
        return DRF_ST_BAD_ARG;
    dev->lfsr = seed;
    return DRF_ST_OK;
}

/* Counters are sampled before this frame is counted; a clear happens after sampling, and the
 * STATS frame itself is then counted like RESET counts itself. */
static int cmd_stats(ref_device *dev, const uint8_t *p, size_t len, uint8_t *out, size_t *n)
{
    if (len != DRF_STATS_BYTES)
        return DRF_ST_BAD_LENGTH;
    if ((p[0] & ~1u) || !zero_bytes(p + 1, 3))
        return DRF_ST_BAD_ARG;
    drf_put32(out + 0, dev->frames_ok);
    drf_put32(out + 4, dev->frames_err);
    drf_put32(out + 8, dev->hdr_errors);
    drf_put32(out + 12, dev->rx.junk_bytes);
    drf_put32(out + 16, dev->dup_frames);
    drf_put32(out + 20, dev->lfsr);
    drf_put64(out + 24, dev->gemm_ops);
    drf_put64(out + 32, dev->bin_ops);
    drf_put64(out + 40, 0); /* cycles: implementation-defined, none here */
    drf_put64(out + 48, 0); /* busy_cycles */
    *n = DRF_STATS_RESP_BYTES;
    if (p[0] & 1u)
        clear_counters(dev);
    return DRF_ST_OK;
}

static int cmd_echo(ref_device *dev, const uint8_t *p, size_t len, uint8_t *out, size_t *n)
{
    if (len > dev->cfg.max_payload - 1u)
        return DRF_ST_BAD_LENGTH;
    if (len)
        memcpy(out, p, len);
    *n = len;
    return DRF_ST_OK;
}

/* Validates and executes one command; the response data (after the status byte) goes to out
 * (room for max_payload - 1 bytes) and its length to *n. */
static int execute(ref_device *dev, uint8_t op, const uint8_t *p, size_t len, uint8_t *out,
                   size_t *n)
{
    *n = 0;
    switch (op) {
    case DRF_OP_INFO: return cmd_info(dev, len, out, n);
    case DRF_OP_RESET: return cmd_reset(dev, len);
    case DRF_OP_WRITE: return cmd_write(dev, p, len);
    case DRF_OP_READ: return cmd_read(dev, p, len, out, n);
    case DRF_OP_GEMM: return cmd_gemm(dev, p, len);
    case DRF_OP_QUANT_GRAD: return cmd_quant_grad(dev, p, len);
    case DRF_OP_QUANT_ACT: return cmd_quant_act(dev, p, len);
    case DRF_OP_PACK: return cmd_pack(dev, p, len);
    case DRF_OP_SEED: return cmd_seed(dev, p, len);
    case DRF_OP_STATS: return cmd_stats(dev, p, len, out, n);
    case DRF_OP_ECHO: return cmd_echo(dev, p, len, out, n);
    default: return DRF_ST_BAD_OPCODE;
    }
}

/* ---- receiver events (spec 8.2) ------------------------------------------------------------ */

/* Responses of rules 3, 4 and 7: status only, not remembered for duplicates. */
static void respond_error(ref_device *dev, uint8_t status)
{
    size_t n = frame_encode(dev->frame, dev->cfg.max_payload + DRF_FRAME_OVERHEAD,
                            (uint8_t)(DRF_RESP_BIT | dev->rx.opcode), dev->rx.tag, &status, 1);
    tx_push(dev, dev->frame, n);
    dev->frames_err++;
}

static void handle_frame(ref_device *dev)
{
    frame_rx *rx = &dev->rx;
    uint8_t key[DUP_KEY_BYTES];
    memcpy(key, rx->hdr, DRF_HDR_BYTES);
    drf_put32(key + DRF_HDR_BYTES, rx->fcrc);
    if (dev->dup_valid && memcmp(key, dev->dup_key, sizeof key) == 0) {
        tx_push(dev, dev->dup_resp, dev->dup_len);
        dev->dup_frames++;
        return;
    }
    size_t n;
    int st = execute(dev, rx->opcode, rx->payload, rx->len, dev->resp + 1, &n);
    dev->resp[0] = (uint8_t)st;
    dev->dup_len = frame_encode(dev->dup_resp, dev->cfg.max_payload + DRF_FRAME_OVERHEAD,
                                (uint8_t)(DRF_RESP_BIT | rx->opcode), rx->tag, dev->resp,
                                (uint16_t)(n + 1));
    memcpy(dev->dup_key, key, sizeof key);
    /* RESET clears the memory of the last frame, its own included. */
    dev->dup_valid = !(rx->opcode == DRF_OP_RESET && st == DRF_ST_OK);
    tx_push(dev, dev->dup_resp, dev->dup_len);
    if (st == DRF_ST_OK)
        dev->frames_ok++;
    else
        dev->frames_err++;
}

static void handle_event(ref_device *dev, enum frame_event ev)
{
    switch (ev) {
    case FRAME_OK: handle_frame(dev); break;
    case FRAME_BAD_CRC: respond_error(dev, DRF_ST_BAD_CRC); break;
    case FRAME_TOO_LONG: respond_error(dev, DRF_ST_TOO_LONG); break;
    case FRAME_TRUNCATED: respond_error(dev, DRF_ST_TRUNCATED); break;
    case FRAME_HDR_ERROR: dev->hdr_errors++; break;
    case FRAME_NONE: break;
    }
}

void ref_device_rx(ref_device *dev, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        enum frame_event ev = frame_rx_feed(&dev->rx, data[i]);
        if (ev != FRAME_NONE)
            handle_event(dev, ev);
    }
}

void ref_device_idle(ref_device *dev) { handle_event(dev, frame_rx_idle(&dev->rx)); }
