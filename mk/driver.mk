# libdorefa (driver/): static and shared library, pkg-config file, the protocol test suite run on
# every backend that is built, the CLI link, the hardware test and the link benchmark.
#   make libdorefa     build/libdorefa.a, build/libdorefa.so, build/libdorefa.pc (prefix /usr/local)
#   make install       PREFIX=/usr/local (DESTDIR= honoured): library, headers, pkg-config file
#   make hwtest DEVICE=usb:VID:PID   selftest and a recorded-stream replay on a board (skips
#                      with exit 0 when no board answers)
#   make bench-link    frames/s and payload bytes/s through the sim backend (ref if sim is not
#                      built), and the link bytes of Model A's conv layers per image

DRV_VERSION := 0.1.0
PREFIX ?= /usr/local
DEVICE ?= usb

LIBDOREFA_A := $(BUILD)/libdorefa.a
LIBDOREFA_SO := $(BUILD)/libdorefa.so
LIBDOREFA_PC := $(BUILD)/libdorefa.pc
PROTOCOL_TEST := $(BUILD)/protocol_test

# The usb backend is built when its source exists and libusb-1.0 is installed.
DRV_USB := $(if $(wildcard driver/transport_usb.c),$(shell $(PKG_CONFIG) --exists libusb-1.0 2>/dev/null && echo y))
DRV_USB_CFLAGS := $(if $(DRV_USB),$(shell $(PKG_CONFIG) --cflags libusb-1.0))
DRV_USB_LIBS := $(if $(DRV_USB),$(shell $(PKG_CONFIG) --libs libusb-1.0))
DRV_DEFS := $(if $(DRV_USB),-DDRF_HAVE_USB)

DRV_SRC := driver/protocol.c driver/record.c driver/gemm_host.c driver/transport_ref.c \
	driver/transport_faulty.c $(if $(DRV_USB),driver/transport_usb.c)
DRV_PIC_OBJ := $(DRV_SRC:%.c=$(BUILD)/pic/%.o) $(BUILD)/pic/driver/transport_stubs.o \
	$(REF_SRC:%.c=$(BUILD)/pic/%.o)
DRV_SAN_OBJ := $(DRV_SRC:%.c=$(BUILD)/san/%.o)
# The stand-ins for backends left out, per build (the sim test build links the real sim).
DRV_SAN_STUBS := $(BUILD)/san/driver/transport_stubs.o

.PHONY: libdorefa install hwtest bench-link protocol-test-ref driver-cli-test
all: $(LIBDOREFA_A) $(LIBDOREFA_SO) $(LIBDOREFA_PC) $(PROTOCOL_TEST)
libdorefa: $(LIBDOREFA_A) $(LIBDOREFA_SO) $(LIBDOREFA_PC)

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -fPIC -Idriver $(DRV_USB_CFLAGS) $(DRV_DEFS) -MMD -MP -c $< -o $@

$(BUILD)/san/driver/%.o: SAN_CFLAGS += -Idriver $(DRV_USB_CFLAGS) $(DRV_DEFS)
$(BUILD)/san/tests/protocol/%.o: SAN_CFLAGS += -Idriver
$(BUILD)/rel/host/%.o: REL_CFLAGS += -Idriver

$(LIBDOREFA_A): $(DRV_PIC_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBDOREFA_SO): $(DRV_PIC_OBJ)
	$(CC) -shared -Wl,-soname,libdorefa.so.0 -o $@.0 $^ $(DRV_USB_LIBS) -lm
	ln -sf libdorefa.so.0 $@

# $(call drv_pc,prefix,output)
drv_pc = sed -e 's|@PREFIX@|$(1)|' -e 's|@VERSION@|$(DRV_VERSION)|' \
	-e 's|@REQUIRES_PRIVATE@|$(if $(DRV_USB),libusb-1.0)|' driver/libdorefa.pc.in > $(2)

$(LIBDOREFA_PC): driver/libdorefa.pc.in mk/driver.mk
	@mkdir -p $(dir $@)
	$(call drv_pc,/usr/local,$@)

install: $(LIBDOREFA_A) $(LIBDOREFA_SO) $(LIBDOREFA_PC)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/dorefa
	install -m 644 $(LIBDOREFA_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBDOREFA_SO).0 $(DESTDIR)$(PREFIX)/lib/
	ln -sf libdorefa.so.0 $(DESTDIR)$(PREFIX)/lib/libdorefa.so
	install -m 644 driver/dorefa.h driver/transport.h $(DESTDIR)$(PREFIX)/include/dorefa/
	$(call drv_pc,$(PREFIX),$(DESTDIR)$(PREFIX)/lib/pkgconfig/libdorefa.pc)

# The CLI links the shared library (found next to the binary, or in ../lib once installed).
$(DOREFA): $(LIBDOREFA_SO)
$(DOREFA): private REL_CFLAGS += -Wl,-rpath,'$$ORIGIN:$$ORIGIN/../lib'

$(PROTOCOL_TEST): $(BUILD)/san/tests/protocol/protocol_test.o $(DRV_SAN_OBJ) $(DRV_SAN_STUBS) \
		$(LIBREF_SAN)
	@if [ -z "$(CHECK_LIBS)" ]; then echo "check (libcheck) not found: run scripts/deps.sh" >&2; exit 1; fi
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(CHECK_LIBS) $(DRV_USB_LIBS) -lz -lm

