/* RTL GEMM efficiency: large GEMMs on the Verilated core, cycles from the on-chip counters against
 * the ideal ceil(M/rows)·ceil(N/cols)·ceil(K/64)·bits_L·bits_R, results checked against the golden
 * model. Usage: bench_rtl [--m M] [--n N] [--k K] [--quick] */
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
#include "test_util.h"

typedef struct {
    unsigned bl, br, fl, fr;
} bitpair;

static int run_case(drf_sim *sim, ref_device *ref, const drf_sim_geometry *g, uint32_t M,
                    uint32_t N, uint32_t K, bitpair bp, uint64_t *seed)
{
    uint64_t lw = bitplane_words(M, K, bp.bl), rw = bitplane_words(N, K, bp.br);
    uint64_t KW = bitplane_kw(K);
    uint64_t cw = (uint64_t)M * N;
    if (lw > g->l_words || rw > g->r_words || cw > g->d_words) {
        fprintf(stderr, "bench_rtl: %ux%ux%u at %ux%u bits does not fit this build's memories\n",
                M, K, N, bp.bl, bp.br);
        return -1;
    }
    uint32_t n;
    uint64_t *rl = ref_device_mem64(ref, DRF_MEM_L, &n), *rr = ref_device_mem64(ref, DRF_MEM_R, &n);
    for (uint64_t i = 0; i < lw; i++)
        drf_sim_write(sim, DRF_MEM_L, (uint32_t)i, rl[i] = tu_next(seed));
    for (uint64_t i = 0; i < rw; i++)
        drf_sim_write(sim, DRF_MEM_R, (uint32_t)i, rr[i] = tu_next(seed));
    uint8_t p[DRF_GEMM_BYTES];
    drf_encode_gemm(p, &(drf_gemm_args){0, 0, M, N, K, bp.bl, bp.br, bp.fl, bp.fr,
                                        DRF_GEMM_WRITE32, 0, N, 0});
    if (ref_device_call(ref, DRF_OP_GEMM, 1, p, sizeof p, NULL, 0, NULL) != DRF_ST_OK) {
        fprintf(stderr, "bench_rtl: the golden model rejected the GEMM\n");
        return -1;
    }
    int64_t wall = drf_sim_cmd(sim, DRF_OP_GEMM, p, sizeof p, 1ull << 34);
    if (wall < 0) {
        fprintf(stderr, "bench_rtl: the RTL did not finish\n");
        return -1;
    }
    uint64_t cycles, busy;
    drf_sim_counters(sim, &cycles, &busy);
    uint32_t *d = ref_device_mem32(ref, &n);
    uint64_t bad = 0;
    for (uint64_t i = 0; i < cw; i++)
        bad += (uint32_t)drf_sim_read(sim, DRF_MEM_D, (uint32_t)i) != d[i];
    uint64_t ideal = (uint64_t)((M + g->rows - 1) / g->rows) * ((N + g->cols - 1) / g->cols) * KW *
                     bp.bl * bp.br;
    printf("  %4ux%4ux%4u  %ux%u %c%c  %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "  %6.1f%%  %6.1f%%  %s\n",
           M, K, N, bp.bl, bp.br, bp.fl ? 'S' : 'U', bp.fr ? 'S' : 'U', ideal, cycles, busy,
           100.0 * (double)ideal / (double)cycles, 100.0 * (double)busy / (double)cycles,
           bad ? "MISMATCH" : "ok");
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    uint32_t M = 256, N = 256, K = 1152;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--m") && i + 1 < argc)
            M = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            N = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--k") && i + 1 < argc)
            K = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bench_rtl [--m M] [--n N] [--k K] [--quick]\n"
                   "GEMM cycles on the Verilated core vs the ideal, default 256x1152x256.\n");
            return 0;
        } else {
            fprintf(stderr, "bench_rtl: unknown argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    if (!M || !N || !K || K > DRF_K_MAX) {
        fprintf(stderr, "bench_rtl: M, N >= 1 and 1 <= K <= %u\n", DRF_K_MAX);
        return 2;
    }
    drf_sim *sim = drf_sim_new(argc, argv);
    drf_sim_geometry g;
    drf_sim_get_geometry(sim, &g);
    ref_device_config cfg;
    ref_device_config_default(&cfg);
    cfg.l_words = g.l_words;
    cfg.r_words = g.r_words;
    cfg.d_words = g.d_words;
    ref_device *ref = ref_device_new(&cfg);
    if (!sim || !ref) {
        fprintf(stderr, "bench_rtl: cannot create the models\n");
        return 2;
    }
    printf("RTL GEMM on a %ux%u array of 64-bit DPUs (Verilated; cycles from the core's counters)\n",
           g.rows, g.cols);
    printf("  %-14s  %-7s  %10s %10s %10s  %7s  %7s\n", "MxKxN", "bits", "ideal", "cycles",
           "busy", "ideal/c", "busy/c");
    static const bitpair pairs[] = {{1, 2, 1, 0}, {1, 6, 1, 0}, {2, 6, 1, 0}, {2, 2, 1, 1}};
    uint64_t seed = 0xBE7C4;
    int rc = 0;
    for (size_t i = 0; i < (quick ? 2 : sizeof pairs / sizeof pairs[0]); i++)
        rc |= run_case(sim, ref, &g, M, N, K, pairs[i], &seed) != 0;
    drf_sim_free(sim);
    ref_device_free(ref);
    return rc;
}
