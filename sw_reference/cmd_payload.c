/* Command payloads of spec section 9, encoded from named fields (reserved bytes zero). */
#include "cmd_payload.h"

#include <string.h>

void drf_encode_gemm(uint8_t p[DRF_GEMM_BYTES], const drf_gemm_args *a)
{
    memset(p, 0, DRF_GEMM_BYTES);
    drf_put32(p + 0, a->lbase);
    drf_put32(p + 4, a->rbase);
    drf_put32(p + 8, a->M);
    drf_put32(p + 12, a->N);
    drf_put32(p + 16, a->K);
    p[20] = (uint8_t)a->bits_l;
    p[21] = (uint8_t)a->bits_r;
    p[22] = (uint8_t)a->fmt_l;
    p[23] = (uint8_t)a->fmt_r;
    p[24] = (uint8_t)a->mode;
    drf_put32(p + 28, a->dst);
    drf_put32(p + 32, a->ldc);
    drf_put32(p + 36, (uint32_t)a->scale);
}

void drf_encode_qgrad(uint8_t p[DRF_QGRAD_BYTES], const drf_qgrad_args *a)
{
    memset(p, 0, DRF_QGRAD_BYTES);
    drf_put32(p + 0, a->src);
    drf_put32(p + 4, a->S);
    drf_put32(p + 8, a->E);
    p[12] = (uint8_t)a->bits;
    drf_put32(p + 16, a->dst);
    drf_put32(p + 20, a->mdst);
}

void drf_encode_qact(uint8_t p[DRF_QACT_BYTES], const drf_qact_args *a)
{
    memset(p, 0, DRF_QACT_BYTES);
    drf_put32(p + 0, a->src);
    drf_put32(p + 4, a->M);
    drf_put32(p + 8, a->N);
    p[12] = (uint8_t)a->bits;
    p[13] = (uint8_t)a->axis;
    drf_put32(p + 16, a->thr);
    drf_put32(p + 20, a->dst);
}

void drf_encode_pack(uint8_t p[DRF_PACK_BYTES], const drf_pack_args *a)
{
    memset(p, 0, DRF_PACK_BYTES);
    drf_put32(p + 0, a->src);
    drf_put32(p + 4, a->stride_r);
    drf_put32(p + 8, a->stride_k);
    drf_put32(p + 12, a->rows);
    drf_put32(p + 16, a->K);
    p[20] = (uint8_t)a->bits;
    p[21] = (uint8_t)a->mem;
    drf_put32(p + 24, a->dst);
}

void drf_encode_read(uint8_t p[DRF_READ_BYTES], unsigned mem, uint32_t addr, uint32_t count)
{
    memset(p, 0, DRF_READ_BYTES);
    p[0] = (uint8_t)mem;
    drf_put32(p + 4, addr);
    drf_put32(p + 8, count);
}

void drf_encode_write_head(uint8_t p[DRF_WRITE_HDR_BYTES], unsigned mem, uint32_t addr)
{
    memset(p, 0, DRF_WRITE_HDR_BYTES);
    p[0] = (uint8_t)mem;
    drf_put32(p + 4, addr);
}
