/* The USB transport: libusb-1.0 talking the FTDI vendor protocol to an FT2232H, FT232H or FT231X
 * whose UART (or FT245 synchronous FIFO) carries the frames of docs/spec.md section 8.
 *
 * URI arguments (after "usb" and an optional ':'):
 *
 *   usb[:VID:PID[:SERIAL]][,option...]    e.g. usb:0403:6010:FT5XYZ,baud=12000000
 *   usb:option[,option...]                e.g. usb:if=A,mode=fifo
 *     if=A|B|C|D or if=0..3  interface (default: B on FT2232H — iCEBreaker's UART port — else A)
 *     baud=N                  UART rate (default 3000000; up to 12000000 on FT2232H/FT232H)
 *     mode=uart|fifo          fifo: FT245 synchronous FIFO (bitmode 0x40), channel A only
 *     latency=N               latency timer in ms, 1..255 (default 2)
 *     flow=none|rtscts|dtrdsr (default none for uart, rtscts for fifo)
 *
 * Without VID:PID the first FT2232H (0403:6010), else FT232H (0403:6014), else FT231X (0403:6015)
 * is used. Every USB call, endpoint, timeout and the cleanup of this backend are in this file. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <libusb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transport.h"

/* FTDI vendor requests (bmRequestType 0x40: vendor, device, host to device). */
enum {
    FTDI_REQ_OUT = LIBUSB_REQUEST_TYPE_VENDOR | LIBUSB_RECIPIENT_DEVICE | LIBUSB_ENDPOINT_OUT,
    SIO_RESET = 0x00,
    SIO_SET_MODEM_CTRL = 0x01,
    SIO_SET_FLOW_CTRL = 0x02,
    SIO_SET_BAUDRATE = 0x03,
    SIO_SET_DATA = 0x04,
    SIO_SET_LATENCY_TIMER = 0x09,
    SIO_SET_BITMODE = 0x0B,
    /* SIO_RESET values */
    SIO_RESET_SIO = 0,
    SIO_RESET_PURGE_RX = 1, /* the chip's receive buffer: bytes on their way to the host */
    SIO_RESET_PURGE_TX = 2, /* the chip's transmit buffer: bytes on their way to the device */
    /* SIO_SET_FLOW_CTRL: the handshake goes in the high byte of wIndex */
    SIO_DISABLE_FLOW_CTRL = 0x0,
    SIO_RTS_CTS_HS = 0x1,
    SIO_DTR_DSR_HS = 0x2,
    /* SIO_SET_DATA: 8 data bits, no parity (0 << 8), one stop bit (0 << 11), no break */
    SIO_LINE_8N1 = 0x0008,
    /* SIO_SET_BITMODE modes (high byte of wValue; the low byte is the pin direction mask) */
    BITMODE_RESET = 0x00,
    BITMODE_SYNCFF = 0x40,
    /* bit 17 of the encoded divisor on H chips: 12 MHz baud clock (120 MHz / 10) */
    FTDI_H_CLK_BIT = 0x20000,
};

#define FTDI_VID 0x0403
#define CTRL_TIMEOUT_MS 1000
#define DEFAULT_BAUD 3000000u
#define DEFAULT_LATENCY_MS 2
#define DEFAULT_TIMEOUT_MS 1000
#define MODEM_STATUS_BYTES 2
#define OUT_CHUNK 65536            /* bytes per bulk OUT transfer */
#define IN_PACKETS 32              /* max packets per bulk IN transfer */
#define BAUD_TOLERANCE_PERMILLE 30 /* a UART tolerates about 3 % */

enum ftdi_chip { CHIP_FT2232H, CHIP_FT232H, CHIP_FT231X, CHIP_OTHER };

static const struct {
    uint16_t pid;
    enum ftdi_chip chip;
    const char *name;
} known_chips[] = {
    {0x6010, CHIP_FT2232H, "FT2232H"},
    {0x6014, CHIP_FT232H, "FT232H"},
    {0x6015, CHIP_FT231X, "FT231X"},
};

