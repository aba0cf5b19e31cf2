/* Names of the status codes and opcodes of spec 8.4-8.5, for logs and error messages. */
#include "dorefa_proto.h"

const char *drf_status_name(int status)
{
    switch (status) {
    case DRF_ST_OK: return "OK";
    case DRF_ST_BAD_CRC: return "BAD_CRC";
    case DRF_ST_TOO_LONG: return "TOO_LONG";
    case DRF_ST_TRUNCATED: return "TRUNCATED";
    case DRF_ST_BAD_OPCODE: return "BAD_OPCODE";
    case DRF_ST_BAD_LENGTH: return "BAD_LENGTH";
    case DRF_ST_BAD_ARG: return "BAD_ARG";
    case DRF_ST_BAD_ADDR: return "BAD_ADDR";
    default: return "UNKNOWN";
    }
}

const char *drf_opcode_name(int opcode)
{
    switch (opcode) {
    case DRF_OP_INFO: return "INFO";
    case DRF_OP_RESET: return "RESET";
    case DRF_OP_WRITE: return "WRITE";
    case DRF_OP_READ: return "READ";
    case DRF_OP_GEMM: return "GEMM";
    case DRF_OP_QUANT_GRAD: return "QUANT_GRAD";
    case DRF_OP_QUANT_ACT: return "QUANT_ACT";
    case DRF_OP_PACK: return "PACK";
    case DRF_OP_SEED: return "SEED";
    case DRF_OP_STATS: return "STATS";
    case DRF_OP_ECHO: return "ECHO";
    default: return "UNKNOWN";
    }
}
