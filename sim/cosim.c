/* Co-simulation: the same random operations through the Verilated RTL core and the C golden model,
 * every output word compared. Usage: cosim [--n N] [--seed S] [--verbose] [+trace[=FILE]] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitplane.h"
#include "cmd_payload.h"
#include "device.h"
#include "device_call.h"
#include "dorefa_proto.h"
#include "drf_sim.h"
#include "falpha.h"
#include "test_util.h"

#define GUARD 8u           /* words compared on each side of every output region */
#define FULL_EVERY 500u    /* full-memory comparison period, in operations */
#define MAX_REPORTS 10     /* mismatch reports printed before going quiet */

typedef struct {
    ref_device *ref;
    drf_sim *rtl;
    drf_sim_geometry geo;
    uint64_t rng;
    uint8_t tag;
    uint64_t op_index;
    uint64_t seed;
    uint64_t mismatches;
    uint64_t counts[16];
    uint64_t rtl_cycles;
    char desc[256];
    int verbose;
} cosim;

static uint32_t mem_words(const cosim *c, int mem)
{
    return mem == DRF_MEM_L ? c->geo.l_words : mem == DRF_MEM_R ? c->geo.r_words : c->geo.d_words;
}

static uint64_t ref_word(cosim *c, int mem, uint32_t a)
{
    uint32_t n;
    if (mem == DRF_MEM_D)
        return ref_device_mem32(c->ref, &n)[a];
    return ref_device_mem64(c->ref, mem, &n)[a];
}

/* Writes the same word into both devices. */
static void put(cosim *c, int mem, uint32_t a, uint64_t v)
{
    uint32_t n;
    if (mem == DRF_MEM_D) {
        v &= 0xFFFFFFFFu;
        ref_device_mem32(c->ref, &n)[a] = (uint32_t)v;
    } else {
        ref_device_mem64(c->ref, mem, &n)[a] = v;
    }
    drf_sim_write(c->rtl, mem, a, v);
}

static const char *mem_name(int mem) { return mem == 0 ? "L" : mem == 1 ? "R" : "D"; }

/* Compares words [lo, hi) of a memory (clipped); on a difference reports it and copies the golden
 * model's words into the RTL so later operations start in sync again. */
static void compare(cosim *c, int mem, int64_t lo, int64_t hi)
{
    int64_t size = mem_words(c, mem);
    lo = lo < 0 ? 0 : lo;
    hi = hi > size ? size : hi;
    int reported = 0;
    for (int64_t a = lo; a < hi; a++) {
        uint64_t want = ref_word(c, mem, (uint32_t)a), got = drf_sim_read(c->rtl, mem, (uint32_t)a);
        if (want == got)
            continue;
        if (!reported) {
            c->mismatches++;
            if (c->mismatches <= MAX_REPORTS)
                printf("MISMATCH seed %" PRIu64 " op %" PRIu64 " (%s): %s[%" PRId64
                       "] rtl %016" PRIx64 " golden %016" PRIx64 "\n",
                       c->seed, c->op_index, c->desc, mem_name(mem), a, got, want);
            reported = 1;
        }
        drf_sim_write(c->rtl, mem, (uint32_t)a, want);
    }
}

static void compare_lfsr(cosim *c)
{
    uint32_t got = drf_sim_lfsr(c->rtl), want = ref_device_lfsr(c->ref);
    if (got == want)
        return;
    c->mismatches++;
    if (c->mismatches <= MAX_REPORTS)
        printf("MISMATCH seed %" PRIu64 " op %" PRIu64 " (%s): LFSR rtl %08x golden %08x\n",
               c->seed, c->op_index, c->desc, got, want);
    /* the LFSR cannot be written through the host port: re-seed both to resynchronise */
    uint8_t p[4];
    drf_put32(p, want);
    drf_sim_cmd(c->rtl, DRF_OP_SEED, p, 4, 100);
}

static void compare_all(cosim *c)
{
    for (int m = 0; m < 3; m++)
        compare(c, m, 0, mem_words(c, m));
}

/* Runs one command on both; the generator only makes valid commands, so the golden model must
 * accept it. */