typedef struct {
    int have_id;
    uint16_t vid, pid;
    char serial[128];
    int interface; /* -1: the chip's default */
    uint32_t baud;
    int fifo;
    int latency_ms;
    int flow; /* -1: the mode's default */
} usb_args;

typedef struct {
    drf_transport base;
    libusb_context *ctx;
    libusb_device_handle *h;
    enum ftdi_chip chip;
    int interface;
    int claimed;
    uint16_t port_index; /* wIndex of the vendor requests: 1.. on multi-port chips, 0 otherwise */
    uint8_t ep_in, ep_out;
    int in_mps;     /* max packet size of the IN endpoint: every packet opens with 2 status bytes */
    int gone;       /* the device has disappeared: every call fails fast with DOREFA_E_GONE */
    uint8_t modem_status[MODEM_STATUS_BYTES];
    uint64_t line_errors; /* packets whose line status flagged overrun, parity or framing */
    uint8_t *in_buf;      /* raw IN transfer buffer, IN_PACKETS * in_mps bytes */
    uint8_t *rx;          /* stripped data not yet handed to the caller */
    size_t rx_len, rx_pos, rx_cap;
} usb_transport;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- baud rate divisors ----
 * The baud generator divides a base clock (3 MHz, or 12 MHz on H chips with bit 17 set) by
 * n + f/8, n in 14 bits, f coded in bits 14-16 as below. Divisors 1 and 1.5 have special codes
 * (0 and 1), and nothing between 1 and 2 but 1.5 exists. */
static const uint8_t frac_code[8] = {0, 3, 2, 4, 1, 5, 6, 7};

/* Encodes the divisor for baud on a base clock; *actual gets the rate it yields. -1: out of range. */
static int ftdi_encode_divisor(uint32_t baud, uint32_t base, uint32_t *enc, uint32_t *actual)
{
    if (baud == 0)
        return -1;
    uint64_t d8 = ((uint64_t)base * 8 + baud / 2) / baud; /* divisor in eighths, rounded */
    if (d8 < 8)
        return -1;
    if (d8 < 16) {
        /* only 1, 1.5 and 2 exist here: take the one whose rate is nearest */
        static const uint32_t choices[3] = {8, 12, 16};
        uint64_t best = 8, best_err = UINT64_MAX;
        for (int i = 0; i < 3; i++) {
            uint64_t r = (uint64_t)base * 8 / choices[i];
            uint64_t e = r > baud ? r - baud : baud - r;
            if (e < best_err) {
                best_err = e;
                best = choices[i];
            }
        }
        d8 = best;
    }
    if (d8 > 0x3FFFull * 8 + 7)
        return -1;
    uint32_t e = (uint32_t)(d8 >> 3) | ((uint32_t)frac_code[d8 & 7] << 14);
    if (d8 == 8)
        e = 0;
    else if (d8 == 12)
        e = 1;
    *enc = e;
    *actual = (uint32_t)(((uint64_t)base * 8 + d8 / 2) / d8);
    return 0;
}

/* The SIO_SET_BAUDRATE request for a chip: wValue, wIndex (port in the low byte) and the rate. */
static int ftdi_baud_request(enum ftdi_chip chip, uint32_t baud, uint16_t port_index,
                             uint16_t *value, uint16_t *index, uint32_t *actual)
{
    uint32_t enc;
    if (chip == CHIP_FT2232H || chip == CHIP_FT232H) {
        /* 12 MHz clock down to 1200 baud, the 3 MHz one below that */
        if (baud >= 1200) {
            if (ftdi_encode_divisor(baud, 12000000, &enc, actual))
                return -1;
            enc |= FTDI_H_CLK_BIT;
        } else if (ftdi_encode_divisor(baud, 3000000, &enc, actual)) {
            return -1;
        }
    } else if (ftdi_encode_divisor(baud, 3000000, &enc, actual)) {
        return -1;
    }
    uint64_t err = *actual > baud ? *actual - baud : baud - *actual;
    if (err * 1000 > (uint64_t)baud * BAUD_TOLERANCE_PERMILLE)
        return -1;
    *value = (uint16_t)(enc & 0xFFFF);
    /* H and X chips take divisor bits 16.. in the high byte of wIndex, the port in the low one */
    *index = (uint16_t)(((enc >> 16) << 8) | port_index);
    return 0;
}

