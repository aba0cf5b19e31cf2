# drf_popcount64 unit test (sim/popcount_test.cpp) for each POPCOUNT_STAGES value the DPU accepts
# that changes the tree's register placement: 1 (output only), 2, 3 (the default), 4 and 7.
PC_DIR := $(BUILD)/popcount
PC_STAGES := 1 2 3 4 7
PC_TESTS := $(foreach s,$(PC_STAGES),$(PC_DIR)/s$(s)/popcount_test)

$(PC_DIR)/s%/popcount_test: sim/popcount_test.cpp tests/test_util.h rtl/drf_popcount64.v
	@mkdir -p $(dir $@)
	$(VERILATOR) --cc -O3 -Wall --prefix Vpopcount --top-module drf_popcount64 -GSTAGES=$* \
		-Mdir $(dir $@) rtl/drf_popcount64.v > $(dir $@)verilate.log 2>&1 \
		|| { cat $(dir $@)verilate.log; exit 1; }
	$(MAKE) -s -C $(dir $@) -f Vpopcount.mk > /dev/null
	$(MAKE) -s -C $(dir $@) -f Vpopcount.mk verilated.o verilated_threads.o > /dev/null
	$(CXX) -std=c++17 -O2 -Wall -Wextra -Werror -DSTAGES=$* -isystem $(dir $@) \
		-isystem $(VERILATOR_ROOT_DIR)/include -isystem $(VERILATOR_ROOT_DIR)/include/vltstd \
		-o $@ $< $(dir $@)Vpopcount__ALL.a $(dir $@)verilated.o $(dir $@)verilated_threads.o \
		-lpthread

.PHONY: popcount-test
popcount-test: $(PC_TESTS)
	@for t in $(PC_TESTS); do $$t 100000 $(SEED) || exit 1; done

TEST_DEPS += $(PC_TESTS)
TEST_STEPS += popcount-test
