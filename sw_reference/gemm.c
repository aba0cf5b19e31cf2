/* The device GEMM (spec 3): bit-serial AND-popcount over bit-planes, and the naive check.
 *
 * gemm_bitserial computes, for every (i, j), P = sum_p sum_q 2^(p+q) popcount(l_p AND r_q)
 * (paper Eqn 3), the row code sums SL_i and SR_j once per row, and the format correction of spec
 * 3.2, all in int64: P < K·2^16 < 2^48 for any K < 2^32, so nothing can overflow.
 *
 * Blocking: the reduction axis is cut into chunks of words; for each chunk a block of L rows and
 * a block of R rows are copied into aligned scratch in the layout the kernel wants (padding bits
 * masked, rows padded with zeros to whole tiles), then a register tile of MR x NR results walks
 * every plane pair over the chunk, keeping one count per plane pair and weighting it by 2^(p+q).
 * The copy costs O((M + N)·b·K) against O(M·N·bL·bR·K) for the product and lets the tiles run
 * without masks or tail cases. A tile's operands over a chunk fit L1 (TILE_BYTES), a block of L
 * rows fits L2 (L_BLOCK_BYTES); the last chunk applies the correction as it stores. */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#include "bitplane.h"
#include "dorefa_proto.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define GEMM_X86 1
#include <immintrin.h>
#else
#define GEMM_X86 0
#endif

#if GEMM_X86
#define POPCNT_ATTR __attribute__((target("popcnt")))
#define AVX2_ATTR __attribute__((target("avx2,popcnt")))
#endif

/* Complete unrolling of the loops over a tile's rows, so that its counters live in registers. */
#define UNROLL _Pragma("GCC unroll 8")

/* ---- row sums and the format correction ---------------------------------------------------- */

static uint64_t popcount_swar(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (x * 0x0101010101010101ull) >> 56;
}

/* Valid bits of the last word of a plane row. */
static uint64_t last_word_mask(uint32_t K)
{
    return K % 64u ? (1ull << (K % 64u)) - 1u : ~0ull;
}

/* Words from a row's word to the same row's next word: the row pitch RP (spec 2.1). Rows are
 * innermost, so the words of consecutive rows for one (plane, word) are adjacent; pad rows
 * rows .. RP − 1 are never read. */
static size_t operand_pitch(const gemm_operand *op) { return bitplane_rp(op->rows); }

/* Word w of plane p of row r, padding not masked. */
static uint64_t operand_word(const gemm_operand *op, uint32_t kw, unsigned p, uint32_t w,
                             uint32_t r)
{
    return op->planes[((size_t)p * kw + w) * operand_pitch(op) + r];
}

/* Code sums of every row: sum[r] = sum_p 2^p popcount(plane p of row r), padding masked. The
 * walk follows memory order (rows innermost). */
typedef void row_sums_fn(int64_t *sum, const gemm_operand *op, uint32_t K);
#define DEFINE_ROW_SUMS(name, attr, POPCOUNT)                                                      \
    attr static void name(int64_t *sum, const gemm_operand *op, uint32_t K)                        \
    {                                                                                              \
        const uint32_t kw = bitplane_kw(K);                                                        \
        memset(sum, 0, op->rows * sizeof *sum);                                                    \
        for (unsigned p = 0; p < op->bits; p++)                                                    \
            for (uint32_t w = 0; w < kw; w++) {                                                    \
                const uint64_t *words = op->planes + ((size_t)p * kw + w) * operand_pitch(op);    \
                const uint64_t mask = w == kw - 1 ? last_word_mask(K) : ~0ull;                     \
                for (uint32_t r = 0; r < op->rows; r++)                                            \
                    sum[r] += (int64_t)((uint64_t)POPCOUNT(words[r] & mask) << p);                 \
            }                                                                                      \
    }

DEFINE_ROW_SUMS(row_sums_portable, , popcount_swar)
#if GEMM_X86
DEFINE_ROW_SUMS(row_sums_popcnt, POPCNT_ATTR, __builtin_popcountll)
#endif

/* Spec 3.2, written as C = alpha·P + row_i + col_j with alpha = 2^shift:
 *   UU: C = P                                    shift 0, row 0,                  col 0
 *   SU: C = 2P − n_L·SR                          shift 1, row 0,                  col −n_L·SR_j
 *   US: C = 2P − n_R·SL                          shift 1, row −n_R·SL_i,          col 0
 *   SS: C = 4P − 2n_R·SL − 2n_L·SR + K·n_L·n_R   shift 2, row −2n_R·SL_i + K·n_L·n_R,
 *                                                         col −2n_L·SR_j
 * Fills row[0 .. M − 1] and col[0 .. N − 1]; returns shift. */