/* ---- URI arguments ---- */
static int parse_hex16(const char *s, size_t n, uint16_t *out)
{
    if (n == 0 || n > 4)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v * 16 + d;
    }
    *out = (uint16_t)v;
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_option(usb_args *a, const char *opt, char *err, size_t errlen)
{
    const char *eq = strchr(opt, '=');
    size_t klen = (size_t)(eq - opt);
    const char *v = eq + 1;
    unsigned long n;
#define KEY(k) (klen == sizeof(k) - 1 && strncmp(opt, k, klen) == 0)
    if (KEY("if") || KEY("interface")) {
        if (strlen(v) == 1 && ((v[0] >= 'A' && v[0] <= 'D') || (v[0] >= 'a' && v[0] <= 'd')))
            a->interface = (v[0] | 0x20) - 'a';
        else if (parse_uint(v, 3, &n) == 0)
            a->interface = (int)n;
        else
            goto bad;
    } else if (KEY("baud")) {
        if (parse_uint(v, 12000000, &n) || n == 0)
            goto bad;
        a->baud = (uint32_t)n;
    } else if (KEY("mode")) {
        if (strcmp(v, "uart") == 0)
            a->fifo = 0;
        else if (strcmp(v, "fifo") == 0)
            a->fifo = 1;
        else
            goto bad;
    } else if (KEY("latency")) {
        if (parse_uint(v, 255, &n) || n == 0)
            goto bad;
        a->latency_ms = (int)n;
    } else if (KEY("flow")) {
        if (strcmp(v, "none") == 0)
            a->flow = SIO_DISABLE_FLOW_CTRL;
        else if (strcmp(v, "rtscts") == 0)
            a->flow = SIO_RTS_CTS_HS;
        else if (strcmp(v, "dtrdsr") == 0)
            a->flow = SIO_DTR_DSR_HS;
        else
            goto bad;
    } else {
        set_err(err, errlen, "usb: unknown option '%.*s' (known: if, baud, mode, latency, flow)",
                (int)klen, opt);
        return DOREFA_E_URI;
    }
#undef KEY
    return DOREFA_OK;
bad:
    set_err(err, errlen, "usb: bad value in option '%s'", opt);
    return DOREFA_E_URI;
}

/* "VID:PID[:SERIAL]" */
static int parse_id(usb_args *a, const char *s, char *err, size_t errlen)
{
    const char *c1 = strchr(s, ':');
    if (!c1)
        goto bad;
    const char *pid = c1 + 1;
    const char *c2 = strchr(pid, ':');
    size_t pid_len = c2 ? (size_t)(c2 - pid) : strlen(pid);
    if (parse_hex16(s, (size_t)(c1 - s), &a->vid) || parse_hex16(pid, pid_len, &a->pid))
        goto bad;
    a->have_id = 1;
    if (c2) {
        if (strlen(c2 + 1) >= sizeof a->serial) {
            set_err(err, errlen, "usb: serial number too long");
            return DOREFA_E_URI;
        }
        strcpy(a->serial, c2 + 1);
    }
    return DOREFA_OK;
bad:
    set_err(err, errlen, "usb: cannot parse '%s': expected VID:PID[:SERIAL] in hex, e.g. 0403:6010",
            s);
    return DOREFA_E_URI;
}

static int parse_args(const char *args, usb_args *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->interface = -1;
    a->baud = DEFAULT_BAUD;
    a->latency_ms = DEFAULT_LATENCY_MS;
    a->flow = -1;
    if (!args)
        args = "";
    if (strlen(args) >= 512) {
        set_err(err, errlen, "usb: device arguments too long");
        return DOREFA_E_URI;
    }
    char buf[512];
    strcpy(buf, args);
    int first = 1;
    for (char *tok = buf, *next; tok; tok = next, first = 0) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        if (!*tok)
            continue;
        int rc = strchr(tok, '=') ? parse_option(a, tok, err, errlen)
                 : first          ? parse_id(a, tok, err, errlen)
                                  : (set_err(err, errlen, "usb: '%s' is not an option (key=value)",
                                             tok),
                                     DOREFA_E_URI);
        if (rc)
            return rc;
    }
    return DOREFA_OK;
}

