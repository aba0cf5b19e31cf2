/* The `ref` transport: the golden model (sw_reference/device.c) in process, behind the same byte
 * pipe a board has. A read with nothing pending is a quiet line: it applies the device's idle rule
 * (spec 8.2 rule 7) and returns whatever that produced, so timeouts cost no wall time.
 * URI arguments set the geometry, e.g. "ref:l=16384,r=1024,d=1024,max_payload=264", so the model
 * can mirror a small RTL build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "drf_driver.h"

typedef struct {
    drf_transport base;
    ref_device *dev;
} ref_transport;

static int ref_write(drf_transport *t, const uint8_t *buf, size_t len, int timeout_ms)
{
    (void)timeout_ms;
    ref_device_rx(((ref_transport *)t)->dev, buf, len);
    return DOREFA_OK;
}

static long ref_read(drf_transport *t, uint8_t *buf, size_t cap, int timeout_ms)
{
    ref_device *dev = ((ref_transport *)t)->dev;
    (void)timeout_ms;
    if (!ref_device_tx_pending(dev))
        ref_device_idle(dev);
    return (long)ref_device_tx(dev, buf, cap);
}

static void ref_purge(drf_transport *t)
{
    uint8_t junk[256];
    ref_device *dev = ((ref_transport *)t)->dev;
    while (ref_device_tx(dev, junk, sizeof junk))
        ;
}

static void ref_close(drf_transport *t)
{
    if (!t)
        return;
    ref_device_free(((ref_transport *)t)->dev);
    free(t);
}

static const drf_transport_ops ref_ops = {"ref", ref_write, ref_read, ref_purge, ref_close};

int drf_parse_u64(const char *s, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    size_t i = 0;
    int hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex)
        i = 2;
    if (i >= len)
        return -1;
    for (; i < len; i++) {
        unsigned dgt;
        char c = s[i];
        if (c >= '0' && c <= '9')
            dgt = (unsigned)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            dgt = (unsigned)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            dgt = (unsigned)(c - 'A' + 10);
        else
            return -1;
        uint64_t base = hex ? 16u : 10u;
        if (x > (UINT64_MAX - dgt) / base)
            return -1;
        x = x * base + dgt;
    }
    *v = x;
    return 0;
}

int drf_transport_ref_open(const char *args, drf_transport **out, char *err, size_t errlen)
{
    ref_device_config cfg;
    ref_device_config_default(&cfg);
    *out = NULL;
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"l", offsetof(ref_device_config, l_words)},
        {"r", offsetof(ref_device_config, r_words)},
        {"d", offsetof(ref_device_config, d_words)},
        {"max_k", offsetof(ref_device_config, max_k)},
        {"max_payload", offsetof(ref_device_config, max_payload)},
        {"rx_timeout_us", offsetof(ref_device_config, rx_timeout_us)},
    };
    const char *p = args ? args : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t kl = eq ? (size_t)(eq - p) : n;
        size_t k;
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (strlen(keys[k].key) == kl && !strncmp(keys[k].key, p, kl))
                break;
        if (k == sizeof keys / sizeof keys[0] || !eq) {
            snprintf(err, errlen,
                     "ref: bad argument '%.*s' (expected key=value with key l, r, d, max_k, "
                     "max_payload or rx_timeout_us, separated by commas)",
                     (int)n, p);
            return DOREFA_E_URI;
        }
        uint64_t v;
        if (drf_parse_u64(eq + 1, n - kl - 1, &v) || v > UINT32_MAX) {
            snprintf(err, errlen, "ref: '%.*s' needs a 32-bit unsigned number", (int)n, p);
            return DOREFA_E_URI;
        }
        *(uint32_t *)((char *)&cfg + keys[k].off) = (uint32_t)v;
        p += n + (end ? 1 : 0);
    }
    if (cfg.max_payload < 64 || cfg.max_payload > 65535 || cfg.max_k < 1 || cfg.max_k > 32768 ||
        !cfg.l_words || !cfg.r_words || !cfg.d_words || !cfg.rx_timeout_us) {
        snprintf(err, errlen,
                 "ref: geometry out of range (max_payload 64..65535, max_k 1..32768, l, r, d and "
                 "rx_timeout_us >= 1)");
        return DOREFA_E_URI;
    }
    ref_transport *t = calloc(1, sizeof *t);
    if (t)
        t->dev = ref_device_new(&cfg);
    if (!t || !t->dev) {
        free(t);
        snprintf(err, errlen, "ref: cannot create the golden-model device (out of memory)");
        return DOREFA_E_NOMEM;
    }
    t->base.ops = &ref_ops;
    *out = &t->base;
    return DOREFA_OK;
}
