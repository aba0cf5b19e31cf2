/* Device co-simulation: random command streams, valid and invalid (every opcode, bad CRCs,
 * truncation, oversize, unknown opcodes, wrong lengths, bad arguments, out-of-range addresses,
 * duplicates, junk between frames, idle mid-frame), fed byte for byte to the Verilated device
 * (rtl/drf_device.v) and to the golden model configured with the geometry the RTL's INFO reports.
 * Every response byte is compared; INFO field by field (build-specific fields checked against the
 * build) and STATS with cycles / busy_cycles masked (spec 9.1, 9.10).
 * Usage: devcosim [--n N] [--seed S] [--verbose] [+trace[=FILE]]
 * The last line is "devcosim: <N> frames, <M> mismatches"; the exit status is 0 only with 0. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "device.h"
#include "dorefa_proto.h"
#include "drf_dev.h"
#include "frame.h"
#include "test_util.h"
#include "transport.h"

#ifndef DRF_ROWS
#error "DRF_ROWS, DRF_COLS, ... must match the Verilated parameters"
#endif

#define MAX_REPORTS 10
#define WIN 2048u                /* most addresses fall in the first WIN words of a memory */
#define STEP_CYCLES 20000000ull  /* a step that takes longer is a hang */
#define COST_LIMIT 150000ull     /* valid commands above this estimated RTL cost are not sent */
#define BUF_BYTES (70000u + 64u) /* the largest step: an oversize frame of len 65535 */

typedef struct {
    ref_device *ref;
    drf_dev *dev;
    uint64_t rng, seed, step, mismatches, frames, rtl_cycles;
    uint64_t stats_busy; /* STATS answers of the RTL with busy_cycles > 0 */
    uint8_t tag;
    uint32_t max_payload, l_words, r_words, d_words, max_k, idle_us;
    uint8_t last[BUF_BYTES]; /* the last complete command frame sent: duplicates resend it */
    size_t last_len;
    uint8_t buf[BUF_BYTES], ref_out[BUF_BYTES], rtl_out[BUF_BYTES];
    char desc[512];
    uint64_t kinds[32];
    uint64_t status[8]; /* golden-model response statuses */
    int verbose;
} dc;

static uint32_t rnd(dc *c, uint32_t n) { return n ? tu_below(&c->rng, n) : 0; }
static uint32_t between(dc *c, uint32_t lo, uint32_t hi) { return lo + rnd(c, hi - lo + 1); }
static uint32_t mem_words(const dc *c, unsigned id)
{
    return id == 0 ? c->l_words : id == 1 ? c->r_words : c->d_words;
}

/* ---- running both devices ---------------------------------------------------------------- */

/* Runs the RTL until it has taken every queued byte and produced `want` response bytes. Returns
 * the bytes it produced (more than want only if it produced extra ones in the same chunk). */
static size_t rtl_collect(dc *c, size_t want, size_t have, int *hang)
{
    uint64_t t0 = drf_dev_time(c->dev);
    *hang = 0;
    for (;;) {
        have += drf_dev_recv(c->dev, c->rtl_out + have, BUF_BYTES - have, 0);
        if (!drf_dev_unsent(c->dev) && have >= want)
            break;
        if (drf_dev_time(c->dev) - t0 > STEP_CYCLES) {
            *hang = 1;
            break;
        }
        /* Chunks far shorter than the idle time, so stopping late never fires rule 7. */
        drf_dev_run(c->dev, 32);
    }
    c->rtl_cycles += drf_dev_time(c->dev) - t0;
    return have;
}

static void report(dc *c, const char *what)
{
    c->mismatches++;
    if (c->mismatches <= MAX_REPORTS) {
        printf("MISMATCH seed %" PRIu64 " frame %" PRIu64 " (%s): %s\n", c->seed, c->step, c->desc,
               what);
        fflush(stdout);
    }
}

static void hexdump(const char *name, const uint8_t *p, size_t n)
{
    printf("  %s (%zu bytes):", name, n);
    for (size_t i = 0; i < n && i < 96; i++)
        printf(" %02X", p[i]);
    printf(n > 96 ? " ...\n" : "\n");
}

/* Whether a response frame (complete in p) has a valid HCRC and FCRC. */
static int frame_crcs_ok(const uint8_t *p, size_t n)
{
    if (n < DRF_FRAME_OVERHEAD)
        return 0;
    size_t len = drf_get16(p + 4);
    return n == len + DRF_FRAME_OVERHEAD && crc16_ccitt(p, 6) == drf_get16(p + 6) &&
           crc32_ieee(0, p, DRF_HDR_BYTES + len) == drf_get32(p + DRF_HDR_BYTES + len);
}