/* ---- device discovery ---- */
static enum ftdi_chip chip_of(uint16_t vid, uint16_t pid)
{
    if (vid == FTDI_VID)
        for (size_t i = 0; i < sizeof known_chips / sizeof known_chips[0]; i++)
            if (known_chips[i].pid == pid)
                return known_chips[i].chip;
    return CHIP_OTHER;
}

static const char *chip_name(enum ftdi_chip chip)
{
    for (size_t i = 0; i < sizeof known_chips / sizeof known_chips[0]; i++)
        if (known_chips[i].chip == chip)
            return known_chips[i].name;
    return "FTDI device";
}

/* Reads the serial-number string of dev into out ("" if it has none or cannot be read). */
static int read_serial(libusb_device *dev, libusb_device_handle *h_open,
                       const struct libusb_device_descriptor *dd, char *out, size_t cap)
{
    out[0] = '\0';
    if (!dd->iSerialNumber)
        return 0;
    libusb_device_handle *h = h_open;
    if (!h && libusb_open(dev, &h) != 0)
        return -1;
    int n = libusb_get_string_descriptor_ascii(h, dd->iSerialNumber, (unsigned char *)out,
                                               (int)cap - 1);
    if (!h_open)
        libusb_close(h);
    if (n < 0) {
        out[0] = '\0';
        return -1;
    }
    out[n] = '\0';
    return 0;
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* The "nothing matched" message: what was asked for and every device that was found, FTDI ones
 * (whose serial numbers are read) first. */
static void describe_devices(libusb_device **list, ssize_t n, const usb_args *a, char *err,
                             size_t errlen)
{
    char msg[1024];
    size_t len = 0;
    if (a->have_id)
        append(msg, sizeof msg, &len, "no USB device %04x:%04x%s%s", a->vid, a->pid,
               a->serial[0] ? " with serial " : "", a->serial);
    else
        append(msg, sizeof msg, &len, "no FTDI FT2232H/FT232H/FT231X (0403:6010/6014/6015)");
    int ftdi = 0, other = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (ssize_t i = 0; i < n; i++) {
            struct libusb_device_descriptor dd;
            if (libusb_get_device_descriptor(list[i], &dd) != 0)
                continue;
            int is_ftdi = dd.idVendor == FTDI_VID;
            if (is_ftdi != (pass == 0))
                continue;
            int *count = is_ftdi ? &ftdi : &other;
            append(msg, sizeof msg, &len, "%s%04x:%04x at bus %u addr %u",
                   *count ? ", "
                   : is_ftdi ? "; FTDI devices found: "
                             : "; other USB devices: ",
                   dd.idVendor, dd.idProduct, libusb_get_bus_number(list[i]),
                   libusb_get_device_address(list[i]));
            if (is_ftdi) {
                char serial[128];
                if (read_serial(list[i], NULL, &dd, serial, sizeof serial) != 0)
                    append(msg, sizeof msg, &len, " (serial unreadable)");
                else if (serial[0])
                    append(msg, sizeof msg, &len, " serial %s", serial);
            }
            (*count)++;
        }
    }
    if (!ftdi && !other)
        append(msg, sizeof msg, &len, "; no USB devices found at all");
    else if (!ftdi)
        append(msg, sizeof msg, &len, "; no FTDI devices");
    /* keep the end visible if the caller's buffer is short */
    if (errlen && len >= errlen && errlen > 4) {
        memcpy(err, msg, errlen - 4);
        strcpy(err + errlen - 4, "...");
    } else {
        set_err(err, errlen, "%s", msg);
    }
}

