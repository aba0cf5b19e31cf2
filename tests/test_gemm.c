/* GEMM and bit-plane packing (spec 2.1, 3): the bit-serial kernels against the naive GEMM. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitplane.h"
#include "dorefa_proto.h"
#include "gemm.h"
#include "test_util.h"

Suite *suite_gemm(void);

static const enum gemm_kernel kernels[] = {GEMM_KERNEL_AUTO, GEMM_KERNEL_PORTABLE,
                                           GEMM_KERNEL_POPCNT, GEMM_KERNEL_AVX2};
#define NKERNELS (sizeof kernels / sizeof kernels[0])
static const char *const fmt_pair_name[4] = {"UU", "US", "SU", "SS"}; /* index fl * 2 + fr */

/* Say once per kernel that this CPU cannot run it, so a skipped kernel is never silent. */
static void note_unsupported(enum gemm_kernel k)
{
    static int noted[8];
    if (!noted[k]) {
        noted[k] = 1;
        printf("test_gemm: note: kernel %s not supported on this CPU, skipped\n",
               gemm_kernel_name(k));
    }
}

/* One GEMM problem: codes, their packed planes, and the naive result. */
typedef struct {
    uint32_t M, N, K;
    unsigned bl, br, fl, fr;
    uint8_t *lc, *rc;     /* M x K and N x K codes, row pitch K */
    uint64_t *lp, *rp;    /* packed */
    int64_t *want;        /* naive, M x N */
    int64_t *got;         /* bit-serial, M x N */
} problem;

static void problem_alloc(problem *pb, uint32_t M, uint32_t N, uint32_t K, unsigned bl,
                          unsigned br, unsigned fl, unsigned fr)
{
    memset(pb, 0, sizeof *pb);
    pb->M = M, pb->N = N, pb->K = K, pb->bl = bl, pb->br = br, pb->fl = fl, pb->fr = fr;
    pb->lc = malloc((size_t)M * K);
    pb->rc = malloc((size_t)N * K);
    pb->lp = malloc(bitplane_words(M, K, bl) * sizeof(uint64_t));
    pb->rp = malloc(bitplane_words(N, K, br) * sizeof(uint64_t));
    pb->want = malloc((size_t)M * N * sizeof(int64_t));
    pb->got = malloc((size_t)M * N * sizeof(int64_t));
    ck_assert(pb->lc && pb->rc && pb->lp && pb->rp && pb->want && pb->got);
}

static void problem_free(problem *pb)
{
    free(pb->lc);
    free(pb->rc);
    free(pb->lp);
    free(pb->rp);
    free(pb->want);
    free(pb->got);
}

/* Pack the codes and compute the naive result. */
static void problem_prepare(problem *pb)
{
    bitplane_pack(pb->lp, pb->lc, pb->K, pb->M, pb->K, pb->bl);
    bitplane_pack(pb->rp, pb->rc, pb->K, pb->N, pb->K, pb->br);
    gemm_naive(pb->lc, pb->K, pb->bl, pb->fl, pb->rc, pb->K, pb->br, pb->fr, pb->M, pb->N, pb->K,
               pb->want, pb->N);
}

/* Fill what GEMM must ignore with random garbage: the padding bits (k >= K in the last word of
 * every plane row) and the words of the pad rows rows .. RP - 1 (spec 2.1). */
static void garble_padding(uint64_t *planes, uint32_t rows, uint32_t K, unsigned bits,
                           uint64_t *seed)
{
    const uint32_t kw = bitplane_kw(K);
    const uint64_t rp = bitplane_rp(rows);
    const uint64_t pad = K % 64 ? ~((1ull << (K % 64)) - 1) : 0;
    for (unsigned p = 0; p < bits; p++)
        for (uint32_t w = 0; w < kw; w++)
            for (uint64_t r = 0; r < rp; r++) {
                uint64_t *word = &planes[((uint64_t)p * kw + w) * rp + r];
                if (r >= rows)
                    *word = tu_next(seed);
                else if (w == kw - 1)
                    *word |= tu_next(seed) & pad;
            }
}