static unsigned correction_terms(int64_t *row, int64_t *col, const gemm_operand *l,
                                 const gemm_operand *r, uint32_t K, row_sums_fn *row_sums)
{
    const int64_t nl = ((int64_t)1 << l->bits) - 1, nr = ((int64_t)1 << r->bits) - 1;
    const int s_l = l->fmt == DRF_FMT_S, s_r = r->fmt == DRF_FMT_S;
    if (s_r) { /* SL matters only when R is S */
        row_sums(row, l, K);
        for (uint32_t i = 0; i < l->rows; i++)
            row[i] = -(s_l ? 2 : 1) * nr * row[i] + (s_l ? (int64_t)K * nl * nr : 0);
    } else {
        memset(row, 0, l->rows * sizeof *row);
    }
    if (s_l) { /* SR matters only when L is S */
        row_sums(col, r, K);
        for (uint32_t j = 0; j < r->rows; j++)
            col[j] = -(s_r ? 2 : 1) * nl * col[j];
    } else {
        memset(col, 0, r->rows * sizeof *col);
    }
    return (unsigned)(s_l + s_r);
}

/* ---- scratch layouts ----------------------------------------------------------------------- */

/* A chunk is n consecutive words (columns w0 .. w0 + n − 1 of every plane row) of a block of rows.
 * In scratch, padding bits are masked and rows past the operand's last row are zero, so tiles run
 * without masks or tail cases. The packers read the operand in memory order: for each plane and
 * word, the block's rows one after another. */
typedef struct {
    const gemm_operand *op;
    uint32_t kw;   /* words per plane row of the operand */
    uint32_t w0, n;
    uint64_t mask; /* valid bits of word kw − 1 */
} chunk;

/* The words of rows row0, row0 + 1, .. for plane p and word w0 + t of the chunk, and the mask
 * that clears their padding bits. */
static const uint64_t *chunk_rows(const chunk *ch, unsigned p, uint32_t t, uint32_t row0,
                                  uint64_t *mask)
{
    *mask = ch->w0 + t == ch->kw - 1 ? ch->mask : ~0ull;
    return ch->op->planes + ((size_t)p * ch->kw + ch->w0 + t) * operand_pitch(ch->op) + row0;
}

/* Scalar kernels: [row][plane][n words], the words as they are. */
static void pack_plain(uint64_t *dst, const chunk *ch, uint32_t row0, uint32_t rows,
                       uint32_t prows)
{
    const unsigned bits = ch->op->bits;
    const size_t rs = (size_t)bits * ch->n; /* words per packed row */
    for (unsigned p = 0; p < bits; p++)
        for (uint32_t t = 0; t < ch->n; t++) {
            uint64_t mask;
            const uint64_t *src = chunk_rows(ch, p, t, row0, &mask);
            uint64_t *out = dst + (size_t)p * ch->n + t;
            for (uint32_t r = 0; r < prows; r++)
                out[r * rs] = r < rows ? src[r] & mask : 0;
        }
}

#define NIBBLE_LO 0x0F0F0F0F0F0F0F0Full

/* AVX2 left operand: [row][plane][n words][x, x >> 4]; each word is broadcast to 4 lanes. */
static void pack_avx2_left(uint64_t *dst, const chunk *ch, uint32_t row0, uint32_t rows,
                           uint32_t prows)
{
    const unsigned bits = ch->op->bits;
    const size_t rs = (size_t)bits * ch->n * 2u; /* words per packed row */
    for (unsigned p = 0; p < bits; p++)
        for (uint32_t t = 0; t < ch->n; t++) {
            uint64_t mask;
            const uint64_t *src = chunk_rows(ch, p, t, row0, &mask);
            uint64_t *out = dst + ((size_t)p * ch->n + t) * 2u;
            for (uint32_t r = 0; r < prows; r++) {
                const uint64_t x = r < rows ? src[r] & mask : 0;
                out[r * rs] = x;
                out[r * rs + 1] = x >> 4;
            }
        }
}

/* AVX2 right operand, groups of 4 rows in the 4 lanes of a vector:
 * [group][plane][n words][x & 0x0F.. of rows 0-3, (x >> 4) & 0x0F.. of rows 0-3]. */