/* Finds the device the arguments name; on success *out holds a reference. */
static int find_device(libusb_context *ctx, const usb_args *a, libusb_device **out, char *err,
                       size_t errlen)
{
    libusb_device **list;
    ssize_t n = libusb_get_device_list(ctx, &list);
    if (n < 0) {
        set_err(err, errlen, "usb: cannot list USB devices: %s", libusb_strerror((int)n));
        return DOREFA_E_IO;
    }
    libusb_device *found = NULL;
    size_t npref = a->have_id ? 1 : sizeof known_chips / sizeof known_chips[0];
    for (size_t p = 0; p < npref && !found; p++) {
        uint16_t vid = a->have_id ? a->vid : FTDI_VID;
        uint16_t pid = a->have_id ? a->pid : known_chips[p].pid;
        for (ssize_t i = 0; i < n && !found; i++) {
            struct libusb_device_descriptor dd;
            if (libusb_get_device_descriptor(list[i], &dd) != 0 || dd.idVendor != vid ||
                dd.idProduct != pid)
                continue;
            if (a->serial[0]) {
                char serial[128];
                if (read_serial(list[i], NULL, &dd, serial, sizeof serial) != 0 ||
                    strcmp(serial, a->serial) != 0)
                    continue;
            }
            found = libusb_ref_device(list[i]);
        }
    }
    if (!found) {
        char msg[256];
        describe_devices(list, n, a, msg, sizeof msg);
        set_err(err, errlen, "usb: %s", msg);
    }
    libusb_free_device_list(list, 1);
    *out = found;
    return found ? DOREFA_OK : DOREFA_E_NODEV;
}

/* The bulk endpoints of one interface, and the IN endpoint's max packet size. */
static int find_endpoints(usb_transport *u, libusb_device *dev, char *err, size_t errlen)
{
    struct libusb_config_descriptor *cfg;
    int rc = libusb_get_active_config_descriptor(dev, &cfg);
    if (rc == LIBUSB_ERROR_NOT_FOUND)
        rc = libusb_get_config_descriptor(dev, 0, &cfg);
    if (rc) {
        set_err(err, errlen, "usb: cannot read the configuration descriptor: %s",
                libusb_strerror(rc));
        return DOREFA_E_IO;
    }
    int ok = 0;
    if (u->interface < cfg->bNumInterfaces && cfg->interface[u->interface].num_altsetting > 0) {
        const struct libusb_interface_descriptor *id = &cfg->interface[u->interface].altsetting[0];
        for (int e = 0; e < id->bNumEndpoints; e++) {
            const struct libusb_endpoint_descriptor *ep = &id->endpoint[e];
            if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
                continue;
            if (ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) {
                u->ep_in = ep->bEndpointAddress;
                u->in_mps = ep->wMaxPacketSize & 0x7FF;
                ok |= 1;
            } else {
                u->ep_out = ep->bEndpointAddress;
                ok |= 2;
            }
        }
    }
    int nif = cfg->bNumInterfaces;
    libusb_free_config_descriptor(cfg);
    if (u->interface >= nif) {
        set_err(err, errlen, "usb: %s has %d interface%s; interface %c does not exist",
                chip_name(u->chip), nif, nif == 1 ? "" : "s", 'A' + u->interface);
        return DOREFA_E_ARG;
    }
    if (ok != 3 || u->in_mps <= MODEM_STATUS_BYTES) {
        set_err(err, errlen, "usb: interface %c has no bulk IN/OUT endpoint pair",
                'A' + u->interface);
        return DOREFA_E_IO;
    }
    return DOREFA_OK;
}

/* ---- errors of transfers ---- */
static int usb_fail(usb_transport *u, int lrc, const char *what)
{
    switch (lrc) {
    case LIBUSB_ERROR_NO_DEVICE:
        u->gone = 1;
        snprintf(u->base.err, sizeof u->base.err,
                 "usb: the device disappeared (unplugged or reset) during %s", what);
        return DOREFA_E_GONE;
    case LIBUSB_ERROR_TIMEOUT:
        snprintf(u->base.err, sizeof u->base.err, "usb: %s timed out", what);
        return DOREFA_E_TIMEOUT;
    case LIBUSB_ERROR_PIPE:
        snprintf(u->base.err, sizeof u->base.err, "usb: endpoint stalled during %s", what);
        return DOREFA_E_IO;
    default:
        snprintf(u->base.err, sizeof u->base.err, "usb: %s failed: %s", what,
                 libusb_strerror(lrc));
        return DOREFA_E_IO;
    }
}

