/* Recording a command stream and replaying it against any backend (format: driver/README.md).
 * A recording holds every command frame the driver sent and the valid response it accepted
 * (retried copies and damaged responses are not recorded). Replay sends the recorded frames byte
 * for byte and compares the responses, masking what the spec leaves to the build: INFO's fields
 * after the version (spec 9.1) and STATS' cycles and busy_cycles (spec 9.10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "dorefa_proto.h"
#include "drf_driver.h"

#define REC_MAGIC "DRFAREC1"
#define REC_VERSION 1u
#define REC_HDR_BYTES 16u

int drf_record_open(dorefa_dev *d, const char *path)
{
    uint8_t h[REC_HDR_BYTES] = {0};
    d->rec = fopen(path, "wb");
    if (!d->rec)
        return drf_fail(d, DOREFA_E_FILE, "record: cannot create '%s'", path);
    d->rec_path = malloc(strlen(path) + 1);
    if (!d->rec_path) {
        fclose(d->rec);
        d->rec = NULL;
        return drf_fail(d, DOREFA_E_NOMEM, "record: out of memory");
    }
    strcpy(d->rec_path, path);
    memcpy(h, REC_MAGIC, 8);
    drf_put32(h + 8, REC_VERSION);
    if (fwrite(h, 1, sizeof h, d->rec) != sizeof h) {
        fclose(d->rec);
        d->rec = NULL;
        return drf_fail(d, DOREFA_E_FILE, "record: cannot write '%s'", path);
    }
    return DOREFA_OK;
}

int drf_record_frame(dorefa_dev *d, const uint8_t *cmd, size_t clen, const uint8_t *resp,
                     size_t rlen)
{
    uint8_t h[8];
    drf_put32(h, (uint32_t)clen);
    drf_put32(h + 4, (uint32_t)rlen);
    if (fwrite(h, 1, 8, d->rec) != 8 || fwrite(cmd, 1, clen, d->rec) != clen ||
        fwrite(resp, 1, rlen, d->rec) != rlen)
        return drf_fail(d, DOREFA_E_FILE, "record: write to '%s' failed", d->rec_path);
    return DOREFA_OK;
}

int drf_record_close(dorefa_dev *d)
{
    int bad = fclose(d->rec) != 0;
    d->rec = NULL;
    return bad ? drf_fail(d, DOREFA_E_FILE, "record: closing '%s' failed", d->rec_path)
               : DOREFA_OK;
}

/* ---- replay ---------------------------------------------------------------------------------- */

/* A well-formed frame: sync, length field, both CRCs. NULL or what is wrong. */
static const char *frame_problem(const uint8_t *f, size_t n)
{
    if (n < DRF_FRAME_OVERHEAD)
        return "shorter than a frame";
    if (f[0] != DRF_SYNC0 || f[1] != DRF_SYNC1)
        return "no sync bytes";
    if ((size_t)drf_get16(f + 4) + DRF_FRAME_OVERHEAD != n)
        return "length field disagrees with the record";
    if (crc16_ccitt(f, 6) != drf_get16(f + 6))
        return "bad header CRC";
    if (crc32_ieee(0, f, n - 4) != drf_get32(f + n - 4))
        return "bad frame CRC";
    return NULL;
}

