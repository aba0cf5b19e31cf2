/* f_alpha in device semantics: per-channel threshold counting (spec 5). */
#ifndef DOREFA_FALPHA_H
#define DOREFA_FALPHA_H

#include <stdint.h>

/* Record length in i32 words of one channel's threshold table for `bits`-bit output. */
static inline uint32_t falpha_record_words(unsigned bits) { return 1u + ((1u << bits) - 1u); }

/* acc: M x N row-major; axis 0: channel = row, 1: channel = column; thr: records of
 * falpha_record_words(bits) words (flags word, then 2^bits - 1 thresholds). */
void falpha_quantize(const int32_t *acc, uint32_t M, uint32_t N, unsigned bits, unsigned axis,
                     const int32_t *thr, uint8_t *codes);

#endif
