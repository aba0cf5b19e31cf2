/* The protocol-level suite of libdorefa: the same tests against any backend, named by the URI in
 * argv[1] ("ref", "ref:l=16384,...", "sim", "usb:0403:6010", ...). Every command is checked
 * against the golden model's functions computed on the host (sw_reference/), with data from a
 * fixed generator, so a backend passes only if it agrees bit for bit.
 *
 *   protocol_test URI            all suites
 *   PROTOCOL_FAULT_OPS=N         commands of the fault-injection workload (default 2000)
 *   CK_RUN_SUITE / CK_RUN_CASE   check's usual selection
 *
 * Built with -DDRF_PROTOCOL_USB_MOCK (build/usb/protocol_test_usb, `make protocol-test-usb`), every
 * test first gets an emulated FT2232H under umockdev (tests/usb/protocol_usb_mock.c), so that
 * "usb:0403:6010" and "faulty:usb:0403:6010?..." reach a golden model through the real USB
 * transport. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bitplane.h"
#include "crc.h"
#include "dorefa.h"
#include "dorefa_proto.h"
#include "falpha.h"
#include "fgamma.h"
#include "frame.h"
#include "gemm.h"
#include "lfsr.h"
#include "test_util.h"
#ifdef DRF_PROTOCOL_USB_MOCK
#include "protocol_usb_mock.h"
#endif

static const char *g_uri = "ref";

/* ---- helpers ------------------------------------------------------------------------------- */

#define OK(d, call)                                                                              \
    do {                                                                                         \
        int rc_ = (call);                                                                        \
        ck_assert_msg(rc_ == DOREFA_OK, "%s -> %s: %s", #call, dorefa_strerror(rc_),             \
                      dorefa_last_error(d));                                                     \
    } while (0)

/* A call that the device must answer with status st. */
#define STATUS(d, call, st)                                                                      \
    do {                                                                                         \
        int rc_ = (call);                                                                        \
        ck_assert_msg(rc_ == DOREFA_E_STATUS, "%s -> %s (%s), expected status %s", #call,        \
                      dorefa_strerror(rc_), dorefa_last_error(d), drf_status_name(st));           \
        ck_assert_msg(dorefa_last_status(d) == (st), "%s -> status %s, expected %s", #call,      \
                      drf_status_name(dorefa_last_status(d)), drf_status_name(st));              \
    } while (0)

static dorefa_dev *open_uri(const char *uri, const dorefa_options *opt)
{
    dorefa_dev *d = NULL;
    int rc = dorefa_open(uri, opt, &d);
    ck_assert_msg(rc == DOREFA_OK, "dorefa_open(%s): %s: %s", uri, dorefa_strerror(rc),
                  dorefa_open_error());
    OK(d, dorefa_reset(d));
    return d;
}

static dorefa_dev *open_dev(void) { return open_uri(g_uri, NULL); }

static dorefa_info info_of(dorefa_dev *d)
{
    dorefa_info in;
    OK(d, dorefa_info_get(d, &in));
    return in;
}

static uint32_t min32(uint64_t a, uint64_t b) { return (uint32_t)(a < b ? a : b); }

static void fill_codes(uint64_t *s, uint8_t *c, size_t n, unsigned bits)
{
    for (size_t i = 0; i < n; i++)
        c[i] = (uint8_t)(tu_next(s) & ((1u << bits) - 1u));
}

/* Packs a rows x K code matrix and writes it to mem at base; returns the words written. */
static uint32_t put_operand(dorefa_dev *d, int mem, uint32_t base, const uint8_t *codes,
                            uint32_t rows, uint32_t K, unsigned bits)
{
    uint32_t words = (uint32_t)bitplane_words(rows, K, bits);
    uint64_t *w = calloc(words, sizeof *w);
    ck_assert_ptr_nonnull(w);
    bitplane_pack(w, codes, K, rows, K, bits);
    OK(d, dorefa_write(d, mem, base, w, words));
    free(w);
    return words;
}

/* ---- INFO ---------------------------------------------------------------------------------- */

START_TEST(test_info_sanity)
{
    dorefa_dev *d = open_dev();
    dorefa_info a = info_of(d), b = info_of(d);
    ck_assert_uint_eq(a.version, DRF_PROTOCOL_VERSION);
    ck_assert_uint_le(a.implementation, 1);
    ck_assert_uint_ge(a.max_payload, DRF_MIN_MAX_PAYLOAD);
    ck_assert_uint_le(a.max_payload, 65535);
    ck_assert_uint_ge(a.max_k, 1);
    ck_assert_uint_le(a.max_k, DRF_K_MAX);
    ck_assert_uint_ge(a.l_words, 8);
    ck_assert_uint_ge(a.r_words, 8);
    ck_assert_uint_ge(a.d_words, 8);
    ck_assert_uint_ge(a.rx_timeout_us, 1);
    ck_assert_uint_eq(a.features, 0);
    ck_assert(a.implementation != 0 || a.clock_hz == 0);
    ck_assert_mem_eq(&a, &b, sizeof a);
    printf("  INFO on %s: impl %u, max_payload %u, L/R/D %u/%u/%u words, max_k %u, array %ux%u "
           "x %u bits, %u lane(s), clock %u Hz, rx_timeout %u us\n",
           g_uri, a.implementation, a.max_payload, a.l_words, a.r_words, a.d_words, a.max_k,
           a.rows, a.cols, a.word_bits, a.fgamma_lanes, a.clock_hz, a.rx_timeout_us);
    dorefa_close(d);
}
END_TEST

/* ---- WRITE / READ at chunk boundaries ------------------------------------------------------ */

START_TEST(test_write_read_chunks)
{
    dorefa_dev *d = open_dev();
    dorefa_info in = info_of(d);
    uint64_t seed = 0x3141;
    for (int mem = 0; mem < 3; mem++) {
        uint32_t wb = mem == DRF_MEM_D ? 4 : 8;
        uint32_t words = mem == 0 ? in.l_words : mem == 1 ? in.r_words : in.d_words;
        uint32_t pw = (in.max_payload - 8) / wb, pr = (in.max_payload - 1) / wb;
        const uint32_t counts[] = {1, pw - 1, pw, pw + 1, pr - 1, pr, pr + 1, 2 * pw + 3, 3 * pr};
        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
            uint32_t n = min32(counts[ci] ? counts[ci] : 1, words);
            for (int at_end = 0; at_end < 2; at_end++) {
                uint32_t addr = at_end ? words - n : min32(tu_below(&seed, 64), words - n);
                void *w = malloc((size_t)n * wb), *r = malloc((size_t)n * wb);
                ck_assert(w && r);
                for (uint32_t i = 0; i < n; i++) {
                    if (wb == 4)
                        ((uint32_t *)w)[i] = (uint32_t)tu_next(&seed);
                    else
                        ((uint64_t *)w)[i] = tu_next(&seed);
                }
                OK(d, dorefa_write(d, mem, addr, w, n));
                OK(d, dorefa_read(d, mem, addr, r, n));
                ck_assert_msg(!memcmp(w, r, (size_t)n * wb), "mem %d addr %u count %u differs",
                              mem, addr, n);
                free(w);
                free(r);
            }
        }
        /* One word past the end: BAD_ADDR, and the last word is unchanged. */
        uint64_t last = 0, two[2] = {1, 2}, after = 0;
        OK(d, dorefa_read(d, mem, words - 1, &last, 1));
        STATUS(d, dorefa_write(d, mem, words - 1, two, 2), DRF_ST_BAD_ADDR);
        ck_assert_ptr_nonnull(strstr(dorefa_last_error(d), "WRITE"));
        STATUS(d, dorefa_read(d, mem, words - 1, two, 2), DRF_ST_BAD_ADDR);
        OK(d, dorefa_read(d, mem, words - 1, &after, 1));
        ck_assert(!memcmp(&last, &after, wb));
    }
    /* Library-side argument checks. */
    uint32_t x = 0;
    ck_assert_int_eq(dorefa_write(d, 3, 0, &x, 1), DOREFA_E_ARG);
    ck_assert_ptr_nonnull(strstr(dorefa_last_error(d), "memory id"));
    ck_assert_int_eq(dorefa_read(d, DRF_MEM_D, 0, NULL, 1), DOREFA_E_ARG);
    ck_assert_int_eq(dorefa_read(d, DRF_MEM_D, 0xFFFFFFFFu, &x, 2), DOREFA_E_ARG);
    OK(d, dorefa_read(d, DRF_MEM_D, 0, NULL, 0)); /* nothing to do */
    dorefa_close(d);
}
END_TEST

