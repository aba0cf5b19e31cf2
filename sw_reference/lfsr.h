/* The f_gamma noise source: 32-bit Galois LFSR, x^32 + x^22 + x^2 + x + 1 (spec 7). */
#ifndef DOREFA_LFSR_H
#define DOREFA_LFSR_H

#include <stdint.h>

/* One right shift of the Galois LFSR. */
static inline uint32_t lfsr_step(uint32_t s)
{
    uint32_t lsb = s & 1u;
    s >>= 1;
    return lsb ? s ^ 0x80200003u : s;
}

/* One draw: 16 steps, then the low 16 bits of the state. */
uint16_t lfsr_draw(uint32_t *state);

/* A 32x32 matrix over GF(2), column c = image of state bit c. */
typedef struct {
    uint32_t col[32];
} gf2_mat32;

uint32_t gf2_apply(const gf2_mat32 *m, uint32_t v);
void gf2_mul(gf2_mat32 *out, const gf2_mat32 *a, const gf2_mat32 *b); /* out = a*b (b first) */
/* The matrix that advances the state by `steps` LFSR steps (square-and-multiply). */
void lfsr_jump_matrix(gf2_mat32 *out, uint64_t steps);
/* The state after `steps` steps from `s`. */
uint32_t lfsr_jump(uint32_t s, uint64_t steps);

#endif