/* Run every kernel the CPU supports, and gemm_bitserial; each must equal the naive result. */
static void check_kernels(problem *pb, const char *what)
{
    const gemm_operand l = {pb->lp, pb->M, pb->bl, pb->fl};
    const gemm_operand r = {pb->rp, pb->N, pb->br, pb->fr};
    for (size_t kk = 0; kk < NKERNELS; kk++) {
        memset(pb->got, 0x5A, (size_t)pb->M * pb->N * sizeof(int64_t));
        if (gemm_bitserial_kernel(kernels[kk], &l, &r, pb->K, pb->got, pb->N) != 0) {
            note_unsupported(kernels[kk]);
            continue;
        }
        for (uint32_t i = 0; i < pb->M; i++)
            for (uint32_t j = 0; j < pb->N; j++) {
                const int64_t w = pb->want[(size_t)i * pb->N + j];
                const int64_t g = pb->got[(size_t)i * pb->N + j];
                if (w != g)
                    ck_abort_msg("%s: kernel %s, %ux%u bits %s, M=%u N=%u K=%u: C[%u][%u] = %lld, "
                                 "naive %lld",
                                 what, gemm_kernel_name(kernels[kk]), pb->bl, pb->br,
                                 fmt_pair_name[pb->fl * 2 + pb->fr], pb->M, pb->N, pb->K, i, j,
                                 (long long)g, (long long)w);
            }
    }
    /* gemm_bitserial is the AUTO kernel. */
    memset(pb->got, 0, (size_t)pb->M * pb->N * sizeof(int64_t));
    gemm_bitserial(&l, &r, pb->K, pb->got, pb->N);
    ck_assert_mem_eq(pb->got, pb->want, (size_t)pb->M * pb->N * sizeof(int64_t));
}

static void fill_random(uint8_t *codes, size_t n, unsigned bits, uint64_t *seed)
{
    for (size_t x = 0; x < n; x++)
        codes[x] = (uint8_t)tu_below(seed, 1u << bits);
}

/* ---- packing ------------------------------------------------------------------------------- */

START_TEST(test_pack_layout)
{
    /* 2 rows, K = 70 (KW = 2, 6 valid bits in the last word), 3 bits, codes 80 apart. */
    enum { ROWS = 2, K = 70, B = 3, LD = 80, KW = 2 };
    uint8_t codes[ROWS * LD];
    memset(codes, 0, sizeof codes);
    codes[0 * LD + 0] = 5;  /* 101 */
    codes[0 * LD + 1] = 2;  /* 010 */
    codes[0 * LD + 63] = 4; /* 100 */
    codes[0 * LD + 65] = 7; /* 111 */
    codes[1 * LD + 3] = 6;  /* 110 */
    codes[1 * LD + 64] = 3; /* 011 */
    codes[1 * LD + 69] = 1; /* 001, the last valid column */
    codes[1 * LD + 70] = 7; /* beyond K: must not appear */
    enum { RP = 8 }; /* row pitch: rows rounded up to a multiple of 8 */
    uint64_t w[RP * B * KW];
    ck_assert_uint_eq(bitplane_rp(ROWS), RP);
    ck_assert_uint_eq(bitplane_words(ROWS, K, B), RP * B * KW);
    memset(w, 0xA5, sizeof w);
    bitplane_pack(w, codes, LD, ROWS, K, B);
    /* word (p*KW + k/64)*RP + r, bit k%64 = bit p of X[r][k]: rows innermost, then 6 pad rows */
    const uint64_t expect[B * KW][ROWS] = {
        {0x0000000000000001ull, 0x0000000000000000ull}, /* p0 w0: r0 k=0;  r1 - */
        {0x0000000000000002ull, 0x0000000000000021ull}, /* p0 w1: r0 k=65; r1 k=64, k=69 */
        {0x0000000000000002ull, 0x0000000000000008ull}, /* p1 w0: r0 k=1;  r1 k=3 */
        {0x0000000000000002ull, 0x0000000000000001ull}, /* p1 w1: r0 k=65; r1 k=64 */
        {0x8000000000000001ull, 0x0000000000000008ull}, /* p2 w0: r0 k=0, k=63; r1 k=3 */
        {0x0000000000000002ull, 0x0000000000000000ull}, /* p2 w1: r0 k=65; r1 - */
    };
    for (unsigned pw = 0; pw < B * KW; pw++)
        for (unsigned r = 0; r < RP; r++) {
            /* pad rows are not written */
            const uint64_t want = r < ROWS ? expect[pw][r] : 0xA5A5A5A5A5A5A5A5ull;
            ck_assert_msg(w[pw * RP + r] == want, "word %u = %016llx, want %016llx", pw * RP + r,
                          (unsigned long long)w[pw * RP + r], (unsigned long long)want);
        }

    uint8_t back[ROWS * LD];
    memset(back, 0xEE, sizeof back);
    bitplane_unpack(back, LD, w, ROWS, K, B);
    for (unsigned r = 0; r < ROWS; r++) {
        ck_assert_mem_eq(back + r * LD, codes + r * LD, K);
        ck_assert_uint_eq(back[r * LD + K], 0xEE); /* unpack writes only K codes per row */
    }
}
END_TEST