/* ---- GEMM on the device vs the naive GEMM -------------------------------------------------- */

START_TEST(test_gemm_all_formats)
{
    dorefa_dev *d = open_dev();
    dorefa_info in = info_of(d);
    uint64_t seed = 0xA11F0;
    int cases = 0;
    for (unsigned bl = 1; bl <= 8; bl++)
        for (unsigned br = 1; br <= 8; br++)
            for (unsigned f = 0; f < 4; f++) {
                unsigned fl = f >> 1, fr = f & 1;
                uint32_t M = 1 + tu_below(&seed, 12), N = 1 + tu_below(&seed, 12);
                uint32_t K = 1 + tu_below(&seed, 200);
                if (K > in.max_k)
                    K = in.max_k;
                while (K > 1 && (bitplane_words(M, K, bl) + 8 > in.l_words ||
                                 bitplane_words(N, K, br) + 8 > in.r_words))
                    K /= 2;
                int acc = (cases % 3) == 2;
                uint32_t ldc = N + tu_below(&seed, 3), dst = 2 * tu_below(&seed, 8);
                uint64_t dwords = ((uint64_t)(M - 1) * ldc + N) * (acc ? 2 : 1);
                ck_assert_uint_le(dst + dwords, in.d_words);
                uint8_t *lc = malloc((size_t)M * K), *rc = malloc((size_t)N * K);
                int64_t *want = malloc(sizeof *want * M * N);
                uint32_t *dw = malloc(sizeof *dw * dwords), *init = malloc(sizeof *init * dwords);
                ck_assert(lc && rc && want && dw && init);
                fill_codes(&seed, lc, (size_t)M * K, bl);
                fill_codes(&seed, rc, (size_t)N * K, br);
                uint32_t lbase = 8 * (cases & 1), rbase = 8 * ((cases >> 1) & 1);
                put_operand(d, DRF_MEM_L, lbase, lc, M, K, bl);
                put_operand(d, DRF_MEM_R, rbase, rc, N, K, br);
                for (uint64_t i = 0; i < dwords; i++)
                    init[i] = (uint32_t)tu_next(&seed);
                OK(d, dorefa_write(d, DRF_MEM_D, dst, init, (uint32_t)dwords));
                int32_t scale = acc ? (int32_t)(tu_below(&seed, 65535)) - 32767 : 0;
                dorefa_gemm_args g = {lbase, rbase, M, N, K, (uint8_t)bl, (uint8_t)br,
                                      (uint8_t)fl, (uint8_t)fr, (uint8_t)acc, dst, ldc, scale};
                OK(d, dorefa_gemm(d, &g));
                OK(d, dorefa_read(d, DRF_MEM_D, dst, dw, (uint32_t)dwords));
                gemm_naive(lc, K, bl, fl, rc, K, br, fr, M, N, K, want, N);
                for (uint32_t i = 0; i < M; i++)
                    for (uint32_t j = 0; j < N; j++) {
                        uint64_t e = (uint64_t)i * ldc + j;
                        if (!acc) {
                            ck_assert_msg((int32_t)dw[e] == want[(size_t)i * N + j],
                                          "bits %u x %u fmt %u%u M %u N %u K %u at (%u, %u): "
                                          "%d != %lld",
                                          bl, br, fl, fr, M, N, K, i, j, (int32_t)dw[e],
                                          (long long)want[(size_t)i * N + j]);
                        } else {
                            uint64_t before = init[2 * e] | ((uint64_t)init[2 * e + 1] << 32);
                            uint64_t exp = before + (uint64_t)((int64_t)scale *
                                                               want[(size_t)i * N + j]);
                            uint64_t got = dw[2 * e] | ((uint64_t)dw[2 * e + 1] << 32);
                            ck_assert_msg(got == exp, "ACC64 bits %u x %u at (%u, %u)", bl, br, i,
                                          j);
                        }
                    }
                /* words between rows (ldc > N) keep their values */
                for (uint32_t i = 0; i + 1 < M; i++)
                    for (uint32_t j = N; j < ldc; j++) {
                        uint64_t e = (uint64_t)i * ldc + j;
                        for (int h = 0; h < (acc ? 2 : 1); h++) {
                            uint64_t wi = acc ? 2 * e + h : e;
                            ck_assert_uint_eq(dw[wi], init[wi]);
                        }
                    }
                free(lc);
                free(rc);
                free(want);
                free(dw);
                free(init);
                cases++;
            }
    dorefa_stats st;
    OK(d, dorefa_stats_get(d, 0, &st));
    ck_assert_uint_eq(st.gemm_ops, (uint64_t)cases);
    dorefa_close(d);
}
END_TEST

/* ---- QUANT_GRAD ---------------------------------------------------------------------------- */

