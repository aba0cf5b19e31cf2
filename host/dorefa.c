/* dorefa: the project's command line, on libdorefa. Every command talks to a device named by a
 * URI (--device; the in-process golden model `ref` by default) through real protocol frames:
 * `info` prints what the device reports, `selftest` runs a fixed vector set and prints PASS/FAIL
 * lines, `demo` runs a small GEMM, f_alpha and f_gamma, `replay` replays a recording made with
 * --record, and `bench-link` measures the link and the bytes Model A's conv layers need. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crc.h"
#include "dorefa.h"
#include "dorefa_proto.h"
#include "falpha.h"
#include "fgamma.h"
#include "gemm.h"
#include "lfsr.h"

/* Exit status when the device is not there (usb: no such device, or the backend is missing):
 * the automake convention for a skipped test, so `make hwtest` can tell it from a failure. */
#define EXIT_SKIP 77

typedef struct {
    const char *device;
    const char *record;
    int timeout_ms, retries;
} cli_opts;

static dorefa_dev *dev_open(const cli_opts *o, int *exit_code)
{
    dorefa_options opt = {o->timeout_ms, o->retries, o->record};
    dorefa_dev *d = NULL;
    int rc = dorefa_open(o->device, &opt, &d);
    if (rc) {
        fprintf(stderr, "dorefa: cannot open device '%s': %s\n", o->device, dorefa_open_error());
        *exit_code = rc == DOREFA_E_NODEV || rc == DOREFA_E_UNSUPPORTED || rc == DOREFA_E_GONE
                         ? EXIT_SKIP
                         : 1;
        return NULL;
    }
    return d;
}

/* Prints the failure of a driver call; returns 1 when rc is an error. */
static int failed(dorefa_dev *d, int rc)
{
    if (rc)
        fprintf(stderr, "dorefa: %s\n", dorefa_last_error(d));
    return rc != 0;
}

static uint64_t rng_next(uint64_t *s) /* splitmix64, for test and demo inputs */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- info ---- */

static int cmd_info(const cli_opts *o)
{
    int code = 0;
    dorefa_dev *d = dev_open(o, &code);
    if (!d)
        return code;
    dorefa_info in;
    if (failed(d, dorefa_info_get(d, &in))) {
        dorefa_close(d);
        return 1;
    }
    printf("device          %s\n", o->device);
    printf("implementation  %u (%s)\n", in.implementation,
           in.implementation == 0 ? "golden model" : in.implementation == 1 ? "RTL" : "unknown");
    printf("protocol        version %u\n", in.version);
    printf("max_payload     %u bytes\n", in.max_payload);
    printf("memories        L %u, R %u (64-bit words), D %u (32-bit words)\n", in.l_words,
           in.r_words, in.d_words);
    printf("max_k           %u\n", in.max_k);
    printf("array           %u x %u DPUs, %u-bit words, %u f_gamma lane(s)\n", in.rows, in.cols,
           in.word_bits, in.fgamma_lanes);
    printf("clock           %u Hz%s\n", in.clock_hz, in.clock_hz ? "" : " (none: software)");
    printf("rx_timeout      %u us\n", in.rx_timeout_us);
    printf("features        0x%08X\n", in.features);
    dorefa_close(d);
    return 0;
}

/* ---- selftest ---- */

static int failures;

static void report(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s  ", ok ? "PASS" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    failures += !ok;
}

/* One random GEMM through the driver (packed, tiled if need be), compared with the naive GEMM. */
static int selftest_gemm_case(dorefa_dev *d, uint64_t *seed, uint32_t M, uint32_t N, uint32_t K,
                              unsigned bl, unsigned br, unsigned fl, unsigned fr)
{
    uint8_t *lc = malloc((size_t)M * K), *rc = malloc((size_t)N * K);
    int64_t *want = malloc(sizeof *want * M * N), *got = malloc(sizeof *got * M * N);
    int ok = 0;
    if (!lc || !rc || !want || !got)
        goto out;
    for (size_t i = 0; i < (size_t)M * K; i++)
        lc[i] = (uint8_t)(rng_next(seed) & ((1u << bl) - 1));
    for (size_t i = 0; i < (size_t)N * K; i++)
        rc[i] = (uint8_t)(rng_next(seed) & ((1u << br) - 1));
    if (failed(d, dorefa_gemm_host(d, lc, rc, M, N, K, (uint8_t)bl, (uint8_t)br, (uint8_t)fl,
                                   (uint8_t)fr, got)))
        goto out;
    gemm_naive(lc, K, bl, fl, rc, K, br, fr, M, N, K, want, N);
    ok = !memcmp(got, want, sizeof *got * M * N);
out:
    free(lc);
    free(rc);
    free(want);
    free(got);
    return ok;
}