START_TEST(test_pack_roundtrip)
{
    static const uint32_t ks[] = {1, 2, 63, 64, 65, 127, 128, 129, 200, 1000};
    uint64_t seed = 0x7061636B;
    for (unsigned bits = 1; bits <= 8; bits++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            const uint32_t K = ks[ki], rows = 1 + tu_below(&seed, 5);
            const size_t ld = K + tu_below(&seed, 3);
            uint8_t *codes = malloc(rows * ld), *back = malloc(rows * ld);
            uint64_t *w = malloc(bitplane_words(rows, K, bits) * sizeof *w);
            ck_assert(codes && back && w);
            fill_random(codes, rows * ld, bits, &seed);
            memset(w, 0xFF, bitplane_words(rows, K, bits) * sizeof *w);
            bitplane_pack(w, codes, ld, rows, K, bits);
            /* padding is written as zero */
            const uint32_t kw = bitplane_kw(K);
            if (K % 64)
                for (unsigned p = 0; p < bits; p++)
                    for (uint32_t r = 0; r < rows; r++)
                        ck_assert_uint_eq(w[((uint64_t)p * kw + kw - 1) * bitplane_rp(rows) + r] >> (K % 64), 0);
            /* padding garbage is ignored by unpack */
            garble_padding(w, rows, K, bits, &seed);
            memcpy(back, codes, rows * ld);
            for (uint32_t r = 0; r < rows; r++)
                memset(back + r * ld, 0, K);
            bitplane_unpack(back, ld, w, rows, K, bits);
            ck_assert_mem_eq(back, codes, rows * ld);
            free(codes);
            free(back);
            free(w);
        }
}
END_TEST

/* ---- GEMM ---------------------------------------------------------------------------------- */

START_TEST(test_naive_by_hand)
{
    /* L = [1 2 3], R = [3 0 1], 2 bits. U: v = q; S: v = 2q - 3. */
    const uint8_t lc[3] = {1, 2, 3}, rc[3] = {3, 0, 1};
    static const int64_t want[4] = {
        1 * 3 + 2 * 0 + 3 * 1,         /* UU = 6 */
        1 * 3 + 2 * -3 + 3 * -1,       /* US = -6 */
        -1 * 3 + 1 * 0 + 3 * 1,        /* SU = 0 */
        -1 * 3 + 1 * -3 + 3 * -1,      /* SS = -9 */
    };
    uint64_t lp[16], rp[16]; /* 2 planes x 1 word x row pitch 8 */
    bitplane_pack(lp, lc, 3, 1, 3, 2);
    bitplane_pack(rp, rc, 3, 1, 3, 2);
    for (unsigned f = 0; f < 4; f++) {
        int64_t c = 0;
        gemm_naive(lc, 3, 2, f / 2, rc, 3, 2, f % 2, 1, 1, 3, &c, 1);
        ck_assert_int_eq(c, want[f]);
        const gemm_operand l = {lp, 1, 2, f / 2}, r = {rp, 1, 2, f % 2};
        c = 0;
        gemm_bitserial(&l, &r, 3, &c, 1);
        ck_assert_int_eq(c, want[f]);
    }
    /* 1 bit S is +-1: [+1 -1 +1] . [+1 +1 -1] = -1 */
    const uint8_t b1l[3] = {1, 0, 1}, b1r[3] = {1, 1, 0};
    int64_t c = 0;
    gemm_naive(b1l, 3, 1, DRF_FMT_S, b1r, 3, 1, DRF_FMT_S, 1, 1, 3, &c, 1);
    ck_assert_int_eq(c, -1);
}
END_TEST

