/* C API of the Verilated device (rtl/drf_device.v: frame receiver, command engine, response
 * encoder and the compute core), fed and drained as a byte stream: the bytes a board's PHY would
 * deliver. Implemented by sim/drf_dev.cpp. */
#ifndef DOREFA_DRF_DEV_H
#define DOREFA_DRF_DEV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct drf_dev drf_dev;

/* argc/argv go to Verilator (plusargs: +trace[=FILE] writes an FST). NULL on failure. */
drf_dev *drf_dev_new(int argc, char **argv);
void drf_dev_free(drf_dev *s);

/* Queues bytes for the device's receive side; they enter at most one per clock, as fast as the
 * device accepts them, while the clock runs (in drf_dev_recv / drf_dev_run). */
void drf_dev_send(drf_dev *s, const uint8_t *data, size_t len);
/* Runs the clock until at least one response byte is available or max_cycles have passed, then
 * returns up to cap response bytes (0 if none came). */
size_t drf_dev_recv(drf_dev *s, uint8_t *out, size_t cap, uint64_t max_cycles);
/* Runs the clock for n cycles (queued bytes keep flowing; responses are kept for recv). */
void drf_dev_run(drf_dev *s, uint64_t n);
/* Clock cycles of line idle after which the device applies spec 8.2 rule 7, and the nominal
 * clock it reports in INFO. */
uint64_t drf_dev_idle_cycles(const drf_dev *s);
uint32_t drf_dev_clock_hz(const drf_dev *s);
/* Total cycles simulated. */
uint64_t drf_dev_time(const drf_dev *s);
/* Response bytes already out of the device and not yet taken by drf_dev_recv; queued command
 * bytes the device has not taken yet. */
size_t drf_dev_pending(const drf_dev *s);
size_t drf_dev_unsent(const drf_dev *s);
/* Back-pressure from the host side: in `percent` of the cycles (0 by default, at most 90) the
 * next command byte is held back and tx_ready is low, independently. The gaps are a few cycles,
 * far below the idle time, so they never fire rule 7. */
void drf_dev_set_stalls(drf_dev *s, unsigned percent);
/* Drops queued command bytes and untaken response bytes (the transport's purge). */
void drf_dev_purge(drf_dev *s);

#ifdef __cplusplus
}
#endif

#endif
