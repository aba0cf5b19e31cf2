// drf_dpu: one dot-product unit: per-bit op of two 64-bit words, popcount, Horner accumulator, shadow.
`default_nettype none

// Per bit position k the two control bits {u[k], v[k]} choose what is counted (they are shared by
// every DPU of the array, so the op, the padding mask and the sum pass of drf_gemm together cost one
// LUT4 per bit, which Yosys merges into the first layer of the popcount tree):
//
//     u v | x[k]
//     0 0 | 0              masked (padding at k >= K)
//     0 1 | a[k] & b[k]    AND
//     1 0 | a[k] ^ b[k]    XOR
//     1 1 | b[k]           sum pass: the count of the b side alone
//
// The accumulator runs POPCOUNT_STAGES cycles after the operands. Two forms, the same sums:
//   ACC_MAC = 0 (Horner, in logic): `first` loads the count, `shift` doubles the accumulator before
//     adding (Horner order over bit-plane pairs), otherwise the count is added.
//   ACC_MAC = 1 (multiply-accumulate): acc += count * w, or acc -= count * w with `sub`, where
//     w = 2^(p+q) (2^(p+q+1) for the formats whose C doubles the sum, see drf_gemm) is the plane
//     pair's weight, shared by the array. `first_d` clears the accumulator one cycle ahead of a
//     tile's first element (drf_gemm leaves a one-cycle gap after each tile for it). This is the
//     form of an iCE40 SB_MAC16 in 32-bit accumulate mode (drf_mac), which holds the accumulator
//     at no logic cost.
// A bubble (no stream element; its count is not defined) has valid = 0: the Horner accumulator
// holds, and drf_gemm gives it the weight w = 0. Values stay below 2^31 (spec 3.1), so 32 bits
// never wrap.
//
// With SHADOW = 1 a drf_shadow register takes the accumulator at the end of each tile and drains
// it along the chain of the array's shadows (chain_in is the next DPU's). With SHADOW = 0 (an
// array of one DPU) `shadow` is the accumulator itself: it holds between tiles, and drf_gemm keeps
// the next tile's first element away from it until the drain has read it; cap_d, chain_shift_d
// and chain_in are not used.
module drf_dpu #(
    parameter POPCOUNT_STAGES = 3, // popcount pipeline stages (operands to accumulator)
    parameter ACC_MAC = 0,         // 1: multiply-accumulate by w (see above)
    parameter SHADOW = 1           // 0: no shadow register, `shadow` is the accumulator
) (
    input  wire        clk,
    // Operands and per-bit control (stage 0)
    input  wire [63:0] a,
    input  wire [63:0] b,
    input  wire [63:0] u,
    input  wire [63:0] v,
    // Accumulator and shadow control, one cycle early: each DPU registers its own copy, so that
    // no control flip-flop drives every accumulator bit of the array (2,048 loads at 8 x 8).
    input  wire        valid_d,    // Horner: an element (not a bubble)
    input  wire        first_d,
    input  wire        shift_d,
    input  wire        cap_d,
    input  wire        chain_shift_d,
    input  wire [15:0] w_d,        // ACC_MAC: weight of the element one cycle later
    input  wire        sub_d,      // ACC_MAC: ... and whether it is subtracted
    input  wire [31:0] chain_in,
    output wire [31:0] shadow
);

    wire [63:0] x = (v & ~u & a & b) | (u & ~v & (a ^ b)) | (u & v & b);

    wire [6:0] count;
    drf_popcount64 #(
        .STAGES(POPCOUNT_STAGES)
    ) u_popcount (
        .clk  (clk),
        .x    (x),
        .count(count)
    );

    wire [31:0] acc;
    generate
        if (ACC_MAC == 0) begin : g_horner
            (* keep *) reg valid, first, shift;
            reg [31:0] acc_q;
            wire [31:0] acc_base = first ? 32'd0 : shift ? {acc_q[30:0], 1'b0} : acc_q;
            always @(posedge clk) begin
                valid <= valid_d;
                first <= first_d;
                shift <= shift_d;
                if (valid)
                    acc_q <= acc_base + {25'd0, count};
            end
            assign acc = acc_q;
            /* verilator lint_off UNUSED */
            wire unused_w = ^{w_d, sub_d};
            /* verilator lint_on UNUSED */
        end else begin : g_mac
            drf_mac u_mac (
                .clk (clk),
                .load(first_d),
                .a   (count),
                .b_d (w_d),
                .sub_d(sub_d),
                .acc (acc)
            );
            /* verilator lint_off UNUSED */
            wire unused_s = shift_d ^ valid_d;
            /* verilator lint_on UNUSED */
        end
    endgenerate

    generate
        if (SHADOW != 0) begin : g_shadow
            drf_shadow u_shadow (
                .clk          (clk),
                .cap_d        (cap_d),
                .chain_shift_d(chain_shift_d),
                .acc          (acc),
                .chain_in     (chain_in),
                .shadow       (shadow)
            );
        end else begin : g_acc
            assign shadow = acc;
            /* verilator lint_off UNUSED */
            wire unused_c = ^{cap_d, chain_shift_d, chain_in};
            /* verilator lint_on UNUSED */
        end
    endgenerate

endmodule

`default_nettype wire