/* Every bitwidth pair x every format pair, random shapes, every kernel against naive. */
START_TEST(test_random_vs_naive)
{
    static const uint32_t ks[] = {1, 2, 63, 64, 65, 127, 128, 129, 192, 255, 1000};
    const unsigned bl = (unsigned)_i / 8 + 1, br = (unsigned)_i % 8 + 1;
    uint64_t seed = 0x67656D6D ^ ((uint64_t)_i << 32);
    for (unsigned f = 0; f < 4; f++) {
        for (unsigned t = 0; t < 16; t++) {
            /* up to 3 x 3 tiles of every kernel, full and partial */
            uint32_t M = 1 + tu_below(&seed, 12), N = 1 + tu_below(&seed, 20);
            if (t == 0)
                M = 1;
            if (t == 1)
                N = 1;
            const uint32_t K = t < 11 ? ks[t] : 1 + tu_below(&seed, 400);
            problem pb;
            problem_alloc(&pb, M, N, K, bl, br, f / 2, f % 2);
            fill_random(pb.lc, (size_t)M * K, bl, &seed);
            fill_random(pb.rc, (size_t)N * K, br, &seed);
            problem_prepare(&pb);
            if (t & 1) {
                garble_padding(pb.lp, M, K, bl, &seed);
                garble_padding(pb.rp, N, K, br, &seed);
            }
            check_kernels(&pb, "random");
            problem_free(&pb);
        }
    }
}
END_TEST

/* Shapes larger than the kernels' blocks and chunks, so every blocking path is taken. */
START_TEST(test_blocking_shapes)
{
    static const struct {
        uint32_t M, N, K;
        unsigned bl, br;
    } cases[] = {
        {45, 47, 2000, 8, 8}, {33, 70, 4100, 1, 2}, {130, 9, 1152, 2, 6},
        {7, 300, 700, 1, 1},  {3, 5, 9000, 5, 3},   {66, 65, 129, 8, 1},
        {130, 45, 1100, 8, 8}, {9, 17, 20000, 1, 1},
    };
    uint64_t seed = 0x626C6F63;
    for (size_t x = 0; x < sizeof cases / sizeof cases[0]; x++) {
        const unsigned f = (unsigned)x % 4;
        problem pb;
        problem_alloc(&pb, cases[x].M, cases[x].N, cases[x].K, cases[x].bl, cases[x].br, f / 2,
                      f % 2);
        fill_random(pb.lc, (size_t)pb.M * pb.K, pb.bl, &seed);
        fill_random(pb.rc, (size_t)pb.N * pb.K, pb.br, &seed);
        problem_prepare(&pb);
        garble_padding(pb.lp, pb.M, pb.K, pb.bl, &seed);
        garble_padding(pb.rp, pb.N, pb.K, pb.br, &seed);
        check_kernels(&pb, "blocking");
        problem_free(&pb);
    }
}
END_TEST