static void pack_avx2_right(uint64_t *dst, const chunk *ch, uint32_t row0, uint32_t rows,
                            uint32_t prows)
{
    const unsigned bits = ch->op->bits;
    const size_t gs = (size_t)bits * ch->n * 8u; /* words per packed group of 4 rows */
    for (unsigned p = 0; p < bits; p++)
        for (uint32_t t = 0; t < ch->n; t++) {
            uint64_t mask;
            const uint64_t *src = chunk_rows(ch, p, t, row0, &mask);
            uint64_t *out = dst + ((size_t)p * ch->n + t) * 8u;
            for (uint32_t r = 0; r < prows; r++) {
                const uint64_t x = r < rows ? src[r] & mask : 0;
                uint64_t *o = out + (r / 4u) * gs + r % 4u;
                o[0] = x & NIBBLE_LO;
                o[4] = (x >> 4) & NIBBLE_LO;
            }
        }
}

/* ---- tiles --------------------------------------------------------------------------------- */

#define MAX_MR 4 /* the largest tile of any kernel */
#define MAX_NR 8

/* Where a tile puts its MR x NR results: P of the chunk is stored (first chunk) or added to what
 * c holds (later chunks); after the last chunk c = (P << shift) + row[a] + col[b]. */
typedef struct {
    int64_t *c;          /* result (a, b) at c[a·ldc + b] */
    size_t ldc;
    const int64_t *row;  /* MR correction terms */
    const int64_t *col;  /* NR correction terms */
    unsigned shift;      /* log2 alpha */
    int first, last;
} tile_dst;

/* l, r: the tile's first packed row of L and of R in scratch; n: words in the chunk. */
typedef void tile_fn(const uint64_t *l, const uint64_t *r, unsigned bl, unsigned br, uint32_t n,
                     const tile_dst *d);

static void tile_store_scalar(const tile_dst *d, int a, int b, uint64_t P)
{
    int64_t *cell = d->c + (size_t)a * d->ldc + b;
    int64_t v = (int64_t)P + (d->first ? 0 : *cell);
    if (d->last)
        v = (int64_t)((uint64_t)v << d->shift) + d->row[a] + d->col[b];
    *cell = v;
}

/* Tile of the scalar kernels: 2 rows of L x 4 rows of R, one 64-bit word per step. */
#define SCALAR_MR 2
#define SCALAR_NR 4
_Static_assert(SCALAR_MR <= MAX_MR && SCALAR_NR <= MAX_NR, "tile_edge buffers too small");

/* The portable tile counts with SWAR arithmetic, two words at a
 * time: their 4-bit partial counts (at most 4 each) are added before the byte stage, and byte
 * counts (at most 16 per word pair) gather over up to 15 pairs before they are summed. */
#define SWAR_M1 0x5555555555555555ull
#define SWAR_M2 0x3333333333333333ull
#define SWAR_M4 0x0F0F0F0F0F0F0F0Full
#define SWAR_M8 0x00FF00FF00FF00FFull
#define PORTABLE_SEGMENT 30u /* words: 15 pairs x 16 = 240 < 256 per byte */

static uint64_t swar_nibble_counts(uint64_t x)
{
    x = x - ((x >> 1) & SWAR_M1);
    return (x & SWAR_M2) + ((x >> 2) & SWAR_M2);
}

static uint64_t swar_pair_bytes(uint64_t x0, uint64_t x1)
{
    const uint64_t s = swar_nibble_counts(x0) + swar_nibble_counts(x1);
    return (s & SWAR_M4) + ((s >> 4) & SWAR_M4);
}

/* Sum of the 8 byte counters of b. */
static uint64_t swar_byte_sum(uint64_t b)
{
    b = (b & SWAR_M8) + ((b >> 8) & SWAR_M8);
    return (b * 0x0001000100010001ull) >> 48;
}

