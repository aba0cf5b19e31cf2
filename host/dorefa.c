/* dorefa: the project's command line. At this stage it drives the in-process golden model (the
 * `ref` device) through real protocol frames: `selftest` checks the model against its known
 * answers and its independent naive paths, `demo` runs a small GEMM, f_gamma and f_alpha and
 * prints what the device computed. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitplane.h"
#include "cmd_payload.h"
#include "crc.h"
#include "device.h"
#include "device_call.h"
#include "dorefa_proto.h"
#include "falpha.h"
#include "fgamma.h"
#include "frame.h"
#include "gemm.h"
#include "lfsr.h"

/* ---- the ref device, one command at a time (libdorefa replaces this in driver/) ---- */

typedef struct {
    ref_device *dev;
    uint8_t tag;
} link_t;

static int link_open(link_t *lk)
{
    lk->dev = ref_device_new(NULL);
    lk->tag = 0;
    if (!lk->dev) {
        fprintf(stderr, "dorefa: cannot create the ref device (out of memory)\n");
        return -1;
    }
    return 0;
}

static void link_close(link_t *lk) { ref_device_free(lk->dev); }

static int link_call(link_t *lk, uint8_t op, const uint8_t *payload, uint16_t len, uint8_t *out,
                     size_t cap, size_t *out_len)
{
    int st = ref_device_call(lk->dev, op, ++lk->tag, payload, len, out, cap, out_len);
    if (st < 0)
        fprintf(stderr, "dorefa: no well-formed response to %s\n", drf_opcode_name(op));
    return st;
}

static int call_ok(link_t *lk, uint8_t op, const uint8_t *payload, uint16_t len, uint8_t *out,
                   size_t cap, size_t *out_len)
{
    int st = link_call(lk, op, payload, len, out, cap, out_len);
    if (st != DRF_ST_OK) {
        fprintf(stderr, "dorefa: %s failed: %s\n", drf_opcode_name(op),
                st < 0 ? "protocol error" : drf_status_name(st));
        return -1;
    }
    return 0;
}

/* Writes `words` words of memory `mem` from byte image `data`, in frames of at most 4096 data
 * bytes. */
static int dev_write(link_t *lk, int mem, uint32_t addr, const uint8_t *data, size_t bytes)
{
    size_t wb = mem == DRF_MEM_D ? 4 : 8;
    uint8_t p[DRF_WRITE_HDR_BYTES + 4096];
    while (bytes) {
        size_t chunk = bytes > 4096 ? 4096 : bytes;
        drf_encode_write_head(p, (unsigned)mem, addr);
        memcpy(p + DRF_WRITE_HDR_BYTES, data, chunk);
        if (call_ok(lk, DRF_OP_WRITE, p, (uint16_t)(DRF_WRITE_HDR_BYTES + chunk), NULL, 0, NULL))
            return -1;
        addr += (uint32_t)(chunk / wb);
        data += chunk;
        bytes -= chunk;
    }
    return 0;
}

static int dev_read(link_t *lk, int mem, uint32_t addr, uint8_t *data, size_t bytes)
{
    size_t wb = mem == DRF_MEM_D ? 4 : 8;
    uint8_t p[DRF_READ_BYTES];
    while (bytes) {
        size_t chunk = bytes > 4096 ? 4096 : bytes, got = 0;
        drf_encode_read(p, (unsigned)mem, addr, (uint32_t)(chunk / wb));
        if (call_ok(lk, DRF_OP_READ, p, sizeof p, data, chunk, &got) || got != chunk)
            return -1;
        addr += (uint32_t)(chunk / wb);
        data += chunk;
        bytes -= chunk;
    }
    return 0;
}

static void words64_to_bytes(uint8_t *out, const uint64_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        drf_put64(out + 8 * i, w[i]);
}

static uint64_t rng_next(uint64_t *s) /* splitmix64, for demo inputs */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Packs codes, writes them as operand `mem` at word 0, returns the number of words (0 on error). */
static size_t put_operand(link_t *lk, int mem, const uint8_t *codes, uint32_t rows, uint32_t K,
                          unsigned bits)
{
    size_t words = (size_t)bitplane_words(rows, K, bits);
    uint64_t *w = calloc(words, 8);
    uint8_t *b = malloc(words * 8);
    int rc = -1;
    if (w && b) {
        bitplane_pack(w, codes, K, rows, K, bits);
        words64_to_bytes(b, w, words);
        rc = dev_write(lk, mem, 0, b, words * 8);
    }
    free(w);
    free(b);
    return rc ? 0 : words;
}