/* K = K_MAX with extreme codes, 8 x 8 bits: the closed forms of spec 3.1, every format pair. */
START_TEST(test_kmax_extremes)
{
    const uint32_t K = DRF_K_MAX, M = 3, N = 2;
    const int64_t kmax = (int64_t)K * 255 * 255;
    ck_assert_int_eq(kmax, 2130739200);
    ck_assert(kmax <= INT32_MAX);
    /* Codes of L and R all 255 or all 0; value +255 (q = 255) and, for S, -255 (q = 0). */
    for (unsigned ql = 0; ql < 2; ql++)
        for (unsigned qr = 0; qr < 2; qr++)
            for (unsigned f = 0; f < 4; f++) {
                const unsigned fl = f / 2, fr = f % 2;
                const int64_t vl = ql ? 255 : (fl == DRF_FMT_S ? -255 : 0);
                const int64_t vr = qr ? 255 : (fr == DRF_FMT_S ? -255 : 0);
                const int64_t closed = (int64_t)K * vl * vr;
                ck_assert(closed >= INT32_MIN && closed <= INT32_MAX);
                problem pb;
                problem_alloc(&pb, M, N, K, 8, 8, fl, fr);
                memset(pb.lc, ql ? 255 : 0, (size_t)M * K);
                memset(pb.rc, qr ? 255 : 0, (size_t)N * K);
                problem_prepare(&pb);
                for (uint32_t x = 0; x < M * N; x++)
                    ck_assert_int_eq(pb.want[x], closed);
                check_kernels(&pb, "kmax");
                problem_free(&pb);
            }
}
END_TEST

/* K = K_MAX with constant codes, every bitwidth pair and format pair: C = K·v_L·v_R exactly (the
 * closed form is the check; per-byte and per-lane counters are at their largest). */
START_TEST(test_kmax_constant_all_bits)
{
    const uint32_t K = DRF_K_MAX, M = 2, N = 9;
    const unsigned bl = (unsigned)_i / 8 + 1, br = (unsigned)_i % 8 + 1;
    const unsigned nl = (1u << bl) - 1, nr = (1u << br) - 1;
    uint8_t *lc = malloc((size_t)M * K), *rc = malloc((size_t)N * K);
    uint64_t *lp = malloc(bitplane_words(M, K, bl) * sizeof *lp);
    uint64_t *rp = malloc(bitplane_words(N, K, br) * sizeof *rp);
    ck_assert(lc && rc && lp && rp);
    memset(rc, (int)nr, (size_t)N * K);
    bitplane_pack(rp, rc, K, N, K, br);
    for (unsigned ql = 0; ql <= nl; ql += nl) {
        memset(lc, (int)ql, (size_t)M * K);
        bitplane_pack(lp, lc, K, M, K, bl);
        for (unsigned f = 0; f < 4; f++) {
            const unsigned fl = f / 2, fr = f % 2;
            const int64_t vl = fl == DRF_FMT_S ? 2 * (int64_t)ql - nl : ql;
            const int64_t vr = nr; /* q = n: v = n in both formats */
            const int64_t closed = (int64_t)K * vl * vr;
            const gemm_operand l = {lp, M, bl, fl}, r = {rp, N, br, fr};
            for (size_t kk = 0; kk < NKERNELS; kk++) {
                int64_t c[2 * 9];
                if (gemm_bitserial_kernel(kernels[kk], &l, &r, K, c, N) != 0) {
                    note_unsupported(kernels[kk]);
                    continue;
                }
                for (unsigned x = 0; x < M * N; x++)
                    ck_assert_msg(c[x] == closed, "kernel %s, %ux%u %s, q_L=%u: %lld, want %lld",
                                  gemm_kernel_name(kernels[kk]), bl, br, fmt_pair_name[f], ql,
                                  (long long)c[x], (long long)closed);
            }
        }
    }
    free(lc);
    free(rc);
    free(lp);
    free(rp);
}
END_TEST

/* Garbage in the padding bits changes nothing, for every kernel (the garbled operands are
 * compared with the naive result of the clean codes). */
START_TEST(test_padding_garbage)
{
    static const uint32_t ks[] = {1, 5, 63, 65, 100, 127, 1000, 4097};
    uint64_t seed = 0x70616464;
    for (size_t x = 0; x < sizeof ks / sizeof ks[0]; x++)
        for (unsigned f = 0; f < 4; f++) {
            const unsigned bl = 1 + tu_below(&seed, 8), br = 1 + tu_below(&seed, 8);
            problem pb;
            problem_alloc(&pb, 5, 4, ks[x], bl, br, f / 2, f % 2);
            /* zero codes make any leaked padding bit visible */
            memset(pb.lc, 0, (size_t)pb.M * pb.K);
            memset(pb.rc, 0, (size_t)pb.N * pb.K);
            pb.lc[0] = (uint8_t)((1u << bl) - 1);
            pb.rc[pb.K - 1] = (uint8_t)((1u << br) - 1);
            problem_prepare(&pb);
            for (uint64_t w = 0; w < bitplane_words(pb.M, pb.K, bl); w++)
                if ((w / bitplane_rp(pb.M)) % bitplane_kw(pb.K) == bitplane_kw(pb.K) - 1 && pb.K % 64)
                    pb.lp[w] |= ~((1ull << (pb.K % 64)) - 1); /* all padding bits set */
            garble_padding(pb.rp, pb.N, pb.K, br, &seed);
            check_kernels(&pb, "padding");
            problem_free(&pb);
        }
}
END_TEST