static const char *info_field(size_t off)
{
    static const struct {
        size_t end;
        const char *name;
    } f[] = {{4, "magic"},       {6, "version"},     {8, "implementation"},
             {12, "max_payload"}, {16, "L words"},    {20, "R words"},
             {24, "D words"},     {28, "max_k"},      {30, "array rows"},
             {32, "array columns"}, {34, "DPU width"}, {36, "f_gamma lanes"},
             {40, "clock"},       {44, "rx_timeout_us"}, {48, "features"}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (off < f[i].end)
            return f[i].name;
    return "beyond INFO";
}

static const char *stats_field(size_t off)
{
    static const char *names[] = {"frames_ok", "frames_err", "hdr_errors", "junk_bytes",
                                  "dup_frames", "LFSR state"};
    if (off < 24)
        return names[off / 4];
    static const char *n64[] = {"gemm_ops", "bin_ops", "cycles", "busy_cycles"};
    return off < 56 ? n64[(off - 24) / 8] : "beyond STATS";
}

/* Describes data byte off of a response to cmd (a frame). */
static void describe_byte(char *out, size_t cap, const uint8_t *cmd, size_t off)
{
    uint8_t op = cmd[2];
    const uint8_t *p = cmd + DRF_HDR_BYTES;
    if (op == DRF_OP_INFO) {
        snprintf(out, cap, "INFO %s", info_field(off));
    } else if (op == DRF_OP_STATS) {
        snprintf(out, cap, "STATS %s", stats_field(off));
    } else if (op == DRF_OP_READ && drf_get16(cmd + 4) >= DRF_READ_BYTES && p[0] <= 2) {
        size_t wb = p[0] == DRF_MEM_D ? 4 : 8;
        snprintf(out, cap, "%c[%llu] byte %zu", "LRD"[p[0]],
                 (unsigned long long)drf_get32(p + 4) + off / wb, off % wb);
    } else {
        snprintf(out, cap, "%s data byte %zu", drf_opcode_name(op), off);
    }
}

/* Compares a response with the recorded one; 0 if equal under the masks, else writes what
 * differs into msg. */
static int compare_response(const uint8_t *cmd, const uint8_t *want, size_t wl, const uint8_t *got,
                            size_t gl, char *msg, size_t cap)
{
    uint8_t ws = want[DRF_HDR_BYTES], gs = got[DRF_HDR_BYTES];
    if (ws != gs) {
        snprintf(msg, cap, "status differs: recorded %s, got %s", drf_status_name(ws),
                 drf_status_name(gs));
        return 1;
    }
    if (wl != gl) {
        snprintf(msg, cap, "response length differs: recorded %zu data bytes, got %zu",
                 wl - DRF_FRAME_OVERHEAD - 1, gl - DRF_FRAME_OVERHEAD - 1);
        return 1;
    }
    size_t mask_lo = 0, mask_hi = 0; /* masked data bytes [lo, hi) */
    if (ws == DRF_ST_OK && cmd[2] == DRF_OP_INFO) {
        mask_lo = 6;
        mask_hi = DRF_INFO_RESP_BYTES;
    } else if (ws == DRF_ST_OK && cmd[2] == DRF_OP_STATS) {
        mask_lo = 40;
        mask_hi = DRF_STATS_RESP_BYTES;
    }
    size_t n = wl - DRF_FRAME_OVERHEAD - 1;
    const uint8_t *wd = want + DRF_HDR_BYTES + 1, *gd = got + DRF_HDR_BYTES + 1;
    for (size_t i = 0; i < n; i++) {
        if (wd[i] == gd[i] || (i >= mask_lo && i < mask_hi))
            continue;
        char where[96];
        describe_byte(where, sizeof where, cmd, i);
        snprintf(msg, cap, "%s differs: recorded 0x%02X, got 0x%02X", where, wd[i], gd[i]);
        return 1;
    }
    if (memcmp(want, got, 6)) {
        snprintf(msg, cap, "response header differs");
        return 1;
    }
    return 0;
}

int dorefa_replay(dorefa_dev *d, const char *path, uint64_t *frames)
{
    if (frames)
        *frames = 0;
    if (!d || !path)
        return DOREFA_E_ARG;
    FILE *f = fopen(path, "rb");
    if (!f)
        return drf_fail(d, DOREFA_E_FILE, "replay: cannot open '%s'", path);
    uint8_t h[REC_HDR_BYTES];
    uint8_t *cmd = malloc(DRF_FRAME_CAP), *want = malloc(DRF_FRAME_CAP);
    int rc = DOREFA_OK;
    uint64_t count = 0;
    if (!cmd || !want) {
        rc = drf_fail(d, DOREFA_E_NOMEM, "replay: out of memory");
        goto out;
    }
    if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, REC_MAGIC, 8)) {
        rc = drf_fail(d, DOREFA_E_FILE, "replay: '%s' is not a libdorefa recording", path);
        goto out;
    }
    if (drf_get32(h + 8) != REC_VERSION) {
        rc = drf_fail(d, DOREFA_E_FILE, "replay: '%s' has format version %u, expected %u", path,
                      drf_get32(h + 8), REC_VERSION);
        goto out;
    }
    for (;;) {
        uint8_t rh[8];
        size_t got = fread(rh, 1, 8, f);
        if (got == 0 && feof(f))
            break;
        uint64_t rec_no = count + 1;
        uint32_t cl = got == 8 ? drf_get32(rh) : 0, wl = got == 8 ? drf_get32(rh + 4) : 0;
        if (got != 8 || cl > DRF_FRAME_CAP || wl > DRF_FRAME_CAP ||
            fread(cmd, 1, cl, f) != cl || fread(want, 1, wl, f) != wl) {
            rc = drf_fail(d, DOREFA_E_FILE, "replay: '%s': record %llu is truncated", path,
                          (unsigned long long)rec_no);
            goto out;
        }
        const char *prob = frame_problem(cmd, cl);
        const char *which = "command";
        if (!prob) {
            which = "response";
            prob = frame_problem(want, wl);
        }
        if (!prob && (want[2] != (DRF_RESP_BIT | cmd[2]) || want[3] != cmd[3] || wl < 13))
            prob = "does not answer its command";
        if (prob) {
            rc = drf_fail(d, DOREFA_E_FILE, "replay: '%s': record %llu: %s frame %s", path,
                          (unsigned long long)rec_no, which, prob);
            goto out;
        }
        uint16_t plen = drf_get16(cmd + 4);
        char what[96];
        snprintf(what, sizeof what, "replay frame %llu (%s)", (unsigned long long)rec_no,
                 drf_opcode_name(cmd[2]));
        if (plen > d->info.max_payload) {
            rc = drf_fail(d, DOREFA_E_UNSUPPORTED,
                          "%s: %u payload bytes, but this device's max_payload is %u", what, plen,
                          d->info.max_payload);
            goto out;
        }
        rc = drf_transact(d, cmd, cl, what,
                          drf_timeout_for(d, cl, wl, drf_work(d, cmd[2], cmd + 8, plen)));
        if (rc)
            goto out;
        d->tag = cmd[3];
        count++;
        char msg[256];
        if (compare_response(cmd, want, wl, d->resp, d->resp_len, msg, sizeof msg)) {
            rc = drf_fail(d, DOREFA_E_MISMATCH, "%s, tag %u: %s", what, cmd[3], msg);
            goto out;
        }
    }
out:
    if (frames)
        *frames = count;
    free(cmd);
    free(want);
    fclose(f);
    return rc;
}