# ---- make test: the protocol suite on the golden model, at its default geometry and at one that
# mirrors a small RTL build (forces GEMM tiling, 264-byte frames); then the CLI over the driver.
PROTOCOL_REF_SMALL := ref:l=16384,r=1024,d=1024,max_k=4096,max_payload=264
TEST_DEPS += $(PROTOCOL_TEST) $(LIBDOREFA_A) $(LIBDOREFA_SO) $(LIBDOREFA_PC) $(DOREFA)
TEST_STEPS += protocol-test-ref driver-cli-test

protocol-test-ref: $(PROTOCOL_TEST)
	$(PROTOCOL_TEST) ref
	$(PROTOCOL_TEST) "$(PROTOCOL_REF_SMALL)"

# The CLI on the driver: selftest, a recording made at one geometry replayed at another.
driver-cli-test: $(DOREFA)
	$(DOREFA) info --device "$(PROTOCOL_REF_SMALL)"
	$(DOREFA) selftest --device "$(PROTOCOL_REF_SMALL)" --record $(BUILD)/selftest-small.rec
	$(DOREFA) replay --device ref $(BUILD)/selftest-small.rec

# ---- hardware: selftest and the replay of a stream recorded on the golden model at the geometry
# of the smallest board build (iCEBreaker: L 16384, R 1024, D 1024 words).
HWTEST_REC := $(BUILD)/hwtest.rec
HWTEST_REF := ref:l=16384,r=1024,d=1024,max_payload=264
$(HWTEST_REC): $(DOREFA)
	$(DOREFA) selftest --device "$(HWTEST_REF)" --record $@ > /dev/null

hwtest: $(DOREFA) $(HWTEST_REC)
	@rc=0; $(DOREFA) selftest --device "$(DEVICE)" || rc=$$?; \
	if [ $$rc = 77 ]; then echo "hwtest: SKIPPED: no board answers at '$(DEVICE)' (see above)"; exit 0; fi; \
	if [ $$rc != 0 ]; then echo "hwtest: FAILED: selftest on $(DEVICE)"; exit 1; fi; \
	$(DOREFA) replay --device "$(DEVICE)" $(HWTEST_REC) || { echo "hwtest: FAILED: replay on $(DEVICE)"; exit 1; }; \
	echo "hwtest: PASSED on $(DEVICE)"

# ---- the sim backend: when driver/transport_sim.c and the Verilated device of mk/device.mk
# (DEV_SIM_LINK, DEV_SIM_LIBS) are there, a test build and a CLI build (build/dorefa-sim) link it.
# The shared library leaves it out (it would pull in C++ and the model); "sim" there says so.
DRV_SIM := $(if $(and $(wildcard driver/transport_sim.c),$(wildcard sim/drf_dev.cpp),$(DEV_SIM_LINK)),y)
PROTOCOL_TEST_SIM := $(BUILD)/protocol_test_sim
DOREFA_SIM := $(BUILD)/dorefa-sim
# The fault workload on sim: every timeout there costs simulated cycles, so fewer commands.
PROTOCOL_SIM_FAULT_OPS ?= 1000
.PHONY: protocol-test-sim

ifneq ($(DRV_SIM),)
DRV_SIM_DEFS := -DDRF_HAVE_SIM $(DRV_DEFS)
$(BUILD)/rel/driver/%.o: REL_CFLAGS += -Idriver $(DRV_USB_CFLAGS)

$(BUILD)/san/driver/transport_stubs_sim.o: driver/transport_stubs.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -Idriver $(DRV_SIM_DEFS) -MMD -MP -c $< -o $@

$(BUILD)/rel/driver/transport_stubs_sim.o: driver/transport_stubs.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Idriver $(DRV_SIM_DEFS) -MMD -MP -c $< -o $@

$(PROTOCOL_TEST_SIM): $(BUILD)/san/tests/protocol/protocol_test.o $(DRV_SAN_OBJ) \
		$(BUILD)/san/driver/transport_stubs_sim.o $(BUILD)/san/driver/transport_sim.o \
		$(DEV_SIM_LINK) $(LIBREF_SAN)
	$(CXX) $(SAN) -o $@ $^ $(CHECK_LIBS) $(DRV_USB_LIBS) $(DEV_SIM_LIBS) -lz -lm

$(DOREFA_SIM): $(BUILD)/rel/host/dorefa.o $(DRV_SRC:%.c=$(BUILD)/rel/%.o) \
		$(BUILD)/rel/driver/transport_stubs_sim.o $(BUILD)/rel/driver/transport_sim.o \
		$(DEV_SIM_LINK) $(LIBREF)
	$(CXX) -o $@ $^ $(DRV_USB_LIBS) $(DEV_SIM_LIBS) -lm

all: $(DOREFA_SIM)
TEST_DEPS += $(PROTOCOL_TEST_SIM) $(DOREFA_SIM)
TEST_STEPS += protocol-test-sim
protocol-test-sim: $(PROTOCOL_TEST_SIM)
	PROTOCOL_FAULT_OPS=$(PROTOCOL_SIM_FAULT_OPS) $(PROTOCOL_TEST_SIM) sim

bench-link: $(DOREFA_SIM)
	$(DOREFA_SIM) bench-link --device sim
else
protocol-test-sim:
	@echo "protocol-test-sim: skipped (driver/transport_sim.c or the Verilated device is missing)"

bench-link: $(DOREFA)
	@echo "bench-link: the sim backend is not built; measuring the ref device instead"
	$(DOREFA) bench-link --device ref
endif
