/* The two CRCs of the wire protocol (spec 8.1). */
#ifndef DOREFA_CRC_H
#define DOREFA_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR. */
uint16_t crc16_ccitt(const uint8_t *data, size_t len);

/* CRC-32 (IEEE 802.3, zlib's crc32): pass crc = 0 to start, the previous result to continue. */
uint32_t crc32_ieee(uint32_t crc, const uint8_t *data, size_t len);

#endif
