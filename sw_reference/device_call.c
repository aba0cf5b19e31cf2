/* One command through the golden-model device as a host would send it: frame, feed, parse. */
#include "device_call.h"

#include <stdlib.h>
#include <string.h>

#include "dorefa_proto.h"
#include "frame.h"

int ref_device_call(ref_device *dev, uint8_t op, uint8_t tag, const uint8_t *payload,
                    uint16_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    const size_t fcap = 65535u + DRF_FRAME_OVERHEAD; /* the largest frame either way */
    uint8_t *frame = malloc(fcap);
    frame_rx rx;
    int status = -1;
    if (!frame || frame_rx_init(&rx, 65535) != 0) {
        free(frame);
        return -1;
    }
    size_t n = frame_encode(frame, fcap, op, tag, payload, len);
    if (n) {
        ref_device_rx(dev, frame, n);
        size_t got = ref_device_tx(dev, frame, fcap);
        for (size_t i = 0; i < got; i++) {
            enum frame_event ev = frame_rx_feed(&rx, frame[i]);
            if (ev == FRAME_NONE)
                continue;
            if (ev == FRAME_OK && rx.opcode == (DRF_RESP_BIT | op) && rx.tag == tag && rx.len >= 1) {
                size_t dl = rx.len - 1u;
                if (out)
                    memcpy(out, rx.payload + 1, dl < cap ? dl : cap);
                if (out_len)
                    *out_len = dl;
                status = rx.payload[0];
            }
            break;
        }
    }
    frame_rx_free(&rx);
    free(frame);
    return status;
}
