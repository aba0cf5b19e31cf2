/* Internals shared by the source files of libdorefa (not installed): the device handle, the
 * protocol layer's one-command exchange, recording, and the fault-injecting transport. */
#ifndef DOREFA_DRF_DRIVER_H
#define DOREFA_DRF_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dorefa.h"
#include "frame.h"
#include "transport.h"

/* The largest frame either way: a u16 payload length plus header and FCRC. */
#define DRF_FRAME_CAP (65535u + 12u)

struct dorefa_dev {
    drf_transport *t;
    drf_transport *faulty;  /* the fault wrapper when opened through "faulty:", else NULL */
    dorefa_info info;
    int have_info;          /* info is valid (INFO answered at open) */
    int timeout_ms;         /* base response timeout */
    int retries;            /* resends of one command */
    uint8_t tag;            /* tag of the last command sent; counts up */
    frame_rx rx;            /* response receiver */
    uint8_t *cmd;           /* the command frame being sent, DRF_FRAME_CAP bytes */
    uint8_t *rbuf;          /* transport read buffer, DRF_FRAME_CAP bytes */
    uint8_t *resp;          /* the last valid response frame, DRF_FRAME_CAP bytes */
    uint8_t *pl;            /* a command payload being built, DRF_FRAME_CAP bytes */
    size_t resp_len;
    int last_status;
    dorefa_link_stats ls;
    FILE *rec;              /* recording, or NULL */
    char *rec_path;
    char err[768];
};

/* Writes a message into d->err (also when d is NULL: then only the code is returned) and returns
 * code. */
int drf_fail(dorefa_dev *d, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Sends one encoded command frame (its opcode and tag inside) and waits for the valid response,
 * resending the identical frame after timeouts and damaged responses. what names the command in
 * messages. On DOREFA_OK the response frame is in d->resp / d->resp_len and d->rx (payload,
 * len), and it has been recorded. */
int drf_transact(dorefa_dev *d, const uint8_t *frame, size_t flen, const char *what,
                 int timeout_ms);
/* The response timeout (longest silence accepted) for a frame of flen bytes whose command takes
 * about `work` device clock cycles (drf_work): the base plus transfer and compute time. */
int drf_timeout_for(const dorefa_dev *d, size_t flen, size_t resp_len, uint64_t work);

/* Device work of one command in clock cycles, roughly (for timeouts). */
uint64_t drf_work(const dorefa_dev *d, uint8_t op, const uint8_t *payload, size_t len);

/* Recording (driver/record.c; format in driver/README.md). */
int drf_record_open(dorefa_dev *d, const char *path);
int drf_record_frame(dorefa_dev *d, const uint8_t *cmd, size_t clen, const uint8_t *resp,
                     size_t rlen);
int drf_record_close(dorefa_dev *d);

/* The fault-injecting wrapper (driver/transport_faulty.c); takes ownership of inner. args is
 * the query string after '?'. */
int drf_transport_faulty_open(const char *args, drf_transport *inner, drf_transport **out,
                              char *err, size_t errlen);
void drf_transport_faulty_stats(const drf_transport *t, dorefa_fault_stats *fs);

/* Parses a decimal or 0x-hex unsigned number filling the whole string; 0 on success. */
int drf_parse_u64(const char *s, size_t len, uint64_t *v);

#endif