/* INFO data (after the status byte): the RTL's build-specific fields must be this build's. */
static int info_fields_ok(dc *c, const uint8_t *rtl, const uint8_t *ref)
{
    (void)c;
    static const struct { unsigned off, size; } same[] = {
        {0, 4}, {4, 2}, {8, 4}, {12, 4}, {16, 4}, {20, 4}, {24, 4}, {40, 4}, {44, 4}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (memcmp(rtl + same[i].off, ref + same[i].off, same[i].size))
            return 0;
    return drf_get16(rtl + 6) == 1 && drf_get16(rtl + 28) == DRF_ROWS &&
           drf_get16(rtl + 30) == DRF_COLS && drf_get16(rtl + 32) == 64 &&
           drf_get16(rtl + 34) == 1 && drf_get32(rtl + 36) == DRF_CLOCK_HZ;
}

/* Compares the response streams of one step frame by frame. */
static void compare(dc *c, const uint8_t *ref, size_t nref, const uint8_t *rtl, size_t nrtl)
{
    size_t p = 0;
    while (p < nref) {
        size_t len = drf_get16(ref + p + 4), n = len + DRF_FRAME_OVERHEAD;
        c->frames++;
        if (p + n > nrtl) {
            report(c, "RTL response missing or short");
            hexdump("golden", ref + p, n);
            hexdump("rtl", rtl + p, nrtl > p ? nrtl - p : 0);
            return;
        }
        const uint8_t *a = ref + p, *b = rtl + p;
        uint8_t op = a[2];
        c->status[a[8] & 7]++;
        int masked = len >= 2 && a[8] == DRF_ST_OK &&
                     (op == (DRF_RESP_BIT | DRF_OP_INFO) || op == (DRF_RESP_BIT | DRF_OP_STATS));
        int ok;
        if (!masked) {
            ok = !memcmp(a, b, n);
        } else if (op == (DRF_RESP_BIT | DRF_OP_INFO)) {
            ok = !memcmp(a, b, 9) && frame_crcs_ok(b, n) && info_fields_ok(c, b + 9, a + 9);
        } else {
            /* cycles and busy_cycles are the RTL's own: busy <= cycles <= the clock cycles run */
            uint64_t cyc = drf_get64(b + 9 + 40), busy = drf_get64(b + 9 + 48);
            ok = !memcmp(a, b, 9 + 40) && frame_crcs_ok(b, n) && busy <= cyc &&
                 cyc <= drf_dev_time(c->dev);
            c->stats_busy += busy > 0;
        }
        if (!ok) {
            report(c, "response differs");
            if (c->mismatches <= MAX_REPORTS) {
                hexdump("golden", a, n);
                hexdump("rtl", b, n);
            }
        }
        p += n;
    }
    if (nrtl > nref) {
        report(c, "RTL sent extra bytes");
        if (c->mismatches <= MAX_REPORTS)
            hexdump("extra", rtl + nref, nrtl - nref);
    }
}

/* One step: segments of bytes, each optionally followed by an idle line. */
typedef struct {
    const uint8_t *bytes;
    size_t len;
    int idle;
} segment;

static void run_step(dc *c, const segment *seg, int nseg)
{
    size_t nref = 0, nrtl = 0;
    for (int i = 0; i < nseg; i++) {
        ref_device_rx(c->ref, seg[i].bytes, seg[i].len);
        if (seg[i].idle)
            ref_device_idle(c->ref);
        nref += ref_device_tx(c->ref, c->ref_out + nref, BUF_BYTES - nref);
        drf_dev_send(c->dev, seg[i].bytes, seg[i].len);
        int hang;
        nrtl = rtl_collect(c, nref, nrtl, &hang);
        if (!hang && seg[i].idle) {
            /* Let the line go idle: the rule fires RX_IDLE_CYCLES after the last byte. */
            drf_dev_run(c->dev, drf_dev_idle_cycles(c->dev) + 8);
            c->rtl_cycles += drf_dev_idle_cycles(c->dev) + 8;
            nrtl = rtl_collect(c, nref, nrtl, &hang);
        }
        if (hang) {
            report(c, "RTL sent fewer bytes than the golden model in 20M cycles (hang or short)");
            printf("devcosim: aborting after a hang\n");
            printf("devcosim: %" PRIu64 " frames, %" PRIu64 " mismatches\n", c->frames,
                   c->mismatches);
            exit(1);
        }
    }
    compare(c, c->ref_out, nref, c->rtl_out, nrtl);
    if (c->verbose)
        printf("step %" PRIu64 ": %s -> %zu bytes\n", c->step, c->desc, nref);
}

/* ---- command generators ------------------------------------------------------------------ */

static uint32_t pick_addr(dc *c, unsigned id, uint32_t words, int align8)
{
    uint32_t size = mem_words(c, id), a;
    switch (rnd(c, 12)) {
    case 0: a = size - words + (rnd(c, 3) - 1u) * (align8 ? 8u : 1u); break; /* at the edge */
    case 1: a = rnd(c, 2) ? 0xFFFFFFFFu - rnd(c, 16) : size + rnd(c, 16);  break;
    default: a = rnd(c, WIN - (words < WIN ? words : WIN - 1)); break;
    }
    return align8 && rnd(c, 16) ? a & ~7u : a;
}

static uint32_t pick_k(dc *c)
{
    static const uint32_t edges[] = {1, 2, 63, 64, 65, 127, 128, 129, 191, 256};
    return rnd(c, 2) ? edges[rnd(c, sizeof edges / sizeof edges[0])] : between(c, 1, 300);
}

static uint64_t rows_pitch(uint64_t rows) { return (rows + 7) / 8 * 8; }
static uint64_t op_words(uint64_t rows, uint64_t K, uint64_t bits)
{
    return rows_pitch(rows) * bits * ((K + 63) / 64);
}

/* Estimated RTL cycles of a compute command if it passed its checks, 0 if it surely cannot (its
 * main region does not fit): expensive valid commands are not generated. */
static uint64_t cost(dc *c, uint8_t op, const uint8_t *p, size_t len)
{
    if (op == DRF_OP_GEMM && len == DRF_GEMM_BYTES) {
        uint64_t M = drf_get32(p + 8), N = drf_get32(p + 12), K = drf_get32(p + 16);
        uint64_t bl = p[20], br = p[21];
        if (M > c->l_words || N > c->r_words || K > c->max_k || bl > 8 || br > 8)
            return 0;
        if (op_words(M, K, bl) > c->l_words || op_words(N, K, br) > c->r_words)
            return 0;
        return ((M + 3) / 4) * ((N + 3) / 4) * ((K + 63) / 64) * (bl * br + 1) + 2 * M * N + 100;
    }
    if (op == DRF_OP_QUANT_GRAD && len == DRF_QGRAD_BYTES) {
        uint64_t n = (uint64_t)drf_get32(p + 4) * drf_get32(p + 8);
        return n > 2ull * c->d_words ? 0 : 30 * n;
    }
    if (op == DRF_OP_QUANT_ACT && len == DRF_QACT_BYTES) {
        uint64_t n = (uint64_t)drf_get32(p + 4) * drf_get32(p + 8);
        unsigned A = p[12] > 8 ? 8 : p[12];
        return n > c->d_words ? 0 : n * ((1u << A) + 3);
    }
    if (op == DRF_OP_PACK && len == DRF_PACK_BYTES) {
        uint64_t rows = drf_get32(p + 12), K = drf_get32(p + 16), b = p[20] > 8 ? 8 : p[20];
        if (K > c->max_k || op_words(rows, K, b) > c->r_words + (uint64_t)c->l_words)
            return 0;
        return b * rows * 64 * ((K + 63) / 64) + 10;
    }
    return 0;
}

/* A valid-looking command of each kind (some still fail: edges and overlaps are drawn at random;
 * the golden model decides). Returns the payload length; *op gets the opcode. */
static size_t gen_command(dc *c, uint8_t *op, uint8_t *p)
{
    uint32_t r = rnd(c, 100);
    if (r < 16) { /* WRITE */
        unsigned id = rnd(c, 3), wb = id == 2 ? 4 : 8;
        uint32_t maxw = (c->max_payload - 8) / wb;
        uint32_t n = rnd(c, 4) ? between(c, 1, 16) : between(c, 1, maxw);
        *op = DRF_OP_WRITE;
        memset(p, 0, 8);
        p[0] = (uint8_t)id;
        drf_put32(p + 4, pick_addr(c, id, n, 0));
        for (uint32_t i = 0; i < n * wb; i++)
            p[8 + i] = (uint8_t)tu_next(&c->rng);
        snprintf(c->desc, sizeof c->desc, "WRITE mem %u addr %u words %u", id, drf_get32(p + 4), n);
        return 8 + (size_t)n * wb;
    }
    if (r < 32) { /* READ */
        unsigned id = rnd(c, 3), wb = id == 2 ? 4 : 8;
        uint32_t maxw = (c->max_payload - 1) / wb;
        uint32_t n = rnd(c, 3) ? between(c, 1, 16) : between(c, 1, maxw + 1);
        *op = DRF_OP_READ;
        memset(p, 0, 12);
        p[0] = (uint8_t)id;
        drf_put32(p + 4, pick_addr(c, id, n, 0));
        drf_put32(p + 8, n);
        snprintf(c->desc, sizeof c->desc, "READ mem %u addr %u words %u", id, drf_get32(p + 4), n);
        return 12;
    }
    if (r < 44) { /* GEMM */
        uint32_t M = between(c, 1, 12), N = between(c, 1, 12), K = pick_k(c);
        unsigned bl = between(c, 1, 8), br = between(c, 1, 8), mode = rnd(c, 3) == 0;
        uint32_t ldc = N + (rnd(c, 2) ? 0 : rnd(c, 4));
        uint32_t dwords = ((M - 1) * ldc + N) * (mode ? 2 : 1);
        *op = DRF_OP_GEMM;
        memset(p, 0, DRF_GEMM_BYTES);
        drf_put32(p, pick_addr(c, 0, (uint32_t)op_words(M, K, bl), 1));
        drf_put32(p + 4, pick_addr(c, 1, (uint32_t)op_words(N, K, br), 1));
        drf_put32(p + 8, M);
        drf_put32(p + 12, N);
        drf_put32(p + 16, K);
        p[20] = (uint8_t)bl;
        p[21] = (uint8_t)br;
        p[22] = (uint8_t)rnd(c, 2);
        p[23] = (uint8_t)rnd(c, 2);
        p[24] = (uint8_t)mode;
        drf_put32(p + 28, pick_addr(c, 2, dwords, 0));
        drf_put32(p + 32, ldc);
        drf_put32(p + 36, mode ? (uint32_t)tu_next(&c->rng) : 0);
        snprintf(c->desc, sizeof c->desc, "GEMM M=%u N=%u K=%u bits %ux%u mode %u", M, N, K, bl,
                 br, mode);
        return DRF_GEMM_BYTES;
    }
    if (r < 52) { /* QUANT_GRAD: regions drawn independently, so they overlap now and then */
        uint32_t S = between(c, 1, 4), E = between(c, 1, 64), n = S * E;
        *op = DRF_OP_QUANT_GRAD;
        memset(p, 0, DRF_QGRAD_BYTES);
        drf_put32(p, pick_addr(c, 2, (n + 1) / 2, 0));
        drf_put32(p + 4, S);
        drf_put32(p + 8, E);
        p[12] = (uint8_t)between(c, 1, 8);
        drf_put32(p + 16, pick_addr(c, 2, (n + 3) / 4, 0));
        drf_put32(p + 20, pick_addr(c, 2, S, 0));
        snprintf(c->desc, sizeof c->desc, "QUANT_GRAD S=%u E=%u G=%u", S, E, p[12]);
        return DRF_QGRAD_BYTES;
    }
    if (r < 60) { /* QUANT_ACT */
        unsigned A = between(c, 1, 8), axis = rnd(c, 2);
        uint32_t M = between(c, 1, 8), N = between(c, 1, A <= 4 ? 16 : 4);
        uint32_t ch = axis ? N : M;
        *op = DRF_OP_QUANT_ACT;
        memset(p, 0, DRF_QACT_BYTES);
        drf_put32(p, pick_addr(c, 2, M * N, 0));
        drf_put32(p + 4, M);
        drf_put32(p + 8, N);
        p[12] = (uint8_t)A;
        p[13] = (uint8_t)axis;
        drf_put32(p + 16, pick_addr(c, 2, ch << A, 0));
        drf_put32(p + 20, pick_addr(c, 2, (M * N + 3) / 4, 0));
        snprintf(c->desc, sizeof c->desc, "QUANT_ACT M=%u N=%u A=%u axis %u", M, N, A, axis);
        return DRF_QACT_BYTES;
    }
    if (r < 68) { /* PACK */
        uint32_t rows = between(c, 1, 16), K = pick_k(c), bits = between(c, 1, 8);
        unsigned dmem = rnd(c, 2);
        uint32_t sr, sk;
        switch (rnd(c, 3)) {
        case 0: sr = K, sk = 1; break;
        case 1: sr = 1, sk = rows; break;
        default: sr = rnd(c, 2 * K + 1), sk = rnd(c, 4); break;
        }
        uint64_t maxel = (uint64_t)(rows - 1) * sr + (uint64_t)(K - 1) * sk;
        *op = DRF_OP_PACK;
        memset(p, 0, DRF_PACK_BYTES);
        drf_put32(p, pick_addr(c, 2, (uint32_t)(maxel / 4 + 1), 0));
        drf_put32(p + 4, sr);
        drf_put32(p + 8, sk);
        drf_put32(p + 12, rows);
        drf_put32(p + 16, K);
        p[20] = (uint8_t)bits;
        p[21] = (uint8_t)dmem;
        drf_put32(p + 24, pick_addr(c, dmem, (uint32_t)op_words(rows, K, bits), 1));
        snprintf(c->desc, sizeof c->desc, "PACK rows=%u K=%u bits=%u -> %c", rows, K, bits,
                 dmem ? 'R' : 'L');
        return DRF_PACK_BYTES;
    }
    if (r < 74) { /* SEED */
        *op = DRF_OP_SEED;
        drf_put32(p, rnd(c, 8) ? (uint32_t)tu_next(&c->rng) : 0);
        snprintf(c->desc, sizeof c->desc, "SEED %08x", drf_get32(p));
        return 4;
    }
    if (r < 82) { /* STATS */
        *op = DRF_OP_STATS;
        memset(p, 0, 4);
        p[0] = (uint8_t)(rnd(c, 10) ? rnd(c, 2) : rnd(c, 256));
        snprintf(c->desc, sizeof c->desc, "STATS flags %02x", p[0]);
        return 4;
    }
    if (r < 88) { /* INFO */
        *op = DRF_OP_INFO;
        snprintf(c->desc, sizeof c->desc, "INFO");
        return 0;
    }
    if (r < 99 || rnd(c, 4)) { /* ECHO, sometimes one byte too long */
        size_t n = rnd(c, 4) ? rnd(c, 40) : between(c, 0, c->max_payload);
        *op = DRF_OP_ECHO;
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)tu_next(&c->rng);
        snprintf(c->desc, sizeof c->desc, "ECHO %zu bytes", n);
        return n;
    }
    *op = DRF_OP_RESET;
    snprintf(c->desc, sizeof c->desc, "RESET");
    return 0;
}

