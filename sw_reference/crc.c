/* CRC-16/CCITT-FALSE and CRC-32 (IEEE) for the wire protocol, a nibble table each: small, no
 * initialisation (so thread-safe), and far from the bottleneck of any link. */
#include "crc.h"

/* CRC of each 4-bit value, MSB-first poly 0x1021 and reflected poly 0xEDB88320. */
static const uint16_t crc16_nib[16] = {
    0x0000u, 0x1021u, 0x2042u, 0x3063u, 0x4084u, 0x50A5u, 0x60C6u, 0x70E7u,
    0x8108u, 0x9129u, 0xA14Au, 0xB16Bu, 0xC18Cu, 0xD1ADu, 0xE1CEu, 0xF1EFu
};
static const uint32_t crc32_nib[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu
};

uint16_t crc16_ccitt(const uint8_t *data, size_t len)
{
    uint16_t crc = 0xFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        crc = (uint16_t)((crc << 4) ^ crc16_nib[crc >> 12]);
        crc = (uint16_t)((crc << 4) ^ crc16_nib[crc >> 12]);
    }
    return crc;
}

uint32_t crc32_ieee(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc32_nib[crc & 0xFu];
        crc = (crc >> 4) ^ crc32_nib[crc & 0xFu];
    }
    return ~crc;
}
