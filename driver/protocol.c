/* The protocol layer of libdorefa: opening a device by URI, frames (spec 8), tags counted up,
 * response validation (CRCs, opcode 0x80|op, tag), timeouts and retries that resend the identical
 * frame (safe: spec 8.2 rule 5, the device's duplicate memory), and every command of spec 9. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_payload.h"
#include "dorefa_proto.h"
#include "drf_driver.h"

#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_RETRIES 5

const char *dorefa_strerror(int err)
{
    switch (err) {
    case DOREFA_OK: return "success";
    case DOREFA_E_ARG: return "bad argument";
    case DOREFA_E_NOMEM: return "out of memory";
    case DOREFA_E_URI: return "malformed or unknown device URI";
    case DOREFA_E_NODEV: return "no such device";
    case DOREFA_E_IO: return "transport error";
    case DOREFA_E_TIMEOUT: return "no response from the device (timeout, retries exhausted)";
    case DOREFA_E_GONE: return "the device disappeared";
    case DOREFA_E_PROTOCOL: return "responses kept failing protocol checks";
    case DOREFA_E_STATUS: return "the device answered an error status";
    case DOREFA_E_UNSUPPORTED: return "not supported (backend not built in, or device lacks it)";
    case DOREFA_E_MISMATCH: return "replay: a response differs from the recording";
    case DOREFA_E_FILE: return "record/replay file error";
    default: return "unknown error";
    }
}

static _Thread_local char open_err[768] = "no error";

const char *dorefa_open_error(void) { return open_err; }

int drf_fail(dorefa_dev *d, int code, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err, sizeof d->err, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *dorefa_last_error(const dorefa_dev *d) { return d ? d->err : "no device"; }
int dorefa_last_status(const dorefa_dev *d) { return d ? d->last_status : -1; }

void dorefa_link_stats_get(const dorefa_dev *d, dorefa_link_stats *ls)
{
    if (d && ls)
        *ls = d->ls;
}

int dorefa_fault_stats_get(const dorefa_dev *d, dorefa_fault_stats *fs)
{
    if (!d || !fs)
        return DOREFA_E_ARG;
    if (!d->faulty) {
        memset(fs, 0, sizeof *fs);
        return drf_fail((dorefa_dev *)d, DOREFA_E_UNSUPPORTED,
                        "fault statistics: the device was not opened through \"faulty:\"");
    }
    drf_transport_faulty_stats(d->faulty, fs);
    return DOREFA_OK;
}

/* ---- time ------------------------------------------------------------------------------------ */

static void sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int drf_timeout_for(const dorefa_dev *d, size_t flen, size_t resp_len, uint64_t work)
{
    /* Transfer at 50 kB/s or better (a 500 kbaud UART), compute at the reported clock with a
     * factor 4 of margin; the golden model (clock 0) answers at once. */
    uint64_t ms = (uint64_t)d->timeout_ms + (flen + resp_len) / 50u;
    if (d->have_info && d->info.clock_hz)
        ms += work * 4000u / d->info.clock_hz;
    return ms > 3600000u ? 3600000 : (int)ms;
}

uint64_t drf_work(const dorefa_dev *d, uint8_t op, const uint8_t *p, size_t len)
{
    uint64_t rows = d->info.rows ? d->info.rows : 1, cols = d->info.cols ? d->info.cols : 1;
    switch (op) {
    case DRF_OP_RESET:
        return (uint64_t)d->info.l_words + d->info.r_words + d->info.d_words;
    case DRF_OP_WRITE:
    case DRF_OP_ECHO:
        return len;
    case DRF_OP_READ:
        return len >= DRF_READ_BYTES ? drf_get32(p + 8) : 0;
    case DRF_OP_GEMM:
        if (len < DRF_GEMM_BYTES)
            return 0;
        /* array passes over the bit-plane pairs, and the drain of the results */
        return (drf_get32(p + 8) + rows - 1) / rows * ((drf_get32(p + 12) + cols - 1) / cols) *
                   (((uint64_t)drf_get32(p + 16) + 63) / 64) * (p[20] & 15) * (p[21] & 15) +
               4u * (uint64_t)drf_get32(p + 8) * drf_get32(p + 12);
    case DRF_OP_QUANT_GRAD:
        return len >= 12 ? 64u * (uint64_t)drf_get32(p + 4) * drf_get32(p + 8) : 0;
    case DRF_OP_QUANT_ACT:
        return len >= 14 ? (uint64_t)drf_get32(p + 4) * drf_get32(p + 8) *
                               (1u + (1u << (p[12] & 15)))
                         : 0;
    case DRF_OP_PACK:
        return len >= 20 ? 8u * (uint64_t)drf_get32(p + 12) * drf_get32(p + 16) : 0;
    default:
        return 0;
    }
}