/* Breaks a command: its length, a byte, a 32-bit field set to an edge value, or its opcode. */
static size_t mutate(dc *c, uint8_t *op, uint8_t *p, size_t len)
{
    static const uint32_t edges[] = {0, 1, 2, 7, 8, 9, 63, 64, 255, 256, 32767, 32768, 32769,
                                     0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF8};
    size_t n = strlen(c->desc);
    switch (rnd(c, 5)) {
    case 0: { /* length */
        size_t nl = rnd(c, 2) && len ? rnd(c, (uint32_t)len) : len + between(c, 1, 8);
        if (nl > c->max_payload)
            nl = c->max_payload;
        for (size_t i = len; i < nl; i++)
            p[i] = rnd(c, 2) ? 0 : (uint8_t)tu_next(&c->rng);
        snprintf(c->desc + n, sizeof c->desc - n, " [len %zu -> %zu]", len, nl);
        return nl;
    }
    case 1:
        if (len) {
            size_t i = rnd(c, (uint32_t)(len < 40 ? len : 40));
            p[i] = (uint8_t)(rnd(c, 2) ? tu_next(&c->rng) : edges[rnd(c, 9)]);
            snprintf(c->desc + n, sizeof c->desc - n, " [byte %zu = %u]", i, p[i]);
        }
        return len;
    case 2:
    case 3:
        if (len >= 4) {
            size_t i = 4 * rnd(c, (uint32_t)((len < 40 ? len : 40) / 4));
            uint32_t v = edges[rnd(c, sizeof edges / sizeof edges[0])];
            if (rnd(c, 3) == 0)
                v = mem_words(c, rnd(c, 3)) - rnd(c, 3);
            drf_put32(p + i, v);
            snprintf(c->desc + n, sizeof c->desc - n, " [u32 %zu = %u]", i, v);
        }
        return len;
    default:
        *op = (uint8_t)(rnd(c, 2) ? between(c, 0x0C, 0xFF) : 0);
        snprintf(c->desc + n, sizeof c->desc - n, " [opcode %02x]", *op);
        return len;
    }
}

