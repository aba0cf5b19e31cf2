/* An emulated FTDI chip behind usbfs, for umockdev: see ftdi_mock.h. The handler runs in
 * umockdev's worker thread; everything the test thread reads is under one mutex. */
#define _GNU_SOURCE

#include "ftdi_mock.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <glib.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <umockdev.h>
#include <unistd.h>

#include "device.h"

#define MAX_DEVS 4
#define MAX_LOG 256
#define STATUS0 0x31 /* modem status: CTS, DSR, and the low bit FTDI chips always set */
#define STATUS1 0x60 /* line status: transmitter holding register and shift register empty */

const ftdi_mock_chip FTDI_MOCK_FT2232H = {0x0403, 0x6010, 0x0700, "DRF2232", 2, 1};
const ftdi_mock_chip FTDI_MOCK_FT232H = {0x0403, 0x6014, 0x0900, "DRF232H", 1, 1};
const ftdi_mock_chip FTDI_MOCK_FT231X = {0x0403, 0x6015, 0x1000, "DRF231X", 1, 0};

typedef struct {
    UMockdevIoctlData *urb; /* our reference; urb->data is the local copy of struct usbdevfs_urb */
    gint64 submitted_us;
    int status; /* for URBs already complete */
} flying_urb;

typedef struct {
    ftdi_mock_chip chip;
    char devnode[64];
    char sysfs[64];
    int mps;
    ref_device *model;
    GByteArray *to_host; /* data bytes waiting for bulk IN */
    GList *flying_in, *flying_out, *done; /* of flying_urb */
    ftdi_mock_ctrl log[MAX_LOG];
    size_t nlog;
    int latency_ms;
    int packet_limit;
    int stall_out;
    gint64 vanish_at_us; /* 0: never */
    int gone;
    ftdi_mock_traffic traffic;
} mock_dev;

struct ftdi_mock {
    UMockdevTestbed *testbed;
    UMockdevIoctlBase *handler;
    GMutex lock;
    mock_dev devs[MAX_DEVS];
    int ndevs;
};

static mock_dev *dev_of(ftdi_mock *m, const char *devnode)
{
    for (int i = 0; i < m->ndevs; i++)
        if (strcmp(m->devs[i].devnode, devnode) == 0)
            return &m->devs[i];
    return NULL;
}

static struct usbdevfs_urb *urb_of(flying_urb *f) { return (struct usbdevfs_urb *)f->urb->data; }

static void flying_free(gpointer p)
{
    flying_urb *f = p;
    g_object_unref(f->urb);
    g_free(f);
}

/* usbfs on an unplug: URBs in flight are given back with -ESHUTDOWN. */
static void check_vanish(mock_dev *d)
{
    if (d->gone || !d->vanish_at_us || g_get_monotonic_time() < d->vanish_at_us)
        return;
    d->gone = 1;
    GList *all = g_list_concat(d->flying_in, d->flying_out);
    d->flying_in = d->flying_out = NULL;
    for (GList *l = all; l; l = l->next) {
        flying_urb *f = l->data;
        f->status = -ESHUTDOWN;
        urb_of(f)->actual_length = 0;
    }
    d->done = g_list_concat(d->done, all);
}

/* ---- control transfers ---- */
static void put_string_desc(uint8_t *out, int *len, const char *s)
{
    size_t n = strlen(s);
    out[0] = (uint8_t)(2 + 2 * n);
    out[1] = 0x03; /* STRING */
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = (uint8_t)s[i];
        out[3 + 2 * i] = 0;
    }
    *len = 2 + 2 * (int)n;
}

