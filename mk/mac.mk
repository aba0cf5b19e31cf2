# drf_mac equivalence: the behavioural accumulator against the iCE40 SB_MAC16 it stands for
# (sim/mac_equiv.cpp; the primitive's simulation model comes from Yosys' cells_sim.v, see ICE40_SIM).
MAC_DIR := $(BUILD)/mac_equiv
MAC_EQUIV := $(MAC_DIR)/mac_equiv

$(MAC_EQUIV): sim/mac_equiv.cpp tests/test_util.h rtl/drf_mac.v $(ICE40_SIM)/SB_MAC16.v
	@mkdir -p $(MAC_DIR)
	$(VERILATOR) --cc -O3 -Wall -Wno-fatal --prefix Vmac_beh --top-module drf_mac \
		-Mdir $(MAC_DIR)/beh rtl/drf_mac.v > $(MAC_DIR)/beh.log 2>&1 || { cat $(MAC_DIR)/beh.log; exit 1; }
	$(VERILATOR) --cc -O3 -Wno-fatal -DDRF_ICE40_DSP --prefix Vmac_prim --top-module drf_mac \
		-Mdir $(MAC_DIR)/prim rtl/drf_mac.v $(ICE40_SIM)/SB_MAC16.v > $(MAC_DIR)/prim.log 2>&1 \
		|| { cat $(MAC_DIR)/prim.log; exit 1; }
	$(MAKE) -s -C $(MAC_DIR)/beh -f Vmac_beh.mk > /dev/null
	$(MAKE) -s -C $(MAC_DIR)/prim -f Vmac_prim.mk > /dev/null
	$(MAKE) -s -C $(MAC_DIR)/beh -f Vmac_beh.mk verilated.o verilated_threads.o > /dev/null
	$(CXX) -std=c++17 -O2 -Wall -Wextra -Werror -isystem $(MAC_DIR)/beh -isystem $(MAC_DIR)/prim \
		-isystem $(VERILATOR_ROOT_DIR)/include -isystem $(VERILATOR_ROOT_DIR)/include/vltstd \
		-o $@ $< $(MAC_DIR)/beh/Vmac_beh__ALL.a $(MAC_DIR)/prim/Vmac_prim__ALL.a \
		$(MAC_DIR)/beh/verilated.o $(MAC_DIR)/beh/verilated_threads.o -lpthread

.PHONY: mac-equiv
mac-equiv: $(MAC_EQUIV)
	$(MAC_EQUIV) 200000 1

TEST_DEPS += $(MAC_EQUIV)
TEST_STEPS += mac-equiv

# The co-simulation of the iCE40 form of the core: the UP5K geometry with multiply-accumulate DPUs
# (the default `make cosim` covers the 4x4 Horner form that simulation and ECP5 use).
ICE40_SIM_PARAMS = $(filter-out ACC_MAC=%,$(SYNTH_ICE40_PARAMS)) ACC_MAC=1
N_ICE40 ?= 2000
.PHONY: cosim-ice40
cosim-ice40:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/ice40-sim SIM_PARAMS="$(ICE40_SIM_PARAMS)" \
		cosim N=$(N_ICE40) SEED=$(SEED)

TEST_STEPS += cosim-ice40
