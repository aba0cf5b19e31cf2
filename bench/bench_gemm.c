/* Golden-model GEMM throughput: bit-serial kernels against the naive integer GEMM (make bench).
 *
 * Shape: a Model-A-sized forward layer W·A, M = 128, K = 1152, N = 2048, left format S, right
 * format U, at bit pairs 1x2, 1x6, 2x6. Binary ops per call = 2·M·N·K·bits_L·bits_R (one AND and
 * one add per binary MAC); the naive GEMM is charged the same count, so the ratio of GOPS is the
 * ratio of times. Each figure is the best of 3 runs, a run repeating the call until >= 0.3 s. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bitplane.h"
#include "dorefa_proto.h"
#include "gemm.h"

enum { M = 128, K = 1152, N = 2048 };

static const unsigned bit_pairs[][2] = {{1, 2}, {1, 6}, {2, 6}};
static const enum gemm_kernel kernels[] = {GEMM_KERNEL_PORTABLE, GEMM_KERNEL_POPCNT,
                                           GEMM_KERNEL_AVX2, GEMM_KERNEL_AUTO};

static double min_seconds = 0.3;
static int runs = 3;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct {
    unsigned bl, br;
    uint8_t *lc, *rc;
    uint64_t *lp, *rp;
    int64_t *c;
    enum gemm_kernel kernel; /* for the bit-serial call */
} bench_ctx;

static void call_naive(bench_ctx *x)
{
    gemm_naive(x->lc, K, x->bl, DRF_FMT_S, x->rc, K, x->br, DRF_FMT_U, M, N, K, x->c, N);
}

static int call_bitserial(bench_ctx *x)
{
    const gemm_operand l = {x->lp, M, x->bl, DRF_FMT_S}, r = {x->rp, N, x->br, DRF_FMT_U};
    return gemm_bitserial_kernel(x->kernel, &l, &r, K, x->c, N);
}

/* Seconds per call: the best of `runs` runs, each repeating the call until min_seconds. */
static double time_per_call(bench_ctx *x, int naive)
{
    double best = 0;
    for (int run = 0; run < runs; run++) {
        long calls = 0;
        const double t0 = now();
        double t;
        do {
            if (naive)
                call_naive(x);
            else
                (void)call_bitserial(x);
            calls++;
            t = now() - t0;
        } while (t < min_seconds);
        const double per = t / (double)calls;
        if (run == 0 || per < best)
            best = per;
    }
    return best;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_gemm [--quick] [--help]\n"
            "  Golden-model GEMM throughput, M=%d K=%d N=%d (W·A: left S, right U), bit pairs\n"
            "  1x2, 1x6, 2x6: every bit-serial kernel and the naive integer GEMM, in binary GOPS\n"
            "  (2·M·N·K·bits_L·bits_R per call). Each result is checked against the naive GEMM;\n"
            "  exit status 1 on a mismatch.\n"
            "  --quick  runs of >= 0.05 s, best of 2 (default: >= 0.3 s, best of 3)\n",
            M, K, N);
}

int main(int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[a], "--quick") == 0) {
            min_seconds = 0.05;
            runs = 2;
        } else {
            usage(stderr);
            return 2;
        }
    }

    const size_t nc = (size_t)M * N;
    int64_t *want = malloc(nc * sizeof *want);
    bench_ctx x = {0};
    x.lc = malloc((size_t)M * K);
    x.rc = malloc((size_t)N * K);
    x.lp = malloc(bitplane_words(M, K, 8) * sizeof(uint64_t));
    x.rp = malloc(bitplane_words(N, K, 8) * sizeof(uint64_t));
    x.c = malloc(nc * sizeof *x.c);
    if (!want || !x.lc || !x.rc || !x.lp || !x.rp || !x.c) {
        fprintf(stderr, "bench_gemm: out of memory\n");
        return 1;
    }

    printf("Golden-model GEMM, M=%d K=%d N=%d, left S / right U, best of %d runs of >= %.2f s\n",
           M, K, N, runs, min_seconds);
    printf("auto picks: %s\n\n", gemm_kernel_name(gemm_kernel_best()));
    printf("%-6s %-10s %12s %14s %10s\n", "bits", "kernel", "ms/call", "binary GOPS", "x naive");

    int bad = 0;
    uint64_t seed = 0x62656E6368ull;
    for (size_t bp = 0; bp < sizeof bit_pairs / sizeof bit_pairs[0]; bp++) {
        x.bl = bit_pairs[bp][0];
        x.br = bit_pairs[bp][1];
        for (size_t k = 0; k < (size_t)M * K; k++)
            x.lc[k] = (uint8_t)(splitmix64(&seed) & ((1u << x.bl) - 1));
        for (size_t k = 0; k < (size_t)N * K; k++)
            x.rc[k] = (uint8_t)(splitmix64(&seed) & ((1u << x.br) - 1));
        bitplane_pack(x.lp, x.lc, K, M, K, x.bl);
        bitplane_pack(x.rp, x.rc, K, N, K, x.br);
        const double ops = 2.0 * M * N * K * x.bl * x.br;
        char bits[16];
        snprintf(bits, sizeof bits, "%ux%u", x.bl, x.br);

        const double t_naive = time_per_call(&x, 1);
        memcpy(want, x.c, nc * sizeof *want);
        for (size_t kk = 0; kk < sizeof kernels / sizeof kernels[0]; kk++) {
            x.kernel = kernels[kk];
            memset(x.c, 0, nc * sizeof *x.c);
            if (call_bitserial(&x) != 0) {
                printf("%-6s %-10s %12s\n", bits, gemm_kernel_name(x.kernel), "unsupported");
                continue;
            }
            if (memcmp(x.c, want, nc * sizeof *want) != 0) {
                printf("%-6s %-10s MISMATCH against the naive GEMM\n", bits,
                       gemm_kernel_name(x.kernel));
                bad = 1;
                continue;
            }
            const double t = time_per_call(&x, 0);
            printf("%-6s %-10s %12.3f %14.1f %10.1f\n", bits, gemm_kernel_name(x.kernel),
                   1e3 * t, ops / t * 1e-9, t_naive / t);
        }
        printf("%-6s %-10s %12.3f %14.2f %10.1f   (%.2f G int MAC/s)\n", bits, "naive",
               1e3 * t_naive, ops / t_naive * 1e-9, 1.0, (double)M * N * K / t_naive * 1e-9);
        fflush(stdout);
    }

    free(want);
    free(x.lc);
    free(x.rc);
    free(x.lp);
    free(x.rp);
    free(x.c);
    if (bad) {
        fprintf(stderr, "bench_gemm: bit-serial result differs from the naive GEMM\n");
        return 1;
    }
    return 0;
}