/* Answers one control URB (setup packet at buffer[0..7], data after it). Returns the status. */
static int control(mock_dev *d, struct usbdevfs_urb *urb)
{
    uint8_t *b = urb->buffer;
    ftdi_mock_ctrl c = {b[0], b[1], (uint16_t)(b[2] | b[3] << 8), (uint16_t)(b[4] | b[5] << 8),
                        (uint16_t)(b[6] | b[7] << 8)};
    if (d->nlog < MAX_LOG)
        d->log[d->nlog] = c;
    d->nlog++;
    urb->actual_length = 0;
    if (c.request_type == 0x80 && c.request == 0x06 && (c.value >> 8) == 0x03) {
        /* GET_DESCRIPTOR (string): language list, manufacturer, product, serial */
        uint8_t desc[128];
        int len;
        switch (c.value & 0xFF) {
        case 0:
            desc[0] = 4, desc[1] = 3, desc[2] = 0x09, desc[3] = 0x04, len = 4;
            break;
        case 1:
            put_string_desc(desc, &len, "FTDI");
            break;
        case 2:
            put_string_desc(desc, &len, "DoReFa mock");
            break;
        case 3:
            if (!d->chip.serial)
                return -EPIPE;
            put_string_desc(desc, &len, d->chip.serial);
            break;
        default:
            return -EPIPE;
        }
        if (len > c.length)
            len = c.length;
        if (len > urb->buffer_length - 8)
            len = urb->buffer_length - 8;
        memcpy(b + 8, desc, (size_t)len);
        urb->actual_length = len;
        return 0;
    }
    if (c.request_type == 0x40) {
        /* FTDI vendor requests that change what the emulation does */
        if (c.request == 0x00 && c.value == 1) { /* purge RX: drop bytes bound for the host */
            g_byte_array_set_size(d->to_host, 0);
            uint8_t sink[256];
            while (ref_device_tx(d->model, sink, sizeof sink))
                ;
        } else if (c.request == 0x09) {
            d->latency_ms = c.value ? c.value : 1;
        }
        return 0;
    }
    return 0; /* other standard requests: accepted without data */
}

/* ---- bulk IN: the chip's packets ---- */
static void pull_model(mock_dev *d)
{
    uint8_t buf[4096];
    size_t n;
    while ((n = ref_device_tx(d->model, buf, sizeof buf)) > 0)
        g_byte_array_append(d->to_host, buf, (guint)n);
}

/* Fills an IN URB if the chip would complete it now: with data, or with a status-only packet once
 * the latency timer has run out. */
static int fill_in(mock_dev *d, flying_urb *f, gint64 now)
{
    struct usbdevfs_urb *urb = urb_of(f);
    pull_model(d);
    if (d->to_host->len == 0 && now - f->submitted_us < (gint64)d->latency_ms * 1000)
        return 0;
    uint8_t *out = urb->buffer;
    int off = 0, room = urb->buffer_length;
    int per_packet = d->mps - 2;
    if (d->packet_limit > 0 && d->packet_limit < per_packet)
        per_packet = d->packet_limit;
    while (room - off >= 2) {
        int n = (int)d->to_host->len;
        if (n > per_packet)
            n = per_packet;
        if (n > room - off - 2)
            n = room - off - 2;
        out[off] = STATUS0;
        out[off + 1] = STATUS1;
        if (n > 0) {
            memcpy(out + off + 2, d->to_host->data, (size_t)n);
            g_byte_array_remove_range(d->to_host, 0, (guint)n);
        }
        off += 2 + n;
        d->traffic.in_bytes += (uint64_t)n;
        d->traffic.in_packets++;
        if (n == 0)
            d->traffic.status_only_packets++;
        if (2 + n < d->mps)
            break; /* a short packet ends the transfer */
    }
    urb->actual_length = off;
    f->status = 0;
    return 1;
}

/* ---- the ioctl handler ---- */
static void reap_into(UMockdevIoctlClient *client, flying_urb *f)
{
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), NULL);
    urb_of(f)->status = f->status;
    umockdev_ioctl_data_set_ptr(ptr, 0, f->urb);
    umockdev_ioctl_client_complete(client, 0, 0);
    g_object_unref(ptr);
    flying_free(f);
}

