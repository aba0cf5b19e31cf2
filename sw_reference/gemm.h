/* The device GEMM C[i][j] = sum_k v_L(L[i][k]) * v_R(R[j][k]) (spec 3). */
#ifndef DOREFA_GEMM_H
#define DOREFA_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* A code matrix in bit-plane layout (spec 2.1): rows x K, `bits` bits, format DRF_FMT_U/S. */
typedef struct {
    const uint64_t *planes;
    uint32_t rows;
    unsigned bits;
    unsigned fmt;
} gemm_operand;

/* Bit-serial AND-popcount GEMM on packed operands (both with the same K); padding bits beyond K
 * are masked. c[i*ldc + j] receives the exact result for any K < 2^32. Uses the fastest kernel the
 * CPU supports (AVX2, POPCNT, or portable). */
void gemm_bitserial(const gemm_operand *l, const gemm_operand *r, uint32_t K, int64_t *c,
                    size_t ldc);

/* Kernels behind gemm_bitserial, exposed so tests and benches can pin one. */
enum gemm_kernel { GEMM_KERNEL_AUTO = 0, GEMM_KERNEL_PORTABLE, GEMM_KERNEL_POPCNT, GEMM_KERNEL_AVX2 };
/* Returns 0, or -1 if the CPU cannot run that kernel. */
int gemm_bitserial_kernel(enum gemm_kernel kernel, const gemm_operand *l, const gemm_operand *r,
                          uint32_t K, int64_t *c, size_t ldc);
const char *gemm_kernel_name(enum gemm_kernel kernel);
/* The kernel GEMM_KERNEL_AUTO picks on this CPU. */
enum gemm_kernel gemm_kernel_best(void);

/* The independent check: plain integer GEMM on unpacked codes, lc[i*ldl + k], rc[j*ldr + k]. */
void gemm_naive(const uint8_t *lc, size_t ldl, unsigned bits_l, unsigned fmt_l, const uint8_t *rc,
                size_t ldr, unsigned bits_r, unsigned fmt_r, uint32_t M, uint32_t N, uint32_t K,
                int64_t *c, size_t ldc);

#endif
