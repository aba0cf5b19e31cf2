/* The protocol suite (tests/protocol/protocol_test.c) over "usb:" against an emulated FT2232H
 * (ftdi_mock.c) under umockdev: built into build/usb/protocol_test_usb when protocol_test.c is
 * compiled with -DDRF_PROTOCOL_USB_MOCK (`make protocol-test-usb`). */
#ifndef DOREFA_PROTOCOL_USB_MOCK_H
#define DOREFA_PROTOCOL_USB_MOCK_H

/* Called first in main: re-executes the program under libumockdev-preload if it was started
 * without umockdev-wrapper, then opens uri once on an emulated board (in a child process, so that
 * no testbed or libusb thread is left in the process the tests fork from). Returns 0 when the
 * suite can run; 1, having said why, when the preload library cannot be loaded here (nothing can
 * be tested); -1, having said why, when uri cannot be opened. */
int protocol_usb_mock_start(char **argv, const char *uri);

/* A fresh testbed with one FT2232H (0403:6010, high speed) behind a fresh golden-model device,
 * and its removal: the checked fixture of every test, so each test (in its own process when check
 * forks) gets a device of its own, as "ref" gives a new model per test. */
void protocol_usb_mock_setup(void);
/* The same outside a test (no check assertions): 0, or -1 with a message on stderr. */
int protocol_usb_mock_create(void);
void protocol_usb_mock_teardown(void);

#endif