static gboolean handle_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
                             gpointer user_data)
{
    (void)handler;
    ftdi_mock *m = user_data;
    gulong request = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    g_mutex_lock(&m->lock);
    mock_dev *d = dev_of(m, umockdev_ioctl_client_get_devnode(client));
    if (!d) {
        g_mutex_unlock(&m->lock);
        return FALSE;
    }
    check_vanish(d);
    gint64 now = g_get_monotonic_time();
    int handled = 1;

    if (request == (gulong)USBDEVFS_REAPURB || request == (gulong)USBDEVFS_REAPURBNDELAY) {
        flying_urb *f = NULL;
        if (d->done) {
            f = d->done->data;
            d->done = g_list_delete_link(d->done, d->done);
        } else if (!d->gone) {
            if (d->flying_in && fill_in(d, d->flying_in->data, now)) {
                f = d->flying_in->data;
                d->flying_in = g_list_delete_link(d->flying_in, d->flying_in);
            }
        }
        if (f)
            reap_into(client, f);
        else
            umockdev_ioctl_client_complete(client, -1, d->gone ? ENODEV : EAGAIN);
    } else if (d->gone) {
        umockdev_ioctl_client_complete(client, -1, ENODEV);
    } else if (request == (gulong)USBDEVFS_GET_CAPABILITIES) {
        UMockdevIoctlData *caps = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
        *(guint32 *)caps->data = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                                 USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
        umockdev_ioctl_client_complete(client, 0, 0);
        g_object_unref(caps);
    } else if (request == (gulong)USBDEVFS_GETDRIVER) {
        umockdev_ioctl_client_complete(client, -1, ENODATA); /* no kernel driver bound */
    } else if (request == (gulong)USBDEVFS_CLAIMINTERFACE || request == (gulong)USBDEVFS_RELEASEINTERFACE ||
               request == (gulong)USBDEVFS_CLEAR_HALT || request == (gulong)USBDEVFS_RESETEP ||
               request == (gulong)USBDEVFS_SETINTERFACE) {
        umockdev_ioctl_client_complete(client, 0, 0);
    } else if (request == (gulong)USBDEVFS_IOCTL) {
        umockdev_ioctl_client_complete(client, -1, ENODATA); /* detach/attach: no driver */
    } else if (request == (gulong)USBDEVFS_SUBMITURB) {
        UMockdevIoctlData *ud = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb),
                                                             NULL);
        struct usbdevfs_urb *urb = (struct usbdevfs_urb *)ud->data;
        if (urb->buffer_length > 0) {
            UMockdevIoctlData *buf = umockdev_ioctl_data_resolve(
                ud, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer), (gsize)urb->buffer_length, NULL);
            g_object_unref(buf); /* ud keeps it as a child */
        }
        flying_urb *f = g_new0(flying_urb, 1);
        f->urb = ud;
        f->submitted_us = now;
        if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
            f->status = control(d, urb);
            d->done = g_list_append(d->done, f);
        } else if (urb->type == USBDEVFS_URB_TYPE_BULK && (urb->endpoint & 0x80)) {
            d->traffic.last_ep_in = urb->endpoint;
            d->flying_in = g_list_append(d->flying_in, f);
        } else if (urb->type == USBDEVFS_URB_TYPE_BULK) {
            d->traffic.last_ep_out = urb->endpoint;
            if (d->stall_out) {
                d->flying_out = g_list_append(d->flying_out, f);
            } else {
                ref_device_rx(d->model, urb->buffer, (size_t)urb->buffer_length);
                d->traffic.out_bytes += (uint64_t)urb->buffer_length;
                urb->actual_length = urb->buffer_length;
                f->status = 0;
                d->done = g_list_append(d->done, f);
            }
        } else {
            flying_free(f);
            umockdev_ioctl_client_complete(client, -1, EINVAL);
            goto out;
        }
        umockdev_ioctl_client_complete(client, 0, 0);
    } else if (request == (gulong)USBDEVFS_DISCARDURB) {
        gulong addr = *(gulong *)arg->data;
        GList **lists[2] = {&d->flying_in, &d->flying_out};
        int found = 0;
        for (int i = 0; i < 2 && !found; i++) {
            for (GList *l = *lists[i]; l; l = l->next) {
                flying_urb *f = l->data;
                if (f->urb->client_addr == addr) {
                    *lists[i] = g_list_delete_link(*lists[i], l);
                    f->status = -ENOENT;
                    urb_of(f)->actual_length = 0;
                    d->done = g_list_append(d->done, f);
                    found = 1;
                    break;
                }
            }
        }
        umockdev_ioctl_client_complete(client, found ? 0 : -1, found ? 0 : EINVAL);
    } else {
        handled = 0;
    }
out:
    g_mutex_unlock(&m->lock);
    return handled;
}

/* ---- descriptors and sysfs ---- */
static GString *hex(const uint8_t *b, size_t n)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%02x", b[i]);
    return s;
}

