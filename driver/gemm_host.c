/* GEMM of host matrices of any size (dorefa_gemm_host): the driver packs bit-planes (spec 2.1),
 * tiles M and N to the L, R and D capacities INFO reports, splits K into chunks of at most max_k
 * columns (boundaries at multiples of 64) that fit the operand memories, accumulates the chunks on
 * the device with ACC64 and scale 1 (spec 3.1, 3.3) and reads the int64 results back. A product
 * that needs one K chunk uses WRITE32 and reads 4 bytes per result instead of 8.
 *
 * Operand memory is used as slots from word 0: when every K chunk of a tile fits at once, the
 * chunks sit side by side and a tile is sent once and reused; otherwise one slot is refilled per
 * chunk. The outer loop runs over M tiles, so L tiles are sent once each. */
#include <stdlib.h>
#include <string.h>

#include "bitplane.h"
#include "dorefa_proto.h"
#include "drf_driver.h"

typedef struct {
    const uint8_t *codes; /* rows x k, row-major */
    uint32_t rows, k;
    unsigned bits;
    int mem;
    uint32_t words;       /* memory size */
    uint32_t nch;         /* K chunks */
    int all;              /* every chunk of a tile resident at once */
    uint32_t tile;        /* rows per tile (a multiple of 8 unless the memories are tiny) */
    uint64_t *base;       /* per chunk: slot base (a multiple of 8) */
    int64_t loaded_tile;  /* tile whose chunks are loaded (all) or in the slot */
    int64_t loaded_chunk; /* single slot: which chunk */
    uint8_t *have;        /* all: chunk c of loaded_tile is in memory */
} operand_plan;

static uint64_t round8(uint64_t x) { return (x + 7u) / 8u * 8u; }

/* Sends chunk c (columns k0 .. k0+kl-1) of tile t of an operand unless it is already there. */
static int load_chunk(dorefa_dev *d, operand_plan *o, uint32_t t, uint32_t c, uint32_t k0,
                      uint32_t kl, uint64_t *buf)
{
    if (o->all) {
        if (o->loaded_tile != (int64_t)t) {
            o->loaded_tile = t;
            memset(o->have, 0, o->nch);
        }
        if (o->have[c])
            return DOREFA_OK;
    } else if (o->loaded_tile == (int64_t)t && o->loaded_chunk == (int64_t)c) {
        return DOREFA_OK;
    }
    uint32_t r0 = t * o->tile;
    uint32_t rows = o->rows - r0 < o->tile ? o->rows - r0 : o->tile;
    uint64_t words = bitplane_words(rows, kl, o->bits);
    memset(buf, 0, (size_t)words * sizeof *buf); /* pad rows zero: recordings stay stable */
    bitplane_pack(buf, o->codes + (size_t)r0 * o->k + k0, o->k, rows, kl, o->bits);
    int rc = dorefa_write(d, o->mem, (uint32_t)o->base[c], buf, (uint32_t)words);
    if (rc)
        return rc;
    if (o->all) {
        o->have[c] = 1;
    } else {
        o->loaded_tile = t;
        o->loaded_chunk = c;
    }
    return DOREFA_OK;
}

/* Chooses the tile height (at most limit rows) and slot layout of one operand. kw: words per
 * plane row of each chunk; kw_total, kw_max: their sum and maximum. */
static void plan_operand(operand_plan *o, const uint32_t *kw, uint64_t kw_total, uint64_t kw_max,
                         uint64_t limit)
{
    uint64_t cap_all = o->words / (o->bits * kw_total) / 8u * 8u;
    uint64_t cap_one = o->words / (o->bits * kw_max) / 8u * 8u; /* >= 8 by the choice of K chunk */
    uint64_t want = round8(o->rows) < limit ? round8(o->rows) : limit;
    o->all = cap_all >= 8;
    uint64_t cap = o->all ? cap_all : cap_one;
    o->tile = (uint32_t)(cap < want ? cap : want);
    uint64_t at = 0;
    for (uint32_t c = 0; c < o->nch; c++) {
        o->base[c] = o->all ? at : 0;
        at += round8(o->tile) * o->bits * kw[c];
    }
    o->loaded_tile = -1;
    o->loaded_chunk = -1;
}

