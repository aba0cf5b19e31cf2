/* One command through the golden-model device as a host would send it: frame, feed, parse. */
#ifndef DOREFA_DEVICE_CALL_H
#define DOREFA_DEVICE_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"

/* Encodes (op, tag, payload) as a frame, feeds it to dev and parses the one response frame.
 * Returns the response's status byte (DRF_ST_*), or -1 if no well-formed response with the same
 * opcode and tag came back. Up to cap bytes of response data (after the status) go to out, and
 * their full length to *out_len (either may be NULL). */
int ref_device_call(ref_device *dev, uint8_t op, uint8_t tag, const uint8_t *payload,
                    uint16_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif
