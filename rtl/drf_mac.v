// drf_mac: 32-bit multiply-accumulate of a DPU (drf_dpu, ACC_MAC = 1): acc += a * b, acc -= a * b,
// or acc = 0.
`default_nettype none

// Behaviour, one clock edge:  acc <= load ? 0 : sub_q ? acc - a * b_q : acc + a * b_q,
//                             b_q <= b_d,  sub_q <= sub_d.
// b and sub are registered here (they arrive a cycle early, shared by the array), a is not. This
// is exactly an iCE40 SB_MAC16 in 32-bit accumulate mode: B input register, 16x16 multiplier
// without pipeline registers, the two 16-bit adders chained (TOP takes the carry of BOT) into the
// output register, OLOAD loading the zero on C:D, ADDSUB of both adders from sub_q (the lower
// adder's carry out is the borrow in a subtraction, so the chained 32-bit subtraction is exact).
// With DRF_ICE40_DSP defined (the iCE40 synthesis) the primitive is instantiated; `make mac-equiv`
// (sim/mac_equiv.cpp) runs both forms on the same random stimulus, the primitive taken from
// Yosys' cells_sim.v. The module stays a hierarchy level of its own in synthesis: Yosys 0.23's
// ice40_dsp pass otherwise folds the DPU's shadow register (an array of more than one DPU) into
// the primitive's output register and shorts it to the drain chain.
`ifdef DRF_ICE40_DSP
(* keep_hierarchy *)
`endif
module drf_mac (
    input  wire        clk,
    input  wire        load,  // clear the accumulator (instead of adding)
    input  wire [6:0]  a,     // popcount, this cycle
    input  wire [15:0] b_d,   // weight, one cycle early
    input  wire        sub_d, // subtract the product (instead of adding it), one cycle early
    output wire [31:0] acc
);
    reg sub_q;
    always @(posedge clk)
        sub_q <= sub_d;
`ifdef DRF_ICE40_DSP
    SB_MAC16 #(
        .NEG_TRIGGER(1'b0), .C_REG(1'b0), .A_REG(1'b0), .B_REG(1'b1), .D_REG(1'b0),
        .TOP_8x8_MULT_REG(1'b0), .BOT_8x8_MULT_REG(1'b0),
        .PIPELINE_16x16_MULT_REG1(1'b0), .PIPELINE_16x16_MULT_REG2(1'b0),
        .TOPOUTPUT_SELECT(2'b01), .TOPADDSUB_LOWERINPUT(2'b10),
        .TOPADDSUB_UPPERINPUT(1'b0), .TOPADDSUB_CARRYSELECT(2'b10),
        .BOTOUTPUT_SELECT(2'b01), .BOTADDSUB_LOWERINPUT(2'b10),
        .BOTADDSUB_UPPERINPUT(1'b0), .BOTADDSUB_CARRYSELECT(2'b00),
        .MODE_8x8(1'b0), .A_SIGNED(1'b0), .B_SIGNED(1'b0)
    ) u_mac16 (
        .CLK(clk), .CE(1'b1),
        .C(16'd0), .A({9'd0, a}), .B(b_d), .D(16'd0),
        .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0),
        .IRSTTOP(1'b0), .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0),
        .OLOADTOP(load), .OLOADBOT(load),
        .ADDSUBTOP(sub_q), .ADDSUBBOT(sub_q), .OHOLDTOP(1'b0), .OHOLDBOT(1'b0),
        .CI(1'b0), .ACCUMCI(1'b0), .SIGNEXTIN(1'b0),
        .O(acc), .CO(), .ACCUMCO(), .SIGNEXTOUT()
    );
`else
    reg [15:0] b;
    reg [31:0] acc_q;
    wire [31:0] prod = {9'd0, a} * {16'd0, b};
    always @(posedge clk) begin
        b <= b_d;
        acc_q <= load ? 32'd0 : sub_q ? acc_q - prod : acc_q + prod;
    end
    assign acc = acc_q;
`endif
endmodule

`default_nettype wire
