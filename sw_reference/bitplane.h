/* Bit-plane packing of code matrices into the operand layout of spec 2.1. */
#ifndef DOREFA_BITPLANE_H
#define DOREFA_BITPLANE_H

#include <stddef.h>
#include <stdint.h>

/* Words per plane row: ceil(K / 64). */
static inline uint32_t bitplane_kw(uint32_t K) { return (K + 63u) / 64u; }
/* Row pitch: rows rounded up to a multiple of 8; the distance between a row's consecutive words. */
static inline uint64_t bitplane_rp(uint32_t rows) { return ((uint64_t)rows + 7u) / 8u * 8u; }
/* Words an operand of rows x K codes of `bits` bits occupies, pad rows included. */
static inline uint64_t bitplane_words(uint32_t rows, uint32_t K, unsigned bits)
{
    return bitplane_rp(rows) * bits * bitplane_kw(K);
}

/* Pack codes[r*ld + k] (low `bits` bits used) into dst; padding bits are written as zero, the
 * words of pad rows are not written. */
void bitplane_pack(uint64_t *dst, const uint8_t *codes, size_t ld, uint32_t rows, uint32_t K,
                   unsigned bits);
/* Inverse of bitplane_pack (padding bits ignored). */
void bitplane_unpack(uint8_t *codes, size_t ld, const uint64_t *src, uint32_t rows, uint32_t K,
                     unsigned bits);

#endif