static void pack_i16(uint32_t *w, const int16_t *g, size_t n)
{
    memset(w, 0, 4 * ((n + 1) / 2));
    for (size_t i = 0; i < n; i++)
        w[i / 2] |= (uint32_t)(uint16_t)g[i] << (16 * (i % 2));
}

static uint8_t u8_at(const uint32_t *w, size_t i) { return (uint8_t)(w[i / 4] >> (8 * (i % 4))); }

static int cmd_selftest(const cli_opts *o)
{
    printf("self-test on '%s' (spec protocol version %u)\n", o->device, DRF_PROTOCOL_VERSION);
    const uint8_t chk[] = "123456789";
    report(crc16_ccitt(chk, 9) == 0x29B1 && crc32_ieee(0, chk, 9) == 0xCBF43926u,
           "CRC-16/CCITT-FALSE and CRC-32 check values");
    uint32_t s = DRF_LFSR_RESET_STATE;
    static const uint16_t draws[4] = {0xB6C3, 0x3DB5, 0xF3CF, 0x2FA6};
    int ok = 1;
    for (int i = 0; i < 4; i++)
        ok &= lfsr_draw(&s) == draws[i];
    report(ok && lfsr_jump(1, 0xFFFFFFFFull) == 1, "LFSR known answers and period 2^32-1");

    int code = 0;
    dorefa_dev *d = dev_open(o, &code);
    if (!d) {
        printf("selftest: device not available\n");
        return code;
    }
    /* From a known state, so that a recording of this run replays anywhere. */
    dorefa_info in;
    ok = !failed(d, dorefa_reset(d)) && !failed(d, dorefa_info_get(d, &in));
    report(ok, "RESET and INFO: version %u, implementation %u, L/R %u/%u words, D %u words, "
               "max_k %u, max_payload %u",
           ok ? in.version : 0, ok ? in.implementation : 0, ok ? in.l_words : 0,
           ok ? in.r_words : 0, ok ? in.d_words : 0, ok ? in.max_k : 0, ok ? in.max_payload : 0);
    if (!ok)
        goto done;

    uint64_t seed = 0x5E1F7E57;
    int cases = 0, good = 0;
    for (unsigned bl = 1; bl <= 8; bl++)
        for (unsigned br = 1; br <= 8; br++)
            for (unsigned f = 0; f < 4; f++) {
                uint32_t M = 1 + (uint32_t)(rng_next(&seed) % 9);
                uint32_t N = 1 + (uint32_t)(rng_next(&seed) % 9);
                uint32_t K = 1 + (uint32_t)(rng_next(&seed) % 200);
                good += selftest_gemm_case(d, &seed, M, N, K, bl, br, f >> 1, f & 1);
                cases++;
            }
    report(good == cases,
           "GEMM via frames = naive GEMM: %d/%d cases (bits 1..8 x 1..8, UU/US/SU/SS)", good,
           cases);
    /* Larger than the device's max_k: K chunks accumulated on the device with ACC64. */
    uint32_t kbig = in.max_k + 100;
    report(selftest_gemm_case(d, &seed, 10, 9, kbig, 2, 3, 1, 0) &&
               selftest_gemm_case(d, &seed, 3, 4, kbig, 8, 8, 1, 1),
           "tiled GEMM, K = %u > max_k, = naive GEMM", kbig);

    /* f_gamma: the known-answer vectors of spec 10.2 */
    static const int16_t g[8] = {1000, -1000, 0, 250, -32768, 32767, -1, 7};
    static const uint8_t want4[8] = {7, 7, 7, 8, 0, 15, 7, 8};
    uint32_t gw[4], codes[2], mw[2];
    pack_i16(gw, g, 8);
    dorefa_qgrad_args q = {0, 1, 8, 4, 16, 32};
    ok = !failed(d, dorefa_write(d, DRF_MEM_D, 0, gw, 4)) &&
         !failed(d, dorefa_seed(d, 0x12345678u)) && !failed(d, dorefa_quant_grad(d, &q)) &&
         !failed(d, dorefa_read(d, DRF_MEM_D, 16, codes, 2)) &&
         !failed(d, dorefa_read(d, DRF_MEM_D, 32, mw, 1));
    for (int i = 0; ok && i < 8; i++)
        ok &= u8_at(codes, (size_t)i) == want4[i];
    ok = ok && mw[0] == 32767;
    static const int16_t g2[8] = {0, 0, 0, 0, 3, -3, 1, -1};
    static const uint8_t want2[8] = {1, 1, 1, 2, 3, 0, 2, 1};
    pack_i16(gw, g2, 8);
    dorefa_qgrad_args q2 = {0, 2, 4, 2, 16, 32};
    ok = ok && !failed(d, dorefa_write(d, DRF_MEM_D, 0, gw, 4)) &&
         !failed(d, dorefa_seed(d, 0x12345678u)) && !failed(d, dorefa_quant_grad(d, &q2)) &&
         !failed(d, dorefa_read(d, DRF_MEM_D, 16, codes, 2)) &&
         !failed(d, dorefa_read(d, DRF_MEM_D, 32, mw, 2));
    for (int i = 0; ok && i < 8; i++)
        ok &= u8_at(codes, (size_t)i) == want2[i];
    report(ok && mw[0] == 0 && mw[1] == 3,
           "QUANT_GRAD known-answer vectors (spec 10.2: G = 4, and the m = 0 rule)");

    /* f_alpha: spec 10.3 */
    static const int32_t thr[8] = {0, 10, 20, 30, 1, 5, 0, -5};
    static const int32_t acc[10] = {9, 10, 19, 30, 1000, 6, 5, 0, -5, -1000};
    static const uint8_t wantq[10] = {0, 1, 1, 3, 3, 0, 1, 2, 3, 3};
    uint32_t qa[3];
    dorefa_qact_args a = {0, 2, 5, 2, 0, 16, 32};
    ok = !failed(d, dorefa_write(d, DRF_MEM_D, 0, acc, 10)) &&
         !failed(d, dorefa_write(d, DRF_MEM_D, 16, thr, 8)) &&
         !failed(d, dorefa_quant_act(d, &a)) && !failed(d, dorefa_read(d, DRF_MEM_D, 32, qa, 3));
    for (int i = 0; ok && i < 10; i++)
        ok &= u8_at(qa, (size_t)i) == wantq[i];
    report(ok, "QUANT_ACT known-answer vector (spec 10.3)");

    /* PACK: codes in D to an operand, checked by a GEMM against the same codes sent packed */
    uint32_t cw[8];
    uint8_t cb[32];
    for (int i = 0; i < 32; i++)
        cb[i] = (uint8_t)(rng_next(&seed) & 7);
    memset(cw, 0, sizeof cw);
    for (int i = 0; i < 32; i++)
        cw[i / 4] |= (uint32_t)cb[i] << (8 * (i % 4));
    dorefa_pack_args p = {0, 8, 1, 4, 8, 3, 0, 0}; /* 4 rows x 8 codes into L */
    uint64_t lw[24], want_lw[24] = {0};
    ok = !failed(d, dorefa_write(d, DRF_MEM_D, 0, cw, 8)) && !failed(d, dorefa_pack(d, &p)) &&
         !failed(d, dorefa_read(d, DRF_MEM_L, 0, lw, 24));
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 8; k++)
            for (int b = 0; b < 3; b++)
                want_lw[b * 8 + r] |= (uint64_t)((cb[r * 8 + k] >> b) & 1) << k;
    for (int i = 0; ok && i < 24; i++)
        ok &= (i % 8) >= 4 || lw[i] == want_lw[i];
    report(ok, "PACK: 4 x 8 codes of 3 bits into the bit-plane layout (spec 2.1)");

    /* ECHO of the largest payload a response can carry */
    uint16_t n = (uint16_t)(in.max_payload - 1u);
    uint8_t *e = malloc(n), *b = malloc(n);
    ok = e && b;
    for (uint16_t i = 0; ok && i < n; i++)
        e[i] = (uint8_t)(i * 37u + 11u);
    ok = ok && !failed(d, dorefa_echo(d, e, n, b)) && !memcmp(e, b, n);
    free(e);
    free(b);
    report(ok, "ECHO of %u bytes", n);

    /* malformed commands get their status and the device stays usable */
    uint8_t st = 0;
    dorefa_gemm_args bad = {4, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0};
    ok = dorefa_call(d, 0x3F, NULL, 0, &st, NULL, 0, NULL) == DOREFA_OK &&
         st == DRF_ST_BAD_OPCODE;
    ok &= dorefa_seed(d, 0) == DOREFA_E_STATUS && dorefa_last_status(d) == DRF_ST_BAD_ARG;
    ok &= dorefa_gemm(d, &bad) == DOREFA_E_STATUS && dorefa_last_status(d) == DRF_ST_BAD_ARG;
    uint8_t rd[12] = {DRF_MEM_D, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0};
    ok &= dorefa_call(d, DRF_OP_READ, rd, 12, &st, NULL, 0, NULL) == DOREFA_OK &&
          st == DRF_ST_BAD_ADDR;
    dorefa_info again;
    ok &= dorefa_info_get(d, &again) == DOREFA_OK;
    report(ok, "BAD_OPCODE, BAD_ARG (seed 0, unaligned base), BAD_ADDR, then INFO works");

    dorefa_stats sst;
    ok = !failed(d, dorefa_stats_get(d, 0, &sst));
    report(ok && sst.lfsr != 0 && sst.gemm_ops > (uint64_t)cases && sst.frames_err >= 4,
           "STATS: %llu GEMMs, %u frames OK, %u error responses, LFSR 0x%08X",
           (unsigned long long)sst.gemm_ops, sst.frames_ok, sst.frames_err, sst.lfsr);
