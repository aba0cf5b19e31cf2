/* f_gamma in device semantics (spec 4). */
#include "fgamma.h"

#include "lfsr.h"

void fgamma_quantize(const int16_t *g, uint32_t S, uint32_t E, unsigned bits, uint32_t *lfsr,
                     uint8_t *codes, int32_t *m)
{
    for (uint32_t s = 0; s < S; s++) {
        const int16_t *row = g + (uint64_t)s * E;
        int32_t mx = 0;
        for (uint32_t e = 0; e < E; e++) {
            int32_t v = row[e] == INT16_MIN ? -INT16_MAX : row[e]; /* spec 4: saturate */
            int32_t a = v < 0 ? -v : v;
            if (a > mx)
                mx = a;
        }
        m[s] = mx;
        for (uint32_t e = 0; e < E; e++) {
            int32_t v = row[e] == INT16_MIN ? -INT16_MAX : row[e];
            codes[(uint64_t)s * E + e] = fgamma_code(v, mx, bits, lfsr_draw(lfsr));
        }
    }
}