/* ldc > N: the cells between rows are not touched (full and partial tiles, one and several
 * chunks). */
START_TEST(test_ldc)
{
    static const struct {
        uint32_t M, N, K;
        unsigned bl, br;
    } cases[] = {{3, 4, 77, 3, 2}, {9, 17, 200, 2, 6}, {9, 17, 3000, 8, 8}};
    uint64_t seed = 0x6C6463;
    for (size_t x = 0; x < sizeof cases / sizeof cases[0]; x++) {
        const uint32_t M = cases[x].M, N = cases[x].N, K = cases[x].K, ldc = N + 5;
        problem pb;
        problem_alloc(&pb, M, N, K, cases[x].bl, cases[x].br, DRF_FMT_S, DRF_FMT_U);
        fill_random(pb.lc, (size_t)M * K, pb.bl, &seed);
        fill_random(pb.rc, (size_t)N * K, pb.br, &seed);
        problem_prepare(&pb);
        const gemm_operand l = {pb.lp, M, pb.bl, DRF_FMT_S}, r = {pb.rp, N, pb.br, DRF_FMT_U};
        int64_t *c = malloc((size_t)M * ldc * sizeof *c);
        ck_assert(c);
        for (size_t kk = 0; kk < NKERNELS; kk++) {
            for (size_t y = 0; y < (size_t)M * ldc; y++)
                c[y] = -7;
            if (gemm_bitserial_kernel(kernels[kk], &l, &r, K, c, ldc) != 0) {
                note_unsupported(kernels[kk]);
                continue;
            }
            for (uint32_t i = 0; i < M; i++)
                for (uint32_t j = 0; j < ldc; j++)
                    ck_assert_int_eq(c[(size_t)i * ldc + j],
                                     j < N ? pb.want[(size_t)i * N + j] : -7);
        }
        free(c);
        problem_free(&pb);
    }
}
END_TEST

START_TEST(test_kernel_names)
{
    for (size_t kk = 0; kk < NKERNELS; kk++)
        ck_assert_ptr_nonnull(gemm_kernel_name(kernels[kk]));
    const enum gemm_kernel best = gemm_kernel_best();
    ck_assert(best != GEMM_KERNEL_AUTO);
    uint64_t lw = 1, rw = 1;
    const gemm_operand l = {&lw, 1, 1, DRF_FMT_U}, r = {&rw, 1, 1, DRF_FMT_U};
    int64_t c = 0;
    ck_assert_int_eq(gemm_bitserial_kernel(best, &l, &r, 1, &c, 1), 0);
    ck_assert_int_eq(c, 1);
}
END_TEST

Suite *suite_gemm(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("pack");
    tcase_add_test(tc, test_pack_layout);
    tcase_add_test(tc, test_pack_roundtrip);
    suite_add_tcase(s, tc);

    tc = tcase_create("gemm");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_naive_by_hand);
    tcase_add_loop_test(tc, test_random_vs_naive, 0, 64); /* _i = (bits_L - 1) * 8 + bits_R - 1 */
    tcase_add_test(tc, test_blocking_shapes);
    tcase_add_test(tc, test_kmax_extremes);
    tcase_add_loop_test(tc, test_kmax_constant_all_bits, 0, 64);
    tcase_add_test(tc, test_padding_garbage);
    tcase_add_test(tc, test_ldc);
    tcase_add_test(tc, test_kernel_names);
    suite_add_tcase(s, tc);
    return s;
}