static void tile_portable(const uint64_t *l, const uint64_t *r, unsigned bl, unsigned br,
                          uint32_t n, const tile_dst *d)
{
    const size_t lrs = (size_t)bl * n, rrs = (size_t)br * n; /* words per packed row */
    uint64_t t[SCALAR_MR][SCALAR_NR] = {{0}};
    for (unsigned p = 0; p < bl; p++) {
        for (unsigned q = 0; q < br; q++) {
            const uint64_t *lp = l + (size_t)p * n, *rp = r + (size_t)q * n;
            for (uint32_t w0 = 0; w0 < n; w0 += PORTABLE_SEGMENT) {
                const uint32_t w1 = n - w0 < PORTABLE_SEGMENT ? n : w0 + PORTABLE_SEGMENT;
                uint64_t c[SCALAR_MR][SCALAR_NR] = {{0}};
                for (uint32_t w = w0; w < w1; w += 2) {
                    const uint32_t w2 = w + 1 < w1 ? w + 1 : w; /* odd tail: counted once */
                    const uint64_t m = w + 1 < w1 ? ~0ull : 0;
                    uint64_t x0[SCALAR_MR], x1[SCALAR_MR], y0[SCALAR_NR], y1[SCALAR_NR];
                    UNROLL for (int a = 0; a < SCALAR_MR; a++) {
                        x0[a] = lp[a * lrs + w];
                        x1[a] = lp[a * lrs + w2] & m;
                    }
                    UNROLL for (int b = 0; b < SCALAR_NR; b++) {
                        y0[b] = rp[b * rrs + w];
                        y1[b] = rp[b * rrs + w2];
                    }
                    UNROLL for (int a = 0; a < SCALAR_MR; a++)
                        UNROLL for (int b = 0; b < SCALAR_NR; b++)
                            c[a][b] += swar_pair_bytes(x0[a] & y0[b], x1[a] & y1[b]);
                }
                UNROLL for (int a = 0; a < SCALAR_MR; a++)
                    UNROLL for (int b = 0; b < SCALAR_NR; b++)
                        t[a][b] += swar_byte_sum(c[a][b]) << (p + q);
            }
        }
    }
    for (int a = 0; a < SCALAR_MR; a++)
        for (int b = 0; b < SCALAR_NR; b++)
            tile_store_scalar(d, a, b, t[a][b]);
}

#if GEMM_X86
/* The POPCNT tile: AND, popcnt and add per word pair; counts are exact in uint64 for any chunk. */
POPCNT_ATTR static void tile_popcnt(const uint64_t *l, const uint64_t *r, unsigned bl,
                                    unsigned br, uint32_t n, const tile_dst *d)
{
    const size_t lrs = (size_t)bl * n, rrs = (size_t)br * n; /* words per packed row */
    uint64_t t[SCALAR_MR][SCALAR_NR] = {{0}};
    for (unsigned p = 0; p < bl; p++) {
        for (unsigned q = 0; q < br; q++) {
            const uint64_t *lp = l + (size_t)p * n, *rp = r + (size_t)q * n;
            uint64_t c[SCALAR_MR][SCALAR_NR] = {{0}};
            for (uint32_t w = 0; w < n; w++) {
                uint64_t x[SCALAR_MR], y[SCALAR_NR];
                UNROLL for (int a = 0; a < SCALAR_MR; a++) x[a] = lp[a * lrs + w];
                UNROLL for (int b = 0; b < SCALAR_NR; b++) y[b] = rp[b * rrs + w];
                UNROLL for (int a = 0; a < SCALAR_MR; a++)
                    UNROLL for (int b = 0; b < SCALAR_NR; b++)
                        c[a][b] += (uint64_t)__builtin_popcountll(x[a] & y[b]);
            }
            UNROLL for (int a = 0; a < SCALAR_MR; a++)
                UNROLL for (int b = 0; b < SCALAR_NR; b++) t[a][b] += c[a][b] << (p + q);
        }
    }
    for (int a = 0; a < SCALAR_MR; a++)
        for (int b = 0; b < SCALAR_NR; b++)
            tile_store_scalar(d, a, b, t[a][b]);
}

/* AVX2 tile, 4 rows of L x 8 rows of R (2 vectors of 4 lanes). A step takes one word of every
 * plane row: the L word broadcast to all lanes, ANDed with the same word of 4 R rows. Nibble-LUT
 * popcount (vpshufb): L is packed as (x, x >> 4) and R as (x & 0x0F.., (x >> 4) & 0x0F..), so
 * one AND gives the lookup index of a half-step, and a half-step is AND, lookup, add per 128 bit
 * pairs. Byte counters gather per plane pair, then vpsadbw to 64-bit lanes (one lane per R row),
 * shift by p + q and add. */