/* ---- one exchange ---------------------------------------------------------------------------- */

static int is_link_nack(int st)
{
    return st == DRF_ST_BAD_CRC || st == DRF_ST_TRUNCATED || st == DRF_ST_TOO_LONG;
}

int drf_transact(dorefa_dev *d, const uint8_t *frame, size_t flen, const char *what,
                 int timeout_ms)
{
    drf_transport *t = d->t;
    const uint8_t op = frame[2], tag = frame[3];
    const int attempts = d->retries + 1;
    int n_timeout = 0, n_damaged = 0, n_nack = 0, last_nack = 0;
    for (int a = 0; a < attempts; a++) {
        if (a > 0) {
            d->ls.retries++;
            if (t->ops->purge)
                t->ops->purge(t);
        }
        frame_rx_reset(&d->rx);
        int rc = t->ops->write(t, frame, flen, timeout_ms);
        if (rc == DOREFA_E_GONE || rc == DOREFA_E_NOMEM)
            return drf_fail(d, rc, "%s (tag %u): %s", what, tag, t->err);
        if (rc < 0) {
            /* Part of the frame may be in the device: let its idle rule (spec 8.2 rule 7) end
             * the frame before the resend. */
            n_timeout++;
            d->ls.timeouts++;
            sleep_us(2u * (d->have_info ? d->info.rx_timeout_us : 10000u) + 1000u);
            continue;
        }
        d->ls.frames_sent++;
        d->ls.bytes_sent += flen;
        /* timeout_ms is the longest silence accepted: each read waits that long for its first
         * byte. (A deadline over the whole response would mix the wall clock with a simulated
         * device's own time.) A line that keeps babbling without a valid answer is cut off. */
        size_t heard = 0;
        int resend = 0;
        while (!resend) {
            long n = t->ops->read(t, d->rbuf, DRF_FRAME_CAP, timeout_ms);
            if (n < 0)
                return drf_fail(d, (int)n, "%s (tag %u): %s", what, tag, t->err);
            if (n == 0) {
                /* Nothing for timeout_ms: the line has been quiet longer than rx_timeout_us, so
                 * the device has closed any partial frame; resending is safe. */
                n_timeout++;
                d->ls.timeouts++;
                break;
            }
            heard += (size_t)n;
            d->ls.bytes_received += (uint64_t)n;
            for (long i = 0; i < n && !resend; i++) {
                enum frame_event ev = frame_rx_feed(&d->rx, d->rbuf[i]);
                if (ev == FRAME_NONE)
                    continue;
                if (ev != FRAME_OK) {
                    n_damaged++;
                    d->ls.bad_responses++;
                    /* A damaged frame with our tag: the device has answered, resend at once.
                     * A damaged header: wait for the timeout. */
                    if (ev == FRAME_BAD_CRC && d->rx.tag == tag &&
                        d->rx.opcode == (DRF_RESP_BIT | op))
                        resend = 1;
                    continue;
                }
                if (d->rx.tag != tag)
                    continue; /* a late answer to an earlier command (or a copy of it) */
                if (d->rx.opcode != (DRF_RESP_BIT | op) || d->rx.len < 1) {
                    n_damaged++;
                    d->ls.bad_responses++;
                    resend = 1;
                    continue;
                }
                if (is_link_nack(d->rx.payload[0])) {
                    /* The device received a damaged copy of the frame. */
                    n_nack++;
                    last_nack = d->rx.payload[0];
                    resend = 1;
                    continue;
                }
                d->ls.frames_received++;
                memcpy(d->resp, d->rx.hdr, DRF_HDR_BYTES);
                memcpy(d->resp + DRF_HDR_BYTES, d->rx.payload, d->rx.len);
                drf_put32(d->resp + DRF_HDR_BYTES + d->rx.len, d->rx.fcrc);
                d->resp_len = DRF_FRAME_OVERHEAD + (size_t)d->rx.len;
                d->last_status = d->rx.payload[0];
                frame_rx_reset(&d->rx);
                if (d->rec)
                    return drf_record_frame(d, frame, flen, d->resp, d->resp_len);
                return DOREFA_OK;
            }
            if (!resend && heard > 4u * DRF_FRAME_CAP) {
                n_damaged++;
                d->ls.bad_responses++;
                resend = 1;
            }
        }
    }
    char detail[160];
    snprintf(detail, sizeof detail, "%d timeout%s, %d damaged response%s, %d damaged command%s",
             n_timeout, n_timeout == 1 ? "" : "s", n_damaged, n_damaged == 1 ? "" : "s", n_nack,
             n_nack == 1 ? "" : "s");
    if (n_nack)
        snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " (last: %s)",
                 drf_status_name(last_nack));
    if (n_damaged || n_nack)
        return drf_fail(d, DOREFA_E_PROTOCOL,
                        "%s (tag %u): no valid response after %d attempt%s: %s", what, tag,
                        attempts, attempts == 1 ? "" : "s", detail);
    return drf_fail(d, DOREFA_E_TIMEOUT,
                    "%s (tag %u): no response after %d attempt%s of %d ms each (%s)", what, tag,
                    attempts, attempts == 1 ? "" : "s", timeout_ms, detail);
}

