# Board builds: the whole device (host interface + core) with a board's PHY, clock and pins, to a
# bitstream, and flashing it. Included by the Makefile (after its variables).
#
#   make bitstream-icebreaker   yosys + nextpnr-ice40 + icepack: build/icebreaker/drf_icebreaker.bin,
#                               cells and Fmax (scripts/deps.sh --synth installs the tools)
#   make flash-icebreaker       openFPGALoader to the iCEBreaker's SPI flash (skips if no board)
#   make lint-board             verilator --lint-only -Wall and yosys check -assert of the board tops

.PHONY: bitstream-icebreaker flash-icebreaker lint-board

ICEBREAKER := $(BUILD)/icebreaker
ICEBREAKER_BIN := $(ICEBREAKER)/drf_icebreaker.bin
ICEBREAKER_SRC := boards/drf_icebreaker.v $(filter-out rtl/drf_ft245.v,$(sort $(wildcard rtl/*.v)))
ICEBREAKER_FREQ ?= 27
# Parameters of boards/drf_icebreaker.v to override, e.g. "COLS=2"
ICEBREAKER_PARAMS ?=
ICEBREAKER_SEED ?= 1

bitstream-icebreaker: $(ICEBREAKER_BIN)

$(ICEBREAKER_BIN): $(ICEBREAKER_SRC) constraints/icebreaker.pcf mk/board.mk
	@mkdir -p $(ICEBREAKER)
	$(YOSYS) -q -l $(ICEBREAKER)/yosys.log -p "read_verilog -DDRF_ICE40_DSP $(ICEBREAKER_SRC); \
		$(foreach p,$(ICEBREAKER_PARAMS),chparam -set $(subst =, ,$(p)) drf_icebreaker;) synth_ice40 -top drf_icebreaker -spram -dsp -json $(ICEBREAKER)/drf_icebreaker.json; stat"
	$(NEXTPNR_ICE40) -q --up5k --package sg48 --json $(ICEBREAKER)/drf_icebreaker.json \
		--pcf constraints/icebreaker.pcf --freq $(ICEBREAKER_FREQ) --seed $(ICEBREAKER_SEED) \
		--asc $(ICEBREAKER)/drf_icebreaker.asc --report $(ICEBREAKER)/pnr.json \
		-l $(ICEBREAKER)/pnr.log
	icepack $(ICEBREAKER)/drf_icebreaker.asc $@
	@python3 scripts/synth_report.py --arch ice40 --yosys $(ICEBREAKER)/yosys.log \
		--pnr $(ICEBREAKER)/pnr.json --label "iCEBreaker device (boards/drf_icebreaker.v)"

# openFPGALoader finds the board's FT2232H (port A drives the SPI flash); without one it fails,
# which is a skip here, not an error.
flash-icebreaker: $(ICEBREAKER_BIN)
	@if openFPGALoader --detect -c ft2232 >/dev/null 2>&1; then \
		openFPGALoader -b ice40_generic -f $(ICEBREAKER_BIN); \
	else \
		echo "flash-icebreaker: SKIPPED: no iCEBreaker (FT2232H 0403:6010) found"; \
	fi

# Verilator's lint does not flag a register assigned in two clocked always blocks (it simulates
# one of them); synthesis makes it a multi-driven net. Yosys' `check -assert` on the elaborated
# board top (every RTL module, iCE40 forms included) catches it.
lint-board:
	@echo "lint drf_icebreaker"
	@$(VERILATOR) --lint-only -Wall -Irtl --top-module drf_icebreaker $(ICEBREAKER_SRC)
	@echo "yosys check drf_icebreaker"
	@mkdir -p $(BUILD)
	@$(YOSYS) -q -p "read_verilog -lib +/ice40/cells_sim.v; read_verilog -DDRF_ICE40_DSP $(ICEBREAKER_SRC); \
		hierarchy -top drf_icebreaker; \
		proc; flatten; check -assert" > $(BUILD)/yosys_check.log 2>&1 || \
		{ grep -v "^Warning: Resolving" $(BUILD)/yosys_check.log | head -20; exit 1; }
	@echo "lint-board: clean"

lint: lint-board