static int gone_error(usb_transport *u)
{
    snprintf(u->base.err, sizeof u->base.err,
             "usb: the device disappeared (unplugged or reset); reopen it");
    return DOREFA_E_GONE;
}

static int ftdi_control(usb_transport *u, uint8_t req, uint16_t value, uint16_t index,
                        const char *what)
{
    int rc = libusb_control_transfer(u->h, FTDI_REQ_OUT, req, value, index, NULL, 0,
                                     CTRL_TIMEOUT_MS);
    return rc < 0 ? usb_fail(u, rc, what) : DOREFA_OK;
}

/* ---- transport operations ---- */
static int usb_write(drf_transport *t, const uint8_t *buf, size_t len, int timeout_ms)
{
    usb_transport *u = (usb_transport *)t;
    if (u->gone)
        return gone_error(u);
    if (timeout_ms < 0)
        timeout_ms = DEFAULT_TIMEOUT_MS;
    int64_t deadline = now_ms() + timeout_ms;
    size_t done = 0;
    while (done < len) {
        int64_t left = deadline - now_ms();
        if (left < 1)
            left = 1; /* libusb's 0 would mean "forever" */
        int chunk = len - done > OUT_CHUNK ? OUT_CHUNK : (int)(len - done);
        int sent = 0;
        int rc = libusb_bulk_transfer(u->h, u->ep_out, (unsigned char *)buf + done, chunk, &sent,
                                      (unsigned)left);
        done += (size_t)(sent > 0 ? sent : 0);
        if (rc == LIBUSB_ERROR_TIMEOUT && done < len && now_ms() < deadline)
            continue;
        if (rc && !(rc == LIBUSB_ERROR_TIMEOUT && done == len)) {
            char what[96];
            snprintf(what, sizeof what, "a write (%zu of %zu bytes sent)", done, len);
            return usb_fail(u, rc, what);
        }
    }
    return DOREFA_OK;
}

/* Appends the data of a raw IN transfer to u->rx: each max-packet-size chunk (the last may be
 * short) opens with the modem and line status bytes. */
static int strip_status(usb_transport *u, const uint8_t *raw, int n)
{
    if (u->rx_pos == u->rx_len)
        u->rx_pos = u->rx_len = 0;
    for (int off = 0; off < n; off += u->in_mps) {
        int pkt = n - off < u->in_mps ? n - off : u->in_mps;
        if (pkt < MODEM_STATUS_BYTES)
            break; /* never sent by an FTDI chip */
        memcpy(u->modem_status, raw + off, MODEM_STATUS_BYTES);
        if (raw[off + 1] & 0x8E) /* overrun, parity, framing error; FIFO error */
            u->line_errors++;
        size_t data = (size_t)(pkt - MODEM_STATUS_BYTES);
        if (data == 0)
            continue; /* a status-only packet */
        if (u->rx_len + data > u->rx_cap) {
            size_t cap = u->rx_cap ? u->rx_cap : 4096;
            while (cap < u->rx_len + data)
                cap *= 2;
            uint8_t *p = realloc(u->rx, cap);
            if (!p) {
                snprintf(u->base.err, sizeof u->base.err, "usb: out of memory");
                return DOREFA_E_NOMEM;
            }
            u->rx = p;
            u->rx_cap = cap;
        }
        memcpy(u->rx + u->rx_len, raw + off + MODEM_STATUS_BYTES, data);
        u->rx_len += data;
    }
    return DOREFA_OK;
}

static long take_rx(usb_transport *u, uint8_t *buf, size_t cap)
{
    size_t n = u->rx_len - u->rx_pos;
    if (n > cap)
        n = cap;
    memcpy(buf, u->rx + u->rx_pos, n);
    u->rx_pos += n;
    return (long)n;
}

