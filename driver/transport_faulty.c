/* The fault-injecting transport: wraps another transport and, at a given rate per byte, flips a
 * bit, drops the byte, duplicates it, or truncates the rest of the write (host to device) or of
 * the chunk read (device to host). It counts every fault it injects, so a test can show that the
 * protocol layer caught them all. Deterministic for a given seed and byte stream.
 *   faulty:<uri>?rate=0.01&seed=3&kinds=flip,drop,dup,trunc&dir=both */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drf_driver.h"

enum { F_FLIP, F_DROP, F_DUP, F_TRUNC, F_KINDS };

typedef struct {
    drf_transport base;
    drf_transport *inner;
    double rate;
    uint64_t rng;
    unsigned kinds;  /* bit per F_* */
    int tx_on, rx_on;
    uint64_t count[2][F_KINDS]; /* [0] tx, [1] rx */
    uint8_t *buf;    /* transformed bytes */
    size_t cap;
    uint8_t *pend;   /* received bytes not yet handed out */
    size_t pend_head, pend_len;
} faulty_transport;

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int grow(faulty_transport *f, size_t need)
{
    if (need <= f->cap)
        return 0;
    size_t cap = f->cap ? f->cap : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *b = realloc(f->buf, cap);
    if (!b)
        return -1;
    f->buf = b;
    f->cap = cap;
    return 0;
}

/* Copies in[0..n) into f->buf with faults (dir 0 tx, 1 rx); returns the output length. */
static size_t inject(faulty_transport *f, const uint8_t *in, size_t n, int dir)
{
    size_t o = 0;
    /* threshold on 53 random bits */
    const uint64_t thr = (uint64_t)(f->rate * 9007199254740992.0);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if ((rng_next(&f->rng) >> 11) < thr) {
            unsigned kind;
            do
                kind = (unsigned)(rng_next(&f->rng) % F_KINDS);
            while (!(f->kinds & (1u << kind)));
            f->count[dir][kind]++;
            switch (kind) {
            case F_FLIP:
                f->buf[o++] = (uint8_t)(b ^ (1u << (rng_next(&f->rng) % 8)));
                continue;
            case F_DROP:
                continue;
            case F_DUP:
                f->buf[o++] = b;
                f->buf[o++] = b;
                continue;
            default: /* F_TRUNC */
                return o;
            }
        }
        f->buf[o++] = b;
    }
    return o;
}

static int faulty_write(drf_transport *t, const uint8_t *buf, size_t len, int timeout_ms)
{
    faulty_transport *f = (faulty_transport *)t;
    if (!f->tx_on)
        return f->inner->ops->write(f->inner, buf, len, timeout_ms);
    if (grow(f, 2 * len + 1)) {
        snprintf(t->err, sizeof t->err, "faulty: out of memory");
        return DOREFA_E_NOMEM;
    }
    size_t n = inject(f, buf, len, 0);
    int rc = n ? f->inner->ops->write(f->inner, f->buf, n, timeout_ms) : DOREFA_OK;
    if (rc < 0)
        snprintf(t->err, sizeof t->err, "%s", f->inner->err);
    return rc;
}

static long faulty_read(drf_transport *t, uint8_t *buf, size_t cap, int timeout_ms)
{
    faulty_transport *f = (faulty_transport *)t;
    if (!f->rx_on)
        return f->inner->ops->read(f->inner, buf, cap, timeout_ms);
    while (f->pend_head == f->pend_len) {
        /* Read at most half the room so the duplicates fit. */
        size_t want = cap > 1 ? cap / 2 : 1;
        if (want > 65536)
            want = 65536;
        uint8_t *tmp = malloc(want);
        if (!tmp || grow(f, 2 * want + 1)) {
            free(tmp);
            snprintf(t->err, sizeof t->err, "faulty: out of memory");
            return DOREFA_E_NOMEM;
        }
        long got = f->inner->ops->read(f->inner, tmp, want, timeout_ms);
        if (got <= 0) {
            free(tmp);
            if (got < 0)
                snprintf(t->err, sizeof t->err, "%s", f->inner->err);
            return got;
        }
        size_t n = inject(f, tmp, (size_t)got, 1);
        free(tmp);
        uint8_t *p = realloc(f->pend, n ? n : 1);
        if (!p) {
            snprintf(t->err, sizeof t->err, "faulty: out of memory");
            return DOREFA_E_NOMEM;
        }
        f->pend = p;
        memcpy(f->pend, f->buf, n);
        f->pend_head = 0;
        f->pend_len = n;
    }
    size_t n = f->pend_len - f->pend_head;
    if (n > cap)
        n = cap;
    memcpy(buf, f->pend + f->pend_head, n);
    f->pend_head += n;
    return (long)n;
}