/* One command: frames it with the next tag and exchanges it. The response data (after the
 * status byte) goes to data (up to cap bytes, full length in *dlen). With want_ok, a status
 * other than OK is DOREFA_E_STATUS. */
static int call(dorefa_dev *d, uint8_t op, const uint8_t *payload, uint16_t len, uint8_t *data,
                size_t cap, size_t *dlen, size_t resp_len, int want_ok, const char *what)
{
    if (d->have_info && len > d->info.max_payload)
        return drf_fail(d, DOREFA_E_ARG, "%s: payload of %u bytes exceeds the device's max_payload %u",
                        what, len, d->info.max_payload);
    size_t flen = frame_encode(d->cmd, DRF_FRAME_CAP, op, ++d->tag, payload, len);
    if (!flen)
        return drf_fail(d, DOREFA_E_ARG, "%s: cannot encode the frame", what);
    int rc = drf_transact(d, d->cmd, flen, what,
                          drf_timeout_for(d, flen, resp_len, drf_work(d, op, payload, len)));
    if (rc)
        return rc;
    size_t dl = d->rx.len - 1u;
    if (data && cap)
        memcpy(data, d->rx.payload + 1, dl < cap ? dl : cap);
    if (dlen)
        *dlen = dl;
    int st = d->rx.payload[0];
    if (want_ok && st != DRF_ST_OK)
        return drf_fail(d, DOREFA_E_STATUS, "%s: the device answered %s (status 0x%02X)", what,
                        drf_status_name(st), st);
    return DOREFA_OK;
}

static int expect_len(dorefa_dev *d, size_t got, size_t want, const char *what)
{
    if (got == want)
        return DOREFA_OK;
    return drf_fail(d, DOREFA_E_PROTOCOL, "%s: response carries %zu data bytes, expected %zu",
                    what, got, want);
}

/* ---- open / close ---------------------------------------------------------------------------- */

static void decode_info(dorefa_info *in, const uint8_t *p)
{
    in->version = drf_get16(p + 4);
    in->implementation = drf_get16(p + 6);
    in->max_payload = drf_get32(p + 8);
    in->l_words = drf_get32(p + 12);
    in->r_words = drf_get32(p + 16);
    in->d_words = drf_get32(p + 20);
    in->max_k = drf_get32(p + 24);
    in->rows = drf_get16(p + 28);
    in->cols = drf_get16(p + 30);
    in->word_bits = drf_get16(p + 32);
    in->fgamma_lanes = drf_get16(p + 34);
    in->clock_hz = drf_get32(p + 36);
    in->rx_timeout_us = drf_get32(p + 40);
    in->features = drf_get32(p + 44);
}

