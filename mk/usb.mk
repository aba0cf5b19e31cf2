# USB transport (driver/transport_usb.c on libusb-1.0) and its tests against emulated FTDI chips
# under umockdev (tests/usb/). Included by the top-level Makefile.
#   make test-usb     build and run tests/usb under umockdev-wrapper (also a step of `make test`)
#   make protocol-test-usb   the protocol suite (tests/protocol) over "usb:0403:6010", an emulated
#                     FT2232H under umockdev-wrapper (also a step of `make test`)
# For a driver library with the USB backend: link $(USB_TRANSPORT_OBJ) with $(USB_LIBS) and build
# driver/transport_stubs.c with -DDRF_HAVE_USB.

USB_CFLAGS := $(shell $(PKG_CONFIG) --cflags libusb-1.0 2>/dev/null)
USB_LIBS := $(shell $(PKG_CONFIG) --libs libusb-1.0 2>/dev/null)
UMOCKDEV_CFLAGS := $(shell $(PKG_CONFIG) --cflags umockdev-1.0 2>/dev/null)
UMOCKDEV_LIBS := $(shell $(PKG_CONFIG) --libs umockdev-1.0 2>/dev/null)
UMOCKDEV_WRAPPER ?= umockdev-wrapper

USB_DIR := $(BUILD)/usb
USB_TRANSPORT_OBJ := $(USB_DIR)/rel/driver/transport_usb.o
USB_TEST := $(USB_DIR)/usb_test

# The test program: the transport, the emulated chip, the golden model behind it, all sanitized.
# ASan is linked statically so that its runtime comes first although LD_PRELOAD names umockdev's.
USB_SAN_CFLAGS := $(SAN_CFLAGS) -Idriver -Itests/usb $(USB_CFLAGS) $(CHECK_CFLAGS)
USB_TEST_SRC := driver/transport_usb.c tests/usb/ftdi_mock.c tests/usb/usb_test.c
# With the protocol layer present, dorefa_* calls over "usb:" run too (tests/usb/usb_api_test.c).
ifneq ($(wildcard driver/protocol.c),)
USB_DRIVER_SRC := $(filter-out driver/transport_usb.c driver/transport_sim.c,$(wildcard driver/*.c))
USB_TEST_SRC += $(USB_DRIVER_SRC) tests/usb/usb_api_test.c
USB_SAN_CFLAGS += -DDRF_HAVE_USB -DDRF_USB_API_TESTS
endif
USB_TEST_OBJ := $(USB_TEST_SRC:%.c=$(USB_DIR)/san/%.o)

$(USB_DIR)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Idriver $(USB_CFLAGS) -MMD -MP -c $< -o $@

$(USB_DIR)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(USB_SAN_CFLAGS) -MMD -MP -c $< -o $@

# The emulation (and the test runner, for GLib) need GLib and umockdev headers.
$(USB_DIR)/san/tests/usb/ftdi_mock.o $(USB_DIR)/san/tests/usb/usb_test.o: USB_SAN_CFLAGS += $(UMOCKDEV_CFLAGS)

$(USB_TEST): $(USB_TEST_OBJ) $(LIBREF_SAN)
	@if [ -z "$(USB_LIBS)" ] || [ -z "$(UMOCKDEV_LIBS)" ] || [ -z "$(CHECK_LIBS)" ]; then \
		echo "libusb-1.0, umockdev-1.0 or check not found by pkg-config: run scripts/deps.sh" >&2; \
		exit 1; fi
	$(CC) $(SAN_CFLAGS) -static-libasan -o $@ $^ $(UMOCKDEV_LIBS) $(USB_LIBS) $(CHECK_LIBS) -lz -lm

.PHONY: test-usb
# usb_test exits 0 with a message, having run nothing, only if the preload library did not load
# (LD_PRELOAD ignored), the one case where umockdev cannot work here.
test-usb: $(USB_TEST)
	@command -v $(UMOCKDEV_WRAPPER) >/dev/null || \
		{ echo "$(UMOCKDEV_WRAPPER) not found: run scripts/deps.sh (package umockdev)" >&2; exit 1; }
	$(UMOCKDEV_WRAPPER) $(USB_TEST)

TEST_DEPS += $(USB_TEST) $(USB_TRANSPORT_OBJ)
TEST_STEPS += test-usb

# ---- the protocol suite over usb: tests/protocol/protocol_test.c built with
# -DDRF_PROTOCOL_USB_MOCK, every test on a fresh emulated FT2232H (tests/usb/protocol_usb_mock.c);
# the same objects and flags as usb_test (ASan static, umockdev-wrapper).
PROTOCOL_TEST_USB := $(USB_DIR)/protocol_test_usb
PROTOCOL_USB_URI ?= usb:0403:6010
# The fault workload over usb: each of its timeouts (about 3 per 4 commands) waits out the 40 ms
# the test asks for (the driver keeps at least 30 ms at a 10 ms rx_timeout), so fewer commands, as
# on sim; the rest of the suite takes a few seconds.
PROTOCOL_USB_FAULT_OPS ?= 1000
.PHONY: protocol-test-usb
ifneq ($(wildcard driver/protocol.c),)
PROTOCOL_TEST_USB_SRC := tests/protocol/protocol_test.c tests/usb/protocol_usb_mock.c \
	tests/usb/ftdi_mock.c driver/transport_usb.c $(USB_DRIVER_SRC)
$(USB_DIR)/san/tests/protocol/protocol_test.o: USB_SAN_CFLAGS += -Itests -DDRF_PROTOCOL_USB_MOCK
$(USB_DIR)/san/tests/usb/protocol_usb_mock.o: USB_SAN_CFLAGS += $(UMOCKDEV_CFLAGS)

$(PROTOCOL_TEST_USB): $(PROTOCOL_TEST_USB_SRC:%.c=$(USB_DIR)/san/%.o) $(LIBREF_SAN)
	@if [ -z "$(USB_LIBS)" ] || [ -z "$(UMOCKDEV_LIBS)" ] || [ -z "$(CHECK_LIBS)" ]; then \
		echo "libusb-1.0, umockdev-1.0 or check not found by pkg-config: run scripts/deps.sh" >&2; \
		exit 1; fi
	$(CC) $(SAN_CFLAGS) -static-libasan -o $@ $^ $(UMOCKDEV_LIBS) $(USB_LIBS) $(CHECK_LIBS) -lz -lm

# Like usb_test, it exits 0 with a message, having run nothing, only if the preload library did
# not load. The fault-injection test runs over "faulty:$(PROTOCOL_USB_URI)?...".
protocol-test-usb: $(PROTOCOL_TEST_USB)
	@command -v $(UMOCKDEV_WRAPPER) >/dev/null || \
		{ echo "$(UMOCKDEV_WRAPPER) not found: run scripts/deps.sh (package umockdev)" >&2; exit 1; }
	PROTOCOL_FAULT_OPS=$(PROTOCOL_USB_FAULT_OPS) $(UMOCKDEV_WRAPPER) $(PROTOCOL_TEST_USB) \
		"$(PROTOCOL_USB_URI)"

TEST_DEPS += $(PROTOCOL_TEST_USB)
else
protocol-test-usb:
	@echo "protocol-test-usb: skipped (driver/protocol.c is missing)"
endif
TEST_STEPS += protocol-test-usb
