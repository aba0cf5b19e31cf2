/* An emulated FTDI chip for the USB transport tests: a umockdev testbed with a root hub and FTDI
 * devices, whose usbfs ioctls (control and bulk URBs) are answered by a custom handler. Each
 * device's bulk OUT bytes go to a golden-model device (sw_reference/device.h); its responses come
 * back on bulk IN in max-packet-size packets that each open with the two FTDI status bytes, as the
 * chip sends them. The program must run with libumockdev-preload (umockdev-wrapper). */
#ifndef DOREFA_FTDI_MOCK_H
#define DOREFA_FTDI_MOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ftdi_mock ftdi_mock;

typedef struct {
    uint16_t vid, pid, bcd_device;
    const char *serial; /* NULL: no serial-number string */
    int interfaces;     /* 1 or 2 (FT2232H) */
    int high_speed;     /* 512-byte bulk packets at 480 Mbit/s, else 64 at 12 Mbit/s */
} ftdi_mock_chip;

/* The chips of the boards: FT2232H (iCEBreaker), FT232H, FT231X (ULX3S). */
extern const ftdi_mock_chip FTDI_MOCK_FT2232H, FTDI_MOCK_FT232H, FTDI_MOCK_FT231X;

/* One vendor or standard control transfer as the device saw it. */
typedef struct {
    uint8_t request_type, request;
    uint16_t value, index, length;
} ftdi_mock_ctrl;

/* Makes sure libumockdev-preload is loaded: a program started without umockdev-wrapper restarts
 * itself once with the preload added to LD_PRELOAD (argv as main got it). Returns 1 if the preload
 * is loaded, 0 if it cannot be (LD_PRELOAD ignored): then the caller prints why and skips. */
int ftdi_mock_ensure_preload(char **argv);

/* A testbed with a root hub (1d6b:0002, bus 1 address 1) and no FTDI device yet. NULL unless the
 * program runs under libumockdev-preload. */
ftdi_mock *ftdi_mock_new(void);
void ftdi_mock_free(ftdi_mock *m);
/* Adds a device at bus 1, address 2, 3, ... in the order of the calls; returns its number (0..). */
int ftdi_mock_add(ftdi_mock *m, const ftdi_mock_chip *chip);

/* The control transfers device dev received since the last clear; returns how many (all of them
 * even if more than cap). */
size_t ftdi_mock_ctrl_log(ftdi_mock *m, int dev, ftdi_mock_ctrl *out, size_t cap);
void ftdi_mock_clear_log(ftdi_mock *m, int dev);

/* Traffic counters of a device: bulk OUT bytes taken in, bulk IN data bytes (without status
 * bytes) and IN packets handed out, and the last endpoints used. */
typedef struct {
    uint64_t out_bytes, in_bytes, in_packets, status_only_packets;
    uint8_t last_ep_out, last_ep_in;
} ftdi_mock_traffic;
void ftdi_mock_traffic_get(ftdi_mock *m, int dev, ftdi_mock_traffic *t);

/* Bytes queued for the host ahead of the golden model's responses (for stripping tests). */
void ftdi_mock_push_in(ftdi_mock *m, int dev, const uint8_t *data, size_t len);
/* At most n data bytes per IN packet (0: fill packets); a smaller n splits data over many
 * packets and transfers. */
void ftdi_mock_set_packet_data_limit(ftdi_mock *m, int dev, int n);
/* Bulk OUT URBs are held and never completed (a device that stopped reading). */
void ftdi_mock_stall_out(ftdi_mock *m, int dev, int on);
/* The device disappears ms milliseconds from now (0: at once): URBs in flight come back with
 * -ESHUTDOWN, every later ioctl fails with ENODEV, as usbfs does on an unplug. */
void ftdi_mock_vanish_in(ftdi_mock *m, int dev, int ms);

#endif