done:;
    dorefa_link_stats ls;
    dorefa_link_stats_get(d, &ls);
    printf("link: %llu frames, %llu bytes sent, %llu received, %llu retries\n",
           (unsigned long long)ls.frames_sent, (unsigned long long)ls.bytes_sent,
           (unsigned long long)ls.bytes_received, (unsigned long long)ls.retries);
    dorefa_close(d);
    printf("selftest: %s (%d failure%s)\n", failures ? "FAILED" : "passed", failures,
           failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}

/* ---- demo ---- */

static void print_codes(const char *name, const uint8_t *c, uint32_t rows, uint32_t cols)
{
    printf("%s:\n", name);
    for (uint32_t i = 0; i < rows; i++) {
        printf("   ");
        for (uint32_t j = 0; j < cols; j++)
            printf(" %3u", c[i * cols + j]);
        printf("\n");
    }
}

static int cmd_demo(const cli_opts *o, uint32_t seed_arg)
{
    int code = 0;
    dorefa_dev *d = dev_open(o, &code);
    if (!d)
        return code;
    uint64_t seed = seed_arg;
    enum { M = 4, N = 6, K = 16, BW = 2, BA = 2, BG = 2 };
    uint8_t w[M * K], a[N * K];
    for (int i = 0; i < M * K; i++)
        w[i] = (uint8_t)(rng_next(&seed) % (1u << BW));
    for (int i = 0; i < N * K; i++)
        a[i] = (uint8_t)(rng_next(&seed) % (1u << BA));

    printf("== forward GEMM on '%s': C = W . A^T, W %dx%d (S, %d-bit), A %dx%d (U, %d-bit)\n",
           o->device, M, K, BW, N, K, BA);
    printf("   W code q means (2q - %d)/%d; A code q means q/%d\n", (1 << BW) - 1, (1 << BW) - 1,
           (1 << BA) - 1);
    print_codes("W codes", w, M, K);
    print_codes("A codes", a, N, K);
    int64_t c[M * N], want[M * N];
    if (failed(d, dorefa_reset(d)) ||
        failed(d, dorefa_gemm_host(d, w, a, M, N, K, BW, BA, DRF_FMT_S, DRF_FMT_U, c)))
        goto fail;
    gemm_naive(w, K, BW, DRF_FMT_S, a, K, BA, DRF_FMT_U, M, N, K, want, N);
    int same = 1;
    printf("C (device) = sum_k (2 w - 3) a:\n");
    for (int i = 0; i < M; i++) {
        printf("   ");
        for (int j = 0; j < N; j++) {
            same &= c[i * N + j] == want[i * N + j];
            printf(" %5lld", (long long)c[i * N + j]);
        }
        printf("\n");
    }
    printf("   naive integer GEMM agrees: %s\n", same ? "yes" : "NO");
    printf("   (the float layer output is C / (%d * %d))\n", (1 << BW) - 1, (1 << BA) - 1);

    /* f_alpha on the accumulators (channel = row): thresholds 0, 4, 8 for 2-bit activations */
    int32_t acc[M * N], thr[M * 4];
    for (int i = 0; i < M * N; i++)
        acc[i] = (int32_t)c[i];
    for (int ch = 0; ch < M; ch++) {
        thr[ch * 4] = 0;
        for (int t = 0; t < 3; t++)
            thr[ch * 4 + 1 + t] = 4 * t;
    }
    uint32_t qw[(M * N + 3) / 4];
    uint8_t acodes[M * N];
    dorefa_qact_args qa = {0, M, N, BA, 0, 1024, 2048};
    if (failed(d, dorefa_write(d, DRF_MEM_D, 0, acc, M * N)) ||
        failed(d, dorefa_write(d, DRF_MEM_D, 1024, thr, M * 4)) ||
        failed(d, dorefa_quant_act(d, &qa)) ||
        failed(d, dorefa_read(d, DRF_MEM_D, 2048, qw, (M * N + 3) / 4)))
        goto fail;
    for (int i = 0; i < M * N; i++)
        acodes[i] = u8_at(qw, (size_t)i);
    printf("\n== f_alpha: thresholds {0, 4, 8} per channel -> %d-bit activation codes\n", BA);
    print_codes("codes", acodes, M, N);

    /* f_gamma: two samples of gradients */
    enum { S = 2, E = 8 };
    static const int16_t g[S * E] = {1200, -300, 50, 0, -1200, 600, 10, -900,
                                     3, -1, 0, 2, -2, 1, 0, 0};
    uint32_t gw[S * E / 2], cw[S * E / 4], mw[S];
    pack_i16(gw, g, S * E);
    dorefa_qgrad_args q = {0, S, E, BG, 100, 200};
    if (failed(d, dorefa_write(d, DRF_MEM_D, 0, gw, S * E / 2)) ||
        failed(d, dorefa_seed(d, seed_arg ? seed_arg : 1)) ||
        failed(d, dorefa_quant_grad(d, &q)) ||
        failed(d, dorefa_read(d, DRF_MEM_D, 100, cw, S * E / 4)) ||
        failed(d, dorefa_read(d, DRF_MEM_D, 200, mw, S)))
        goto fail;
    const int n = (1 << BG) - 1;
    printf("\n== f_gamma: %d samples x %d i16 gradients -> %d-bit codes (LFSR seed %u)\n", S, E, BG,
           seed_arg ? seed_arg : 1);
    for (int s = 0; s < S; s++) {
        int32_t m = (int32_t)mw[s];
        printf("  sample %d, m = %d\n    g    :", s, m);
        for (int e = 0; e < E; e++)
            printf(" %7d", g[s * E + e]);
        printf("\n    code :");
        for (int e = 0; e < E; e++)
            printf(" %7u", u8_at(cw, (size_t)(s * E + e)));
        printf("\n    value:");
        for (int e = 0; e < E; e++)
            printf(" %7.1f", (double)m * (2 * u8_at(cw, (size_t)(s * E + e)) - n) / n);
        printf("\n");
    }
    /* unbiasedness, shown: average the dequantized value of g = 600 (m = 1200) over many draws */
    uint32_t st = 12345;
    double sum = 0, sum2 = 0;
    const int trials = 100000;
    for (int t = 0; t < trials; t++) {
        double v = 1200.0 * (2 * fgamma_code(600, 1200, BG, lfsr_draw(&st)) - n) / n;
        sum += v;
        sum2 += v * v;
    }
    double mean = sum / trials, se = sqrt((sum2 / trials - mean * mean) / trials);
    printf("  mean of f_gamma(600 | m = 1200) over %d draws: %.2f +- %.2f (unbiased: 600)\n",
           trials, mean, se);

    dorefa_stats sts;
    if (failed(d, dorefa_stats_get(d, 0, &sts)))
        goto fail;
    printf("\n== device STATS: %u frames ok, %u errors, %llu GEMMs, %llu binary ops\n",
           sts.frames_ok, sts.frames_err, (unsigned long long)sts.gemm_ops,
           (unsigned long long)sts.bin_ops);
    dorefa_close(d);
    return same ? 0 : 1;
fail:
    dorefa_close(d);
    return 1;
}

