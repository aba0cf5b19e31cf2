# The device (rtl/drf_device.v: host interface + core) under Verilator, its co-simulation against
# the golden model's frames, the PHY tests and the device lint. Included by the Makefile before its
# own variables are defined, so anything that uses SIM_PARAMS, sim_g or VERILATOR_ROOT_DIR is a
# recursive (=) variable used in recipes only.
#
#   make devcosim [N=] [SEED=]  random frames (valid and invalid) through the Verilated device and
#                               the golden model, every response byte compared
#   make phy-test               UART and FT245 PHY benches (line / FIFO models, both directions)
#   make lint-device            verilator --lint-only -Wall of drf_device and the PHYs, every set
#
# For programs that talk to the Verilated device (the driver's `sim` transport): link
# $(DEV_SIM_LINK) with $(CXX) and $(DEV_SIM_LIBS); compile driver/transport_sim.c with -Isim.

DEV_RTL_SRC := $(sort $(wildcard rtl/*.v))
# The host-interface parameters of the simulation build: a 520-byte payload (a WRITE of 512 data
# bytes), a nominal 10 MHz clock (the sim transport runs 10,000 cycles per millisecond of
# timeout) and 1000 idle cycles (100 us) for rule 7, so idle tests cost little.
DEV_HOST_PARAMS := MAX_PAYLOAD=520 RX_IDLE_CYCLES=1000 CLOCK_HZ=10000000
# drf_device passes ROWS COLS LAW RAW DAW to the core; other core parameters are not forwarded.
dev_core = $(filter ROWS=% COLS=% LAW=% RAW=% DAW=% ACC_MAC=%,$(1))
DEV_PARAMS = $(call dev_core,$(SIM_PARAMS)) $(DEV_HOST_PARAMS)
DEV_VOBJ := $(BUILD)/obj_dev
DEV_VLIB := $(DEV_VOBJ)/Vdrf_device__ALL.a
DEV_VRT := $(DEV_VOBJ)/libverilated_rt.a
DEV_SIM_OBJ := $(BUILD)/sim/drf_dev.o
DEV_SIM_LINK := $(DEV_SIM_OBJ) $(DEV_VLIB) $(DEV_VRT)
DEV_SIM_LIBS := -lz -lpthread -lm
DEV_CXXFLAGS = -std=c++17 -O2 -g -Wall -Wextra -Werror -Isim -isystem $(DEV_VOBJ) \
	-isystem $(VERILATOR_ROOT_DIR)/include -isystem $(VERILATOR_ROOT_DIR)/include/vltstd \
	$(call sim_d,$(DEV_PARAMS))
DEVCOSIM := $(BUILD)/devcosim
DEVCOSIM_TEST_N ?= 5000
PHY_UART := $(BUILD)/obj_uart/Vdrf_uart
PHY_FT245 := $(BUILD)/obj_ft245/Vdrf_ft245

.PHONY: devcosim devcosim-test phy-test lint-device

$(DEV_VLIB): $(DEV_RTL_SRC) Makefile mk/device.mk
	@mkdir -p $(DEV_VOBJ)
	$(VERILATOR) --cc --build -j 2 -O3 --assert --trace-fst -Wall -Irtl --top-module drf_device \
		$(call sim_g,$(DEV_PARAMS)) -Mdir $(DEV_VOBJ) $(DEV_RTL_SRC) > $(DEV_VOBJ)/build.log 2>&1 \
		|| { cat $(DEV_VOBJ)/build.log; exit 1; }

$(DEV_VRT): $(DEV_VLIB)
	$(MAKE) -s -C $(DEV_VOBJ) -f Vdrf_device.mk verilated.o verilated_fst_c.o verilated_threads.o \
		> $(DEV_VOBJ)/runtime.log 2>&1 || { cat $(DEV_VOBJ)/runtime.log; exit 1; }
	ar rcs $@ $(DEV_VOBJ)/verilated.o $(DEV_VOBJ)/verilated_fst_c.o $(DEV_VOBJ)/verilated_threads.o

$(DEV_SIM_OBJ): sim/drf_dev.cpp sim/drf_dev.h $(DEV_VLIB)
	@mkdir -p $(dir $@)
	$(CXX) $(DEV_CXXFLAGS) -c $< -o $@

# The sim transport needs drf_dev.h (plain C) and nothing of Verilator.
$(BUILD)/rel/driver/transport_sim.o: REL_CFLAGS += -Isim -Idriver
$(BUILD)/san/driver/transport_sim.o: SAN_CFLAGS += -Isim -Idriver

$(BUILD)/sim/devcosim.o: sim/devcosim.c sim/drf_dev.h
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Isim -Itests -Idriver $(call sim_d,$(DEV_PARAMS)) -MMD -MP -c $< -o $@

$(DEVCOSIM): $(BUILD)/sim/devcosim.o $(BUILD)/rel/driver/transport_sim.o $(DEV_SIM_LINK) $(LIBREF)
	$(CXX) -o $@ $^ $(DEV_SIM_LIBS)

# N from the command line or the environment; otherwise about a minute's worth.
devcosim: $(DEVCOSIM)
	$(DEVCOSIM) --n $(if $(filter command line environment,$(origin N)),$(N),30000) --seed $(SEED)

devcosim-test: $(DEVCOSIM)
	$(DEVCOSIM) --n $(DEVCOSIM_TEST_N) --seed $(SEED)

# ---- PHYs: each Verilated with its own C++ bench (--exe), in its own -Mdir ----
PHY_VFLAGS = --cc --exe --build -j 2 -O2 --assert -Wall -Irtl \
	-CFLAGS "-std=c++17 -O2 -Wall -Wextra -Werror -I$(abspath sim)"

$(PHY_UART): rtl/drf_uart.v sim/tb_uart.cpp sim/drf_tb.h mk/device.mk
	@mkdir -p $(BUILD)/obj_uart
	$(VERILATOR) $(PHY_VFLAGS) --top-module drf_uart -GCLKS_PER_BIT=9 -Mdir $(BUILD)/obj_uart \
		rtl/drf_uart.v $(abspath sim/tb_uart.cpp) > $(BUILD)/obj_uart/build.log 2>&1 \
		|| { cat $(BUILD)/obj_uart/build.log; exit 1; }

$(PHY_FT245): rtl/drf_ft245.v sim/tb_ft245.cpp sim/drf_tb.h mk/device.mk
	@mkdir -p $(BUILD)/obj_ft245
	$(VERILATOR) $(PHY_VFLAGS) --top-module drf_ft245 -Mdir $(BUILD)/obj_ft245 \
		rtl/drf_ft245.v $(abspath sim/tb_ft245.cpp) > $(BUILD)/obj_ft245/build.log 2>&1 \
		|| { cat $(BUILD)/obj_ft245/build.log; exit 1; }

phy-test: $(PHY_UART) $(PHY_FT245)
	$(PHY_UART)
	$(PHY_FT245)

# ---- lint: the device in every shipped core shape, with small and large host parameters ----
DEV_LINT_SETS = "$(DEV_PARAMS)" \
	"$(call dev_core,$(SYNTH_ICE40_PARAMS)) MAX_PAYLOAD=136 RX_IDLE_CYCLES=400000 CLOCK_HZ=40000000" \
	"$(call dev_core,$(SYNTH_ECP5_PARAMS)) MAX_PAYLOAD=4104 RX_IDLE_CYCLES=1000000 CLOCK_HZ=100000000" \
	"ROWS=1 COLS=1 LAW=8 RAW=8 DAW=8 MAX_PAYLOAD=64 RX_IDLE_CYCLES=1 CLOCK_HZ=1000000"
lint-device:
	@for set in $(DEV_LINT_SETS); do \
		echo "lint drf_device $$set"; \
		$(VERILATOR) --lint-only -Wall -Irtl --top-module drf_device \
			$$(for p in $$set; do printf -- '-G%s ' $$p; done) $(DEV_RTL_SRC) || exit 1; \
	done
	@for d in 4 9 16 1250; do \
		echo "lint drf_uart CLKS_PER_BIT=$$d"; \
		$(VERILATOR) --lint-only -Wall --top-module drf_uart -GCLKS_PER_BIT=$$d rtl/drf_uart.v \
			|| exit 1; \
	done
	@echo "lint drf_ft245"; $(VERILATOR) --lint-only -Wall --top-module drf_ft245 rtl/drf_ft245.v
	@echo "lint-device: clean"

lint: lint-device

TEST_STEPS += devcosim-test phy-test
TEST_DEPS += $(DEVCOSIM) $(PHY_UART) $(PHY_FT245)

# rtl/drf_ucode.v is generated by rtl/drf_ucode.py (edit the Python, rerun it, commit both):
# lint fails if they disagree.
.PHONY: ucode-check
ucode-check:
	@mkdir -p $(BUILD)
	@python3 rtl/drf_ucode.py $(BUILD)/drf_ucode.v
	@cmp -s $(BUILD)/drf_ucode.v rtl/drf_ucode.v || { echo "rtl/drf_ucode.v is stale: run python3 rtl/drf_ucode.py rtl/drf_ucode.v" >&2; exit 1; }
	@echo "ucode: rtl/drf_ucode.v matches rtl/drf_ucode.py"
lint: ucode-check