/* A command frame in c->buf: valid, or mutated; never an expensive one. */
static size_t gen_frame(dc *c, uint8_t *out)
{
    uint8_t op, p[70000];
    size_t len;
    for (;;) {
        len = gen_command(c, &op, p);
        if (rnd(c, 4) == 0)
            len = mutate(c, &op, p, len);
        if (cost(c, op, p, len) <= COST_LIMIT)
            break;
    }
    c->kinds[op < 0x0C ? op : 0x0C]++;
    c->tag++;
    return frame_encode(out, BUF_BYTES, op, c->tag, len ? p : NULL, (uint16_t)len);
}

/* ---- framing scenarios -------------------------------------------------------------------- */

static size_t gen_junk(dc *c, uint8_t *out)
{
    size_t n = between(c, 1, 12);
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd(c, 6);
        out[i] = r == 0 ? DRF_SYNC0 : r == 1 && i && out[i - 1] == DRF_SYNC0 ? DRF_SYNC1
                                                                            : (uint8_t)tu_next(&c->rng);
    }
    return n;
}

static void step(dc *c)
{
    static uint8_t a[BUF_BYTES], b[BUF_BYTES];
    segment seg[3];
    int ns = 1;
    uint32_t r = rnd(c, 100);
    size_t n;
    if (r < 55 || !c->last_len) { /* a command */
        n = gen_frame(c, a);
        memcpy(c->last, a, n);
        c->last_len = n;
        seg[0] = (segment){a, n, 0};
    } else if (r < 63) { /* a duplicate, sometimes with a garbled copy in front */
        snprintf(c->desc, sizeof c->desc, "duplicate of the last frame");
        n = 0;
        if (rnd(c, 3) == 0) {
            memcpy(b, c->last, c->last_len);
            b[DRF_HDR_BYTES + rnd(c, (uint32_t)(c->last_len - DRF_HDR_BYTES))] ^= 0x10;
            seg[0] = (segment){b, c->last_len, 0};
            ns = 2;
            strcat(c->desc, " after a garbled copy");
        }
        seg[ns - 1] = (segment){c->last, c->last_len, 0};
    } else if (r < 69) { /* junk, then a command */
        size_t j = gen_junk(c, a);
        n = gen_frame(c, a + j);
        memcpy(c->last, a + j, n);
        c->last_len = n;
        seg[0] = (segment){a, j + n, 0};
        size_t dl = strlen(c->desc);
        snprintf(c->desc + dl, sizeof c->desc - dl, " after %zu junk bytes", j);
    } else if (r < 76) { /* bad FCRC: a flipped bit in the payload or the FCRC */
        n = gen_frame(c, a);
        size_t at = DRF_HDR_BYTES + rnd(c, (uint32_t)(n - DRF_HDR_BYTES));
        a[at] ^= (uint8_t)(1u << rnd(c, 8));
        seg[0] = (segment){a, n, 0};
        size_t dl = strlen(c->desc);
        snprintf(c->desc + dl, sizeof c->desc - dl, " with byte %zu flipped", at);
    } else if (r < 81) { /* bad HCRC */
        n = gen_frame(c, a);
        size_t at = 2 + rnd(c, 6);
        a[at] ^= (uint8_t)(1u << rnd(c, 8));
        seg[0] = (segment){a, n, 0};
        size_t dl = strlen(c->desc);
        snprintf(c->desc + dl, sizeof c->desc - dl, " with header byte %zu flipped", at);
    } else if (r < 89) { /* truncated, then the line goes idle (anywhere, the header included) */
        n = gen_frame(c, a);
        size_t cut = rnd(c, 4) ? between(c, 8, (uint32_t)n - 1) : between(c, 1, 7);
        seg[0] = (segment){a, cut, 1};
        size_t dl = strlen(c->desc);
        snprintf(c->desc + dl, sizeof c->desc - dl, " cut after %zu of %zu bytes, idle", cut, n);
    } else if (r < 94) { /* oversize: len > max_payload, its bytes skipped, maybe cut short */
        uint32_t len = rnd(c, 20) ? c->max_payload + between(c, 1, 40) : between(c, 60000, 65535);
        uint8_t op = (uint8_t)(rnd(c, 2) ? DRF_OP_WRITE : rnd(c, 256));
        c->tag++;
        a[0] = DRF_SYNC0;
        a[1] = DRF_SYNC1;
        a[2] = op;
        a[3] = c->tag;
        drf_put16(a + 4, (uint16_t)len);
        drf_put16(a + 6, crc16_ccitt(a, 6));
        n = DRF_HDR_BYTES + len + DRF_FCRC_BYTES;
        for (size_t i = DRF_HDR_BYTES; i < n; i++)
            a[i] = (uint8_t)tu_next(&c->rng);
        int idle = rnd(c, 4) == 0;
        if (idle)
            n = between(c, DRF_HDR_BYTES, (uint32_t)n - 1);
        seg[0] = (segment){a, n, idle};
        snprintf(c->desc, sizeof c->desc, "oversize len %u opcode %02x%s", len, op,
                 idle ? ", cut short, idle" : "");
    } else if (r < 97) { /* junk alone, maybe ending in a lone SYNC0 with the line idle */
        n = gen_junk(c, a);
        int idle = rnd(c, 2);
        if (idle)
            a[n++] = DRF_SYNC0;
        seg[0] = (segment){a, n, idle};
        snprintf(c->desc, sizeof c->desc, "%zu junk bytes%s", n, idle ? ", idle" : "");
    } else { /* two commands back to back in one burst */
        n = gen_frame(c, a);
        size_t m = gen_frame(c, a + n);
        memcpy(c->last, a + n, m);
        c->last_len = m;
        seg[0] = (segment){a, n + m, 0};
        size_t dl = strlen(c->desc);
        snprintf(c->desc + dl, sizeof c->desc - dl, " (second of two back to back)");
    }
    run_step(c, seg, ns);
}

