/* libdorefa: one C API over every backend of the DoReFa training accelerator.
 *
 *   dorefa_dev *d;
 *   int rc = dorefa_open("sim", NULL, &d);        // "ref", "sim", "usb[:VID:PID[:serial]]"
 *   if (rc) { fprintf(stderr, "%s\n", dorefa_strerror(rc)); ... }
 *
 * Every call returns DOREFA_OK (0) or a negative dorefa_err; dorefa_last_error() gives a message
 * that names what failed. A device that answers a command with an error status yields
 * DOREFA_E_STATUS and dorefa_last_status() gives the spec's status byte (docs/spec.md 8.5).
 * The protocol layer frames commands (spec 8), counts tags up, retries on lost or corrupted
 * frames (the device's duplicate memory makes retries safe) and gives up after `retries`. */
#ifndef DOREFA_H
#define DOREFA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum dorefa_err {
    DOREFA_OK = 0,
    DOREFA_E_ARG = -1,         /* bad argument to a library call */
    DOREFA_E_NOMEM = -2,
    DOREFA_E_URI = -3,         /* malformed or unknown device URI */
    DOREFA_E_NODEV = -4,       /* no such device (e.g. no USB device with that VID:PID) */
    DOREFA_E_IO = -5,          /* transport error */
    DOREFA_E_TIMEOUT = -6,     /* no (valid) response in time, retries exhausted */
    DOREFA_E_GONE = -7,        /* the device disappeared (unplugged) */
    DOREFA_E_PROTOCOL = -8,    /* responses kept failing checks (CRC, tag, opcode) */
    DOREFA_E_STATUS = -9,      /* the device answered an error status: dorefa_last_status() */
    DOREFA_E_UNSUPPORTED = -10,/* backend not built in, or device lacks a capability */
    DOREFA_E_MISMATCH = -11,   /* replay: a response differs from the recording */
    DOREFA_E_FILE = -12,       /* record/replay file cannot be read or written, or is malformed */
};

/* Static text for an error code. */
const char *dorefa_strerror(int err);

typedef struct dorefa_dev dorefa_dev;

typedef struct {
    int timeout_ms;          /* longest silence while awaiting a response; 0: the default (1000 ms,
                              * longer for large commands; never below 2 rx_timeout_us + 10 ms) */
    int retries;             /* resends of one command; < 0: the default (5) */
    const char *record_path; /* if set: record every command frame and its response here */
} dorefa_options;

/* opt may be NULL for defaults. On failure *out is NULL and the code says why; the message is in
 * dorefa_open_error().
 * URIs: "ref[:key=value,...]" (keys l, r, d, max_k, max_payload, rx_timeout_us set the golden
 * model's geometry), "sim[:args]", "usb[:VID:PID[:serial]]", and the fault-injecting wrapper
 * "faulty:<uri>?rate=R[&seed=S][&kinds=flip,drop,dup,trunc][&dir=both|tx|rx]" (R: probability
 * per byte that a fault starts there). */
int dorefa_open(const char *uri, const dorefa_options *opt, dorefa_dev **out);
/* Why the last dorefa_open of this thread failed (never NULL). */
const char *dorefa_open_error(void);
void dorefa_close(dorefa_dev *d);
/* The message of the last failed call on d (never NULL). */
const char *dorefa_last_error(const dorefa_dev *d);
/* The status byte of the last response (DRF_ST_* of sw_reference/dorefa_proto.h). */
int dorefa_last_status(const dorefa_dev *d);

/* INFO (spec 9.1), decoded. */
typedef struct {
    uint16_t version, implementation;
    uint32_t max_payload, l_words, r_words, d_words, max_k;
    uint16_t rows, cols, word_bits, fgamma_lanes;
    uint32_t clock_hz, rx_timeout_us, features;
} dorefa_info;

/* STATS (spec 9.10), decoded. */
typedef struct {
    uint32_t frames_ok, frames_err, hdr_errors, junk_bytes, dup_frames, lfsr;
    uint64_t gemm_ops, bin_ops, cycles, busy_cycles;
} dorefa_stats;

/* Link-level counters kept by the driver. */
typedef struct {
    uint64_t frames_sent, frames_received, retries, timeouts, bad_responses;
    uint64_t bytes_sent, bytes_received;
} dorefa_link_stats;

