# bench-lane: logic cells of DPU lane variants on the iCE40 (bench/lane/, docs/perf.md "Area
# efficiency of the array"), after checking the generated carry-chain AND-popcount bit for bit.
# Needs the synthesis tools (scripts/deps.sh --synth).
LANE_DIR := $(BUILD)/lane
LANE_POPCOUNT := $(LANE_DIR)/and_popcount_carry.v
LANE_CHECK := $(LANE_DIR)/check/lane_check
LANE_PRIMS := $(ICE40_SIM)/SB_LUT4.v $(ICE40_SIM)/SB_CARRY.v

$(LANE_POPCOUNT): bench/lane/gen_and_popcount.py
	@mkdir -p $(dir $@)
	python3 $< 64 17 > $@.tmp && mv $@.tmp $@

$(LANE_CHECK): bench/lane/check.cpp tests/test_util.h $(LANE_POPCOUNT) $(LANE_PRIMS)
	@mkdir -p $(dir $@)
	$(VERILATOR) --cc -O3 -Wno-fatal --prefix Vand_popcount_carry --top-module and_popcount_carry \
		-Mdir $(dir $@) $(LANE_POPCOUNT) $(LANE_PRIMS) > $(dir $@)verilate.log 2>&1 \
		|| { cat $(dir $@)verilate.log; exit 1; }
	$(MAKE) -s -C $(dir $@) -f Vand_popcount_carry.mk > /dev/null
	$(MAKE) -s -C $(dir $@) -f Vand_popcount_carry.mk verilated.o verilated_threads.o > /dev/null
	$(CXX) -std=c++17 -O2 -Wall -Wextra -Werror -isystem $(dir $@) \
		-isystem $(VERILATOR_ROOT_DIR)/include -isystem $(VERILATOR_ROOT_DIR)/include/vltstd \
		-o $@ $< $(dir $@)Vand_popcount_carry__ALL.a $(dir $@)verilated.o \
		$(dir $@)verilated_threads.o -lpthread

.PHONY: bench-lane
bench-lane: $(LANE_CHECK)
	$(LANE_CHECK) 200000 $(or $(SEED),1)
	YOSYS=$(YOSYS) NEXTPNR_ICE40=$(NEXTPNR_ICE40) bench/lane/area.sh $(LANE_DIR)