/* ---- the sim transport (driver/transport_sim.c) on its own device ------------------------- */

static int transport_check(void)
{
    char err[256];
    drf_transport *t;
    if (drf_transport_sim_open("", &t, err, sizeof err) != DOREFA_OK) {
        printf("transport: open failed: %s\n", err);
        return 1;
    }
    uint8_t f[64], r[256];
    int fails = 0;
    size_t n = frame_encode(f, sizeof f, DRF_OP_INFO, 7, NULL, 0);
    long got = 0;
    t->ops->write(t, f, n, 100);
    while (got < 61) {
        long k = t->ops->read(t, r + got, sizeof r - (size_t)got, 10);
        if (k <= 0)
            break;
        got += k;
    }
    if (got != 61 || !frame_crcs_ok(r, 61) || r[2] != 0x81 || r[3] != 7 || r[8] != 0) {
        printf("transport: INFO through the sim transport failed (%ld bytes)\n", got);
        fails++;
    }
    /* Half a frame, then silence: the read's clock lets the idle rule answer TRUNCATED. */
    n = frame_encode(f, sizeof f, DRF_OP_SEED, 8, (const uint8_t *)"\1\0\0\0", 4);
    t->ops->write(t, f, n - 3, 100);
    got = 0;
    while (got < 13) {
        long k = t->ops->read(t, r + got, sizeof r - (size_t)got, 1);
        if (k <= 0)
            break;
        got += k;
    }
    if (got != 13 || r[2] != 0x89 || r[3] != 8 || r[8] != DRF_ST_TRUNCATED) {
        printf("transport: a cut frame did not get TRUNCATED (%ld bytes)\n", got);
        fails++;
    }
    if (t->ops->read(t, r, sizeof r, 1) != 0) {
        printf("transport: bytes after the TRUNCATED response\n");
        fails++;
    }
    t->ops->purge(t);
    t->ops->close(t);
    return fails;
}