static void faulty_purge(drf_transport *t)
{
    faulty_transport *f = (faulty_transport *)t;
    f->pend_head = f->pend_len = 0;
    if (f->inner->ops->purge)
        f->inner->ops->purge(f->inner);
}

static void faulty_close(drf_transport *t)
{
    if (!t)
        return;
    faulty_transport *f = (faulty_transport *)t;
    f->inner->ops->close(f->inner);
    free(f->buf);
    free(f->pend);
    free(f);
}

static const drf_transport_ops faulty_ops = {"faulty", faulty_write, faulty_read, faulty_purge,
                                             faulty_close};

void drf_transport_faulty_stats(const drf_transport *t, dorefa_fault_stats *fs)
{
    const faulty_transport *f = (const faulty_transport *)t;
    memset(fs, 0, sizeof *fs);
    fs->tx_flips = f->count[0][F_FLIP];
    fs->tx_drops = f->count[0][F_DROP];
    fs->tx_dups = f->count[0][F_DUP];
    fs->tx_truncations = f->count[0][F_TRUNC];
    fs->rx_flips = f->count[1][F_FLIP];
    fs->rx_drops = f->count[1][F_DROP];
    fs->rx_dups = f->count[1][F_DUP];
    fs->rx_truncations = f->count[1][F_TRUNC];
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < F_KINDS; k++)
            fs->total += f->count[d][k];
}

static int parse_kinds(const char *v, size_t n, unsigned *kinds)
{
    static const char *names[F_KINDS] = {"flip", "drop", "dup", "trunc"};
    *kinds = 0;
    while (n) {
        const char *c = memchr(v, ',', n);
        size_t l = c ? (size_t)(c - v) : n;
        int k;
        for (k = 0; k < F_KINDS; k++)
            if (strlen(names[k]) == l && !strncmp(v, names[k], l))
                break;
        if (k == F_KINDS)
            return -1;
        *kinds |= 1u << k;
        v += l;
        n -= l;
        if (n) {
            v++;
            n--;
        }
    }
    return *kinds ? 0 : -1;
}

int drf_transport_faulty_open(const char *args, drf_transport *inner, drf_transport **out,
                              char *err, size_t errlen)
{
    double rate = -1;
    uint64_t seed = 1;
    unsigned kinds = (1u << F_KINDS) - 1u;
    int tx_on = 1, rx_on = 1;
    const char *p = args;
    *out = NULL;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq)
            goto bad;
        size_t kl = (size_t)(eq - p), vl = n - kl - 1;
        const char *v = eq + 1;
        if (kl == 4 && !strncmp(p, "rate", 4)) {
            char tmp[64], *end;
            if (vl == 0 || vl >= sizeof tmp)
                goto bad;
            memcpy(tmp, v, vl);
            tmp[vl] = 0;
            rate = strtod(tmp, &end);
            if (*end || !(rate >= 0 && rate <= 0.5))
                goto bad;
        } else if (kl == 4 && !strncmp(p, "seed", 4)) {
            if (drf_parse_u64(v, vl, &seed))
                goto bad;
        } else if (kl == 5 && !strncmp(p, "kinds", 5)) {
            if (parse_kinds(v, vl, &kinds))
                goto bad;
        } else if (kl == 3 && !strncmp(p, "dir", 3)) {
            if (vl == 4 && !strncmp(v, "both", 4))
                tx_on = rx_on = 1;
            else if (vl == 2 && !strncmp(v, "tx", 2))
                tx_on = 1, rx_on = 0;
            else if (vl == 2 && !strncmp(v, "rx", 2))
                tx_on = 0, rx_on = 1;
            else
                goto bad;
        } else {
            goto bad;
        }
        p += n + (amp ? 1 : 0);
        continue;
    bad:
        snprintf(err, errlen,
                 "faulty: bad option '%.*s' (expected rate=0..0.5 per byte, seed=N, "
                 "kinds=flip,drop,dup,trunc, dir=both|tx|rx, joined by '&')",
                 (int)n, p);
        return DOREFA_E_URI;
    }
    if (rate < 0) {
        snprintf(err, errlen, "faulty: rate=R is required (probability per byte, e.g. 0.001)");
        return DOREFA_E_URI;
    }
    faulty_transport *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "faulty: out of memory");
        return DOREFA_E_NOMEM;
    }
    f->base.ops = &faulty_ops;
    f->inner = inner;
    f->rate = rate;
    f->rng = seed;
    f->kinds = kinds;
    f->tx_on = tx_on;
    f->rx_on = rx_on;
    *out = &f->base;
    return DOREFA_OK;
}