#define AVX2_MR 4
#define AVX2_NV 2 /* vectors of R rows per tile */
#define AVX2_NR (4 * AVX2_NV)
_Static_assert(AVX2_MR <= MAX_MR && AVX2_NR <= MAX_NR, "tile_edge buffers too small");
/* A byte counter gains at most 8 per word (two lookups of at most 4): flush every 31 words. */
#define AVX2_SEGMENT 31u

/* Keeps v in a register: GCC 12 otherwise re-loads the operands from memory for every use. */
#define AVX2_IN_REGISTER(v) __asm__("" : "+x"(v))

/* c += lut[x AND y] bytewise. In asm because GCC 12 computes the sum into a temporary and then
 * copies it into c on every step; the copies cost about 10 % of the throughput here. */
#define AVX2_AND_LOOKUP_ADD(counter, xv, yv, table)                                                \
    do {                                                                                           \
        __m256i tmp_;                                                                              \
        __asm__("vpand %[y], %[x], %[t]\n\t"                                                       \
                "vpshufb %[t], %[lut], %[t]\n\t"                                                   \
                "vpaddb %[t], %[c], %[c]"                                                          \
                : [c] "+x"(counter), [t] "=&x"(tmp_)                                               \
                : [x] "x"(xv), [y] "x"(yv), [lut] "x"(table));                                     \
    } while (0)

AVX2_ATTR static void tile_avx2(const uint64_t *l, const uint64_t *r, unsigned bl, unsigned br,
                                uint32_t n, const tile_dst *d)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1,
                                         2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i zero = _mm256_setzero_si256();
    const size_t lrs = (size_t)bl * n * 2u;      /* words per packed L row */
    const size_t rgs = (size_t)br * n * 8u / 4u; /* vectors per packed group of 4 R rows */
    __m256i t[AVX2_MR][AVX2_NV];
    UNROLL for (int a = 0; a < AVX2_MR; a++)
        UNROLL for (int b = 0; b < AVX2_NV; b++) t[a][b] = zero;
    for (unsigned p = 0; p < bl; p++) {
        for (unsigned q = 0; q < br; q++) {
            const uint64_t *lp = l + (size_t)p * n * 2u;
            const __m256i *rp = (const __m256i *)(r + (size_t)q * n * 8u);
            const __m128i sh = _mm_cvtsi32_si128((int)(p + q));
            for (uint32_t w0 = 0; w0 < n; w0 += AVX2_SEGMENT) {
                const uint32_t w1 = n - w0 < AVX2_SEGMENT ? n : w0 + AVX2_SEGMENT;
                __m256i c[AVX2_MR][AVX2_NV];
                UNROLL for (int a = 0; a < AVX2_MR; a++)
                    UNROLL for (int b = 0; b < AVX2_NV; b++) c[a][b] = zero;
                /* half-step h: word h / 2, low nibbles if h is even, high if odd */
                for (size_t h = 2 * (size_t)w0; h < 2 * (size_t)w1; h++) {
                    __m256i x[AVX2_MR], y[AVX2_NV];
                    UNROLL for (int a = 0; a < AVX2_MR; a++) {
                        x[a] = _mm256_set1_epi64x((long long)lp[a * lrs + h]);
                        AVX2_IN_REGISTER(x[a]);
                    }
                    UNROLL for (int b = 0; b < AVX2_NV; b++) {
                        y[b] = _mm256_load_si256(rp + b * rgs + h);
                        AVX2_IN_REGISTER(y[b]);
                    }
                    UNROLL for (int a = 0; a < AVX2_MR; a++)
                        UNROLL for (int b = 0; b < AVX2_NV; b++)
                            AVX2_AND_LOOKUP_ADD(c[a][b], x[a], y[b], lut);
                }
                UNROLL for (int a = 0; a < AVX2_MR; a++)
                    UNROLL for (int b = 0; b < AVX2_NV; b++) {
                        const __m256i s = _mm256_sll_epi64(_mm256_sad_epu8(c[a][b], zero), sh);
                        t[a][b] = _mm256_add_epi64(t[a][b], s);
                    }
            }
        }
    }
    const __m128i shift = _mm_cvtsi32_si128((int)d->shift);
    UNROLL for (int a = 0; a < AVX2_MR; a++)
        UNROLL for (int b = 0; b < AVX2_NV; b++) {
            __m256i *cell = (__m256i *)(d->c + (size_t)a * d->ldc + 4 * b);
            __m256i v = t[a][b];
            if (!d->first)
                v = _mm256_add_epi64(v, _mm256_loadu_si256(cell));
            if (d->last) {
                const __m256i col = _mm256_loadu_si256((const __m256i *)(d->col + 4 * b));
                v = _mm256_add_epi64(_mm256_sll_epi64(v, shift), col);
                v = _mm256_add_epi64(v, _mm256_set1_epi64x(d->row[a]));
            }
            _mm256_storeu_si256(cell, v);
        }
}
#endif

