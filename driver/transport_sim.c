/* The `sim` transport: the Verilated device (rtl/drf_device.v, sim/drf_dev.h) as a byte pipe.
 * Writing queues bytes; reading runs the clock until bytes come out or the timeout's worth of
 * cycles has passed. Time is the device's own: one millisecond is CLOCK_HZ / 1000 cycles of the
 * clock the build reports in INFO (10,000 for the simulation build), so the device's idle rule
 * (spec 8.2 rule 7, rx_timeout_us) and the driver's timeouts are on the same clock. When the host
 * stops sending inside a frame, the clock a read runs lets the idle rule fire, as on a board. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drf_dev.h"
#include "transport.h"

typedef struct {
    drf_transport base;
    drf_dev *dev;
    uint64_t cycles_per_ms;
} sim_transport;

static int sim_write(drf_transport *t, const uint8_t *buf, size_t len, int timeout_ms)
{
    (void)timeout_ms; /* the queue in front of the device never refuses bytes */
    drf_dev_send(((sim_transport *)t)->dev, buf, len);
    return DOREFA_OK;
}

static long sim_read(drf_transport *t, uint8_t *buf, size_t cap, int timeout_ms)
{
    sim_transport *s = (sim_transport *)t;
    /* A zero timeout still lets a little time pass, so a polling caller makes progress. */
    uint64_t cycles = timeout_ms > 0 ? (uint64_t)timeout_ms * s->cycles_per_ms : 64u;
    if (!cap)
        return 0;
    return (long)drf_dev_recv(s->dev, buf, cap, cycles);
}

static void sim_purge(drf_transport *t) { drf_dev_purge(((sim_transport *)t)->dev); }

static void sim_close(drf_transport *t)
{
    sim_transport *s = (sim_transport *)t;
    if (!s)
        return;
    drf_dev_free(s->dev);
    free(s);
}

static const drf_transport_ops sim_ops = {"sim", sim_write, sim_read, sim_purge, sim_close};

/* args: "" or Verilator plusargs separated by ',' (e.g. "+trace=build/dev.fst"). */
int drf_transport_sim_open(const char *args, drf_transport **out, char *err, size_t errlen)
{
    *out = NULL;
    char buf[256];
    char *argv[9] = {"drf_sim"};
    int argc = 1;
    if (args && *args) {
        if (strlen(args) >= sizeof buf) {
            snprintf(err, errlen, "sim: arguments too long");
            return DOREFA_E_URI;
        }
        strcpy(buf, args);
        for (char *p = strtok(buf, ","); p && argc < 8; p = strtok(NULL, ",")) {
            if (p[0] != '+') {
                snprintf(err, errlen, "sim: unknown argument '%s' (only +plusargs)", p);
                return DOREFA_E_URI;
            }
            argv[argc++] = p;
        }
    }
    sim_transport *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "sim: out of memory");
        return DOREFA_E_NOMEM;
    }
    s->dev = drf_dev_new(argc, argv);
    if (!s->dev) {
        free(s);
        snprintf(err, errlen, "sim: cannot create the Verilated device");
        return DOREFA_E_NODEV;
    }
    s->cycles_per_ms = drf_dev_clock_hz(s->dev) / 1000u;
    if (!s->cycles_per_ms)
        s->cycles_per_ms = 1;
    s->base.ops = &sim_ops;
    *out = &s->base;
    return DOREFA_OK;
}
