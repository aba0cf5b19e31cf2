// drf_popcount64: pipelined population count of a 64-bit word (carry-save tree, STAGES register stages).
`default_nettype none

// A Wallace tree at the bit level: bits of equal weight form a column (level 0: the 64 input bits,
// all of weight 1). Each level passes every column three bits at a time through full adders (sum
// bit stays in the column, carry bit goes to the next) and moves the one or two left over on
// unchanged, until no column holds more than two bits: nine levels here, column heights (weights
// 1 .. 32) 64 -> 22 21 -> 8 14 7 -> ... -> 2 1 1 1 1 1. Level 10 adds the two rows that remain
// (a 7-bit carry chain). 57 full adders, two LUT4s each.
//
// Why not an adder tree: its leaves are 1- and 2-bit adders, which remove no more bits per LUT
// than a full adder does and each costs a carry-chain entry and exit besides. On the iCE40 a DPU
// (operand op, tree, shadow) takes 226 logic cells this way, 250 with the adder tree.
//
// The output is always registered; with STAGES >= 2 the input is registered too (so logic in
// front of x, like the DPU's operand op, ends in those flip-flops, which pack with its LUTs) and
// the remaining STAGES - 2 stages split levels 1 .. 10 evenly.
module drf_popcount64 #(
    parameter STAGES = 3  // register stages, latency in cycles (1 .. 7)
) (
    input  wire       clk,
    // Data
    input  wire [63:0] x,
    output wire [6:0]  count  // number of ones in x, STAGES cycles after x
);
    // Column heights after level l: column c (weight 2^c, c = 0 .. 6; 7 stays empty) at [8c +: 8].
    function [63:0] heights(input integer l);
        integer i, c;
        reg [63:0] h, nh;
        begin
            h = 64'd64;
            for (i = 0; i < l; i = i + 1) begin
                nh = 64'd0;
                for (c = 0; c < 7; c = c + 1) begin
                    nh[8*c +: 8] = nh[8*c +: 8] + h[8*c +: 8] / 3 + h[8*c +: 8] % 3;
                    nh[8*(c+1) +: 8] = nh[8*(c+1) +: 8] + h[8*c +: 8] / 3;
                end
                h = nh;
            end
            heights = h;
        end
    endfunction

    // Carry-save levels: the first level whose columns hold at most maxh bits.
    function integer csa_levels(input integer maxh);
        integer l, c, tall;
        reg [63:0] h;
        begin
            csa_levels = 0;
            for (l = 0; l < 16; l = l + 1) begin
                h = heights(l);
                tall = 0;
                for (c = 0; c < 7; c = c + 1)
                    if ({24'd0, h[8*c +: 8]} > maxh) tall = 1;
                if (tall == 0 && csa_levels == 0)
                    csa_levels = l;
            end
        end
    endfunction

    // Column c of level l starts at bit offset(l, c) of the level's vector; size(l) bits in all.
    function integer offset(input integer l, input integer c);
        integer k;
        reg [63:0] h;
        begin
            h = heights(l);
            offset = 0;
            for (k = 0; k < c; k = k + 1)
                offset = offset + {24'd0, h[8*k +: 8]};
        end
    endfunction

    localparam CSA = csa_levels(2);
    localparam LEVELS = CSA + 1;  // then the final adder

    // Is level n followed by a register stage? Level 0 with STAGES >= 2, the last level always,
    // and STAGES - 2 levels in between, evenly spaced.
    function integer level_reg(input integer n);
        integer s;
        begin
            level_reg = (n == LEVELS || (n == 0 && STAGES >= 2)) ? 1 : 0;
            for (s = 1; s < STAGES - 1; s = s + 1)
                if ((2 * s * LEVELS + STAGES - 1) / (2 * (STAGES - 1)) == n)
                    level_reg = 1;
        end
    endfunction

    genvar n, c, m;
    generate
        for (n = 0; n <= LEVELS; n = n + 1) begin : g_level
            localparam W = n < LEVELS ? offset(n, 7) : 7;  // bits held at this level
            wire [W-1:0] d;    // the level's bits
            wire [W-1:0] out;  // ... after the optional register
            if (n == 0) begin : g_in
                assign d = x;
            end else if (n < LEVELS) begin : g_csa
                wire [offset(n - 1, 7)-1:0] in = g_level[n-1].out;
                for (c = 0; c < 7; c = c + 1) begin : g_col
                    localparam [63:0] HP = heights(n - 1);
                    localparam integer HC = {24'd0, HP[8*c +: 8]};  // bits of column c coming in
                    localparam FA = HC / 3;             // its full adders
                    localparam IB = offset(n - 1, c);   // where they are
                    localparam OB = offset(n, c);       // where column c goes out
                    // Column c + 1 going out: its own sums and leftovers, then these carries.
                    localparam integer HN = {24'd0, HP[8*(c+1) +: 8]};
                    localparam CB = offset(n, c + 1) + HN / 3 + HN % 3;
                    for (m = 0; m < FA; m = m + 1) begin : g_fa
                        wire i0 = in[IB + 3*m];
                        wire i1 = in[IB + 3*m + 1];
                        wire i2 = in[IB + 3*m + 2];
                        assign d[OB + m] = i0 ^ i1 ^ i2;
                        assign d[CB + m] = (i0 & i1) | (i0 & i2) | (i1 & i2);
                    end
                    for (m = 0; m < HC % 3; m = m + 1) begin : g_pass
                        assign d[OB + FA + m] = in[IB + 3*FA + m];
                    end
                end
            end else begin : g_add
                // two rows: the first bit of each column, and the second where there is one
                localparam PW = offset(n - 1, 7);
                localparam [63:0] HP = heights(n - 1);
                wire [PW-1:0] in = g_level[n-1].out;
                wire [6:0] row_a, row_b;
                for (c = 0; c < 7; c = c + 1) begin : g_col
                    localparam integer HC = {24'd0, HP[8*c +: 8]};
                    localparam IB = offset(n - 1, c);
                    assign row_a[c] = HC > 0 ? in[IB] : 1'b0;
                    assign row_b[c] = HC > 1 ? in[IB + (HC > 1 ? 1 : 0)] : 1'b0;
                end
                assign d = row_a + row_b;
            end
            if (level_reg(n) != 0) begin : g_reg
                reg [W-1:0] q;
                always @(posedge clk) q <= d;
                assign out = q;
            end else begin : g_comb
                assign out = d;
            end
        end
    endgenerate

    assign count = g_level[LEVELS].out;

endmodule

`default_nettype wire