/* ---- driver -------------------------------------------------------------------------------- */

typedef void pack_fn(uint64_t *dst, const chunk *ch, uint32_t row0, uint32_t rows, uint32_t prows);

typedef struct {
    tile_fn *tile;
    unsigned mr, nr;       /* tile shape: rows of L x rows of R */
    unsigned lsplit;       /* packed words per operand word, left and right */
    unsigned rsplit;
    pack_fn *pack_l, *pack_r;
    row_sums_fn *row_sums;
} kernel_desc;

#define TILE_BYTES (24u * 1024u)     /* one tile's operands over a chunk: in L1 */
#define L_BLOCK_BYTES (192u * 1024u) /* a block of packed L rows: in L2 */
#define R_BLOCK_BYTES (64u * 1024u)  /* a block of packed R rows */

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }
static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Rows per block: a multiple of the tile's rows, at least one tile, at most all rows (padded). */
static size_t block_rows(size_t budget, size_t row_bytes, size_t tile_rows, uint32_t rows)
{
    size_t n = budget / row_bytes / tile_rows * tile_rows;
    if (n < tile_rows)
        n = tile_rows;
    return min_size(n, round_up(rows, tile_rows));
}

/* A tile at the bottom or right edge: the tile runs on a local copy of its results and terms,
 * and only the mrows x nrows results that exist are copied back. */
static void tile_edge(const kernel_desc *kd, const uint64_t *lt, const uint64_t *rt, unsigned bl,
                      unsigned br, uint32_t n, const tile_dst *d, int64_t *c, size_t ldc,
                      const int64_t *row, const int64_t *col, uint32_t mrows, uint32_t nrows)
{
    int64_t cell[MAX_MR * MAX_NR] = {0}, erow[MAX_MR] = {0}, ecol[MAX_NR] = {0};
    const unsigned mv = (unsigned)min_size(mrows, kd->mr), nv = (unsigned)min_size(nrows, kd->nr);
    for (unsigned a = 0; a < mv; a++) {
        erow[a] = row[a];
        for (unsigned b = 0; b < nv; b++)
            cell[a * kd->nr + b] = d->first ? 0 : c[(size_t)a * ldc + b];
    }
    for (unsigned b = 0; b < nv; b++)
        ecol[b] = col[b];
    const tile_dst e = {cell, kd->nr, erow, ecol, d->shift, d->first, d->last};
    kd->tile(lt, rt, bl, br, n, &e);
    for (unsigned a = 0; a < mv; a++)
        for (unsigned b = 0; b < nv; b++)
            c[(size_t)a * ldc + b] = cell[a * kd->nr + b];
}

/* The blocked product with its correction; c gets every result. Returns -1 if scratch could not
 * be allocated (c untouched). */