/* ---- setup --------------------------------------------------------------------------------- */

static int rtl_info(dc *c)
{
    uint8_t f[16];
    size_t n = frame_encode(f, sizeof f, DRF_OP_INFO, 0, NULL, 0);
    drf_dev_send(c->dev, f, n);
    size_t got = 0;
    for (int i = 0; i < 1000 && got < 61; i++)
        got += drf_dev_recv(c->dev, c->rtl_out + got, BUF_BYTES - got, 100);
    if (got != 61 || !frame_crcs_ok(c->rtl_out, got) || c->rtl_out[8] != 0)
        return -1;
    const uint8_t *d = c->rtl_out + 9;
    c->max_payload = drf_get32(d + 8);
    c->l_words = drf_get32(d + 12);
    c->r_words = drf_get32(d + 16);
    c->d_words = drf_get32(d + 20);
    c->max_k = drf_get32(d + 24);
    c->idle_us = drf_get32(d + 40);
    /* The INFO of this build: the parameters it was Verilated with, the idle time rounded up. */
    uint64_t us = ((uint64_t)DRF_RX_IDLE_CYCLES * 1000000u + DRF_CLOCK_HZ - 1) / DRF_CLOCK_HZ;
    if (memcmp(d, "DRFA", 4) || drf_get16(d + 4) != DRF_PROTOCOL_VERSION ||
        c->max_payload != DRF_MAX_PAYLOAD || c->l_words != 1u << DRF_LAW ||
        c->r_words != 1u << DRF_RAW || c->d_words != 1u << DRF_DAW || c->max_k != DRF_K_MAX ||
        c->idle_us != us || drf_get32(d + 44) != 0) {
        fprintf(stderr, "devcosim: the RTL's INFO does not describe this build\n");
        return -1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: devcosim [--n N] [--seed S] [--verbose] [+trace[=FILE]]\n"
               "Sends N random steps (commands valid and invalid, framing errors, duplicates, junk,\n"
               "idle lines) to the Verilated device and to the golden model and compares every\n"
               "response byte. The last line is 'devcosim: <N> frames, <M> mismatches'.\n");
}

