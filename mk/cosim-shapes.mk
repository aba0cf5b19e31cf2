# Co-simulation of a one-column array (2x1, Horner accumulators): its band has a single correction
# word, written in the sum drain's last cycle and read first by the next drain, a hazard the 4x4
# and 1x1 runs cannot show (it took 8 mismatches in 3,000 ops before the fix in drf_gemm's sum_len).
N_1COL ?= 3000
.PHONY: cosim-1col
cosim-1col:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/cosim-1col \
		SIM_PARAMS="ROWS=2 COLS=1 LAW=14 RAW=10 DAW=10 ACC_MAC=0" cosim N=$(N_1COL) SEED=$(SEED)

TEST_STEPS += cosim-1col