/* Creates the transport a URI names ("faulty:" wraps another URI). */
static int open_transport(const char *uri, drf_transport **out, drf_transport **faulty,
                          char *err, size_t errlen)
{
    static const struct {
        const char *name;
        int (*open)(const char *, drf_transport **, char *, size_t);
    } backends[] = {
        {"ref", drf_transport_ref_open},
        {"sim", drf_transport_sim_open},
        {"usb", drf_transport_usb_open},
    };
    *out = NULL;
    if (!strncmp(uri, "faulty:", 7)) {
        const char *q = strrchr(uri + 7, '?');
        if (!q) {
            snprintf(err, errlen,
                     "'%s': a faulty URI needs options, e.g. faulty:ref?rate=0.001&seed=1", uri);
            return DOREFA_E_URI;
        }
        size_t n = (size_t)(q - (uri + 7));
        char *inner_uri = malloc(n + 1);
        if (!inner_uri) {
            snprintf(err, errlen, "out of memory");
            return DOREFA_E_NOMEM;
        }
        memcpy(inner_uri, uri + 7, n);
        inner_uri[n] = 0;
        drf_transport *inner;
        int rc = !strncmp(inner_uri, "faulty:", 7)
                     ? (snprintf(err, errlen, "'%s': faulty: cannot wrap itself", uri),
                        DOREFA_E_URI)
                     : open_transport(inner_uri, &inner, NULL, err, errlen);
        free(inner_uri);
        if (rc)
            return rc;
        rc = drf_transport_faulty_open(q + 1, inner, out, err, errlen);
        if (rc) {
            inner->ops->close(inner);
            return rc;
        }
        if (faulty)
            *faulty = *out;
        return DOREFA_OK;
    }
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        size_t l = strlen(backends[i].name);
        if (strncmp(uri, backends[i].name, l) || (uri[l] != 0 && uri[l] != ':'))
            continue;
        int rc = backends[i].open(uri[l] ? uri + l + 1 : "", out, err, errlen);
        if (rc == DOREFA_OK && !*out) {
            snprintf(err, errlen, "%s: the backend returned no transport", backends[i].name);
            return DOREFA_E_IO;
        }
        return rc;
    }
    snprintf(err, errlen,
             "unknown device URI '%s' (expected ref[:k=v,...], sim[:args], "
             "usb[:VID:PID[:serial]] or faulty:<uri>?rate=R)",
             uri);
    return DOREFA_E_URI;
}

void dorefa_close(dorefa_dev *d)
{
    if (!d)
        return;
    if (d->rec)
        drf_record_close(d);
    free(d->rec_path);
    if (d->t)
        d->t->ops->close(d->t);
    frame_rx_free(&d->rx);
    free(d->cmd);
    free(d->rbuf);
    free(d->resp);
    free(d->pl);
    free(d);
}