int main(int argc, char **argv)
{
    static dc c;
    uint64_t n = 30000;
    c.seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            c.seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--verbose"))
            c.verbose = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '+') {
            fprintf(stderr, "devcosim: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    c.rng = c.seed;
    int tfail = transport_check();
    c.dev = drf_dev_new(argc, argv);
    if (c.dev)
        drf_dev_set_stalls(c.dev, 30); /* exercises every handshake of the byte ports */
    if (!c.dev || rtl_info(&c) != 0) {
        fprintf(stderr, "devcosim: the RTL did not answer INFO\n");
        return 2;
    }
    ref_device_config cfg;
    ref_device_config_default(&cfg);
    cfg.max_payload = c.max_payload;
    cfg.l_words = c.l_words;
    cfg.r_words = c.r_words;
    cfg.d_words = c.d_words;
    cfg.max_k = c.max_k;
    cfg.rx_timeout_us = c.idle_us;
    c.ref = ref_device_new(&cfg);
    if (!c.ref) {
        fprintf(stderr, "devcosim: the golden model rejects the RTL's geometry\n");
        return 2;
    }
    printf("devcosim: seed %" PRIu64 ", %" PRIu64 " steps; RTL max_payload %u, L/R/D %u/%u/%u "
           "words, max_k %u, rx_timeout %u us (%" PRIu64 " cycles)\n",
           c.seed, n, c.max_payload, c.l_words, c.r_words, c.d_words, c.max_k, c.idle_us,
           drf_dev_idle_cycles(c.dev));
    fflush(stdout);
    /* Both start from the reset state: the RTL's INFO frame above counted on its side only. */
    uint8_t f[16];
    size_t fl = frame_encode(f, sizeof f, DRF_OP_RESET, 0, NULL, 0);
    snprintf(c.desc, sizeof c.desc, "RESET");
    run_step(&c, &(segment){f, fl, 0}, 1);
    for (c.step = 0; c.step < n; c.step++) {
        step(&c);
        if ((c.step + 1) % 5000 == 0) {
            printf("  %" PRIu64 " steps, %" PRIu64 " frames, %" PRIu64 " mismatches\n", c.step + 1,
                   c.frames, c.mismatches);
            fflush(stdout);
        }
    }
    /* Nothing may be left over. */
    drf_dev_run(c.dev, 2 * drf_dev_idle_cycles(c.dev));
    size_t extra = drf_dev_recv(c.dev, c.rtl_out, BUF_BYTES, 0);
    if (extra) {
        snprintf(c.desc, sizeof c.desc, "end of stream");
        report(&c, "RTL sent bytes after the last step");
    }
    printf("devcosim: by opcode: INFO %" PRIu64 " RESET %" PRIu64 " WRITE %" PRIu64 " READ %" PRIu64
           " GEMM %" PRIu64 " QUANT_GRAD %" PRIu64 " QUANT_ACT %" PRIu64 " PACK %" PRIu64
           " SEED %" PRIu64 " STATS %" PRIu64 " (%" PRIu64 " with busy_cycles > 0) ECHO %" PRIu64
           " unknown %" PRIu64 "; %" PRIu64 " RTL cycles\n",
           c.kinds[1], c.kinds[2], c.kinds[3], c.kinds[4], c.kinds[5], c.kinds[6], c.kinds[7],
           c.kinds[8], c.kinds[9], c.kinds[10], c.stats_busy, c.kinds[11],
           c.kinds[0] + c.kinds[12], c.rtl_cycles);
    printf("devcosim: golden statuses: OK %" PRIu64 " BAD_CRC %" PRIu64 " TOO_LONG %" PRIu64
           " TRUNCATED %" PRIu64 " BAD_OPCODE %" PRIu64 " BAD_LENGTH %" PRIu64 " BAD_ARG %" PRIu64
           " BAD_ADDR %" PRIu64 "\n",
           c.status[0], c.status[1], c.status[2], c.status[3], c.status[4], c.status[5],
           c.status[6], c.status[7]);
    if (tfail) {
        snprintf(c.desc, sizeof c.desc, "sim transport");
        c.mismatches += (uint64_t)tfail;
    }
    printf("devcosim: %" PRIu64 " frames, %" PRIu64 " mismatches\n", c.frames, c.mismatches);
    drf_dev_free(c.dev);
    ref_device_free(c.ref);
    return c.mismatches ? 1 : 0;
}