static int check_codes(dorefa_dev *d, const uint8_t *c, uint32_t rows, uint32_t k, unsigned bits,
                       char which)
{
    uint8_t max = (uint8_t)((1u << bits) - 1u);
    for (size_t i = 0; i < (size_t)rows * k; i++)
        if (c[i] > max)
            return drf_fail(d, DOREFA_E_ARG,
                            "gemm_host: code %u at %c[%zu][%zu] does not fit %u bits", c[i], which,
                            i / k, i % k, bits);
    return DOREFA_OK;
}

int dorefa_gemm_host(dorefa_dev *d, const uint8_t *l_codes, const uint8_t *r_codes, uint32_t m,
                     uint32_t n, uint32_t k, uint8_t bits_l, uint8_t bits_r, uint8_t fmt_l,
                     uint8_t fmt_r, int64_t *c)
{
    if (!d)
        return DOREFA_E_ARG;
    if (!l_codes || !r_codes || !c)
        return drf_fail(d, DOREFA_E_ARG, "gemm_host: NULL matrix");
    if (!m || !n || !k)
        return drf_fail(d, DOREFA_E_ARG, "gemm_host: empty product (m %u, n %u, k %u)", m, n, k);
    if (bits_l < 1 || bits_l > 8 || bits_r < 1 || bits_r > 8)
        return drf_fail(d, DOREFA_E_ARG, "gemm_host: bitwidths %u x %u (each must be 1..8)",
                        bits_l, bits_r);
    if (fmt_l > 1 || fmt_r > 1)
        return drf_fail(d, DOREFA_E_ARG, "gemm_host: formats %u, %u (0 U or 1 S)", fmt_l, fmt_r);
    int rc = check_codes(d, l_codes, m, k, bits_l, 'L');
    if (!rc)
        rc = check_codes(d, r_codes, n, k, bits_r, 'R');
    if (rc)
        return rc;

    const dorefa_info *in = &d->info;
    /* K chunk: max_k (a multiple of 64 when it can be), and 8 rows of it must fit L and R. */
    uint64_t kc = in->max_k >= 64 ? in->max_k / 64u * 64u : in->max_k;
    uint64_t cap_l = 64u * (in->l_words / (8u * bits_l)), cap_r = 64u * (in->r_words / (8u * bits_r));
    if (cap_l < kc)
        kc = cap_l;
    if (cap_r < kc)
        kc = cap_r;
    if (kc == 0)
        return drf_fail(d, DOREFA_E_UNSUPPORTED,
                        "gemm_host: operand memories too small (L %u, R %u words) for 8 rows of "
                        "%u x %u-bit codes",
                        in->l_words, in->r_words, bits_l, bits_r);
    if (kc > k)
        kc = k;
    const uint32_t nch = (uint32_t)((k + kc - 1) / kc);
    const int acc64 = nch > 1;

    uint32_t *kw = calloc(nch, sizeof *kw);
    operand_plan L = {l_codes, m, k, bits_l, DRF_MEM_L, in->l_words, nch, 0, 0, NULL, -1, -1, NULL};
    operand_plan R = {r_codes, n, k, bits_r, DRF_MEM_R, in->r_words, nch, 0, 0, NULL, -1, -1, NULL};
    L.base = malloc(sizeof *L.base * nch);
    R.base = malloc(sizeof *R.base * nch);
    L.have = calloc(nch, 1);
    R.have = calloc(nch, 1);
    uint64_t *buf = NULL;
    uint32_t *dbuf = NULL;
    if (!kw || !L.base || !R.base || !L.have || !R.have) {
        rc = drf_fail(d, DOREFA_E_NOMEM, "gemm_host: out of memory");
        goto out;
    }
    uint64_t kw_total = 0, kw_max = 0;
    for (uint32_t ci = 0; ci < nch; ci++) {
        uint32_t kl = ci + 1 < nch ? (uint32_t)kc : k - ci * (uint32_t)kc;
        kw[ci] = bitplane_kw(kl);
        kw_total += kw[ci];
        if (kw[ci] > kw_max)
            kw_max = kw[ci];
    }
    plan_operand(&L, kw, kw_total, kw_max, UINT32_MAX);
    plan_operand(&R, kw, kw_total, kw_max, UINT32_MAX);

    /* Results: WRITE32 needs mt*nt words of D, ACC64 twice that; halve the larger tile until
     * they fit, then lay the operands out again for the tiles chosen. */
    uint32_t mt = L.tile < m ? L.tile : m, nt = R.tile < n ? R.tile : n;
    const uint64_t per = acc64 ? 2u : 1u;
    while ((uint64_t)mt * nt * per > in->d_words) {
        uint32_t *big = mt >= nt ? &mt : &nt;
        if (*big == 1) {
            rc = drf_fail(d, DOREFA_E_UNSUPPORTED, "gemm_host: D memory of %u words is too small",
                          in->d_words);
            goto out;
        }
        *big = *big / 2 >= 8 ? *big / 2 / 8u * 8u : (*big + 1) / 2;
    }
    plan_operand(&L, kw, kw_total, kw_max, mt);
    plan_operand(&R, kw, kw_total, kw_max, nt);
    mt = L.tile;
    nt = R.tile;

    uint64_t buf_words = round8(mt > nt ? mt : nt) * 8u * kw_max;
    buf = malloc((size_t)buf_words * sizeof *buf);
    dbuf = calloc((size_t)(per * mt * nt), sizeof *dbuf);
    if (!buf || !dbuf) {
        rc = drf_fail(d, DOREFA_E_NOMEM, "gemm_host: out of memory");
        goto out;
    }

    for (uint32_t ti = 0; ti * mt < m; ti++) {
        uint32_t i0 = ti * mt, rows = m - i0 < mt ? m - i0 : mt;
        for (uint32_t tj = 0; tj * nt < n; tj++) {
            uint32_t j0 = tj * nt, cols = n - j0 < nt ? n - j0 : nt;
            if (acc64) {
                memset(dbuf, 0, (size_t)(2u * rows * cols) * sizeof *dbuf);
                if ((rc = dorefa_write(d, DRF_MEM_D, 0, dbuf, 2u * rows * cols)))
                    goto out;
            }
            for (uint32_t ci = 0; ci < nch; ci++) {
                uint32_t k0 = ci * (uint32_t)kc, kl = ci + 1 < nch ? (uint32_t)kc : k - k0;
                if ((rc = load_chunk(d, &L, ti, ci, k0, kl, buf)) ||
                    (rc = load_chunk(d, &R, tj, ci, k0, kl, buf)))
                    goto out;
                dorefa_gemm_args g = {(uint32_t)L.base[ci], (uint32_t)R.base[ci], rows, cols, kl,
                                      bits_l, bits_r, fmt_l, fmt_r,
                                      acc64 ? DRF_GEMM_ACC64 : DRF_GEMM_WRITE32, 0, cols,
                                      acc64 ? 1 : 0};
                if ((rc = dorefa_gemm(d, &g)))
                    goto out;
            }
            if ((rc = dorefa_read(d, DRF_MEM_D, 0, dbuf, (uint32_t)(per * rows * cols))))
                goto out;
            for (uint32_t i = 0; i < rows; i++)
                for (uint32_t j = 0; j < cols; j++) {
                    size_t e = (size_t)i * cols + j;
                    int64_t v = acc64 ? (int64_t)((uint64_t)dbuf[2 * e] |
                                                  ((uint64_t)dbuf[2 * e + 1] << 32))
                                      : (int64_t)(int32_t)dbuf[e];
                    c[(size_t)(i0 + i) * n + j0 + j] = v;
                }
        }
    }
out:
    free(kw);
    free(L.base);
    free(R.base);
    free(L.have);
    free(R.have);
    free(buf);
    free(dbuf);
    return rc;
}