START_TEST(test_quant_grad)
{
    dorefa_dev *d = open_dev();
    dorefa_info in = info_of(d);
    uint64_t seed = 0xF6A;
    uint32_t lfsr = 0;
    for (int round = 0; round < 12; round++) {
        uint32_t S = 1 + tu_below(&seed, 6), E = 1 + tu_below(&seed, 60);
        unsigned G = 1 + tu_below(&seed, 8);
        uint32_t n = S * E, src_w = (n + 1) / 2, dst_w = (n + 3) / 4;
        uint32_t src = 4 * tu_below(&seed, 8), dst = src + src_w + tu_below(&seed, 3),
                 mdst = dst + dst_w + tu_below(&seed, 3);
        ck_assert_uint_le(mdst + S, in.d_words);
        int16_t *g = malloc(sizeof *g * n);
        uint8_t *want = malloc(n), *gotc = malloc(4 * dst_w);
        uint32_t *gotw = malloc(4 * dst_w);
        int32_t *m = malloc(sizeof *m * S);
        uint32_t *words = calloc(src_w, 4), *gotm = malloc(4 * S);
        ck_assert(g && want && gotc && m && words && gotm);
        for (uint32_t s = 0; s < S; s++) {
            int kind = (int)tu_below(&seed, 4);
            for (uint32_t e = 0; e < E; e++) {
                int16_t v = (int16_t)tu_next(&seed);
                if (kind == 0)
                    v = 0; /* the m = 0 rule */
                else if (kind == 1)
                    v = (int16_t)((int)tu_below(&seed, 7) - 3);
                else if (kind == 2 && e == 0)
                    v = -32768; /* saturation */
                g[(size_t)s * E + e] = v;
            }
        }
        for (uint32_t i = 0; i < n; i++)
            words[i / 2] |= (uint32_t)(uint16_t)g[i] << (16 * (i % 2));
        OK(d, dorefa_write(d, DRF_MEM_D, src, words, src_w));
        if (round % 3 == 0) {
            lfsr = (uint32_t)tu_next(&seed) | 1u;
            OK(d, dorefa_seed(d, lfsr));
        } else if (round == 1) {
            /* continue from the state the device reports */
            dorefa_stats st;
            OK(d, dorefa_stats_get(d, 0, &st));
            ck_assert_uint_eq(st.lfsr, lfsr);
        }
        dorefa_qgrad_args q = {src, S, E, (uint8_t)G, dst, mdst};
        OK(d, dorefa_quant_grad(d, &q));
        fgamma_quantize(g, S, E, G, &lfsr, want, m);
        OK(d, dorefa_read(d, DRF_MEM_D, dst, gotw, dst_w));
        for (uint32_t i = 0; i < dst_w; i++)
            drf_put32(gotc + 4 * i, gotw[i]);
        OK(d, dorefa_read(d, DRF_MEM_D, mdst, gotm, S));
        for (uint32_t i = 0; i < n; i++) {
            uint8_t c = gotc[i]; /* the u8 view: byte i of the little-endian words */
            ck_assert_msg(c == want[i], "round %d element %u: code %u, expected %u", round, i, c,
                          want[i]);
        }
        for (uint32_t s = 0; s < S; s++)
            ck_assert_int_eq((int32_t)gotm[s], m[s]);
        dorefa_stats st;
        OK(d, dorefa_stats_get(d, 0, &st));
        ck_assert_uint_eq(st.lfsr, lfsr);
        free(g);
        free(want);
        free(gotc);
        free(m);
        free(words);
        free(gotm);
        free(gotw);
    }
    dorefa_close(d);
}
END_TEST

/* ---- QUANT_ACT ----------------------------------------------------------------------------- */

START_TEST(test_quant_act)
{
    dorefa_dev *d = open_dev();
    dorefa_info in = info_of(d);
    uint64_t seed = 0xFA1;
    for (int round = 0; round < 16; round++) {
        unsigned A = 1 + (unsigned)(round % 8), axis = (unsigned)(round / 8);
        uint32_t rec = falpha_record_words(A);
        uint32_t M = 1 + tu_below(&seed, 6), N = 1 + tu_below(&seed, 9);
        uint32_t C = axis ? N : M, n = M * N;
        uint32_t src = tu_below(&seed, 5), thr = src + n, dst = thr + C * rec;
        if (dst + (n + 3) / 4 > in.d_words) { /* a small D: fewer channels */
            M = N = 1;
            C = 1;
            n = 1;
            thr = src + 1;
            dst = thr + rec;
        }
        int32_t *acc = malloc(sizeof *acc * n), *t = malloc(sizeof *t * C * rec);
        uint8_t *want = malloc(n), *got = malloc(4 * ((n + 3) / 4));
        ck_assert(acc && t && want && got);
        for (uint32_t i = 0; i < n; i++)
            acc[i] = (int32_t)tu_below(&seed, 2001) - 1000;
        for (uint32_t ch = 0; ch < C; ch++) {
            int dir = (int)tu_below(&seed, 2);
            t[ch * rec] = dir | (int32_t)(tu_below(&seed, 2) << 5); /* reserved bits: ignored */
            int32_t v = -1000 + (int32_t)tu_below(&seed, 100);
            for (uint32_t k = 0; k + 1 < rec; k++) {
                v += (int32_t)tu_below(&seed, 2000 / rec + 2);
                t[ch * rec + 1 + k] = dir ? -v : v;
            }
        }
        OK(d, dorefa_write(d, DRF_MEM_D, src, acc, n));
        OK(d, dorefa_write(d, DRF_MEM_D, thr, t, C * rec));
        dorefa_qact_args q = {src, M, N, (uint8_t)A, (uint8_t)axis, thr, dst};
        OK(d, dorefa_quant_act(d, &q));
        falpha_quantize(acc, M, N, A, axis, t, want);
        OK(d, dorefa_read(d, DRF_MEM_D, dst, got, (n + 3) / 4));
        for (uint32_t i = 0; i < n; i++) {
            uint8_t c = (uint8_t)(((const uint32_t *)got)[i / 4] >> (8 * (i % 4)));
            ck_assert_msg(c == want[i], "A %u axis %u element %u: %u != %u", A, axis, i, c,
                          want[i]);
        }
        free(acc);
        free(t);
        free(want);
        free(got);
    }
    dorefa_close(d);
}
END_TEST

/* ---- PACK ---------------------------------------------------------------------------------- */

START_TEST(test_pack)
{
    dorefa_dev *d = open_dev();
    dorefa_info in = info_of(d);
    uint64_t seed = 0x9AC;
    for (int round = 0; round < 16; round++) {
        unsigned bits = 1 + (unsigned)(round % 8), mem = (unsigned)(round & 1);
        int transposed = (round / 2) % 2;
        uint32_t rows = 1 + tu_below(&seed, 13), K = 1 + tu_below(&seed, 150);
        uint32_t mwords = mem ? in.r_words : in.l_words;
        while (K > 1 && (bitplane_words(rows, K, bits) + 16 > mwords || K > in.max_k ||
                         (rows * K + 3) / 4 + 8 > in.d_words))
            K /= 2;
        uint32_t sr = transposed ? 1 : K, sk = transposed ? rows : 1;
        uint32_t n = rows * K, src = tu_below(&seed, 4), dst = 8 * tu_below(&seed, 2);
        uint8_t *codes = malloc(n + 4), *x = malloc(n);
        uint32_t words = (uint32_t)bitplane_words(rows, K, bits);
        uint64_t *want = malloc(8 * (size_t)words), *got = malloc(8 * (size_t)words),
                 *fill = malloc(8 * (size_t)words);
        uint32_t *dw = calloc((n + 3) / 4, 4);
        ck_assert(codes && x && want && got && fill && dw);
        for (uint32_t i = 0; i < n; i++)
            codes[i] = (uint8_t)tu_next(&seed); /* high bits must be ignored */
        for (uint32_t i = 0; i < n; i++)
            dw[i / 4] |= (uint32_t)codes[i] << (8 * (i % 4));
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t k = 0; k < K; k++)
                x[(size_t)r * K + k] = codes[r * sr + k * sk] & ((1u << bits) - 1u);
        for (uint32_t i = 0; i < words; i++)
            fill[i] = want[i] = tu_next(&seed); /* pad rows keep their contents */
        bitplane_pack(want, x, K, rows, K, bits);
        OK(d, dorefa_write(d, DRF_MEM_D, src, dw, (n + 3) / 4));
        OK(d, dorefa_write(d, (int)mem, dst, fill, words));
        dorefa_pack_args p = {src, sr, sk, rows, K, (uint8_t)bits, (uint8_t)mem, dst};
        OK(d, dorefa_pack(d, &p));
        OK(d, dorefa_read(d, (int)mem, dst, got, words));
        for (uint32_t i = 0; i < words; i++)
            ck_assert_msg(got[i] == want[i], "round %d: word %u: %016llx != %016llx", round, i,
                          (unsigned long long)got[i], (unsigned long long)want[i]);
        free(codes);
        free(x);
        free(want);
        free(got);
        free(fill);
        free(dw);
    }
    dorefa_close(d);
}
END_TEST