int dorefa_open(const char *uri, const dorefa_options *opt, dorefa_dev **out)
{
    if (out)
        *out = NULL;
    if (!uri || !out) {
        snprintf(open_err, sizeof open_err, "dorefa_open: uri and out must not be NULL");
        return DOREFA_E_ARG;
    }
    if (opt && opt->timeout_ms < 0) {
        snprintf(open_err, sizeof open_err, "dorefa_open: timeout_ms must be >= 0 (0: default)");
        return DOREFA_E_ARG;
    }
    dorefa_dev *d = calloc(1, sizeof *d);
    if (!d || frame_rx_init(&d->rx, 65535) != 0) {
        free(d);
        snprintf(open_err, sizeof open_err, "dorefa_open: out of memory");
        return DOREFA_E_NOMEM;
    }
    d->cmd = malloc(DRF_FRAME_CAP);
    d->rbuf = malloc(DRF_FRAME_CAP);
    d->resp = malloc(DRF_FRAME_CAP);
    d->pl = malloc(DRF_FRAME_CAP);
    if (!d->cmd || !d->rbuf || !d->resp || !d->pl) {
        dorefa_close(d);
        snprintf(open_err, sizeof open_err, "dorefa_open: out of memory");
        return DOREFA_E_NOMEM;
    }
    d->timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
    d->retries = opt && opt->retries >= 0 ? opt->retries : DEFAULT_RETRIES;
    d->last_status = -1;
    snprintf(d->err, sizeof d->err, "no error");

    char err[512] = "";
    int rc = open_transport(uri, &d->t, &d->faulty, err, sizeof err);
    if (rc) {
        snprintf(open_err, sizeof open_err, "%s", err);
        dorefa_close(d);
        return rc;
    }
    if (opt && opt->record_path && (rc = drf_record_open(d, opt->record_path)) != DOREFA_OK) {
        snprintf(open_err, sizeof open_err, "%s", d->err);
        dorefa_close(d);
        return rc;
    }
    /* The driver adapts to the build: INFO first (spec 9.1). */
    uint8_t info[DRF_INFO_RESP_BYTES];
    size_t il = 0;
    rc = call(d, DRF_OP_INFO, NULL, 0, info, sizeof info, &il, DRF_INFO_RESP_BYTES, 1,
              "INFO at open");
    if (!rc)
        rc = expect_len(d, il, DRF_INFO_RESP_BYTES, "INFO at open");
    if (!rc && memcmp(info, "DRFA", 4))
        rc = drf_fail(d, DOREFA_E_PROTOCOL, "INFO at open: bad magic (not a DoReFa device)");
    if (!rc && drf_get16(info + 4) != DRF_PROTOCOL_VERSION)
        rc = drf_fail(d, DOREFA_E_UNSUPPORTED,
                      "INFO at open: protocol version %u, this driver speaks version %u",
                      drf_get16(info + 4), DRF_PROTOCOL_VERSION);
    if (!rc) {
        decode_info(&d->info, info);
        if (d->info.max_payload < DRF_MIN_MAX_PAYLOAD || d->info.max_k < 1 ||
            d->info.max_k > DRF_K_MAX || !d->info.l_words || !d->info.r_words ||
            !d->info.d_words)
            rc = drf_fail(d, DOREFA_E_PROTOCOL,
                          "INFO at open: implausible geometry (max_payload %u, max_k %u, L %u, "
                          "R %u, D %u words)",
                          d->info.max_payload, d->info.max_k, d->info.l_words, d->info.r_words,
                          d->info.d_words);
    }
    if (rc) {
        snprintf(open_err, sizeof open_err, "%.200s: %.500s", uri, d->err);
        dorefa_close(d);
        return rc;
    }
    d->have_info = 1;
    /* A timeout must outlast the device's idle rule, or a resend could run into a frame the
     * device has not yet closed. */
    int min_ms = (int)((2u * (uint64_t)d->info.rx_timeout_us + 999u) / 1000u) + 10;
    if (d->timeout_ms < min_ms)
        d->timeout_ms = min_ms;
    *out = d;
    return DOREFA_OK;
}

/* ---- commands -------------------------------------------------------------------------------- */

int dorefa_info_get(dorefa_dev *d, dorefa_info *info)
{
    if (!d || !info)
        return DOREFA_E_ARG;
    uint8_t p[DRF_INFO_RESP_BYTES];
    size_t n = 0;
    int rc = call(d, DRF_OP_INFO, NULL, 0, p, sizeof p, &n, sizeof p, 1, "INFO");
    if (!rc)
        rc = expect_len(d, n, sizeof p, "INFO");
    if (!rc && memcmp(p, "DRFA", 4))
        rc = drf_fail(d, DOREFA_E_PROTOCOL, "INFO: bad magic");
    if (rc)
        return rc;
    decode_info(info, p);
    return DOREFA_OK;
}

int dorefa_reset(dorefa_dev *d)
{
    if (!d)
        return DOREFA_E_ARG;
    return call(d, DRF_OP_RESET, NULL, 0, NULL, 0, NULL, 0, 1, "RESET");
}

static int mem_check(dorefa_dev *d, int mem, uint32_t addr, uint32_t count, const void *buf,
                     const char *what)
{
    if (mem < DRF_MEM_L || mem > DRF_MEM_D)
        return drf_fail(d, DOREFA_E_ARG, "%s: memory id %d (expected 0 L, 1 R, 2 D)", what, mem);
    if (count && !buf)
        return drf_fail(d, DOREFA_E_ARG, "%s: NULL buffer", what);
    if ((uint64_t)addr + count > 0x100000000ull)
        return drf_fail(d, DOREFA_E_ARG, "%s: address %u + %u words overflows 32 bits", what,
                        addr, count);
    return DOREFA_OK;
}

static const char mem_name[3] = {'L', 'R', 'D'};