static size_t descriptors(const ftdi_mock_chip *c, uint8_t *out)
{
    int mps = c->high_speed ? 512 : 64;
    uint8_t dd[18] = {18, 1, 0x00, 0x02, 0, 0, 0, 64,
                      (uint8_t)c->vid, (uint8_t)(c->vid >> 8), (uint8_t)c->pid,
                      (uint8_t)(c->pid >> 8), (uint8_t)c->bcd_device,
                      (uint8_t)(c->bcd_device >> 8), 1, 2, (uint8_t)(c->serial ? 3 : 0), 1};
    memcpy(out, dd, 18);
    size_t total = 9 + (size_t)c->interfaces * (9 + 7 + 7);
    uint8_t *cfg = out + 18;
    uint8_t head[9] = {9, 2, (uint8_t)total, (uint8_t)(total >> 8), (uint8_t)c->interfaces,
                       1, 0, 0x80, 0x2D};
    memcpy(cfg, head, 9);
    uint8_t *p = cfg + 9;
    for (int i = 0; i < c->interfaces; i++) {
        uint8_t ifd[9] = {9, 4, (uint8_t)i, 0, 2, 0xFF, 0xFF, 0xFF, 2};
        uint8_t in[7] = {7, 5, (uint8_t)(0x81 + 2 * i), 2, (uint8_t)mps, (uint8_t)(mps >> 8), 0};
        uint8_t outp[7] = {7, 5, (uint8_t)(0x02 + 2 * i), 2, (uint8_t)mps, (uint8_t)(mps >> 8), 0};
        memcpy(p, ifd, 9);
        memcpy(p + 9, in, 7);
        memcpy(p + 16, outp, 7);
        p += 23;
    }
    return 18 + total;
}

static void add_sysfs(ftdi_mock *m, const char *path, const char *sysname, int devnum,
                      const uint8_t *desc, size_t desc_len, int speed)
{
    GString *h = hex(desc, desc_len);
    char *rec = g_strdup_printf("P: %s\n"
                                "N: bus/usb/001/%03d\n"
                                "E: SUBSYSTEM=usb\n"
                                "E: DEVTYPE=usb_device\n"
                                "E: DRIVER=usb\n"
                                "E: BUSNUM=001\n"
                                "E: DEVNUM=%03d\n"
                                "E: DEVNAME=/dev/bus/usb/001/%03d\n"
                                "A: busnum=1\\n\n"
                                "A: devnum=%d\\n\n"
                                "A: bConfigurationValue=1\\n\n"
                                "A: speed=%d\\n\n"
                                "H: descriptors=%s\n",
                                path, devnum, devnum, devnum, devnum, speed, h->str);
    GError *err = NULL;
    if (!umockdev_testbed_add_from_string(m->testbed, rec, &err)) {
        fprintf(stderr, "ftdi_mock: cannot add %s: %s\n", sysname, err->message);
        g_error_free(err);
    }
    g_free(rec);
    g_string_free(h, TRUE);
}

ftdi_mock *ftdi_mock_new(void)
{
    ftdi_mock *m = g_new0(ftdi_mock, 1);
    g_mutex_init(&m->lock);
    m->testbed = umockdev_testbed_new();
    if (!umockdev_in_mock_environment()) { /* the preload library is not there */
        g_object_unref(m->testbed);
        g_mutex_clear(&m->lock);
        g_free(m);
        return NULL;
    }
    m->handler = umockdev_ioctl_base_new();
    g_signal_connect(m->handler, "handle-ioctl", G_CALLBACK(handle_ioctl), m);
    /* The root hub: a device that is not FTDI's, for the "devices found" listing. */
    static const uint8_t hub[] = {18, 1, 0x00, 0x02, 9, 0, 1, 64, 0x6b, 0x1d, 0x02, 0x00, 0x01,
                                  0x06, 3, 2, 1, 1,
                                  9, 2, 25, 0, 1, 1, 0, 0xE0, 0,
                                  9, 4, 0, 0, 1, 9, 0, 0, 0,
                                  7, 5, 0x81, 3, 4, 0, 12};
    add_sysfs(m, "/devices/usb1", "usb1", 1, hub, sizeof hub, 480);
    return m;
}

