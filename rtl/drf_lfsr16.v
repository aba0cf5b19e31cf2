// Steps of the f_gamma Galois LFSR (spec 7) as one XOR network: 16 steps make one draw.
`default_nettype none

module drf_lfsr16 #(
    parameter STEPS = 16                   // steps per evaluation: 16 = one draw (spec 7), 1 = serial
) (
    // State
    input  wire [31:0] state_in,
    output wire [31:0] state_out   // state_in advanced by STEPS steps; a draw's U is [15:0]
);
    localparam [31:0] MASK = 32'h80200003;  // x^32 + x^22 + x^2 + x + 1, right-shifting form

    // g_step[i].nxt is the state after i + 1 steps.
    genvar i;
    generate
        for (i = 0; i < STEPS; i = i + 1) begin : g_step
            wire [31:0] cur;
            wire [31:0] nxt;
            if (i == 0) begin : g_first
                assign cur = state_in;
            end else begin : g_chain
                assign cur = g_step[i-1].nxt;
            end
            // step(s): lsb = s & 1; s >>= 1; if (lsb) s ^= MASK
            assign nxt = {1'b0, cur[31:1]} ^ (MASK & {32{cur[0]}});
        end
    endgenerate

    assign state_out = g_step[STEPS-1].nxt;
endmodule

`default_nettype wire