int dorefa_write(dorefa_dev *d, int mem, uint32_t addr, const void *words, uint32_t count)
{
    if (!d)
        return DOREFA_E_ARG;
    int rc = mem_check(d, mem, addr, count, words, "WRITE");
    if (rc)
        return rc;
    const uint32_t wb = mem == DRF_MEM_D ? 4u : 8u;
    const uint32_t per = (d->info.max_payload - DRF_WRITE_HDR_BYTES) / wb;
    char what[96];
    for (uint32_t done = 0; done < count;) {
        uint32_t c = count - done < per ? count - done : per;
        drf_encode_write_head(d->pl, (unsigned)mem, addr + done);
        for (uint32_t i = 0; i < c; i++) {
            if (wb == 4)
                drf_put32(d->pl + 8 + 4 * (size_t)i, ((const uint32_t *)words)[done + i]);
            else
                drf_put64(d->pl + 8 + 8 * (size_t)i, ((const uint64_t *)words)[done + i]);
        }
        snprintf(what, sizeof what, "WRITE %c[%u..%u]", mem_name[mem], addr + done,
                 addr + done + c - 1);
        rc = call(d, DRF_OP_WRITE, d->pl, (uint16_t)(8 + c * wb), NULL, 0, NULL, 0, 1, what);
        if (rc)
            return rc;
        done += c;
    }
    return DOREFA_OK;
}

int dorefa_read(dorefa_dev *d, int mem, uint32_t addr, void *words, uint32_t count)
{
    if (!d)
        return DOREFA_E_ARG;
    int rc = mem_check(d, mem, addr, count, words, "READ");
    if (rc)
        return rc;
    const uint32_t wb = mem == DRF_MEM_D ? 4u : 8u;
    const uint32_t per = (d->info.max_payload - 1u) / wb;
    char what[96];
    for (uint32_t done = 0; done < count;) {
        uint32_t c = count - done < per ? count - done : per;
        uint8_t p[DRF_READ_BYTES];
        size_t n = 0;
        drf_encode_read(p, (unsigned)mem, addr + done, c);
        snprintf(what, sizeof what, "READ %c[%u..%u]", mem_name[mem], addr + done,
                 addr + done + c - 1);
        rc = call(d, DRF_OP_READ, p, sizeof p, d->pl, DRF_FRAME_CAP, &n, (size_t)c * wb, 1, what);
        if (!rc)
            rc = expect_len(d, n, (size_t)c * wb, what);
        if (rc)
            return rc;
        for (uint32_t i = 0; i < c; i++) {
            if (wb == 4)
                ((uint32_t *)words)[done + i] = drf_get32(d->pl + 4 * (size_t)i);
            else
                ((uint64_t *)words)[done + i] = drf_get64(d->pl + 8 * (size_t)i);
        }
        done += c;
    }
    return DOREFA_OK;
}

int dorefa_seed(dorefa_dev *d, uint32_t seed)
{
    if (!d)
        return DOREFA_E_ARG;
    uint8_t p[DRF_SEED_BYTES];
    drf_put32(p, seed);
    char what[48];
    snprintf(what, sizeof what, "SEED 0x%08X", seed);
    return call(d, DRF_OP_SEED, p, sizeof p, NULL, 0, NULL, 0, 1, what);
}

int dorefa_stats_get(dorefa_dev *d, int clear, dorefa_stats *st)
{
    if (!d || !st)
        return DOREFA_E_ARG;
    uint8_t p[DRF_STATS_BYTES] = {clear ? 1u : 0u, 0, 0, 0}, r[DRF_STATS_RESP_BYTES];
    size_t n = 0;
    int rc = call(d, DRF_OP_STATS, p, sizeof p, r, sizeof r, &n, sizeof r, 1, "STATS");
    if (!rc)
        rc = expect_len(d, n, sizeof r, "STATS");
    if (rc)
        return rc;
    st->frames_ok = drf_get32(r);
    st->frames_err = drf_get32(r + 4);
    st->hdr_errors = drf_get32(r + 8);
    st->junk_bytes = drf_get32(r + 12);
    st->dup_frames = drf_get32(r + 16);
    st->lfsr = drf_get32(r + 20);
    st->gemm_ops = drf_get64(r + 24);
    st->bin_ops = drf_get64(r + 32);
    st->cycles = drf_get64(r + 40);
    st->busy_cycles = drf_get64(r + 48);
    return DOREFA_OK;
}