int ftdi_mock_add(ftdi_mock *m, const ftdi_mock_chip *chip)
{
    g_mutex_lock(&m->lock);
    if (m->ndevs >= MAX_DEVS) {
        g_mutex_unlock(&m->lock);
        return -1;
    }
    int i = m->ndevs;
    mock_dev *d = &m->devs[i];
    memset(d, 0, sizeof *d);
    d->chip = *chip;
    d->mps = chip->high_speed ? 512 : 64;
    d->latency_ms = 16; /* the chip's power-on value */
    d->model = ref_device_new(NULL);
    d->to_host = g_byte_array_new();
    int devnum = i + 2;
    snprintf(d->devnode, sizeof d->devnode, "/dev/bus/usb/001/%03d", devnum);
    snprintf(d->sysfs, sizeof d->sysfs, "/devices/usb1/1-%d", i + 1);
    m->ndevs++;
    g_mutex_unlock(&m->lock);

    /* The ioctl socket first, so that the device is usable as soon as it appears. */
    GError *err = NULL;
    if (!umockdev_testbed_attach_ioctl(m->testbed, d->devnode, m->handler, &err)) {
        fprintf(stderr, "ftdi_mock: attach_ioctl: %s\n", err->message);
        g_error_free(err);
        return -1;
    }
    uint8_t desc[18 + 9 + 2 * 23];
    size_t len = descriptors(chip, desc);
    char sysname[16];
    snprintf(sysname, sizeof sysname, "1-%d", i + 1);
    add_sysfs(m, d->sysfs, sysname, devnum, desc, len, chip->high_speed ? 480 : 12);
    return i;
}

void ftdi_mock_free(ftdi_mock *m)
{
    if (!m)
        return;
    g_object_unref(m->testbed); /* stops the worker thread and removes the tree */
    g_object_unref(m->handler);
    for (int i = 0; i < m->ndevs; i++) {
        mock_dev *d = &m->devs[i];
        g_list_free_full(d->flying_in, flying_free);
        g_list_free_full(d->flying_out, flying_free);
        g_list_free_full(d->done, flying_free);
        g_byte_array_unref(d->to_host);
        ref_device_free(d->model);
    }
    g_mutex_clear(&m->lock);
    g_free(m);
}

size_t ftdi_mock_ctrl_log(ftdi_mock *m, int dev, ftdi_mock_ctrl *out, size_t cap)
{
    g_mutex_lock(&m->lock);
    mock_dev *d = &m->devs[dev];
    size_t n = d->nlog < MAX_LOG ? d->nlog : MAX_LOG;
    memcpy(out, d->log, (n < cap ? n : cap) * sizeof *out);
    n = d->nlog;
    g_mutex_unlock(&m->lock);
    return n;
}

void ftdi_mock_clear_log(ftdi_mock *m, int dev)
{
    g_mutex_lock(&m->lock);
    m->devs[dev].nlog = 0;
    g_mutex_unlock(&m->lock);
}

void ftdi_mock_traffic_get(ftdi_mock *m, int dev, ftdi_mock_traffic *t)
{
    g_mutex_lock(&m->lock);
    *t = m->devs[dev].traffic;
    g_mutex_unlock(&m->lock);
}

void ftdi_mock_push_in(ftdi_mock *m, int dev, const uint8_t *data, size_t len)
{
    g_mutex_lock(&m->lock);
    g_byte_array_append(m->devs[dev].to_host, data, (guint)len);
    g_mutex_unlock(&m->lock);
}

void ftdi_mock_set_packet_data_limit(ftdi_mock *m, int dev, int n)
{
    g_mutex_lock(&m->lock);
    m->devs[dev].packet_limit = n;
    g_mutex_unlock(&m->lock);
}

void ftdi_mock_stall_out(ftdi_mock *m, int dev, int on)
{
    g_mutex_lock(&m->lock);
    m->devs[dev].stall_out = on;
    g_mutex_unlock(&m->lock);
}

void ftdi_mock_vanish_in(ftdi_mock *m, int dev, int ms)
{
    g_mutex_lock(&m->lock);
    m->devs[dev].vanish_at_us = g_get_monotonic_time() + (gint64)ms * 1000 + 1;
    g_mutex_unlock(&m->lock);
}

/* Whether libumockdev-preload is mapped into this process. */
static int preload_loaded(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, "libumockdev-preload") != NULL;
    fclose(f);
    return found;
}

int ftdi_mock_ensure_preload(char **argv)
{
    if (!preload_loaded() && !getenv("DRF_USB_TEST_REEXEC")) {
        /* started without umockdev-wrapper: do what it does, once */
        const char *pre = getenv("LD_PRELOAD");
        char *val = g_strdup_printf("libumockdev-preload.so.0%s%s", pre && *pre ? ":" : "",
                                    pre ? pre : "");
        setenv("LD_PRELOAD", val, 1);
        setenv("DRF_USB_TEST_REEXEC", "1", 1);
        execv("/proc/self/exe", argv);
        g_free(val); /* exec failed: the caller reports that the preload is missing */
    }
    return preload_loaded();
}
