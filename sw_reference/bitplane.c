/* Bit-plane packing of code matrices into the operand layout of spec 2.1:
 * bit (k mod 64) of word (p·KW + floor(k / 64))·RP + r is bit p of code X[r][k], RP the row pitch. */
#include "bitplane.h"

#define BYTE_LSBS 0x0101010101010101ull
/* Multiplying the bits at 0, 8, .., 56 of x by this gathers bit 8i of x into bit 56 + i: the
 * partial products land on distinct positions, so no carries disturb the top byte. */
#define GATHER_BYTE_LSBS 0x0102040810204080ull

void bitplane_pack(uint64_t *dst, const uint8_t *codes, size_t ld, uint32_t rows, uint32_t K,
                   unsigned bits)
{
    const uint32_t kw = bitplane_kw(K);
    const size_t rp = bitplane_rp(rows);
    for (uint32_t r = 0; r < rows; r++) {
        const uint8_t *row = codes + (size_t)r * ld;
        uint64_t *out = dst + r; /* word (p·kw + w) of this row is out[(p·kw + w)·rp] */
        for (uint32_t w = 0; w < kw; w++) {
            for (unsigned p = 0; p < bits; p++)
                out[((size_t)p * kw + w) * rp] = 0; /* also the padding bits k >= K */
            /* 8 codes at a time: code k0 + i in byte i of x */
            for (uint32_t k0 = w * 64u; k0 < K && k0 < w * 64u + 64u; k0 += 8u) {
                const uint32_t n = K - k0 < 8u ? K - k0 : 8u;
                uint64_t x = 0;
                for (uint32_t i = 0; i < n; i++)
                    x |= (uint64_t)row[k0 + i] << (8u * i);
                for (unsigned p = 0; p < bits; p++) {
                    const uint64_t byte = (((x >> p) & BYTE_LSBS) * GATHER_BYTE_LSBS) >> 56;
                    out[((size_t)p * kw + w) * rp] |= byte << (k0 % 64u);
                }
            }
        }
    }
}

void bitplane_unpack(uint8_t *codes, size_t ld, const uint64_t *src, uint32_t rows, uint32_t K,
                     unsigned bits)
{
    const uint32_t kw = bitplane_kw(K);
    const size_t rp = bitplane_rp(rows);
    for (uint32_t r = 0; r < rows; r++) {
        uint8_t *row = codes + (size_t)r * ld;
        const uint64_t *in = src + r;
        for (uint32_t k = 0; k < K; k++) {
            unsigned q = 0;
            for (unsigned p = 0; p < bits; p++)
                q |= (unsigned)((in[((size_t)p * kw + k / 64u) * rp] >> (k % 64u)) & 1u) << p;
            row[k] = (uint8_t)q;
        }
    }
}
