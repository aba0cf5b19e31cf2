// drf_popcount64: pipelined population count of a 64-bit word (adder tree, STAGES register stages).
`default_nettype none

// The tree has six levels: level n holds 64 >> n partial counts of n + 1 bits (level 0 is the input
// word, level 6 the 7-bit count). The output is always registered; with STAGES >= 2 the input is
// registered too (so logic in front of x, like the DPU's operand op, ends in those flip-flops,
// which pack with its LUTs) and the remaining stages split levels 1 .. 6 evenly: registers after
// levels round(6·s / (STAGES - 1)), s = 0 .. STAGES - 1. Yosys/ABC map the levels between two
// stages into LUT4s as a whole, so the tree is written plainly.
module drf_popcount64 #(
    parameter STAGES = 3  // register stages, latency in cycles (1 .. 7)
) (
    input  wire       clk,
    // Data
    input  wire [63:0] x,
    output wire [6:0]  count  // number of ones in x, STAGES cycles after x
);

    // Is level n followed by a register stage?
    function integer level_reg(input integer n);
        integer s;
        begin
            level_reg = n == 6 ? 1 : 0;
            for (s = 0; s < STAGES && STAGES > 1; s = s + 1)
                if ((12 * s + STAGES - 1) / (2 * (STAGES - 1)) == n)
                    level_reg = 1;
        end
    endfunction

    genvar n, m;
    generate
        for (n = 0; n <= 6; n = n + 1) begin : g_level
            localparam CNT = 64 >> n;  // partial counts at this level
            localparam W = n + 1;      // their width
            wire [CNT*W-1:0] out;      // after the optional register
            if (n == 0) begin : g_in
                if (level_reg(0) != 0) begin : g_reg
                    reg [63:0] q;
                    always @(posedge clk) q <= x;
                    assign out = q;
                end else begin : g_comb
                    assign out = x;
                end
            end else begin : g_sum
                wire [CNT*W-1:0] sum;
                for (m = 0; m < CNT; m = m + 1) begin : g_add
                    assign sum[m*W +: W] = {1'b0, g_level[n-1].out[2*m*(W-1) +: W-1]}
                                         + {1'b0, g_level[n-1].out[(2*m+1)*(W-1) +: W-1]};
                end
                if (level_reg(n) != 0) begin : g_reg
                    reg [CNT*W-1:0] q;
                    always @(posedge clk) q <= sum;
                    assign out = q;
                end else begin : g_comb
                    assign out = sum;
                end
            end
        end
    endgenerate

    assign count = g_level[6].out;

endmodule

`default_nettype wire