/* ---- SEED, STATS, ECHO --------------------------------------------------------------------- */

START_TEST(test_seed_stats_echo)
{
    dorefa_dev *d = open_dev();
    dorefa_info in = info_of(d);
    dorefa_stats st;
    OK(d, dorefa_stats_get(d, 0, &st));
    ck_assert_uint_eq(st.lfsr, DRF_LFSR_RESET_STATE);
    OK(d, dorefa_seed(d, 0x12345678u));
    OK(d, dorefa_stats_get(d, 1, &st));
    ck_assert_uint_eq(st.lfsr, 0x12345678u);
    OK(d, dorefa_stats_get(d, 0, &st)); /* after a clearing STATS, that frame is counted */
    ck_assert_uint_eq(st.frames_ok, 1);
    ck_assert_uint_eq(st.frames_err, 0);
    ck_assert_uint_eq(st.gemm_ops, 0);
    ck_assert_uint_eq(st.lfsr, 0x12345678u);

    /* bin_ops counts 2*M*N*K*bits_l*bits_r per GEMM */
    uint8_t lc[3 * 70] = {0}, rc[2 * 70] = {0};
    put_operand(d, DRF_MEM_L, 0, lc, 3, 70, 3);
    put_operand(d, DRF_MEM_R, 0, rc, 2, 70, 5);
    dorefa_gemm_args g = {0, 0, 3, 2, 70, 3, 5, 1, 0, 0, 0, 2, 0};
    OK(d, dorefa_gemm(d, &g));
    OK(d, dorefa_stats_get(d, 1, &st));
    ck_assert_uint_eq(st.gemm_ops, 1);
    ck_assert_uint_eq(st.bin_ops, 2u * 3 * 2 * 70 * 3 * 5);

    uint64_t seed = 0xEC40;
    uint8_t *a = malloc(in.max_payload), *b = malloc(in.max_payload);
    ck_assert(a && b);
    const uint32_t sizes[] = {0, 1, 2, 63, 64, in.max_payload / 2, in.max_payload - 2,
                              in.max_payload - 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint16_t n = (uint16_t)sizes[i];
        for (uint16_t k = 0; k < n; k++)
            a[k] = (uint8_t)tu_next(&seed);
        memset(b, 0xEE, in.max_payload);
        OK(d, dorefa_echo(d, a, n, b));
        ck_assert(!memcmp(a, b, n));
    }
    /* max_payload bytes: the response would not fit; the driver refuses, the device says
     * BAD_LENGTH to the raw frame */
    ck_assert_int_eq(dorefa_echo(d, a, (uint16_t)in.max_payload, b), DOREFA_E_ARG);
    uint8_t status = 0xFF;
    size_t rl = 99;
    OK(d, dorefa_call(d, DRF_OP_ECHO, a, (uint16_t)in.max_payload, &status, b, in.max_payload,
                      &rl));
    ck_assert_uint_eq(status, DRF_ST_BAD_LENGTH);
    ck_assert_uint_eq(rl, 0);
    free(a);
    free(b);
    dorefa_close(d);
}
END_TEST

/* ---- error statuses: each leaves the device unchanged ------------------------------------- */

