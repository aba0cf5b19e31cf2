// Lane variants for `make bench-lane` (an area experiment on the iCE40, see docs/perf.md).
`default_nettype none

// AND and the Wallace tree alone (count registered, no input register): the compressor to beat.
module lane_and_wallace (
    input  wire        clk,
    input  wire [63:0] a,
    input  wire [63:0] b,
    output wire [6:0]  count
);
    drf_popcount64 #(
        .STAGES(1)
    ) u_popcount (
        .clk(clk), .x(a & b), .count(count)
    );
endmodule

// An AND-only lane, accumulating in an SB_MAC16 (drf_mac).
//   CARRY = 0: the shipped DPU with its per-bit op tied to AND (u = 0, v = 1); the Wallace tree,
//              its input register and the shadow stay. What AND-only alone saves.
//   CARRY = 1: the carry-chain AND-popcount (gen_and_popcount.py, combinational, count
//              registered) and, with SHADOW = 1, the DPU's 32-bit drain shadow.
module lane_and #(
    parameter CARRY = 1,  // see above
    parameter SHADOW = 1  // CARRY = 1 only; 0: the drain reads the accumulator (a one-DPU array)
) (
    input  wire        clk,
    input  wire [63:0] a,
    input  wire [63:0] b,
    input  wire        first_d,
    input  wire        cap_d,
    input  wire        chain_shift_d,
    input  wire [15:0] w_d,
    input  wire        sub_d,
    input  wire [31:0] chain_in,
    output wire [31:0] shadow
);
    generate
        if (CARRY == 0) begin : g_dpu
            drf_dpu #(
                .POPCOUNT_STAGES(3),
                .ACC_MAC(1)
            ) u_dpu (
                .clk(clk), .a(a), .b(b), .u(64'd0), .v(~64'd0), .valid_d(1'b1),
                .first_d(first_d), .shift_d(1'b0), .cap_d(cap_d), .chain_shift_d(chain_shift_d),
                .w_d(w_d), .sub_d(sub_d), .chain_in(chain_in), .shadow(shadow)
            );
        end else begin : g_carry
            wire [6:0] count;
            reg  [6:0] count_q;
            and_popcount_carry u_popcount (.a(a), .b(b), .count(count));
            always @(posedge clk)
                count_q <= count;

            wire [31:0] acc;
            drf_mac u_mac (
                .clk(clk), .load(first_d), .a(count_q), .b_d(w_d), .sub_d(sub_d), .acc(acc)
            );

            if (SHADOW != 0) begin : g_shadow
                drf_shadow u_shadow (
                    .clk(clk), .cap_d(cap_d), .chain_shift_d(chain_shift_d), .acc(acc),
                    .chain_in(chain_in), .shadow(shadow)
                );
            end else begin : g_direct
                assign shadow = acc;
                wire unused = ^{cap_d, chain_shift_d, chain_in};
            end
        end
    endgenerate
endmodule

`default_nettype wire