static void run(cosim *c, uint8_t op, const uint8_t *p, uint16_t len)
{
    int st = ref_device_call(c->ref, op, ++c->tag, p, len, NULL, 0, NULL);
    if (st != DRF_ST_OK) {
        fprintf(stderr, "cosim: generator bug: golden model answered %s to op %" PRIu64 " (%s)\n",
                st < 0 ? "nothing" : drf_status_name(st), c->op_index, c->desc);
        exit(2);
    }
    int64_t cyc = drf_sim_cmd(c->rtl, op, p, len, 50000000);
    if (cyc < 0) {
        printf("MISMATCH seed %" PRIu64 " op %" PRIu64 " (%s): RTL did not finish (hang)\n",
               c->seed, c->op_index, c->desc);
        c->mismatches++;
        fprintf(stderr, "cosim: aborting after a hang\n");
        printf("cosim: %" PRIu64 " ops, %" PRIu64 " mismatches\n", c->op_index + 1, c->mismatches);
        exit(1);
    }
    c->rtl_cycles += (uint64_t)cyc;
    c->counts[op]++;
    if (c->verbose)
        printf("op %" PRIu64 ": %s, %" PRId64 " cycles\n", c->op_index, c->desc, cyc);
}

static uint32_t rnd(cosim *c, uint32_t n) { return n ? tu_below(&c->rng, n) : 0; }
static uint32_t between(cosim *c, uint32_t lo, uint32_t hi) { return lo + rnd(c, hi - lo + 1); }

/* A K with the edge cases of the issue: 1, around multiples of 64, and random. */
static uint32_t pick_k(cosim *c, uint32_t kmax)
{
    static const uint32_t edges[] = {1, 2, 63, 64, 65, 127, 128, 129, 191, 256};
    uint32_t k = rnd(c, 2) ? edges[rnd(c, sizeof edges / sizeof edges[0])] : between(c, 1, kmax);
    return k > kmax ? kmax : k;
}

/* A row count with tile edge cases: 1, the array size, one more, random. */
static uint32_t pick_rows(cosim *c, unsigned tile, uint32_t max)
{
    uint32_t choices[5] = {1, tile, tile + 1, 2 * tile - 1, between(c, 1, max)};
    uint32_t r = choices[rnd(c, 5)];
    return r > max ? max : r < 1 ? 1 : r;
}

/* The int32 extreme of spec 3.1: K = 32768, 8 x 8 bits, every code at its maximum (or, on one
 * side, zero, for the negative extreme), one row each (a pitch of 8 rows: 32768 words). */
static int op_gemm_extreme(cosim *c)
{
    const uint32_t K = DRF_K_MAX, words = (uint32_t)bitplane_words(1, K, 8);
    if (c->geo.l_words < words || c->geo.r_words < words)
        return 0;
    unsigned fl = rnd(c, 2), fr = rnd(c, 2), mode = rnd(c, 2);
    uint64_t lv = rnd(c, 2) ? ~0ull : 0, rv = ~0ull;
    for (uint32_t i = 0; i < words; i++) {
        put(c, DRF_MEM_L, i, i % 8 ? tu_next(&c->rng) : lv); /* pad rows: garbage */
        put(c, DRF_MEM_R, i, i % 8 ? tu_next(&c->rng) : rv);
    }
    uint32_t dst = 2 * rnd(c, 1000);
    int32_t scale = mode ? (rnd(c, 2) ? INT16_MAX : INT16_MIN) : 0;
    uint8_t p[DRF_GEMM_BYTES];
    drf_encode_gemm(p, &(drf_gemm_args){0, 0, 1, 1, K, 8, 8, fl, fr, mode, dst, 1, scale});
    snprintf(c->desc, sizeof c->desc, "GEMM extreme K=32768 8x8 fmt %c%c L codes %s %s scale=%d",
             fl ? 'S' : 'U', fr ? 'S' : 'U', lv ? "max" : "zero", mode ? "ACC64" : "WRITE32",
             scale);
    run(c, DRF_OP_GEMM, p, sizeof p);
    compare(c, DRF_MEM_D, (int64_t)dst - GUARD, dst + 2 + GUARD);
    return 1;
}