static long usb_read(drf_transport *t, uint8_t *buf, size_t cap, int timeout_ms)
{
    usb_transport *u = (usb_transport *)t;
    if (cap == 0)
        return 0;
    if (u->rx_pos < u->rx_len)
        return take_rx(u, buf, cap);
    if (u->gone)
        return gone_error(u);
    if (timeout_ms < 0)
        timeout_ms = DEFAULT_TIMEOUT_MS;
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 1)
            left = 1;
        int got = 0;
        int rc = libusb_bulk_transfer(u->h, u->ep_in, u->in_buf, IN_PACKETS * u->in_mps, &got,
                                      (unsigned)left);
        if (got > 0) {
            int src = strip_status(u, u->in_buf, got);
            if (src)
                return src;
        }
        if (u->rx_pos < u->rx_len)
            return take_rx(u, buf, cap);
        if (rc == LIBUSB_ERROR_TIMEOUT || (rc == 0 && now_ms() >= deadline))
            return 0;
        if (rc)
            return usb_fail(u, rc, "a read");
        /* only status bytes: the chip reports every latency period; ask again */
    }
}

static void usb_purge(drf_transport *t)
{
    usb_transport *u = (usb_transport *)t;
    u->rx_pos = u->rx_len = 0;
    if (u->gone)
        return;
    ftdi_control(u, SIO_RESET, SIO_RESET_PURGE_RX, u->port_index, "purge of the receive buffer");
    if (!u->gone)
        ftdi_control(u, SIO_RESET, SIO_RESET_PURGE_TX, u->port_index,
                     "purge of the transmit buffer");
}

static void usb_close(drf_transport *t)
{
    usb_transport *u = (usb_transport *)t;
    if (!u)
        return;
    if (u->h) {
        if (u->claimed && !u->gone)
            libusb_release_interface(u->h, u->interface);
        libusb_close(u->h);
    }
    if (u->ctx)
        libusb_exit(u->ctx);
    free(u->in_buf);
    free(u->rx);
    free(u);
}

static const drf_transport_ops usb_ops = {
    .name = "usb",
    .write = usb_write,
    .read = usb_read,
    .purge = usb_purge,
    .close = usb_close,
};

/* Brings the chip's port into the mode the arguments ask for. */
static int configure(usb_transport *u, const usb_args *a, char *err, size_t errlen)
{
    uint16_t bval = 0, bidx = 0;
    uint32_t actual = 0;
    if (!a->fifo && ftdi_baud_request(u->chip, a->baud, u->port_index, &bval, &bidx, &actual)) {
        set_err(err, errlen, "usb: %s cannot run its UART at %" PRIu32 " baud (max %s)",
                chip_name(u->chip), a->baud,
                u->chip == CHIP_FT231X ? "3 Mbaud" : "12 Mbaud, within 3 %");
        return DOREFA_E_ARG;
    }
    int flow = a->flow >= 0 ? a->flow : a->fifo ? SIO_RTS_CTS_HS : SIO_DISABLE_FLOW_CTRL;
    int rc = ftdi_control(u, SIO_RESET, SIO_RESET_SIO, u->port_index, "reset");
    if (!rc)
        rc = ftdi_control(u, SIO_SET_BITMODE, BITMODE_RESET << 8, u->port_index, "bitmode reset");
    if (!rc && !a->fifo)
        rc = ftdi_control(u, SIO_SET_BAUDRATE, bval, bidx, "setting the baud rate");
    if (!rc && !a->fifo)
        rc = ftdi_control(u, SIO_SET_DATA, SIO_LINE_8N1, u->port_index, "setting 8N1");
    if (!rc)
        rc = ftdi_control(u, SIO_SET_FLOW_CTRL, 0, (uint16_t)(flow << 8 | u->port_index),
                          "setting flow control");
    if (!rc)
        rc = ftdi_control(u, SIO_SET_LATENCY_TIMER, (uint16_t)a->latency_ms, u->port_index,
                          "setting the latency timer");
    if (!rc && a->fifo)
        rc = ftdi_control(u, SIO_SET_BITMODE, BITMODE_SYNCFF << 8 | 0xFF, u->port_index,
                          "entering synchronous FIFO mode");
    if (!rc)
        rc = ftdi_control(u, SIO_RESET, SIO_RESET_PURGE_RX, u->port_index,
                          "purge of the receive buffer");
    if (!rc)
        rc = ftdi_control(u, SIO_RESET, SIO_RESET_PURGE_TX, u->port_index,
                          "purge of the transmit buffer");
    if (rc)
        set_err(err, errlen, "%s", u->base.err);
    return rc;
}

