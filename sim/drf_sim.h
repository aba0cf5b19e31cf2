/* C API of the Verilated compute core (sim/drf_sim.cpp): memories, commands, counters. */
#ifndef DOREFA_DRF_SIM_H
#define DOREFA_DRF_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct drf_sim drf_sim;

/* The build's parameters (sim/Makefile fragment passes them to Verilator and to C). */
typedef struct {
    unsigned rows, cols;            /* DPU array */
    uint32_t l_words, r_words, d_words;
} drf_sim_geometry;

/* argc/argv are passed to Verilator (plusargs: +trace writes build/drf_core.fst, or the file given
 * by +trace=FILE). Returns NULL on failure. */
drf_sim *drf_sim_new(int argc, char **argv);
void drf_sim_free(drf_sim *s);
void drf_sim_get_geometry(const drf_sim *s, drf_sim_geometry *g);

/* Backdoor memory access through the core's host port (one cycle per word). mem: 0 L, 1 R, 2 D. */
void drf_sim_write(drf_sim *s, int mem, uint32_t addr, uint64_t word);
uint64_t drf_sim_read(drf_sim *s, int mem, uint32_t addr);

/* Runs one command (spec opcode, payload bytes as in spec 9) to completion. Returns the cycles it
 * took, or -1 if the core did not finish within max_cycles (then the sim is left as it is). */
int64_t drf_sim_cmd(drf_sim *s, uint8_t op, const uint8_t *payload, size_t len, uint64_t max_cycles);

uint32_t drf_sim_lfsr(drf_sim *s);
/* The core's counters for the last command (each command restarts them): cycles it executed and
 * cycles in which the DPU array was busy. */
void drf_sim_counters(drf_sim *s, uint64_t *cycles, uint64_t *busy_cycles);
/* Total clock cycles simulated so far. */
uint64_t drf_sim_time(const drf_sim *s);

#ifdef __cplusplus
}
#endif

#endif
