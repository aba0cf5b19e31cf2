/* Frame encoding and the byte-at-a-time frame receiver of spec 8.1-8.2, shared by the golden
 * model (command side) and the driver (response side). */
#ifndef DOREFA_FRAME_H
#define DOREFA_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Writes a complete frame into out (cap bytes); returns its length, or 0 if cap is too small. */
size_t frame_encode(uint8_t *out, size_t cap, uint8_t opcode, uint8_t tag, const uint8_t *payload,
                    uint16_t len);

/* What frame_rx_feed / frame_rx_idle report. */
enum frame_event {
    FRAME_NONE = 0,      /* byte consumed, nothing complete yet */
    FRAME_OK,            /* a frame with valid HCRC and FCRC is in rx->hdr / rx->payload */
    FRAME_BAD_CRC,       /* valid header, FCRC mismatch (opcode/tag valid) */
    FRAME_TOO_LONG,      /* valid header with len > max_payload; its bytes were discarded */
    FRAME_TRUNCATED,     /* idle inside a frame after a valid header */
    FRAME_HDR_ERROR,     /* HCRC mismatch, or idle inside an incomplete header: dropped */
};

typedef struct {
    uint32_t max_payload;
    /* state */
    int state;
    uint32_t pos;   /* bytes of the current section received */
    uint32_t skip;  /* bytes still to discard (oversize) */
    uint8_t hdr[8];
    uint8_t crc_bytes[4];
    uint32_t crc;   /* running CRC-32 of header + payload */
    uint8_t *payload; /* max_payload bytes, owned */
    /* results of the last FRAME_* event */
    uint8_t opcode, tag;
    uint16_t len;
    uint32_t fcrc;  /* FCRC of the last complete frame */
    /* statistics */
    uint32_t junk_bytes;
} frame_rx;

int frame_rx_init(frame_rx *rx, uint32_t max_payload); /* 0 or -1 (out of memory) */
void frame_rx_free(frame_rx *rx);
void frame_rx_reset(frame_rx *rx);                    /* back to hunting */
enum frame_event frame_rx_feed(frame_rx *rx, uint8_t byte);
enum frame_event frame_rx_idle(frame_rx *rx);

#endif