int dorefa_info_get(dorefa_dev *d, dorefa_info *info);
int dorefa_reset(dorefa_dev *d);
/* Word transfers; split into frames that fit max_payload. mem: 0 L, 1 R (uint64_t words),
 * 2 D (uint32_t words). */
int dorefa_write(dorefa_dev *d, int mem, uint32_t addr, const void *words, uint32_t count);
int dorefa_read(dorefa_dev *d, int mem, uint32_t addr, void *words, uint32_t count);
int dorefa_seed(dorefa_dev *d, uint32_t seed);
int dorefa_stats_get(dorefa_dev *d, int clear, dorefa_stats *st);
int dorefa_echo(dorefa_dev *d, const uint8_t *data, uint16_t len, uint8_t *back);
void dorefa_link_stats_get(const dorefa_dev *d, dorefa_link_stats *ls);

/* What the "faulty:" wrapper injected, per direction (tx: host to device, rx: device to host). */
typedef struct {
    uint64_t tx_flips, tx_drops, tx_dups, tx_truncations;
    uint64_t rx_flips, rx_drops, rx_dups, rx_truncations;
    uint64_t total;
} dorefa_fault_stats;
/* DOREFA_E_UNSUPPORTED if d was not opened through "faulty:". */
int dorefa_fault_stats_get(const dorefa_dev *d, dorefa_fault_stats *fs);

/* Device commands with the payload fields of spec 9.5-9.8 (must fit the device as they are). */
typedef struct {
    uint32_t l_base, r_base, m, n, k;
    uint8_t bits_l, bits_r, fmt_l, fmt_r, mode;
    uint32_t dst, ldc;
    int32_t scale;
} dorefa_gemm_args;
typedef struct { uint32_t src, rows, elems; uint8_t bits; uint32_t dst, mdst; } dorefa_qgrad_args;
typedef struct { uint32_t src, m, n; uint8_t bits, axis; uint32_t thr, dst; } dorefa_qact_args;
typedef struct {
    uint32_t src, stride_r, stride_k, rows, k;
    uint8_t bits, dst_mem;
    uint32_t dst;
} dorefa_pack_args;

int dorefa_gemm(dorefa_dev *d, const dorefa_gemm_args *a);
int dorefa_quant_grad(dorefa_dev *d, const dorefa_qgrad_args *a);
int dorefa_quant_act(dorefa_dev *d, const dorefa_qact_args *a);
int dorefa_pack(dorefa_dev *d, const dorefa_pack_args *a);

/* GEMM of host matrices of any size: C (m x n, row-major, int64) = L·Rᵀ where L (m x k) and
 * R (n x k) are row-major byte codes of bits_l / bits_r bits in format fmt_l / fmt_r (0 U, 1 S).
 * The driver packs bit-planes, tiles M, N and K to the device's buffers and max_k (geometry from
 * INFO), accumulates K tiles on the device (ACC64) and reads the results back. Device memory is
 * used as scratch from address 0. */
int dorefa_gemm_host(dorefa_dev *d, const uint8_t *l_codes, const uint8_t *r_codes, uint32_t m,
                     uint32_t n, uint32_t k, uint8_t bits_l, uint8_t bits_r, uint8_t fmt_l,
                     uint8_t fmt_r, int64_t *c);

/* One raw command: sends (op, payload) with the next tag, returns the response's status byte in
 * *status and its data (after the status) in resp (up to cap bytes; full length in *resp_len).
 * Returns DOREFA_OK whenever a valid response came back, whatever its status. */
int dorefa_call(dorefa_dev *d, uint8_t op, const uint8_t *payload, uint16_t len, uint8_t *status,
                uint8_t *resp, size_t cap, size_t *resp_len);

/* Replay a recording (format: driver/README.md) against d: sends every recorded command
 * frame byte for byte and compares each response with the recorded one (STATS' implementation-
 * defined fields and INFO's build-specific fields masked, spec 9.1/9.10). Returns DOREFA_OK, or
 * DOREFA_E_MISMATCH with the first difference in dorefa_last_error(). *frames gets the number of
 * frames replayed (may be NULL). */
int dorefa_replay(dorefa_dev *d, const char *path, uint64_t *frames);

#ifdef __cplusplus
}
#endif

#endif
