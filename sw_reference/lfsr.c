/* The f_gamma LFSR (spec 7): draws and GF(2) jump-ahead, which also proves the period in tests and
 * is the model for the RTL's parallel lanes. */
#include "lfsr.h"

uint16_t lfsr_draw(uint32_t *state)
{
    uint32_t s = *state;
    for (int i = 0; i < 16; i++)
        s = lfsr_step(s);
    *state = s;
    return (uint16_t)(s & 0xFFFFu);
}

uint32_t gf2_apply(const gf2_mat32 *m, uint32_t v)
{
    uint32_t r = 0;
    for (int c = 0; v; c++, v >>= 1)
        if (v & 1u)
            r ^= m->col[c];
    return r;
}

void gf2_mul(gf2_mat32 *out, const gf2_mat32 *a, const gf2_mat32 *b)
{
    gf2_mat32 t;
    for (int c = 0; c < 32; c++)
        t.col[c] = gf2_apply(a, b->col[c]);
    *out = t;
}

void lfsr_jump_matrix(gf2_mat32 *out, uint64_t steps)
{
    gf2_mat32 base, acc;
    for (int c = 0; c < 32; c++) {
        base.col[c] = lfsr_step(1u << c); /* the step is linear: image of each basis vector */
        acc.col[c] = 1u << c;
    }
    while (steps) {
        if (steps & 1u)
            gf2_mul(&acc, &base, &acc);
        gf2_mul(&base, &base, &base);
        steps >>= 1;
    }
    *out = acc;
}

uint32_t lfsr_jump(uint32_t s, uint64_t steps)
{
    gf2_mat32 m;
    lfsr_jump_matrix(&m, steps);
    return gf2_apply(&m, s);
}
