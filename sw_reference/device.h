/* The golden-model device: memories, LFSR, counters and the command executor of spec 8-9.
 * It consumes command bytes and produces response bytes, exactly like a board on a serial link. */
#ifndef DOREFA_DEVICE_H
#define DOREFA_DEVICE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ref_device ref_device;

typedef struct {
    uint32_t max_payload;   /* default 4104 */
    uint32_t l_words;       /* default 65536 */
    uint32_t r_words;       /* default 65536 */
    uint32_t d_words;       /* default 1048576 */
    uint32_t max_k;         /* default 32768 */
    uint32_t rx_timeout_us; /* default 10000 */
} ref_device_config;

/* Fills cfg with the golden-model defaults of spec 9.1. */
void ref_device_config_default(ref_device_config *cfg);

/* cfg may be NULL for the defaults. Returns NULL on bad config or out of memory. */
ref_device *ref_device_new(const ref_device_config *cfg);
void ref_device_free(ref_device *dev);

/* Feeds received bytes; responses are queued for ref_device_tx. */
void ref_device_rx(ref_device *dev, const uint8_t *data, size_t len);
/* The line has been idle for longer than rx_timeout_us (spec 8.2 rule 7). */
void ref_device_idle(ref_device *dev);
/* Takes up to cap queued response bytes; returns how many. */
size_t ref_device_tx(ref_device *dev, uint8_t *out, size_t cap);
/* Queued response bytes not yet taken. */
size_t ref_device_tx_pending(const ref_device *dev);

/* Direct views for tests and the demo (not part of the wire contract). */
uint64_t *ref_device_mem64(ref_device *dev, int mem, uint32_t *words); /* DRF_MEM_L or _R */
uint32_t *ref_device_mem32(ref_device *dev, uint32_t *words);          /* DRF_MEM_D */
uint32_t ref_device_lfsr(const ref_device *dev);

#endif
