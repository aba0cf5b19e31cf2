/* f_alpha in device semantics (spec 5): count the thresholds an accumulator passes. */
#include "falpha.h"

void falpha_quantize(const int32_t *acc, uint32_t M, uint32_t N, unsigned bits, unsigned axis,
                     const int32_t *thr, uint8_t *codes)
{
    uint32_t nt = (1u << bits) - 1u, rec = falpha_record_words(bits);
    for (uint32_t i = 0; i < M; i++) {
        for (uint32_t j = 0; j < N; j++) {
            const int32_t *r = thr + (uint64_t)(axis ? j : i) * rec;
            int32_t a = acc[(uint64_t)i * N + j];
            unsigned down = (uint32_t)r[0] & 1u, code = 0;
            for (uint32_t t = 0; t < nt; t++)
                code += down ? a <= r[1 + t] : a >= r[1 + t];
            codes[(uint64_t)i * N + j] = (uint8_t)code;
        }
    }
}