static int gemm_blocked(const kernel_desc *kd, const gemm_operand *l, const gemm_operand *r,
                        uint32_t K, int64_t *c, size_t ldc)
{
    const uint32_t kw = bitplane_kw(K), M = l->rows, N = r->rows;
    const unsigned bl = l->bits, br = r->bits;
    const size_t lword = (size_t)bl * kd->lsplit * 8u, rword = (size_t)br * kd->rsplit * 8u;

    /* Words per chunk: a tile's packed operands fit TILE_BYTES. */
    size_t kc = TILE_BYTES / (kd->mr * lword + kd->nr * rword);
    kc = min_size(kc < 1 ? 1 : kc, kw);
    const size_t mb = block_rows(L_BLOCK_BYTES, kc * lword, kd->mr, M);
    const size_t nb = block_rows(R_BLOCK_BYTES, kc * rword, kd->nr, N);

    /* One allocation: L block, R block (32-byte aligned), then the correction terms. */
    const size_t lwords = round_up(mb * kc * lword / 8u, 8), rwords = round_up(nb * kc * rword / 8u, 8);
    uint64_t *scratch =
        aligned_alloc(64, round_up((lwords + rwords) * 8u + ((size_t)M + N) * 8u, 64));
    if (!scratch)
        return -1;
    uint64_t *lbuf = scratch, *rbuf = scratch + lwords;
    int64_t *row_terms = (int64_t *)(rbuf + rwords), *col_terms = row_terms + M;
    const unsigned shift = correction_terms(row_terms, col_terms, l, r, K, kd->row_sums);

    for (uint32_t w0 = 0; w0 < kw; w0 += (uint32_t)kc) {
        const uint32_t n = (uint32_t)min_size(kw - w0, kc);
        const chunk lch = {l, kw, w0, n, last_word_mask(K)};
        const chunk rch = {r, kw, w0, n, last_word_mask(K)};
        const size_t lrw = n * lword / 8u, rrw = n * rword / 8u; /* packed words per row */
        tile_dst d = {NULL, ldc, NULL, NULL, shift, w0 == 0, w0 + n == kw};
        for (uint32_t i0 = 0; i0 < M; i0 += (uint32_t)mb) {
            const uint32_t mrows = (uint32_t)min_size(M - i0, mb);
            const uint32_t mpad = (uint32_t)round_up(mrows, kd->mr);
            kd->pack_l(lbuf, &lch, i0, mrows, mpad);
            for (uint32_t j0 = 0; j0 < N; j0 += (uint32_t)nb) {
                const uint32_t nrows = (uint32_t)min_size(N - j0, nb);
                const uint32_t npad = (uint32_t)round_up(nrows, kd->nr);
                kd->pack_r(rbuf, &rch, j0, nrows, npad);
                for (uint32_t it = 0; it < mpad; it += kd->mr) {
                    for (uint32_t jt = 0; jt < npad; jt += kd->nr) {
                        const uint32_t i = i0 + it, j = j0 + jt;
                        const uint64_t *lt = lbuf + it * lrw, *rt = rbuf + jt * rrw;
                        if (it + kd->mr <= mrows && jt + kd->nr <= nrows) {
                            d.c = c + (size_t)i * ldc + j;
                            d.ldc = ldc;
                            d.row = row_terms + i;
                            d.col = col_terms + j;
                            kd->tile(lt, rt, bl, br, n, &d);
                        } else {
                            tile_edge(kd, lt, rt, bl, br, n, &d, c + (size_t)i * ldc + j, ldc,
                                      row_terms + i, col_terms + j, mrows - it, nrows - jt);
                        }
                    }
                }
            }
        }
    }
    free(scratch);
    return 0;
}

/* Without scratch (allocation failed): the same sums straight from the operand layout, with the
 * correction of spec 3.2 as written there. */
static void gemm_direct(const gemm_operand *l, const gemm_operand *r, uint32_t K, int64_t *c,
                        size_t ldc)
{
    const uint32_t kw = bitplane_kw(K);
    const int64_t nl = ((int64_t)1 << l->bits) - 1, nr = ((int64_t)1 << r->bits) - 1, k = K;
    for (uint32_t i = 0; i < l->rows; i++) {
        for (uint32_t j = 0; j < r->rows; j++) {
            uint64_t P = 0, sl = 0, sr = 0;
            for (uint32_t w = 0; w < kw; w++) {
                const uint64_t mask = w == kw - 1 ? last_word_mask(K) : ~0ull;
                for (unsigned p = 0; p < l->bits; p++) {
                    const uint64_t a = operand_word(l, kw, p, w, i) & mask;
                    sl += popcount_swar(a) << p;
                    for (unsigned q = 0; q < r->bits; q++)
                        P += popcount_swar(a & operand_word(r, kw, q, w, j)) << (p + q);
                }
                for (unsigned q = 0; q < r->bits; q++)
                    sr += popcount_swar(operand_word(r, kw, q, w, j) & mask) << q;
            }
            const int64_t Ps = (int64_t)P, SL = (int64_t)sl, SR = (int64_t)sr;
            int64_t v = Ps;
            if (l->fmt == DRF_FMT_S && r->fmt == DRF_FMT_U)
                v = 2 * Ps - nl * SR;
            else if (l->fmt == DRF_FMT_U && r->fmt == DRF_FMT_S)
                v = 2 * Ps - nr * SL;
            else if (l->fmt == DRF_FMT_S && r->fmt == DRF_FMT_S)
                v = 4 * Ps - 2 * nr * SL - 2 * nl * SR + k * nl * nr;
            c[(size_t)i * ldc + j] = v;
        }
    }
}

static const kernel_desc kernel_portable = {tile_portable, SCALAR_MR, SCALAR_NR, 1, 1,
                                            pack_plain, pack_plain, row_sums_portable};
