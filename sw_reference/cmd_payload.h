/* Command payloads of spec section 9, encoded from named fields: one place for the byte layouts
 * that the golden model decodes, so hosts, tests and the co-simulation cannot drift from it. */
#ifndef DOREFA_CMD_PAYLOAD_H
#define DOREFA_CMD_PAYLOAD_H

#include <stdint.h>

#include "dorefa_proto.h"

typedef struct {
    uint32_t lbase, rbase;       /* word addresses in L and R, multiples of 8 */
    uint32_t M, N, K;
    unsigned bits_l, bits_r;     /* 1..8 */
    unsigned fmt_l, fmt_r;       /* DRF_FMT_U / DRF_FMT_S */
    unsigned mode;               /* DRF_GEMM_WRITE32 / DRF_GEMM_ACC64 */
    uint32_t dst, ldc;           /* word address in D, row pitch in elements */
    int32_t scale;               /* ACC64 only, else 0 */
} drf_gemm_args;

typedef struct {
    uint32_t src, S, E;          /* i16 view, S rows of E elements */
    unsigned bits;               /* G */
    uint32_t dst, mdst;          /* u8 codes, i32 row maxima */
} drf_qgrad_args;

typedef struct {
    uint32_t src, M, N;          /* i32 accumulators */
    unsigned bits, axis;         /* A; 0: channel = row, 1: channel = column */
    uint32_t thr, dst;           /* threshold records, u8 codes */
} drf_qact_args;

typedef struct {
    uint32_t src, stride_r, stride_k, rows, K; /* u8 view of D */
    unsigned bits, mem;                         /* DRF_MEM_L / DRF_MEM_R */
    uint32_t dst;                               /* word address, a multiple of 8 */
} drf_pack_args;

void drf_encode_gemm(uint8_t p[DRF_GEMM_BYTES], const drf_gemm_args *a);
void drf_encode_qgrad(uint8_t p[DRF_QGRAD_BYTES], const drf_qgrad_args *a);
void drf_encode_qact(uint8_t p[DRF_QACT_BYTES], const drf_qact_args *a);
void drf_encode_pack(uint8_t p[DRF_PACK_BYTES], const drf_pack_args *a);
/* READ (count words) and the 8-byte head of a WRITE (count 0: the data follows). */
void drf_encode_read(uint8_t p[DRF_READ_BYTES], unsigned mem, uint32_t addr, uint32_t count);
void drf_encode_write_head(uint8_t p[DRF_WRITE_HDR_BYTES], unsigned mem, uint32_t addr);

#endif