static int dev_gemm(link_t *lk, uint32_t M, uint32_t N, uint32_t K, unsigned bl, unsigned br,
                    unsigned fl, unsigned fr, uint32_t dst)
{
    uint8_t p[DRF_GEMM_BYTES];
    drf_encode_gemm(p, &(drf_gemm_args){0, 0, M, N, K, bl, br, fl, fr, DRF_GEMM_WRITE32, dst, N,
                                        0});
    return call_ok(lk, DRF_OP_GEMM, p, sizeof p, NULL, 0, NULL);
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
    failures += !ok;
}

/* One random GEMM through the device, compared with the naive GEMM. */
static int selftest_gemm_case(link_t *lk, uint64_t *seed, uint32_t M, uint32_t N, uint32_t K,
                              unsigned bl, unsigned br, unsigned fl, unsigned fr)
{
    uint8_t *lc = malloc((size_t)M * K), *rc = malloc((size_t)N * K);
    int64_t *want = malloc(sizeof *want * M * N);
    uint8_t *got = malloc((size_t)4 * M * N);
    int ok = 0;
    if (!lc || !rc || !want || !got)
        goto out;
    for (size_t i = 0; i < (size_t)M * K; i++)
        lc[i] = (uint8_t)(rng_next(seed) & ((1u << bl) - 1));
    for (size_t i = 0; i < (size_t)N * K; i++)
        rc[i] = (uint8_t)(rng_next(seed) & ((1u << br) - 1));
    if (!put_operand(lk, DRF_MEM_L, lc, M, K, bl) || !put_operand(lk, DRF_MEM_R, rc, N, K, br) ||
        dev_gemm(lk, M, N, K, bl, br, fl, fr, 0) || dev_read(lk, DRF_MEM_D, 0, got, 4u * M * N))
        goto out;
    gemm_naive(lc, K, bl, fl, rc, K, br, fr, M, N, K, want, N);
    ok = 1;
    for (size_t i = 0; i < (size_t)M * N; i++)
        ok &= (int32_t)drf_get32(got + 4 * i) == want[i];
out:
    free(lc);
    free(rc);
    free(want);
    free(got);
    return ok;
}

