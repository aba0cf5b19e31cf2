/* The transport layer of libdorefa: a byte pipe to one device, under the protocol layer
 * (driver/protocol.c). Each backend (ref, sim, usb; PCIe later) implements these operations and
 * nothing about frames. Errors are dorefa_err codes; the transport writes a message into err. */
#ifndef DOREFA_TRANSPORT_H
#define DOREFA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dorefa.h"

typedef struct drf_transport drf_transport;

typedef struct {
    const char *name; /* "ref", "sim", "usb", ... */
    /* Sends all len bytes (blocking up to timeout_ms). DOREFA_OK or a negative code. */
    int (*write)(drf_transport *t, const uint8_t *buf, size_t len, int timeout_ms);
    /* Receives 1..cap bytes, waiting up to timeout_ms for the first. Returns the count, 0 on
     * timeout (nothing arrived), or a negative code (DOREFA_E_GONE if the device vanished). */
    long (*read)(drf_transport *t, uint8_t *buf, size_t cap, int timeout_ms);
    /* Discards bytes in flight in both directions (after a protocol error). May be NULL. */
    void (*purge)(drf_transport *t);
    void (*close)(drf_transport *t);
} drf_transport_ops;

struct drf_transport {
    const drf_transport_ops *ops;
    char err[256]; /* message of the last failure */
};

/* Constructors. args is the URI after "<name>" and an optional ':' (may be ""). On failure they
 * return a negative code and write a message into err (errlen bytes). */
int drf_transport_ref_open(const char *args, drf_transport **out, char *err, size_t errlen);
int drf_transport_sim_open(const char *args, drf_transport **out, char *err, size_t errlen);
int drf_transport_usb_open(const char *args, drf_transport **out, char *err, size_t errlen);

#endif