int drf_transport_usb_open(const char *args, drf_transport **out, char *err, size_t errlen)
{
    *out = NULL;
    usb_args a;
    int rc = parse_args(args, &a, err, errlen);
    if (rc)
        return rc;
    usb_transport *u = calloc(1, sizeof *u);
    if (!u) {
        set_err(err, errlen, "usb: out of memory");
        return DOREFA_E_NOMEM;
    }
    u->base.ops = &usb_ops;
    libusb_device *dev = NULL;
    int lrc = libusb_init(&u->ctx);
    if (lrc) {
        u->ctx = NULL;
        set_err(err, errlen, "usb: libusb_init failed: %s", libusb_strerror(lrc));
        rc = DOREFA_E_IO;
        goto fail;
    }
    rc = find_device(u->ctx, &a, &dev, err, errlen);
    if (rc)
        goto fail;
    struct libusb_device_descriptor dd;
    libusb_get_device_descriptor(dev, &dd);
    u->chip = chip_of(dd.idVendor, dd.idProduct);
    lrc = libusb_open(dev, &u->h);
    if (lrc) {
        u->h = NULL;
        set_err(err, errlen, "usb: cannot open %04x:%04x at bus %u addr %u: %s%s", dd.idVendor,
                dd.idProduct, libusb_get_bus_number(dev), libusb_get_device_address(dev),
                libusb_strerror(lrc),
                lrc == LIBUSB_ERROR_ACCESS ? " (a udev rule granting access is needed)" : "");
        rc = lrc == LIBUSB_ERROR_NO_DEVICE ? DOREFA_E_GONE : DOREFA_E_IO;
        goto fail;
    }
    int multi_port = u->chip == CHIP_FT2232H;
    u->interface = a.interface >= 0 ? a.interface : multi_port && !a.fifo ? 1 : 0;
    if (a.fifo && u->interface != 0) {
        set_err(err, errlen, "usb: synchronous FIFO mode exists on interface A only");
        rc = DOREFA_E_ARG;
        goto fail;
    }
    if (a.fifo && u->chip != CHIP_FT2232H && u->chip != CHIP_FT232H) {
        set_err(err, errlen, "usb: %s has no synchronous FIFO mode", chip_name(u->chip));
        rc = DOREFA_E_ARG;
        goto fail;
    }
    u->port_index = multi_port ? (uint16_t)(u->interface + 1) : 0;
    rc = find_endpoints(u, dev, err, errlen);
    if (rc)
        goto fail;
    libusb_set_auto_detach_kernel_driver(u->h, 1); /* ftdi_sio lets go while we hold it */
    lrc = libusb_claim_interface(u->h, u->interface);
    if (lrc) {
        set_err(err, errlen, "usb: cannot claim interface %c: %s%s", 'A' + u->interface,
                libusb_strerror(lrc),
                lrc == LIBUSB_ERROR_BUSY ? " (another program holds it)" : "");
        rc = lrc == LIBUSB_ERROR_NO_DEVICE ? DOREFA_E_GONE : DOREFA_E_IO;
        goto fail;
    }
    u->claimed = 1;
    u->in_buf = malloc((size_t)IN_PACKETS * (size_t)u->in_mps);
    if (!u->in_buf) {
        set_err(err, errlen, "usb: out of memory");
        rc = DOREFA_E_NOMEM;
        goto fail;
    }
    rc = configure(u, &a, err, errlen);
    if (rc)
        goto fail;
    libusb_unref_device(dev);
    *out = &u->base;
    return DOREFA_OK;
fail:
    if (dev)
        libusb_unref_device(dev);
    usb_close(&u->base);
    return rc;
}