static int cmd_selftest(void)
{
    link_t lk;
    if (link_open(&lk))
        return 1;
    printf("golden-model self-test (spec protocol version %u)\n", DRF_PROTOCOL_VERSION);

    const uint8_t chk[] = "123456789";
    report(crc16_ccitt(chk, 9) == 0x29B1 && crc32_ieee(0, chk, 9) == 0xCBF43926u,
           "CRC-16/CCITT-FALSE and CRC-32 check values");

    uint32_t s = DRF_LFSR_RESET_STATE;
    static const uint16_t draws[4] = {0xB6C3, 0x3DB5, 0xF3CF, 0x2FA6};
    int ok = 1;
    for (int i = 0; i < 4; i++)
        ok &= lfsr_draw(&s) == draws[i];
    report(ok && lfsr_jump(1, 0xFFFFFFFFull) == 1, "LFSR known answers and period 2^32-1");

    uint8_t info[DRF_INFO_RESP_BYTES];
    size_t il = 0;
    ok = call_ok(&lk, DRF_OP_INFO, NULL, 0, info, sizeof info, &il) == 0 &&
         il == DRF_INFO_RESP_BYTES && memcmp(info, "DRFA", 4) == 0 &&
         drf_get16(info + 4) == DRF_PROTOCOL_VERSION;
    report(ok, "INFO: magic, version %u, L/R %u/%u words, D %u words, max_k %u",
           drf_get16(info + 4), drf_get32(info + 12), drf_get32(info + 16), drf_get32(info + 20),
           drf_get32(info + 24));

    uint64_t seed = 0x5E1F7E57;
    int cases = 0, good = 0;
    for (unsigned bl = 1; bl <= 8; bl++)
        for (unsigned br = 1; br <= 8; br++)
            for (unsigned f = 0; f < 4; f++) {
                uint32_t M = 1 + (uint32_t)(rng_next(&seed) % 9);
                uint32_t N = 1 + (uint32_t)(rng_next(&seed) % 9);
                uint32_t K = 1 + (uint32_t)(rng_next(&seed) % 200);
                good += selftest_gemm_case(&lk, &seed, M, N, K, bl, br, f >> 1, f & 1);
                cases++;
            }
    report(good == cases, "GEMM via frames = naive GEMM: %d/%d cases (bits 1..8 x 1..8, UU/US/SU/SS)",
           good, cases);

    /* f_gamma through the device equals the spec's known-answer vector (spec 10.2, G = 4) */
    static const int16_t g[8] = {1000, -1000, 0, 250, -32768, 32767, -1, 7};
    static const uint8_t want4[8] = {7, 7, 7, 8, 0, 15, 7, 8};
    uint8_t gb[16], p[DRF_QGRAD_BYTES], seedp[4], codes[8], mb[4];
    for (int i = 0; i < 8; i++)
        drf_put16(gb + 2 * i, (uint16_t)g[i]);
    drf_put32(seedp, 0x12345678u);
    drf_encode_qgrad(p, &(drf_qgrad_args){0, 1, 8, 4, 16, 32});
    ok = !dev_write(&lk, DRF_MEM_D, 0, gb, sizeof gb) &&
         !call_ok(&lk, DRF_OP_SEED, seedp, 4, NULL, 0, NULL) &&
         !call_ok(&lk, DRF_OP_QUANT_GRAD, p, sizeof p, NULL, 0, NULL) &&
         !dev_read(&lk, DRF_MEM_D, 16, codes, 8) && !dev_read(&lk, DRF_MEM_D, 32, mb, 4) &&
         memcmp(codes, want4, 8) == 0 && drf_get32(mb) == 32767;
    report(ok, "QUANT_GRAD known-answer vector (seed 0x12345678, G = 4)");

    /* malformed frames get their status and the device stays usable */
    uint8_t frame[64], resp[64];
    size_t n = frame_encode(frame, sizeof frame, DRF_OP_INFO, 0x77, NULL, 0);
    frame[n - 1] ^= 0x01;
    ref_device_rx(lk.dev, frame, n);
    size_t got = ref_device_tx(lk.dev, resp, sizeof resp);
    frame_rx rx;
    enum frame_event ev = FRAME_NONE;
    if (frame_rx_init(&rx, 256) == 0) {
        for (size_t i = 0; i < got && ev == FRAME_NONE; i++)
            ev = frame_rx_feed(&rx, resp[i]);
        ok = ev == FRAME_OK && rx.payload[0] == DRF_ST_BAD_CRC;
        frame_rx_free(&rx);
    } else {
        ok = 0;
    }
    ok &= link_call(&lk, 0x3F, NULL, 0, NULL, 0, NULL) == DRF_ST_BAD_OPCODE;
    ok &= call_ok(&lk, DRF_OP_INFO, NULL, 0, info, sizeof info, &il) == 0;
    report(ok, "bad CRC -> BAD_CRC, unknown opcode -> BAD_OPCODE, then INFO works");

    link_close(&lk);
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

static int cmd_demo(uint32_t seed_arg)
{
    link_t lk;
    if (link_open(&lk))
        return 1;
    uint64_t seed = seed_arg;
    enum { M = 4, N = 6, K = 16, BW = 2, BA = 2, BG = 2 };
    uint8_t w[M * K], a[N * K], cbytes[4 * M * N];
    for (int i = 0; i < M * K; i++)
        w[i] = (uint8_t)(rng_next(&seed) % (1u << BW));
    for (int i = 0; i < N * K; i++)
        a[i] = (uint8_t)(rng_next(&seed) % (1u << BA));

    printf("== forward GEMM on the ref device: C = W . A^T, W %dx%d (S, %d-bit), A %dx%d (U, %d-bit)\n",
           M, K, BW, N, K, BA);
    printf("   W code q means (2q - %d)/%d; A code q means q/%d\n", (1 << BW) - 1, (1 << BW) - 1,
           (1 << BA) - 1);
    print_codes("W codes", w, M, K);
    print_codes("A codes", a, N, K);
    if (!put_operand(&lk, DRF_MEM_L, w, M, K, BW) || !put_operand(&lk, DRF_MEM_R, a, N, K, BA) ||
        dev_gemm(&lk, M, N, K, BW, BA, DRF_FMT_S, DRF_FMT_U, 0) ||
        dev_read(&lk, DRF_MEM_D, 0, cbytes, sizeof cbytes))
        goto fail;
    int64_t want[M * N];
    gemm_naive(w, K, BW, DRF_FMT_S, a, K, BA, DRF_FMT_U, M, N, K, want, N);
    int same = 1;
    printf("C (device, int32) = sum_k (2 w - 3) a:\n");
    for (int i = 0; i < M; i++) {
        printf("   ");
        for (int j = 0; j < N; j++) {
            int32_t v = (int32_t)drf_get32(cbytes + 4 * (i * N + j));
            same &= v == want[i * N + j];
            printf(" %5d", v);
        }
        printf("\n");
    }
    printf("   naive integer GEMM agrees: %s\n", same ? "yes" : "NO");
    printf("   (the float layer output is C / (%d * %d))\n", (1 << BW) - 1, (1 << BA) - 1);

    /* f_alpha on row 0..M-1 (channel = row): thresholds 0, 4, 8 for 2-bit activations */
    int32_t thr[M * 4];
    for (int ch = 0; ch < M; ch++) {
        thr[ch * 4] = 0;
        for (int t = 0; t < 3; t++)
            thr[ch * 4 + 1 + t] = 4 * t;
    }
    uint8_t tb[sizeof thr], p[DRF_QACT_BYTES], acodes[M * N];
    for (size_t i = 0; i < sizeof thr / 4; i++)
        drf_put32(tb + 4 * i, (uint32_t)thr[i]);
    drf_encode_qact(p, &(drf_qact_args){0, M, N, BA, 0, 1024, 2048});
    if (dev_write(&lk, DRF_MEM_D, 1024, tb, sizeof tb) ||
        call_ok(&lk, DRF_OP_QUANT_ACT, p, sizeof p, NULL, 0, NULL) ||
        dev_read(&lk, DRF_MEM_D, 2048, acodes, sizeof acodes))
        goto fail;
    printf("\n== f_alpha: thresholds {0, 4, 8} per channel -> %d-bit activation codes\n", BA);
    print_codes("codes", acodes, M, N);

    /* f_gamma: two samples of gradients */
    enum { S = 2, E = 8 };
    static const int16_t g[S * E] = {1200, -300, 50, 0, -1200, 600, 10, -900,
                                     3, -1, 0, 2, -2, 1, 0, 0};
    uint8_t gb[2 * S * E], q[DRF_QGRAD_BYTES], codes[S * E], mb[4 * S], sp[4];
    for (int i = 0; i < S * E; i++)
        drf_put16(gb + 2 * i, (uint16_t)g[i]);
    drf_put32(sp, seed_arg ? seed_arg : 1);
    drf_encode_qgrad(q, &(drf_qgrad_args){0, S, E, BG, 100, 200});
    if (dev_write(&lk, DRF_MEM_D, 0, gb, sizeof gb) ||
        call_ok(&lk, DRF_OP_SEED, sp, 4, NULL, 0, NULL) ||
        call_ok(&lk, DRF_OP_QUANT_GRAD, q, sizeof q, NULL, 0, NULL) ||
        dev_read(&lk, DRF_MEM_D, 100, codes, sizeof codes) ||
        dev_read(&lk, DRF_MEM_D, 200, mb, sizeof mb))
        goto fail;
    const int n = (1 << BG) - 1;
    printf("\n== f_gamma: %d samples x %d i16 gradients -> %d-bit codes (LFSR seed %u)\n", S, E, BG,
           seed_arg ? seed_arg : 1);
    for (int s = 0; s < S; s++) {
        int32_t m = (int32_t)drf_get32(mb + 4 * s);
        printf("  sample %d, m = %d\n    g    :", s, m);
        for (int e = 0; e < E; e++)
            printf(" %7d", g[s * E + e]);
        printf("\n    code :");
        for (int e = 0; e < E; e++)
            printf(" %7u", codes[s * E + e]);
        printf("\n    value:");
        for (int e = 0; e < E; e++)
            printf(" %7.1f", (double)m * (2 * codes[s * E + e] - n) / n);
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

    uint8_t stats[DRF_STATS_RESP_BYTES], sz[4] = {0};
    size_t sl = 0;
    if (call_ok(&lk, DRF_OP_STATS, sz, 4, stats, sizeof stats, &sl))
        goto fail;
    printf("\n== device STATS: %u frames ok, %u errors, %llu GEMMs, %llu binary ops\n",
           drf_get32(stats), drf_get32(stats + 4), (unsigned long long)drf_get64(stats + 24),
           (unsigned long long)drf_get64(stats + 32));
    link_close(&lk);
    return same ? 0 : 1;
fail:
    link_close(&lk);
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dorefa <command> [options]\n"
            "\n"
            "commands:\n"
            "  selftest          check the golden model (ref device) against known answers\n"
            "  demo [--seed N]   run a small GEMM, f_alpha and f_gamma on the ref device\n"
            "  help              this text\n"
            "\n"
            "The device contract is docs/spec.md; the ref device is the C golden model.\n");
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
    if (!strcmp(cmd, "selftest")) {
        if (argc > 2) {
            fprintf(stderr, "dorefa selftest: unexpected argument '%s'\n", argv[2]);
            return 2;
        }
        return cmd_selftest();
    }
    if (!strcmp(cmd, "demo")) {
        uint32_t seed = 1;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
                char *end;
                unsigned long v = strtoul(argv[++i], &end, 0);
                if (*end || v == 0 || v > 0xFFFFFFFFul) {
                    fprintf(stderr, "dorefa demo: --seed needs a number in 1..4294967295\n");
                    return 2;
                }
                seed = (uint32_t)v;
            } else {
                fprintf(stderr, "dorefa demo: unexpected argument '%s' (try dorefa help)\n",
                        argv[i]);
                return 2;
            }
        }
        return cmd_demo(seed);
    }
    fprintf(stderr, "dorefa: unknown command '%s' (try dorefa help)\n", cmd);
    return 2;
}