START_TEST(test_error_statuses)
{
    dorefa_dev *d = open_dev();
    dorefa_info in = info_of(d);
    uint64_t seed = 0xE22;
    /* A known state: memory patterns and an LFSR seed. */
    uint64_t lw[64], rw[64], lw2[64], rw2[64];
    uint32_t dw[64], dw2[64];
    for (int i = 0; i < 64; i++) {
        lw[i] = tu_next(&seed);
        rw[i] = tu_next(&seed);
        dw[i] = (uint32_t)tu_next(&seed);
    }
    OK(d, dorefa_write(d, DRF_MEM_L, 0, lw, 64));
    OK(d, dorefa_write(d, DRF_MEM_R, 0, rw, 64));
    OK(d, dorefa_write(d, DRF_MEM_D, 0, dw, 64));
    OK(d, dorefa_seed(d, 0xC0FFEEu));

    const dorefa_gemm_args ok = {0, 0, 2, 2, 64, 2, 2, 0, 0, 0, 0, 2, 0};
    dorefa_gemm_args g;
#define BADG(field, val, st)                                                                     \
    do {                                                                                         \
        g = ok;                                                                                  \
        g.field = val;                                                                           \
        STATUS(d, dorefa_gemm(d, &g), st);                                                       \
        ck_assert_ptr_nonnull(strstr(dorefa_last_error(d), "GEMM"));                             \
    } while (0)
    BADG(bits_l, 0, DRF_ST_BAD_ARG);
    BADG(bits_r, 9, DRF_ST_BAD_ARG);
    BADG(fmt_l, 2, DRF_ST_BAD_ARG);
    BADG(mode, 2, DRF_ST_BAD_ARG);
    BADG(m, 0, DRF_ST_BAD_ARG);
    BADG(k, 0, DRF_ST_BAD_ARG);
    BADG(k, in.max_k + 1, DRF_ST_BAD_ARG);
    BADG(ldc, 1, DRF_ST_BAD_ARG);
    BADG(l_base, 4, DRF_ST_BAD_ARG);
    BADG(scale, 3, DRF_ST_BAD_ARG);               /* WRITE32 wants scale 0 */
    /* An ACC64 scale is an i16 (spec 3.3): the edges pass (they run, on the last words of D,
     * and are counted below), one step past them fails. */
    uint64_t acc_ok = 0;
    static const struct { int32_t scale; int st; } acc[] = {
        {INT16_MIN, DRF_ST_OK}, {INT16_MAX, DRF_ST_OK}, {-1, DRF_ST_OK},
        {INT16_MAX + 1, DRF_ST_BAD_ARG}, {INT16_MIN - 1, DRF_ST_BAD_ARG},
        {INT32_MIN, DRF_ST_BAD_ARG}, {0x00FF8000, DRF_ST_BAD_ARG}, {(int32_t)0xFF00FFFFu, DRF_ST_BAD_ARG},
    };
    for (size_t i = 0; i < sizeof acc / sizeof acc[0]; i++) {
        g = ok;
        g.mode = DRF_GEMM_ACC64;
        g.dst = in.d_words - 8; /* 2 x 2 int64: the last 8 words of D */
        g.scale = acc[i].scale;
        if (acc[i].st == DRF_ST_OK) {
            OK(d, dorefa_gemm(d, &g));
            acc_ok++;
        } else
            STATUS(d, dorefa_gemm(d, &g), acc[i].st);
    }
    BADG(l_base, in.l_words - 8, DRF_ST_BAD_ADDR); /* operand runs off L */
    BADG(dst, in.d_words - 1, DRF_ST_BAD_ADDR);
    ck_assert_ptr_nonnull(strstr(dorefa_last_error(d), "BAD_ADDR"));
#undef BADG
    dorefa_qgrad_args q = {0, 1, 8, 0, 16, 32};
    STATUS(d, dorefa_quant_grad(d, &q), DRF_ST_BAD_ARG); /* G = 0 */
    q.bits = 4;
    q.dst = 2; /* overlaps src */
    STATUS(d, dorefa_quant_grad(d, &q), DRF_ST_BAD_ADDR);
    q.dst = 16;
    q.rows = 0;
    STATUS(d, dorefa_quant_grad(d, &q), DRF_ST_BAD_ARG);
    dorefa_qact_args a = {0, 2, 2, 2, 2, 8, 40};
    STATUS(d, dorefa_quant_act(d, &a), DRF_ST_BAD_ARG); /* axis 2 */
    a.axis = 0;
    a.thr = 2; /* overlaps src */
    STATUS(d, dorefa_quant_act(d, &a), DRF_ST_BAD_ADDR);
    dorefa_pack_args p = {0, 4, 1, 2, 4, 2, 2, 0};
    STATUS(d, dorefa_pack(d, &p), DRF_ST_BAD_ARG); /* destination D */
    p.dst_mem = 0;
    p.dst = 3;
    STATUS(d, dorefa_pack(d, &p), DRF_ST_BAD_ARG); /* base not a multiple of 8 */
    p.dst = 0;
    p.src = in.d_words;
    STATUS(d, dorefa_pack(d, &p), DRF_ST_BAD_ADDR);
    STATUS(d, dorefa_seed(d, 0), DRF_ST_BAD_ARG);

    /* raw frames */
    uint8_t st, buf[64], pl[16] = {0};
    size_t n;
    OK(d, dorefa_call(d, 0x3F, NULL, 0, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_OPCODE);
    OK(d, dorefa_call(d, 0x00, NULL, 0, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_OPCODE);
    OK(d, dorefa_call(d, DRF_OP_INFO, pl, 1, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_LENGTH);
    OK(d, dorefa_call(d, DRF_OP_RESET, pl, 4, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_LENGTH); /* and no reset happened: checked below */
    pl[0] = 2; /* STATS reserved flag bit */
    OK(d, dorefa_call(d, DRF_OP_STATS, pl, 4, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_ARG);
    pl[0] = 3; /* WRITE to memory 3 */
    OK(d, dorefa_call(d, DRF_OP_WRITE, pl, 12, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_ARG);
    pl[0] = DRF_MEM_L; /* 4 data bytes: not a whole L word */
    OK(d, dorefa_call(d, DRF_OP_WRITE, pl, 12, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_LENGTH);
    pl[0] = DRF_MEM_D; /* READ count 0 */
    OK(d, dorefa_call(d, DRF_OP_READ, pl, 12, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_ARG);
    drf_put32(pl + 8, in.max_payload); /* a response that cannot fit */
    OK(d, dorefa_call(d, DRF_OP_READ, pl, 12, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_LENGTH);
    pl[1] = 1; /* reserved byte */
    drf_put32(pl + 8, 1);
    OK(d, dorefa_call(d, DRF_OP_READ, pl, 12, &st, buf, sizeof buf, &n));
    ck_assert_uint_eq(st, DRF_ST_BAD_ARG);

    /* Nothing changed. */
    OK(d, dorefa_read(d, DRF_MEM_L, 0, lw2, 64));
    OK(d, dorefa_read(d, DRF_MEM_R, 0, rw2, 64));
    OK(d, dorefa_read(d, DRF_MEM_D, 0, dw2, 64));
    ck_assert(!memcmp(lw, lw2, sizeof lw));
    ck_assert(!memcmp(rw, rw2, sizeof rw));
    ck_assert(!memcmp(dw, dw2, sizeof dw));
    dorefa_stats s;
    OK(d, dorefa_stats_get(d, 0, &s));
    ck_assert_uint_eq(s.lfsr, 0xC0FFEEu);
    ck_assert_uint_eq(s.gemm_ops, acc_ok);

    /* Library-side checks */
    ck_assert_int_eq(dorefa_gemm(d, NULL), DOREFA_E_ARG);
    ck_assert_int_eq(dorefa_call(d, DRF_OP_ECHO, NULL, 3, &st, NULL, 0, NULL), DOREFA_E_ARG);
    uint8_t *big = calloc(in.max_payload + 1u, 1);
    ck_assert_int_eq(dorefa_call(d, DRF_OP_ECHO, big, (uint16_t)(in.max_payload + 1u), &st, NULL,
                                 0, NULL),
                     DOREFA_E_ARG);
    ck_assert_ptr_nonnull(strstr(dorefa_last_error(d), "max_payload"));
    free(big);
    dorefa_close(d);
}
END_TEST

/* ---- URIs ------------------------------------------------------------------------------------ */

START_TEST(test_uri_errors)
{
    static const struct {
        const char *uri;
        int rc;
        const char *msg;
    } bad[] = {
        {"bogus", DOREFA_E_URI, "bogus"},
        {"refx", DOREFA_E_URI, "refx"},
        {"ref:l=abc", DOREFA_E_URI, "l=abc"},
        {"ref:zz=1", DOREFA_E_URI, "zz=1"},
        {"ref:max_payload=10", DOREFA_E_URI, "max_payload"},
        {"faulty:ref", DOREFA_E_URI, "options"},
        {"faulty:ref?rate=2", DOREFA_E_URI, "rate"},
        {"faulty:ref?rate=0.1&kinds=zap", DOREFA_E_URI, "kinds"},
        {"faulty:faulty:ref?rate=0?rate=0", DOREFA_E_URI, "itself"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dorefa_dev *d = (dorefa_dev *)1;
        int rc = dorefa_open(bad[i].uri, NULL, &d);
        ck_assert_msg(rc == bad[i].rc, "%s -> %d (%s)", bad[i].uri, rc, dorefa_open_error());
        ck_assert_ptr_null(d);
        ck_assert_msg(strstr(dorefa_open_error(), bad[i].msg), "%s: message '%s'", bad[i].uri,
                      dorefa_open_error());
    }
    dorefa_dev *d;
    dorefa_options o = {-1, 0, NULL};
    ck_assert_int_eq(dorefa_open("ref", &o, &d), DOREFA_E_ARG);
    o.timeout_ms = 0;
    o.record_path = "/nonexistent-dir/x.rec";
    ck_assert_int_eq(dorefa_open("ref", &o, &d), DOREFA_E_FILE);
    ck_assert_ptr_nonnull(strstr(dorefa_open_error(), "nonexistent"));
    /* a clean faulty wrapper is a plain link, and says what it injected */
    d = open_uri("faulty:ref?rate=0", NULL);
    dorefa_fault_stats fs;
    OK(d, dorefa_fault_stats_get(d, &fs));
    ck_assert_uint_eq(fs.total, 0);
    dorefa_close(d);
    d = open_uri("ref", NULL);
    ck_assert_int_eq(dorefa_fault_stats_get(d, &fs), DOREFA_E_UNSUPPORTED);
    dorefa_close(d);
    ck_assert_str_eq(dorefa_strerror(DOREFA_E_MISMATCH),
                     "replay: a response differs from the recording");
}
END_TEST

/* ---- tiled GEMM on host matrices ----------------------------------------------------------- */

static void gemm_host_case(dorefa_dev *d, uint64_t *seed, uint32_t M, uint32_t N, uint32_t K,
                           unsigned bl, unsigned br, unsigned fl, unsigned fr, int verbose)
{
    uint8_t *lc = malloc((size_t)M * K), *rc = malloc((size_t)N * K);
    int64_t *want = malloc(sizeof *want * M * N), *got = malloc(sizeof *got * M * N);
    ck_assert(lc && rc && want && got);
    fill_codes(seed, lc, (size_t)M * K, bl);
    fill_codes(seed, rc, (size_t)N * K, br);
    if (verbose == 2) { /* the extremes: every code at its maximum or 0 */
        memset(lc, (1 << bl) - 1, (size_t)M * K);
        memset(rc, fr ? 0 : (1 << br) - 1, (size_t)N * K);
    }
    dorefa_stats s0, s1;
    OK(d, dorefa_stats_get(d, 0, &s0));
    OK(d, dorefa_gemm_host(d, lc, rc, M, N, K, (uint8_t)bl, (uint8_t)br, (uint8_t)fl,
                           (uint8_t)fr, got));
    OK(d, dorefa_stats_get(d, 0, &s1));
    gemm_naive(lc, K, bl, fl, rc, K, br, fr, M, N, K, want, N);
    for (size_t i = 0; i < (size_t)M * N; i++)
        ck_assert_msg(got[i] == want[i], "gemm_host %ux%ux%u bits %u x %u fmt %u%u: C[%zu][%zu] "
                      "= %lld, expected %lld",
                      M, N, K, bl, br, fl, fr, i / N, i % N, (long long)got[i],
                      (long long)want[i]);
    if (verbose)
        printf("  gemm_host %u x %u x %u, %u x %u bits, %c%c: %llu device GEMMs, exact\n", M, N, K,
               bl, br, fl ? 'S' : 'U', fr ? 'S' : 'U',
               (unsigned long long)(s1.gemm_ops - s0.gemm_ops));
    free(lc);
    free(rc);
    free(want);
    free(got);
}

START_TEST(test_gemm_host_formats)
{
    dorefa_dev *d = open_dev();
    uint64_t seed = 0x60;
    for (unsigned bl = 1; bl <= 8; bl++)
        for (unsigned br = 1; br <= 8; br++)
            for (unsigned f = 0; f < 4; f++)
                gemm_host_case(d, &seed, 1 + tu_below(&seed, 20), 1 + tu_below(&seed, 20),
                               1 + tu_below(&seed, 300), bl, br, f >> 1, f & 1, 0);
    /* argument checks */
    uint8_t c3[4] = {3, 0, 0, 0};
    int64_t out[4];
    ck_assert_int_eq(dorefa_gemm_host(d, c3, c3, 2, 2, 2, 1, 2, 0, 0, out), DOREFA_E_ARG);
    ck_assert_ptr_nonnull(strstr(dorefa_last_error(d), "does not fit"));
    ck_assert_int_eq(dorefa_gemm_host(d, c3, c3, 2, 2, 2, 2, 9, 0, 0, out), DOREFA_E_ARG);
    ck_assert_int_eq(dorefa_gemm_host(d, c3, c3, 0, 2, 2, 2, 2, 0, 0, out), DOREFA_E_ARG);
    ck_assert_int_eq(dorefa_gemm_host(d, c3, c3, 2, 2, 2, 2, 2, 2, 0, out), DOREFA_E_ARG);
    dorefa_close(d);
}
END_TEST

START_TEST(test_gemm_host_tiled)
{
    dorefa_dev *d = open_dev();
    dorefa_info in = info_of(d);
    uint64_t seed = 0x7113;
    /* K beyond max_k (chunks accumulated with ACC64) where that is affordable, and shapes that
     * exceed the operand memories of small builds. */
    uint32_t kbig = in.max_k <= 4096 ? in.max_k + 200 : 4296;
    gemm_host_case(d, &seed, 70, 40, kbig, 8, 8, 1, 1, 1);
    gemm_host_case(d, &seed, 70, 40, kbig, 1, 1, 1, 0, 1);
    gemm_host_case(d, &seed, 33, 57, kbig, 3, 5, 0, 1, 1);
    gemm_host_case(d, &seed, 9, 10, in.max_k + 100, 1, 1, 0, 0, 1);
    gemm_host_case(d, &seed, 9, 10, in.max_k + 100, 2, 3, 1, 1, 1);
    /* the int32 extremes of spec 10.5, summed over K chunks past them */
    gemm_host_case(d, &seed, 3, 2, in.max_k + 64, 8, 8, 0, 0, 2);
    gemm_host_case(d, &seed, 3, 2, in.max_k + 64, 8, 8, 1, 1, 2);
    dorefa_close(d);
}
END_TEST

/* ---- record and replay --------------------------------------------------------------------- */

static char *temp_path(void)
{
    char *p = malloc(64);
    ck_assert_ptr_nonnull(p);
    snprintf(p, 64, "/tmp/dorefa-rec-XXXXXX");
    int fd = mkstemp(p);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return p;
}

/* A session touching every command, an error status included. */
static void session(dorefa_dev *d)
{
    uint64_t seed = 0x5E55;
    uint32_t dw[40];
    for (int i = 0; i < 40; i++)
        dw[i] = (uint32_t)tu_next(&seed);
    OK(d, dorefa_write(d, DRF_MEM_D, 0, dw, 40));
    OK(d, dorefa_read(d, DRF_MEM_D, 0, dw, 40));
    uint8_t lc[5 * 90], rc[4 * 90];
    fill_codes(&seed, lc, sizeof lc, 3);
    fill_codes(&seed, rc, sizeof rc, 2);
    int64_t c[20];
    OK(d, dorefa_gemm_host(d, lc, rc, 5, 4, 90, 3, 2, 1, 0, c));
    OK(d, dorefa_seed(d, 0x1234567u));
    dorefa_qgrad_args q = {0, 2, 20, 3, 100, 120};
    OK(d, dorefa_quant_grad(d, &q));
    OK(d, dorefa_read(d, DRF_MEM_D, 100, dw, 12));
    dorefa_pack_args p = {100, 20, 1, 2, 20, 3, 1, 8};
    OK(d, dorefa_pack(d, &p));
    dorefa_stats st;
    OK(d, dorefa_stats_get(d, 0, &st));
    STATUS(d, dorefa_seed(d, 0), DRF_ST_BAD_ARG);
    uint8_t e[7] = {1, 2, 3, 4, 5, 6, 7}, b[7];
    OK(d, dorefa_echo(d, e, 7, b));
    dorefa_info in;
    OK(d, dorefa_info_get(d, &in));
    OK(d, dorefa_stats_get(d, 1, &st));
}

/* Rewrites the data of the first response to opcode op in a recording (keeping its CRCs valid),
 * so that a replay must find the difference. */
static void tamper(const char *path, uint8_t op)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    uint8_t *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, 1 << 20, f);
    size_t at = 16;
    while (at + 8 <= n) {
        uint32_t cl = drf_get32(buf + at), rl = drf_get32(buf + at + 4);
        uint8_t *cmd = buf + at + 8, *resp = cmd + cl;
        if (cmd[2] == op) {
            resp[9] ^= 0x40; /* the first data byte after the status */
            drf_put32(resp + rl - 4, crc32_ieee(0, resp, rl - 4));
            break;
        }
        at += 8 + cl + rl;
    }
    ck_assert_uint_lt(at + 8, n);
    rewind(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
    free(buf);
}

START_TEST(test_record_replay)
{
    char *path = temp_path();
    dorefa_options o = {0, -1, path};
    dorefa_dev *d = open_uri(g_uri, &o); /* INFO at open, then RESET */
    session(d);
    dorefa_link_stats ls;
    dorefa_link_stats_get(d, &ls);
    uint64_t recorded = ls.frames_received;
    dorefa_close(d);

    /* the same stream against a fresh device of the same backend */
    d = open_uri(g_uri, NULL);
    uint64_t frames = 0;
    OK(d, dorefa_replay(d, path, &frames));
    ck_assert_uint_eq(frames, recorded);
    printf("  record/replay on %s: %llu frames replayed, every response equal\n", g_uri,
           (unsigned long long)frames);
    /* the device stays usable after a replay */
    uint8_t e[3] = {9, 8, 7}, b[3];
    OK(d, dorefa_echo(d, e, 3, b));

    /* a changed response is found and named */
    tamper(path, DRF_OP_ECHO);
    int rc = dorefa_replay(d, path, &frames);
    ck_assert_int_eq(rc, DOREFA_E_MISMATCH);
    ck_assert_msg(strstr(dorefa_last_error(d), "ECHO") && strstr(dorefa_last_error(d), "differs"),
                  "message: %s", dorefa_last_error(d));
    printf("  tampered recording: %s\n", dorefa_last_error(d));

    /* malformed files */
    ck_assert_int_eq(dorefa_replay(d, "/nonexistent.rec", NULL), DOREFA_E_FILE);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fputc('X', f); /* magic */
    fclose(f);
    ck_assert_int_eq(dorefa_replay(d, path, NULL), DOREFA_E_FILE);
    ck_assert_ptr_nonnull(strstr(dorefa_last_error(d), "not a libdorefa recording"));
    ck_assert_int_eq(truncate(path, 16 + 8 + 5), 0);
    f = fopen(path, "r+b");
    fputc('D', f);
    fclose(f);
    ck_assert_int_eq(dorefa_replay(d, path, NULL), DOREFA_E_FILE);
    ck_assert_ptr_nonnull(strstr(dorefa_last_error(d), "truncated"));
    dorefa_close(d);
    remove(path);
    free(path);
}
END_TEST

/* ---- fault injection ----------------------------------------------------------------------- */

typedef struct {
    uint8_t *data;
    size_t len, cap;
    uint32_t *op_end; /* end offset of each command's results */
    size_t ops;
} results;

static void res_add(results *r, const void *p, size_t n)
{
    if (r->len + n > r->cap) {
        r->cap = (r->cap + n) * 2;
        r->data = realloc(r->data, r->cap);
        ck_assert_ptr_nonnull(r->data);
    }
    memcpy(r->data + r->len, p, n);
    r->len += n;
}

/* A mixed workload of small frames (a few hundred bytes each way), non-idempotent commands
 * (ACC64, QUANT_GRAD) included; every result goes to r, op by op. */
static int workload(dorefa_dev *d, uint32_t nops, results *r)
{
    dorefa_info in;
    int rc = dorefa_info_get(d, &in);
    if (rc)
        return rc;
    uint64_t seed = 0xFA017;
    r->op_end = calloc(nops, sizeof *r->op_end);
    ck_assert_ptr_nonnull(r->op_end);
    uint32_t lfsr_seed = 1;
    for (uint32_t op = 0; op < nops; op++) {
        unsigned kind = tu_below(&seed, 5);
        if (kind == 0) { /* ECHO */
            uint8_t a[200], b[200];
            uint16_t n = (uint16_t)(1 + tu_below(&seed, min32(200, in.max_payload - 1)));
            for (int i = 0; i < n; i++)
                a[i] = (uint8_t)tu_next(&seed);
            if ((rc = dorefa_echo(d, a, n, b)))
                return rc;
            res_add(r, b, n);
        } else if (kind == 1) { /* WRITE then READ */
            uint32_t w[60], back[60], n = 1 + tu_below(&seed, 60);
            uint32_t addr = tu_below(&seed, min32(in.d_words - 60, 4096));
            for (uint32_t i = 0; i < n; i++)
                w[i] = (uint32_t)tu_next(&seed);
            if ((rc = dorefa_write(d, DRF_MEM_D, addr, w, n)) ||
                (rc = dorefa_read(d, DRF_MEM_D, addr, back, n)))
                return rc;
            res_add(r, back, 4 * n);
        } else if (kind == 2) { /* GEMM accumulating into D: repeats would show */
            uint32_t M = 1 + tu_below(&seed, 6), N = 1 + tu_below(&seed, 6);
            uint32_t K = 1 + tu_below(&seed, min32(64, in.max_k));
            unsigned bl = 1 + tu_below(&seed, 4), br = 1 + tu_below(&seed, 4);
            uint8_t lc[6 * 64], rc2[6 * 64];
            uint64_t lw[6 * 4 * 8], rw[6 * 4 * 8];
            uint32_t acc[2 * 36];
            fill_codes(&seed, lc, (size_t)M * K, bl);
            fill_codes(&seed, rc2, (size_t)N * K, br);
            memset(lw, 0, sizeof lw);
            memset(rw, 0, sizeof rw);
            bitplane_pack(lw, lc, K, M, K, bl);
            bitplane_pack(rw, rc2, K, N, K, br);
            dorefa_gemm_args g = {0, 0, M, N, K, (uint8_t)bl, (uint8_t)br,
                                  (uint8_t)tu_below(&seed, 2), (uint8_t)tu_below(&seed, 2),
                                  DRF_GEMM_ACC64, 0, N,
                                  (int32_t)tu_below(&seed, 1000) - 500};
            g.dst = in.d_words - 2 * M * N; /* a region the other ops leave alone */
            if ((rc = dorefa_write(d, DRF_MEM_L, 0, lw, (uint32_t)bitplane_words(M, K, bl))) ||
                (rc = dorefa_write(d, DRF_MEM_R, 0, rw, (uint32_t)bitplane_words(N, K, br))) ||
                (rc = dorefa_gemm(d, &g)) ||
                (rc = dorefa_read(d, DRF_MEM_D, g.dst, acc, 2 * M * N)))
                return rc;
            res_add(r, acc, 8 * M * N);
        } else if (kind == 3) { /* SEED now and then; QUANT_GRAD moves the LFSR on */
            uint32_t E = 1 + tu_below(&seed, 40), S = 1 + tu_below(&seed, 3);
            uint32_t n = S * E, base = in.d_words / 2 > 4096 ? 4096 : in.d_words / 4;
            uint32_t gw[60], codes[30], m[3];
            for (uint32_t i = 0; i < (n + 1) / 2; i++)
                gw[i] = (uint32_t)tu_next(&seed);
            if (tu_below(&seed, 4) == 0) {
                lfsr_seed = (uint32_t)tu_next(&seed) | 1u;
                if ((rc = dorefa_seed(d, lfsr_seed)))
                    return rc;
            }
            uint32_t srcw = (n + 1) / 2, dstw = (n + 3) / 4;
            dorefa_qgrad_args q = {base, S, E, (uint8_t)(1 + tu_below(&seed, 8)), base + srcw,
                                   base + srcw + dstw};
            if ((rc = dorefa_write(d, DRF_MEM_D, base, gw, srcw)) ||
                (rc = dorefa_quant_grad(d, &q)) ||
                (rc = dorefa_read(d, DRF_MEM_D, q.dst, codes, dstw)) ||
                (rc = dorefa_read(d, DRF_MEM_D, q.mdst, m, S)))
                return rc;
            res_add(r, codes, 4 * dstw);
            res_add(r, m, 4 * S);
        } else { /* STATS: only the LFSR state is deterministic under faults */
            dorefa_stats st;
            if ((rc = dorefa_stats_get(d, 0, &st)))
                return rc;
            res_add(r, &st.lfsr, 4);
        }
        r->op_end[op] = (uint32_t)r->len;
        r->ops = op + 1;
    }
    return DOREFA_OK;
}

START_TEST(test_fault_injection)
{
    const char *env = getenv("PROTOCOL_FAULT_OPS");
    uint32_t nops = env ? (uint32_t)strtoul(env, NULL, 0) : 2000;
    if (!nops)
        nops = 2000;
    results clean = {0}, faulty = {0};
    dorefa_dev *d = open_dev();
    OK(d, workload(d, nops, &clean));
    dorefa_close(d);

    char uri[512];
    snprintf(uri, sizeof uri, "faulty:%s?rate=0.003&seed=7", g_uri);
    /* The shortest timeout the driver allows (it keeps 2 rx_timeout_us + 10 ms): each timeout
     * costs simulated cycles on sim. */
    dorefa_options o = {1, 40, NULL};
    d = open_uri(uri, &o);
    OK(d, workload(d, nops, &faulty));
    dorefa_fault_stats fs;
    dorefa_link_stats ls;
    dorefa_stats dst;
    OK(d, dorefa_fault_stats_get(d, &fs));
    dorefa_link_stats_get(d, &ls);
    OK(d, dorefa_stats_get(d, 0, &dst));
    dorefa_close(d);

    uint64_t silent = 0;
    for (size_t op = 0; op < nops; op++) {
        size_t a0 = op ? clean.op_end[op - 1] : 0, b0 = op ? faulty.op_end[op - 1] : 0;
        size_t al = clean.op_end[op] - a0, bl = faulty.op_end[op] - b0;
        if (al != bl || memcmp(clean.data + a0, faulty.data + b0, al))
            silent++;
    }
    printf("  faults injected: %llu, caught/retried: %llu, silent corruptions: %llu\n",
           (unsigned long long)fs.total, (unsigned long long)ls.retries,
           (unsigned long long)silent);
    printf("    host->device: %llu flips, %llu drops, %llu dups, %llu truncations; "
           "device->host: %llu flips, %llu drops, %llu dups, %llu truncations\n",
           (unsigned long long)fs.tx_flips, (unsigned long long)fs.tx_drops,
           (unsigned long long)fs.tx_dups, (unsigned long long)fs.tx_truncations,
           (unsigned long long)fs.rx_flips, (unsigned long long)fs.rx_drops,
           (unsigned long long)fs.rx_dups, (unsigned long long)fs.rx_truncations);
    printf("    %u commands, %llu frames sent, %llu timeouts, %llu damaged responses; device: "
           "%u repeats answered from its duplicate memory, %u dropped headers, %u error answers\n",
           nops, (unsigned long long)ls.frames_sent, (unsigned long long)ls.timeouts,
           (unsigned long long)ls.bad_responses, dst.dup_frames, dst.hdr_errors, dst.frames_err);
    fflush(stdout);
    ck_assert_uint_eq(silent, 0);
    ck_assert_uint_eq(clean.len, faulty.len);
    ck_assert_uint_gt(fs.total, nops / 4);
    ck_assert_uint_gt(ls.retries, 0);
    free(clean.data);
    free(clean.op_end);
    free(faulty.data);
    free(faulty.op_end);
}
END_TEST

/* ---- runner -------------------------------------------------------------------------------- */

static Suite *suite_protocol(void)
{
    Suite *s = suite_create("protocol");
    /* A simulated device is slow: a generous limit (CK_DEFAULT_TIMEOUT does not apply). */
    TCase *tc = tcase_create("commands");
    tcase_set_timeout(tc, 1800);
#ifdef DRF_PROTOCOL_USB_MOCK
    tcase_add_checked_fixture(tc, protocol_usb_mock_setup, protocol_usb_mock_teardown);
#endif
    tcase_add_test(tc, test_info_sanity);
    tcase_add_test(tc, test_write_read_chunks);
    tcase_add_test(tc, test_gemm_all_formats);
    tcase_add_test(tc, test_quant_grad);
    tcase_add_test(tc, test_quant_act);
    tcase_add_test(tc, test_pack);
    tcase_add_test(tc, test_seed_stats_echo);
    tcase_add_test(tc, test_error_statuses);
    tcase_add_test(tc, test_uri_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("driver");
    tcase_set_timeout(tc, 1800);
#ifdef DRF_PROTOCOL_USB_MOCK
    tcase_add_checked_fixture(tc, protocol_usb_mock_setup, protocol_usb_mock_teardown);
#endif
    tcase_add_test(tc, test_gemm_host_formats);
    tcase_add_test(tc, test_gemm_host_tiled);
    tcase_add_test(tc, test_record_replay);
    tcase_add_test(tc, test_fault_injection);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: protocol_test URI\n"
                "  runs the protocol suite against the device URI names: ref[:k=v,...], sim, "
                "usb[:VID:PID[:serial]], faulty:<uri>?rate=R\n");
        return argc == 2 ? 0 : 2;
    }
    g_uri = argv[1];
#ifdef DRF_PROTOCOL_USB_MOCK
    /* The emulated board; the early open check happens there, in a process of its own. */
    int pre = protocol_usb_mock_start(argv, g_uri);
    if (pre)
        return pre > 0 ? 0 : 1;
#else
    /* Fail early and clearly if the device cannot be opened at all. */
    dorefa_dev *d;
    int rc = dorefa_open(g_uri, NULL, &d);
    if (rc) {
        fprintf(stderr, "protocol_test: cannot open '%s': %s\n", g_uri, dorefa_open_error());
        return 1;
    }
    dorefa_close(d);
#endif
    printf("protocol suite on %s\n", g_uri);
    fflush(stdout);
    SRunner *sr = srunner_create(suite_protocol());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
