/* Frame encoding and the byte-at-a-time receiver of spec 8.1-8.2 (rules 1-4 and 7). The receiver
 * only frames: it knows nothing of opcodes or directions, so the driver uses it for responses. */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "dorefa_proto.h"

enum rx_state {
    RX_HUNT = 0, /* looking for SYNC0 */
    RX_SYNC1,    /* one SYNC0 seen (not yet counted as junk), expecting SYNC1 */
    RX_HEADER,   /* header bytes 2..7 */
    RX_PAYLOAD,
    RX_FCRC,
    RX_DISCARD,  /* oversize frame: skipping len + 4 bytes */
};

size_t frame_encode(uint8_t *out, size_t cap, uint8_t opcode, uint8_t tag, const uint8_t *payload,
                    uint16_t len)
{
    size_t total = (size_t)len + DRF_FRAME_OVERHEAD;
    if (!out || cap < total || (len && !payload))
        return 0;
    out[0] = DRF_SYNC0;
    out[1] = DRF_SYNC1;
    out[2] = opcode;
    out[3] = tag;
    drf_put16(out + 4, len);
    drf_put16(out + 6, crc16_ccitt(out, 6));
    if (len)
        memcpy(out + DRF_HDR_BYTES, payload, len);
    drf_put32(out + DRF_HDR_BYTES + len, crc32_ieee(0, out, DRF_HDR_BYTES + (size_t)len));
    return total;
}

int frame_rx_init(frame_rx *rx, uint32_t max_payload)
{
    memset(rx, 0, sizeof *rx);
    rx->max_payload = max_payload;
    rx->payload = malloc(max_payload ? max_payload : 1u);
    if (!rx->payload)
        return -1;
    frame_rx_reset(rx);
    return 0;
}

void frame_rx_free(frame_rx *rx)
{
    free(rx->payload);
    rx->payload = NULL;
}

/* Back to hunting; the statistics (junk_bytes) are kept. */
void frame_rx_reset(frame_rx *rx)
{
    rx->state = RX_HUNT;
    rx->pos = 0;
    rx->skip = 0;
}

/* A complete header with a valid HCRC: decide between payload and oversize discard. */
static void rx_header_done(frame_rx *rx)
{
    rx->opcode = rx->hdr[2];
    rx->tag = rx->hdr[3];
    rx->len = drf_get16(rx->hdr + 4);
    rx->pos = 0;
    if (rx->len > rx->max_payload) {
        rx->skip = (uint32_t)rx->len + DRF_FCRC_BYTES;
        rx->state = RX_DISCARD;
        return;
    }
    rx->crc = crc32_ieee(0, rx->hdr, DRF_HDR_BYTES);
    rx->state = rx->len ? RX_PAYLOAD : RX_FCRC;
}

enum frame_event frame_rx_feed(frame_rx *rx, uint8_t byte)
{
    switch (rx->state) {
    case RX_HUNT:
        if (byte == DRF_SYNC0)
            rx->state = RX_SYNC1;
        else
            rx->junk_bytes++;
        return FRAME_NONE;
    case RX_SYNC1:
        if (byte == DRF_SYNC1) {
            rx->hdr[0] = DRF_SYNC0;
            rx->hdr[1] = DRF_SYNC1;
            rx->pos = 2;
            rx->state = RX_HEADER;
        } else if (byte == DRF_SYNC0) {
            rx->junk_bytes++; /* the earlier SYNC0; keep hunting from this one */
        } else {
            rx->junk_bytes += 2;
            rx->state = RX_HUNT;
        }
        return FRAME_NONE;
    case RX_HEADER:
        rx->hdr[rx->pos++] = byte;
        if (rx->pos < DRF_HDR_BYTES)
            return FRAME_NONE;
        if (crc16_ccitt(rx->hdr, 6) != drf_get16(rx->hdr + 6)) {
            /* Rule 2: drop silently, resume hunting with the next byte (no rescan). */
            frame_rx_reset(rx);
            return FRAME_HDR_ERROR;
        }
        rx_header_done(rx);
        return FRAME_NONE;
    case RX_PAYLOAD:
        rx->payload[rx->pos++] = byte;
        if (rx->pos == rx->len) {
            rx->pos = 0;
            rx->state = RX_FCRC;
        }
        return FRAME_NONE;
    case RX_FCRC:
        rx->crc_bytes[rx->pos++] = byte;
        if (rx->pos < DRF_FCRC_BYTES)
            return FRAME_NONE;
        rx->fcrc = drf_get32(rx->crc_bytes);
        rx->crc = crc32_ieee(rx->crc, rx->payload, rx->len);
        frame_rx_reset(rx);
        return rx->crc == rx->fcrc ? FRAME_OK : FRAME_BAD_CRC;
    case RX_DISCARD:
        if (--rx->skip)
            return FRAME_NONE;
        frame_rx_reset(rx);
        return FRAME_TOO_LONG;
    default:
        frame_rx_reset(rx);
        return FRAME_NONE;
    }
}

enum frame_event frame_rx_idle(frame_rx *rx)
{
    enum frame_event ev = FRAME_NONE;
    switch (rx->state) {
    case RX_SYNC1:
        rx->junk_bytes++; /* a lone SYNC0: no header had begun, so it was hunting junk */
        break;
    case RX_HEADER:
        ev = FRAME_HDR_ERROR;
        break;
    case RX_PAYLOAD:
    case RX_FCRC:
        ev = FRAME_TRUNCATED;
        break;
    case RX_DISCARD:
        ev = FRAME_TOO_LONG;
        break;
    default:
        break;
    }
    frame_rx_reset(rx);
    return ev;
}