/* ---- replay ---- */

static int cmd_replay(const cli_opts *o, const char *path)
{
    int code = 0;
    dorefa_dev *d = dev_open(o, &code);
    if (!d)
        return code;
    uint64_t frames = 0;
    int rc = dorefa_replay(d, path, &frames);
    if (rc == DOREFA_OK)
        printf("replay: PASS: %llu frames of '%s' on '%s', every response equal "
               "(INFO build fields and STATS cycles masked)\n",
               (unsigned long long)frames, path, o->device);
    else
        printf("replay: FAIL after %llu frames of '%s' on '%s': %s\n",
               (unsigned long long)frames, path, o->device, dorefa_last_error(d));
    dorefa_close(d);
    return rc ? 1 : 0;
}

/* ---- bench-link ---- */

/* Model A (ARCHITECTURE.md) on 40 x 40 inputs: the conv layers the device runs. */
typedef struct {
    const char *name;
    uint32_t cin, cout, k, hin, hout;
} conv_layer;

static const conv_layer model_a[] = {
    {"conv1", 48, 64, 3, 18, 18},  /* after conv0 (5x5 VALID, 36x36) and maxpool 2 */
    {"conv2", 64, 64, 3, 18, 18},
    {"conv3", 64, 128, 3, 9, 7},   /* after maxpool 2; VALID */
    {"conv4", 128, 128, 3, 7, 7},
    {"conv5", 128, 128, 3, 7, 5},  /* VALID */
    {"conv6", 128, 512, 5, 5, 1},  /* VALID */
};