int dorefa_echo(dorefa_dev *d, const uint8_t *data, uint16_t len, uint8_t *back)
{
    if (!d || (len && (!data || !back)))
        return DOREFA_E_ARG;
    if ((uint32_t)len + 1u > d->info.max_payload)
        return drf_fail(d, DOREFA_E_ARG,
                        "ECHO: %u bytes do not fit a response (max_payload %u: at most %u)", len,
                        d->info.max_payload, d->info.max_payload - 1u);
    size_t n = 0;
    int rc = call(d, DRF_OP_ECHO, data, len, back, len, &n, len, 1, "ECHO");
    if (!rc)
        rc = expect_len(d, n, len, "ECHO");
    return rc;
}

int dorefa_gemm(dorefa_dev *d, const dorefa_gemm_args *a)
{
    if (!d || !a)
        return DOREFA_E_ARG;
    uint8_t p[DRF_GEMM_BYTES];
    drf_encode_gemm(p, &(drf_gemm_args){a->l_base, a->r_base, a->m, a->n, a->k, a->bits_l,
                                        a->bits_r, a->fmt_l, a->fmt_r, a->mode, a->dst, a->ldc,
                                        a->scale});
    char what[160];
    snprintf(what, sizeof what, "GEMM M=%u N=%u K=%u bits %u x %u fmt %c%c %s dst %u", a->m, a->n,
             a->k, a->bits_l, a->bits_r, a->fmt_l ? 'S' : 'U', a->fmt_r ? 'S' : 'U',
             a->mode ? "ACC64" : "WRITE32", a->dst);
    return call(d, DRF_OP_GEMM, p, sizeof p, NULL, 0, NULL, 0, 1, what);
}

int dorefa_quant_grad(dorefa_dev *d, const dorefa_qgrad_args *a)
{
    if (!d || !a)
        return DOREFA_E_ARG;
    uint8_t p[DRF_QGRAD_BYTES];
    drf_encode_qgrad(p, &(drf_qgrad_args){a->src, a->rows, a->elems, a->bits, a->dst, a->mdst});
    char what[128];
    snprintf(what, sizeof what, "QUANT_GRAD S=%u E=%u G=%u src %u dst %u mdst %u", a->rows,
             a->elems, a->bits, a->src, a->dst, a->mdst);
    return call(d, DRF_OP_QUANT_GRAD, p, sizeof p, NULL, 0, NULL, 0, 1, what);
}

int dorefa_quant_act(dorefa_dev *d, const dorefa_qact_args *a)
{
    if (!d || !a)
        return DOREFA_E_ARG;
    uint8_t p[DRF_QACT_BYTES];
    drf_encode_qact(p, &(drf_qact_args){a->src, a->m, a->n, a->bits, a->axis, a->thr, a->dst});
    char what[128];
    snprintf(what, sizeof what, "QUANT_ACT M=%u N=%u A=%u axis %u src %u thr %u dst %u", a->m,
             a->n, a->bits, a->axis, a->src, a->thr, a->dst);
    return call(d, DRF_OP_QUANT_ACT, p, sizeof p, NULL, 0, NULL, 0, 1, what);
}

int dorefa_pack(dorefa_dev *d, const dorefa_pack_args *a)
{
    if (!d || !a)
        return DOREFA_E_ARG;
    uint8_t p[DRF_PACK_BYTES];
    drf_encode_pack(p, &(drf_pack_args){a->src, a->stride_r, a->stride_k, a->rows, a->k, a->bits,
                                        a->dst_mem, a->dst});
    char what[128];
    snprintf(what, sizeof what, "PACK rows=%u K=%u bits %u to %s[%u]", a->rows, a->k, a->bits,
             a->dst_mem == 0 ? "L" : a->dst_mem == 1 ? "R" : "?", a->dst);
    return call(d, DRF_OP_PACK, p, sizeof p, NULL, 0, NULL, 0, 1, what);
}

int dorefa_call(dorefa_dev *d, uint8_t op, const uint8_t *payload, uint16_t len, uint8_t *status,
                uint8_t *resp, size_t cap, size_t *resp_len)
{
    if (!d || (len && !payload) || (cap && !resp))
        return DOREFA_E_ARG;
    char what[48];
    snprintf(what, sizeof what, "%s (opcode 0x%02X)", drf_opcode_name(op), op);
    int rc = call(d, op, payload, len, resp, cap, resp_len, d->info.max_payload, 0, what);
    if (!rc && status)
        *status = (uint8_t)d->last_status;
    return rc;
}
