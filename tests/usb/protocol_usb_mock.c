/* The emulated board of the protocol suite over "usb:": see protocol_usb_mock.h. */
#define _GNU_SOURCE

#include "protocol_usb_mock.h"

#include <check.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dorefa.h"
#include "ftdi_mock.h"

static ftdi_mock *mock;

int protocol_usb_mock_start(char **argv, const char *uri)
{
    if (!ftdi_mock_ensure_preload(argv)) {
        const char *pre = getenv("LD_PRELOAD");
        printf("protocol suite over usb skipped: libumockdev-preload is not loaded (LD_PRELOAD=%s), "
               "so umockdev cannot emulate devices in this environment; run under "
               "umockdev-wrapper\n",
               pre ? pre : "unset");
        return 1;
    }
    printf("usb: an emulated FT2232H (0403:6010, 512-byte packets) under umockdev, answered by "
           "the golden model; a fresh one for every test\n");
    fflush(stdout);
    /* Fail early and clearly if the device cannot be opened at all, in a child process: the
     * testbed and libusb leave threads behind, which the tests' forked processes must not
     * inherit (LeakSanitizer would find them missing there). */
    pid_t pid = fork();
    if (pid < 0) {
        perror("protocol_usb_mock: fork");
        return -1;
    }
    if (pid == 0) {
        int rc = protocol_usb_mock_create();
        if (rc == 0) {
            dorefa_dev *d;
            rc = dorefa_open(uri, NULL, &d);
            if (rc)
                fprintf(stderr, "protocol_test: cannot open '%s': %s\n", uri,
                        dorefa_open_error());
            else
                dorefa_close(d);
        }
        protocol_usb_mock_teardown();
        fflush(NULL);
        _exit(rc ? 1 : 0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}

/* No check assertions here: main uses it too, outside any test. */
int protocol_usb_mock_create(void)
{
    mock = ftdi_mock_new();
    if (!mock) {
        fprintf(stderr, "protocol_usb_mock: not running under libumockdev-preload (use "
                        "umockdev-wrapper)\n");
        return -1;
    }
    if (ftdi_mock_add(mock, &FTDI_MOCK_FT2232H) != 0) {
        fprintf(stderr, "protocol_usb_mock: cannot add the FT2232H\n");
        return -1;
    }
    return 0;
}

void protocol_usb_mock_setup(void)
{
    ck_assert_msg(protocol_usb_mock_create() == 0, "no emulated FT2232H (see above)");
}

void protocol_usb_mock_teardown(void)
{
    ftdi_mock_free(mock);
    mock = NULL;
}