static uint64_t operand_bytes(uint64_t rows, uint64_t k, unsigned bits)
{
    return 8u * rows * bits * ((k + 63) / 64); /* spec 2.1, pad rows not sent */
}

/* Payload bytes plus framing for `bytes` moved in frames of at most `chunk` data bytes, each
 * costing `overhead` bytes of frames (command and response) around it. */
static double framed(double bytes, double chunk, double overhead)
{
    return bytes + ceil(bytes / chunk) * overhead;
}

static void model_a_bytes(unsigned wb, unsigned ab, unsigned gb, unsigned batch,
                          uint32_t max_payload)
{
    printf("\n== Model A link bytes per image (W %u, A %u, G %u bits; batch %u; frames of "
           "max_payload %u)\n",
           wb, ab, gb, batch, max_payload);
    printf("assumptions: the host does im2col and sends operands bit-plane packed at their\n"
           "bitwidth (spec 2.1); forward reads int32 accumulators (BN statistics are taken on\n"
           "the host); backward sends dY as i16, f_gamma runs on the device, G codes are PACKed\n"
           "on chip for backward_weight and read back (u8) for the host's im2col of\n"
           "backward_input; backward_weight accumulates over the batch with ACC64 and dW (int64)\n"
           "and the weights are sent/read once per batch; backward_input reads dX as int32.\n"
           "Framing: 12 bytes per frame; a WRITE adds 8 bytes of header and its 13-byte answer,\n"
           "a READ a 12-byte command and its status byte.\n");
    const double wr_chunk = max_payload - 8.0, wr_over = 12 + 8 + 13;
    const double rd_chunk = max_payload - 1.0, rd_over = 12 + 12 + 12 + 1;
    printf("%-6s %10s %10s %10s %10s %10s %10s %10s %12s\n", "layer", "fwd A", "fwd C32",
           "bwd dY", "bwd G rd", "bwd A^T", "bwd G col", "bwd dX32", "total wire");
    double total = 0;
    for (size_t i = 0; i < sizeof model_a / sizeof model_a[0]; i++) {
        const conv_layer *l = &model_a[i];
        uint64_t kf = (uint64_t)l->cin * l->k * l->k, pout = (uint64_t)l->hout * l->hout;
        uint64_t pin = (uint64_t)l->hin * l->hin, kb = (uint64_t)l->cout * l->k * l->k;
        double fwd_a = (double)operand_bytes(pout, kf, ab);      /* im2col(A) rows, K = Kf */
        double fwd_w = (double)operand_bytes(l->cout, kf, wb) / batch;
        double fwd_c = 4.0 * l->cout * pout;                      /* int32 results */
        double bwd_dy = 2.0 * l->cout * pout + 4;                 /* i16 gradients, m read */
        double bwd_grd = (double)l->cout * pout;                  /* G codes back (u8) */
        double bwd_at = (double)operand_bytes(kf, pout, ab);      /* im2col(A)^T rows, K = P */
        double bwd_gcol = (double)operand_bytes(pin, kb, gb);     /* im2col(G) rows, K = Cout k^2 */
        double bwd_wt = (double)operand_bytes(l->cin, kb, wb) / batch;
        double bwd_dw = 8.0 * l->cout * kf / batch;               /* int64 dW */
        double bwd_dx = 4.0 * l->cin * pin;                       /* int32 dX */
        double up = fwd_a + fwd_w + bwd_dy + bwd_at + bwd_gcol + bwd_wt;
        double down = fwd_c + bwd_grd + bwd_dw + bwd_dx;
        double wire = framed(up, wr_chunk, wr_over) + framed(down, rd_chunk, rd_over);
        total += wire;
        printf("%-6s %10.0f %10.0f %10.0f %10.0f %10.0f %10.0f %10.0f %12.0f\n", l->name, fwd_a,
               fwd_c, bwd_dy, bwd_grd, bwd_at, bwd_gcol, bwd_dx, wire);
    }
    printf("all    %87.0f bytes per image (%.1f kB)\n", total, total / 1e3);
    printf("at 3 Mbaud UART (300 kB/s): %.1f ms per image; at FT245 sync FIFO (40 MB/s): "
           "%.2f ms per image\n",
           total / 300e3 * 1e3, total / 40e6 * 1e3);
}

