/* Wire-protocol constants of docs/spec.md (protocol version 1) and little-endian helpers. */
#ifndef DOREFA_PROTO_H
#define DOREFA_PROTO_H

#include <stdint.h>

#define DRF_PROTOCOL_VERSION 1u

/* Framing (spec 8.1) */
#define DRF_SYNC0 0xD0u
#define DRF_SYNC1 0x4Eu
#define DRF_HDR_BYTES 8u
#define DRF_FCRC_BYTES 4u
#define DRF_FRAME_OVERHEAD (DRF_HDR_BYTES + DRF_FCRC_BYTES)
#define DRF_RESP_BIT 0x80u
#define DRF_MIN_MAX_PAYLOAD 64u

/* Opcodes (spec 8.4) */
enum drf_opcode {
    DRF_OP_INFO = 0x01,
    DRF_OP_RESET = 0x02,
    DRF_OP_WRITE = 0x03,
    DRF_OP_READ = 0x04,
    DRF_OP_GEMM = 0x05,
    DRF_OP_QUANT_GRAD = 0x06,
    DRF_OP_QUANT_ACT = 0x07,
    DRF_OP_PACK = 0x08,
    DRF_OP_SEED = 0x09,
    DRF_OP_STATS = 0x0A,
    DRF_OP_ECHO = 0x0B,
};

/* Status codes (spec 8.5) */
enum drf_status {
    DRF_ST_OK = 0x00,
    DRF_ST_BAD_CRC = 0x01,
    DRF_ST_TOO_LONG = 0x02,
    DRF_ST_TRUNCATED = 0x03,
    DRF_ST_BAD_OPCODE = 0x04,
    DRF_ST_BAD_LENGTH = 0x05,
    DRF_ST_BAD_ARG = 0x06,
    DRF_ST_BAD_ADDR = 0x07,
};

/* Memories (spec 2) */
enum drf_mem { DRF_MEM_L = 0, DRF_MEM_R = 1, DRF_MEM_D = 2 };

/* Code formats (spec 1) */
enum drf_fmt { DRF_FMT_U = 0, DRF_FMT_S = 1 };

/* GEMM result modes (spec 3.3) */
enum drf_gemm_mode { DRF_GEMM_WRITE32 = 0, DRF_GEMM_ACC64 = 1 };

#define DRF_K_MAX 32768u
#define DRF_ROW_ALIGN 8u /* operand row pitch and base alignment (spec 2.1) */
#define DRF_BITS_MAX 8u
#define DRF_LFSR_RESET_STATE 0x00000001u
#define DRF_LFSR_MASK 0x80200003u

/* Payload sizes of fixed-size commands and responses (spec 9) */
#define DRF_INFO_RESP_BYTES 48u
#define DRF_STATS_RESP_BYTES 56u
#define DRF_WRITE_HDR_BYTES 8u
#define DRF_READ_BYTES 12u
#define DRF_GEMM_BYTES 40u
#define DRF_QGRAD_BYTES 24u
#define DRF_QACT_BYTES 24u
#define DRF_PACK_BYTES 28u
#define DRF_SEED_BYTES 4u
#define DRF_STATS_BYTES 4u

const char *drf_status_name(int status);
const char *drf_opcode_name(int opcode);

static inline uint16_t drf_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t drf_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t drf_get64(const uint8_t *p)
{
    return (uint64_t)drf_get32(p) | ((uint64_t)drf_get32(p + 4) << 32);
}
static inline void drf_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void drf_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void drf_put64(uint8_t *p, uint64_t v)
{
    drf_put32(p, (uint32_t)v);
    drf_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