static void op_gemm(cosim *c)
{
    if (rnd(c, 200) == 0 && op_gemm_extreme(c))
        return;
    unsigned bl = between(c, 1, 8), br = between(c, 1, 8), fl = rnd(c, 2), fr = rnd(c, 2);
    int allmax = rnd(c, 10) == 0;
    uint32_t K = pick_k(c, 600), KW = bitplane_kw(K);
    /* small memories (the UP5K build): room for 8 rows of each operand */
    while (K > 1 && ((c->geo.l_words / 2) / (bl * KW) < 8 || (c->geo.r_words / 2) / (br * KW) < 8))
        K = (K + 1) / 2, KW = bitplane_kw(K);
    /* row pitches are multiples of 8 (spec 2.1): at most half of each memory */
    uint32_t lmax = (c->geo.l_words / 2) / (bl * KW) / 8 * 8;
    uint32_t rmax = (c->geo.r_words / 2) / (br * KW) / 8 * 8; /* 40 rows at most, below */
    uint32_t M = pick_rows(c, c->geo.rows, lmax < 40 ? lmax : 40);
    uint32_t N = pick_rows(c, c->geo.cols, rmax < 40 ? rmax : 40);
    uint32_t lw = (uint32_t)bitplane_words(M, K, bl), rw = (uint32_t)bitplane_words(N, K, br);
    uint32_t lbase = 8 * rnd(c, (c->geo.l_words - lw) / 8 + 1);
    uint32_t rbase = 8 * rnd(c, (c->geo.r_words - rw) / 8 + 1);
    unsigned mode = rnd(c, 3) == 0 ? DRF_GEMM_ACC64 : DRF_GEMM_WRITE32;
    uint32_t ldc = N + (rnd(c, 2) ? 0 : rnd(c, 5));
    uint64_t extent = ((uint64_t)(M - 1) * ldc + N) * (mode == DRF_GEMM_ACC64 ? 2 : 1);
    while (extent > c->geo.d_words / 2 && M > 1) { /* small D (the UP5K build) */
        M = (M + 1) / 2;
        lw = (uint32_t)bitplane_words(M, K, bl);
        extent = ((uint64_t)(M - 1) * ldc + N) * (mode == DRF_GEMM_ACC64 ? 2 : 1);
    }
    uint32_t dst = rnd(c, (uint32_t)(c->geo.d_words - extent + 1));
    int32_t scale = 0;
    if (mode == DRF_GEMM_ACC64) {
        /* an i16 (spec 3.3) */
        static const int32_t special[] = {1, -1, INT16_MAX, INT16_MIN, 0, -2};
        scale = rnd(c, 2) ? special[rnd(c, 6)] : (int16_t)(uint16_t)tu_next(&c->rng);
    }
    for (uint32_t i = 0; i < lw; i++) /* whole words: padding bits get garbage too */
        put(c, DRF_MEM_L, lbase + i, allmax ? ~0ull : tu_next(&c->rng));
    for (uint32_t i = 0; i < rw; i++)
        put(c, DRF_MEM_R, rbase + i, allmax && rnd(c, 4) ? ~0ull : tu_next(&c->rng));
    if (mode == DRF_GEMM_ACC64)
        for (uint64_t i = 0; i < extent; i++)
            put(c, DRF_MEM_D, dst + (uint32_t)i, tu_next(&c->rng));
    uint8_t p[DRF_GEMM_BYTES];
    drf_encode_gemm(p, &(drf_gemm_args){lbase, rbase, M, N, K, bl, br, fl, fr, mode, dst, ldc,
                                        scale});
    snprintf(c->desc, sizeof c->desc,
             "GEMM M=%u N=%u K=%u bits %ux%u fmt %c%c %s%s Lbase=%u Rbase=%u dst=%u ldc=%u scale=%d",
             M, N, K, bl, br, fl ? 'S' : 'U', fr ? 'S' : 'U', mode ? "ACC64" : "WRITE32",
             allmax ? " all-max" : "", lbase, rbase, dst, ldc, scale);
    run(c, DRF_OP_GEMM, p, sizeof p);
    compare(c, DRF_MEM_D, (int64_t)dst - GUARD, (int64_t)(dst + extent + GUARD));
}