#if GEMM_X86
static const kernel_desc kernel_popcnt = {tile_popcnt, SCALAR_MR, SCALAR_NR, 1, 1, pack_plain,
                                          pack_plain, row_sums_popcnt};
static const kernel_desc kernel_avx2 = {tile_avx2, AVX2_MR, AVX2_NR, 2, 2, pack_avx2_left,
                                        pack_avx2_right, row_sums_popcnt};
#endif

static int kernel_supported(enum gemm_kernel kernel)
{
    switch (kernel) {
    case GEMM_KERNEL_AUTO:
    case GEMM_KERNEL_PORTABLE:
        return 1;
#if GEMM_X86
    case GEMM_KERNEL_POPCNT:
        return __builtin_cpu_supports("popcnt");
    case GEMM_KERNEL_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#else
    case GEMM_KERNEL_POPCNT:
    case GEMM_KERNEL_AVX2:
        return 0;
#endif
    }
    return 0;
}

enum gemm_kernel gemm_kernel_best(void)
{
    if (kernel_supported(GEMM_KERNEL_AVX2))
        return GEMM_KERNEL_AVX2;
    if (kernel_supported(GEMM_KERNEL_POPCNT))
        return GEMM_KERNEL_POPCNT;
    return GEMM_KERNEL_PORTABLE;
}

const char *gemm_kernel_name(enum gemm_kernel kernel)
{
    switch (kernel) {
    case GEMM_KERNEL_AUTO:
        return "auto";
    case GEMM_KERNEL_PORTABLE:
        return "portable";
    case GEMM_KERNEL_POPCNT:
        return "popcnt";
    case GEMM_KERNEL_AVX2:
        return "avx2";
    }
    return "unknown";
}

int gemm_bitserial_kernel(enum gemm_kernel kernel, const gemm_operand *l, const gemm_operand *r,
                          uint32_t K, int64_t *c, size_t ldc)
{
    if (!kernel_supported(kernel))
        return -1;
    if (kernel == GEMM_KERNEL_AUTO)
        kernel = gemm_kernel_best();
    if (l->rows == 0 || r->rows == 0)
        return 0;
    if (K == 0) { /* the empty sum; the spec does not allow K = 0, the API does */
        for (uint32_t i = 0; i < l->rows; i++)
            memset(c + (size_t)i * ldc, 0, (size_t)r->rows * sizeof *c);
        return 0;
    }
    const kernel_desc *kd = &kernel_portable;
#if GEMM_X86
    if (kernel == GEMM_KERNEL_POPCNT)
        kd = &kernel_popcnt;
    else if (kernel == GEMM_KERNEL_AVX2)
        kd = &kernel_avx2;
#endif
    if (gemm_blocked(kd, l, r, K, c, ldc) != 0)
        gemm_direct(l, r, K, c, ldc);
    return 0;
}

void gemm_bitserial(const gemm_operand *l, const gemm_operand *r, uint32_t K, int64_t *c,
                    size_t ldc)
{
    (void)gemm_bitserial_kernel(GEMM_KERNEL_AUTO, l, r, K, c, ldc);
}

/* Spec 1: v(q) = q for format U, 2q - n for format S, n = 2^bits - 1. */
static int64_t code_value(unsigned q, unsigned bits, unsigned fmt)
{
    const int64_t n = ((int64_t)1 << bits) - 1;
    return fmt == DRF_FMT_S ? 2 * (int64_t)q - n : (int64_t)q;
}

void gemm_naive(const uint8_t *lc, size_t ldl, unsigned bits_l, unsigned fmt_l, const uint8_t *rc,
                size_t ldr, unsigned bits_r, unsigned fmt_r, uint32_t M, uint32_t N, uint32_t K,
                int64_t *c, size_t ldc)
{
    int64_t vl[256], vr[256]; /* v(q) of every code */
    for (unsigned q = 0; q < 256; q++) {
        vl[q] = code_value(q, bits_l, fmt_l);
        vr[q] = code_value(q, bits_r, fmt_r);
    }
    for (uint32_t i = 0; i < M; i++) {
        for (uint32_t j = 0; j < N; j++) {
            int64_t sum = 0;
            for (uint32_t k = 0; k < K; k++)
                sum += vl[lc[(size_t)i * ldl + k]] * vr[rc[(size_t)j * ldr + k]];
            c[(size_t)i * ldc + j] = sum;
        }
    }
}