static int cmd_bench_link(const cli_opts *o, unsigned wb, unsigned ab, unsigned gb)
{
    int code = 0;
    dorefa_dev *d = dev_open(o, &code);
    if (!d)
        return code;
    dorefa_info in;
    if (failed(d, dorefa_info_get(d, &in)) || failed(d, dorefa_reset(d))) {
        dorefa_close(d);
        return 1;
    }
    printf("== link throughput through '%s' (wall clock of this host%s)\n", o->device,
           in.implementation == 1 ? "; the Verilated RTL sets the pace" : "");
    const double budget = 0.4; /* seconds per measurement */
    uint8_t *buf = malloc(in.max_payload), *back = malloc(in.max_payload);
    uint32_t *words = calloc(65536, 4);
    if (!buf || !back || !words) {
        dorefa_close(d);
        return 1;
    }
    for (uint32_t i = 0; i < in.max_payload; i++)
        buf[i] = (uint8_t)(i * 7u);
    const uint32_t echo_sizes[] = {0, 16, 64, 256, in.max_payload - 1};
    for (size_t i = 0; i < sizeof echo_sizes / sizeof echo_sizes[0]; i++) {
        uint16_t n = (uint16_t)echo_sizes[i];
        if (i && n <= echo_sizes[i - 1])
            continue;
        double t0 = now_s(), t;
        uint64_t it = 0;
        do {
            if (failed(d, dorefa_echo(d, buf, n, back)))
                goto fail;
            it++;
        } while ((t = now_s() - t0) < budget);
        printf("  ECHO %5u B: %9.0f frames/s, %10.0f payload B/s each way (wire %u + %u B per "
               "exchange)\n",
               n, it / t, it * (double)n / t, n + 12u, n + 13u);
    }
    const uint32_t xfer_bytes[] = {64, 512, 4096, 65536, 262144};
    for (size_t i = 0; i < sizeof xfer_bytes / sizeof xfer_bytes[0]; i++) {
        uint32_t nw = xfer_bytes[i] / 4;
        if (nw > in.d_words)
            continue;
        for (int dir = 0; dir < 2; dir++) {
            double t0 = now_s(), t;
            uint64_t it = 0;
            do {
                int rc = dir ? dorefa_read(d, DRF_MEM_D, 0, words, nw)
                             : dorefa_write(d, DRF_MEM_D, 0, words, nw);
                if (failed(d, rc))
                    goto fail;
                it++;
            } while ((t = now_s() - t0) < budget);
            printf("  %-5s %6u B: %9.0f calls/s, %10.0f payload B/s (%u frame%s per call)\n",
                   dir ? "READ" : "WRITE", xfer_bytes[i], it / t, it * (double)xfer_bytes[i] / t,
                   (xfer_bytes[i] + (dir ? in.max_payload - 1 : in.max_payload - 8) - 1) /
                       (dir ? in.max_payload - 1 : in.max_payload - 8),
                   xfer_bytes[i] > (dir ? in.max_payload - 1 : in.max_payload - 8) ? "s" : "");
        }
    }
    free(buf);
    free(back);
    free(words);
    model_a_bytes(wb, ab, gb, 128, in.max_payload);
    dorefa_close(d);
    return 0;
fail:
    free(buf);
    free(back);
    free(words);
    dorefa_close(d);
    return 1;
}