/* Three disjoint regions of D: [a, a+na), [b, b+nb), [d, d+nd) in words, in random order. */
static void place3(cosim *c, uint32_t na, uint32_t nb, uint32_t nd, uint32_t *a, uint32_t *b,
                   uint32_t *d)
{
    uint32_t sizes[3] = {na, nb, nd}, at[3], order[3] = {0, 1, 2};
    for (int i = 2; i > 0; i--) {
        uint32_t j = rnd(c, (uint32_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    uint32_t total = na + nb + nd, slack = c->geo.d_words - total, pos = 0;
    for (int i = 0; i < 3; i++) {
        uint32_t gap = rnd(c, slack / 3 + 1);
        slack -= gap;
        pos += gap;
        at[order[i]] = pos;
        pos += sizes[order[i]];
    }
    *a = at[0];
    *b = at[1];
    *d = at[2];
}

static void op_qgrad(cosim *c)
{
    unsigned G = between(c, 1, 8);
    uint32_t S = between(c, 1, 6), E = rnd(c, 8) == 0 ? 1 : between(c, 1, 160);
    uint32_t src, dst, mdst, n = S * E;
    place3(c, (n + 1) / 2, (n + 3) / 4, S, &src, &dst, &mdst);
    /* fill the i16 view: per row a magnitude class, some all-zero rows, -32768 sometimes */
    for (uint32_t w = 0; w < (n + 1) / 2; w++) {
        uint32_t v = 0;
        for (int h = 0; h < 2; h++) {
            uint32_t i = 2 * w + (uint32_t)h, row = i / E;
            uint32_t cls = (row * 2654435761u + (uint32_t)c->op_index) % 5;
            int32_t g = 0;
            if (i < n && cls != 0) {
                int32_t range = cls == 1 ? 3 : cls == 2 ? 300 : 32767;
                g = (int32_t)rnd(c, 2u * (uint32_t)range + 1) - range;
                if (cls == 4 && rnd(c, 16) == 0)
                    g = -32768;
            }
            v |= (uint32_t)(uint16_t)(int16_t)g << (16 * h);
        }
        put(c, DRF_MEM_D, src + w, v);
    }
    uint8_t p[DRF_QGRAD_BYTES];
    drf_encode_qgrad(p, &(drf_qgrad_args){src, S, E, G, dst, mdst});
    snprintf(c->desc, sizeof c->desc, "QUANT_GRAD S=%u E=%u G=%u src=%u dst=%u mdst=%u lfsr=%08x",
             S, E, G, src, dst, mdst, ref_device_lfsr(c->ref));
    run(c, DRF_OP_QUANT_GRAD, p, sizeof p);
    compare(c, DRF_MEM_D, (int64_t)dst - GUARD, dst + (n + 3) / 4 + GUARD);
    compare(c, DRF_MEM_D, (int64_t)mdst - GUARD, mdst + S + GUARD);
    compare_lfsr(c);
}

static void op_qact(cosim *c)
{
    unsigned A = between(c, 1, 8), axis = rnd(c, 2);
    uint32_t nt = (1u << A) - 1u, rec = falpha_record_words(A);
    uint32_t maxel = A <= 4 ? 300 : 60;
    uint32_t M = between(c, 1, 20), N = between(c, 1, 20);
    while (M * N > maxel)
        M > N ? M-- : N--;
    /* small D memories (the UP5K build): the thresholds must fit too */
    while ((axis ? N : M) * rec + M * N + (M * N + 3) / 4 + 16 > c->geo.d_words &&
           (axis ? N : M) > 1)
        axis ? N-- : M--;
    uint32_t ch = axis ? N : M, src, thr, dst;
    place3(c, M * N, ch * rec, (M * N + 3) / 4, &src, &thr, &dst);
    int monotone = rnd(c, 3) != 0;
    for (uint32_t k = 0; k < ch; k++) {
        put(c, DRF_MEM_D, thr + k * rec, (uint32_t)tu_next(&c->rng)); /* reserved bits random */
        int32_t t0 = (int32_t)rnd(c, 2001) - 1000, step = (int32_t)between(c, 0, 40);
        for (uint32_t t = 0; t < nt; t++) {
            int32_t v = monotone ? t0 + (int32_t)t * step : (int32_t)rnd(c, 4001) - 2000;
            if (rnd(c, 50) == 0)
                v = rnd(c, 2) ? INT32_MAX : INT32_MIN;
            put(c, DRF_MEM_D, thr + k * rec + 1 + t, (uint32_t)v);
        }
    }
    for (uint32_t i = 0; i < M * N; i++) {
        int32_t v = (int32_t)rnd(c, 6001) - 3000;
        if (rnd(c, 50) == 0)
            v = rnd(c, 2) ? INT32_MAX : INT32_MIN;
        put(c, DRF_MEM_D, src + i, (uint32_t)v);
    }
    uint8_t p[DRF_QACT_BYTES];
    drf_encode_qact(p, &(drf_qact_args){src, M, N, A, axis, thr, dst});
    snprintf(c->desc, sizeof c->desc, "QUANT_ACT M=%u N=%u A=%u axis=%u %s src=%u thr=%u dst=%u", M,
             N, A, axis, monotone ? "monotone" : "shuffled", src, thr, dst);
    run(c, DRF_OP_QUANT_ACT, p, sizeof p);
    compare(c, DRF_MEM_D, (int64_t)dst - GUARD, dst + (M * N + 3) / 4 + GUARD);
}

static void op_pack(cosim *c)
{
    unsigned bits = between(c, 1, 8), dmem = rnd(c, 2);
    uint32_t K = pick_k(c, 300), rows = between(c, 1, 40);
    uint32_t sr, sk;
    switch (rnd(c, 3)) {
    case 0: sr = K, sk = 1; break;             /* row-major codes */
    case 1: sr = 1, sk = rows; break;          /* transposed */
    default: sr = between(c, 0, 2 * K), sk = between(c, 0, 3); break;
    }
    uint32_t msize = dmem ? c->geo.r_words : c->geo.l_words;
    uint64_t maxel;
    uint32_t srcw, words;
    for (;;) { /* small memories (the UP5K build): halve the shape until it fits */
        maxel = (uint64_t)(rows - 1) * sr + (uint64_t)(K - 1) * sk + 1;
        srcw = (uint32_t)((maxel + 3) / 4);
        words = (uint32_t)bitplane_words(rows, K, bits);
        if ((srcw <= c->geo.d_words / 2 && words <= msize / 2) || (rows == 1 && K == 1))
            break;
        if (rows > 1)
            rows = (rows + 1) / 2;
        else
            K = (K + 1) / 2;
    }
    uint32_t src = rnd(c, c->geo.d_words - srcw + 1);
    uint32_t dst = 8 * rnd(c, (msize - words) / 8 + 1);
    for (uint32_t i = 0; i < srcw; i++)
        put(c, DRF_MEM_D, src + i, (uint32_t)tu_next(&c->rng)); /* high code bits set: masked */
    uint8_t p[DRF_PACK_BYTES];
    drf_encode_pack(p, &(drf_pack_args){src, sr, sk, rows, K, bits, dmem, dst});
    snprintf(c->desc, sizeof c->desc, "PACK rows=%u K=%u bits=%u strides %u,%u src=%u -> %s@%u", rows,
             K, bits, sr, sk, src, dmem ? "R" : "L", dst);
    run(c, DRF_OP_PACK, p, sizeof p);
    compare(c, dmem ? DRF_MEM_R : DRF_MEM_L, (int64_t)dst - GUARD, dst + words + GUARD);
}

static void op_seed(cosim *c)
{
    uint32_t s = (uint32_t)tu_next(&c->rng);
    if (!s)
        s = 1;
    uint8_t p[4];
    drf_put32(p, s);
    snprintf(c->desc, sizeof c->desc, "SEED %08x", s);
    run(c, DRF_OP_SEED, p, 4);
    compare_lfsr(c);
}

static void op_reset(cosim *c)
{
    snprintf(c->desc, sizeof c->desc, "RESET");
    run(c, DRF_OP_RESET, NULL, 0);
    compare_all(c);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: cosim [--n N] [--seed S] [--only gemm|qgrad|qact|pack] [--verbose] "
               "[+trace[=FILE]]\n"
               "Runs N random operations (default 10000) through the Verilated RTL core and the\n"
               "golden model and compares every output word. The last line is\n"
               "'cosim: <N> ops, <M> mismatches'; the exit status is 0 only with 0 mismatches.\n");
}

int main(int argc, char **argv)
{
    cosim c;
    memset(&c, 0, sizeof c);
    uint64_t n = 10000;
    c.seed = 1;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            c.seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--verbose"))
            c.verbose = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] != '+') {
            fprintf(stderr, "cosim: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (only && strcmp(only, "gemm") && strcmp(only, "qgrad") && strcmp(only, "qact") &&
        strcmp(only, "pack")) {
        fprintf(stderr, "cosim: --only takes gemm, qgrad, qact or pack\n");
        return 2;
    }
    c.rng = c.seed;
    c.rtl = drf_sim_new(argc, argv);
    if (!c.rtl) {
        fprintf(stderr, "cosim: cannot create the RTL model\n");
        return 2;
    }
    drf_sim_get_geometry(c.rtl, &c.geo);
    ref_device_config cfg;
    ref_device_config_default(&cfg);
    cfg.l_words = c.geo.l_words;
    cfg.r_words = c.geo.r_words;
    cfg.d_words = c.geo.d_words;
    c.ref = ref_device_new(&cfg);
    if (!c.ref) {
        fprintf(stderr, "cosim: cannot create the golden model\n");
        return 2;
    }
    printf("cosim: seed %" PRIu64 ", %" PRIu64 " ops, array %ux%u, L/R %u/%u words, D %u words\n",
           c.seed, n, c.geo.rows, c.geo.cols, c.geo.l_words, c.geo.r_words, c.geo.d_words);
    fflush(stdout);
    op_reset(&c); /* both start from the spec's reset state */
    for (c.op_index = 0; c.op_index < n; c.op_index++) {
        uint32_t r = rnd(&c, 100);
        if (only) {
            if (!strcmp(only, "gemm"))
                op_gemm(&c);
            else if (!strcmp(only, "qgrad"))
                op_qgrad(&c);
            else if (!strcmp(only, "qact"))
                op_qact(&c);
            else
                op_pack(&c);
        } else if (r < 50)
            op_gemm(&c);
        else if (r < 66)
            op_qgrad(&c);
        else if (r < 80)
            op_qact(&c);
        else if (r < 96)
            op_pack(&c);
        else if (r < 99)
            op_seed(&c);
        else if (rnd(&c, 20) == 0)
            op_reset(&c);
        else
            op_seed(&c);
        if ((c.op_index + 1) % FULL_EVERY == 0) {
            snprintf(c.desc, sizeof c.desc, "full-memory check after op %" PRIu64, c.op_index);
            compare_all(&c);
        }
        if ((c.op_index + 1) % 1000 == 0) {
            printf("  %" PRIu64 " ops, %" PRIu64 " mismatches\n", c.op_index + 1, c.mismatches);
            fflush(stdout);
        }
    }
    compare_all(&c);
    printf("cosim: by opcode: GEMM %" PRIu64 ", QUANT_GRAD %" PRIu64 ", QUANT_ACT %" PRIu64
           ", PACK %" PRIu64 ", SEED %" PRIu64 ", RESET %" PRIu64 "; %" PRIu64 " RTL cycles\n",
           c.counts[DRF_OP_GEMM], c.counts[DRF_OP_QUANT_GRAD], c.counts[DRF_OP_QUANT_ACT],
           c.counts[DRF_OP_PACK], c.counts[DRF_OP_SEED], c.counts[DRF_OP_RESET], c.rtl_cycles);
    printf("cosim: %" PRIu64 " ops, %" PRIu64 " mismatches\n", n, c.mismatches);
    drf_sim_free(c.rtl);
    ref_device_free(c.ref);
    return c.mismatches ? 1 : 0;
}
