// Shared by the PHY benches (tb_uart.cpp, tb_ft245.cpp): small helpers for a Verilated model with
// clk and rst ports.
#ifndef DOREFA_DRF_TB_H
#define DOREFA_DRF_TB_H

// Holds rst high for `cycles` full clock cycles, then releases it (the inputs are set beforehand).
template <class Model>
void drf_tb_reset(Model *top, int cycles)
{
    top->rst = 1;
    for (int i = 0; i < cycles; i++) {
        top->clk = 0;
        top->eval();
        top->clk = 1;
        top->eval();
    }
    top->rst = 0;
}

#endif