/* ---- command line ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dorefa <command> [options]\n"
            "\n"
            "commands:\n"
            "  info                print what the device reports (INFO)\n"
            "  selftest            fixed vectors through the driver: PASS/FAIL lines; exit 0 if\n"
            "                      all pass, 1 if any fails, 77 if the device is not there\n"
            "  demo [--seed N]     a small GEMM, f_alpha and f_gamma on the device\n"
            "  replay FILE         send a recording (--record) to the device and compare every\n"
            "                      response with the recorded one; the first difference is named\n"
            "  bench-link [--bits W,A,G]  frames/s and bytes/s of ECHO, WRITE and READ, and the\n"
            "                      link bytes of Model A's conv layers per image (default 1,2,4)\n"
            "  help                this text\n"
            "\n"
            "options (every command):\n"
            "  --device URI        ref (default; the golden model in process), ref:k=v,... (its\n"
            "                      geometry: l, r, d, max_k, max_payload, rx_timeout_us), sim\n"
            "                      (the Verilated RTL), usb[:VID:PID[:serial]] (a board), or\n"
            "                      faulty:<uri>?rate=R[&seed=S] (inject link faults, per byte)\n"
            "  --record FILE       record every command frame and its response (format:\n"
            "                      driver/README.md)\n"
            "  --timeout-ms N      response timeout (default 1000, longer for large commands)\n"
            "  --retries N         resends of one command (default 5)\n"
            "\n"
            "The device contract is docs/spec.md; libdorefa's API is driver/dorefa.h.\n");
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    cli_opts o = {"ref", NULL, 0, -1};
    const char *file = NULL;
    uint32_t seed = 1, bits[3] = {1, 2, 4};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        uint32_t v;
        if (!strcmp(a, "--device") && has) {
            o.device = argv[++i];
        } else if (!strcmp(a, "--record") && has) {
            o.record = argv[++i];
        } else if (!strcmp(a, "--timeout-ms") && has) {
            if (parse_u32(argv[++i], 1, 3600000, &v)) {
                fprintf(stderr, "dorefa: --timeout-ms needs a number in 1..3600000\n");
                return 2;
            }
            o.timeout_ms = (int)v;
        } else if (!strcmp(a, "--retries") && has) {
            if (parse_u32(argv[++i], 0, 1000, &v)) {
                fprintf(stderr, "dorefa: --retries needs a number in 0..1000\n");
                return 2;
            }
            o.retries = (int)v;
        } else if (!strcmp(cmd, "demo") && !strcmp(a, "--seed") && has) {
            if (parse_u32(argv[++i], 1, 0xFFFFFFFFu, &seed)) {
                fprintf(stderr, "dorefa demo: --seed needs a number in 1..4294967295\n");
                return 2;
            }
        } else if (!strcmp(cmd, "bench-link") && !strcmp(a, "--bits") && has) {
            const char *s = argv[++i];
            if (sscanf(s, "%u,%u,%u", &bits[0], &bits[1], &bits[2]) != 3 || bits[0] < 1 ||
                bits[0] > 8 || bits[1] < 1 || bits[1] > 8 || bits[2] < 1 || bits[2] > 8) {
                fprintf(stderr, "dorefa bench-link: --bits needs W,A,G, each 1..8 (e.g. 1,2,4)\n");
                return 2;
            }
        } else if (!strcmp(cmd, "replay") && a[0] != '-' && !file) {
            file = a;
        } else {
            fprintf(stderr, "dorefa %s: unexpected argument '%s'%s (try dorefa help)\n", cmd, a,
                    a[0] == '-' && !has ? " or missing value" : "");
            return 2;
        }
    }
    if (!strcmp(cmd, "info"))
        return cmd_info(&o);
    if (!strcmp(cmd, "selftest"))
        return cmd_selftest(&o);
    if (!strcmp(cmd, "demo"))
        return cmd_demo(&o, seed);
    if (!strcmp(cmd, "replay")) {
        if (!file) {
            fprintf(stderr, "dorefa replay: which recording? (dorefa replay [--device URI] FILE)\n");
            return 2;
        }
        return cmd_replay(&o, file);
    }
    if (!strcmp(cmd, "bench-link"))
        return cmd_bench_link(&o, bits[0], bits[1], bits[2]);
    fprintf(stderr, "dorefa: unknown command '%s' (try dorefa help)\n", cmd);
    return 2;
}
