// Banked 64-bit operand memory (L or R): any BANKS consecutive words in one read.
`default_nettype none

module drf_opmem #(
    parameter BANKS = 4, // banks, a power of two; word address a lives in bank a mod BANKS
    parameter AW = 12    // word-address bits: 2^AW words in all
) (
    input wire clk,
    // Write port: one word per cycle
    input wire we,
    input wire [AW-1:0] waddr,
    input wire [63:0] wdata,
    // Read port: words rd_base .. rd_base+BANKS-1, one cycle after rd_en. A bank has one address
    // (so it maps to single-port SPRAM as well as to EBR/BRAM): never read and write in one cycle.
    input wire rd_en,
    input wire [AW-1:0] rd_base,
    output wire [BANKS*64-1:0] rd_data
);
    localparam BW = $clog2(BANKS); // bank-select bits
    localparam DEPTH = (1 << AW) / BANKS;

    generate
        if (BANKS == 1) begin : g_single
            reg [63:0] mem[0:DEPTH-1];
            reg [63:0] q;
            wire [AW-1:0] a = we ? waddr : rd_base;
            always @(posedge clk) begin
                if (we) mem[a] <= wdata;
                else if (rd_en) q <= mem[a];
            end
            assign rd_data = q;
        end else begin : g_banked
            wire [BW-1:0] base_lo = rd_base[BW-1:0];
            wire [AW-BW-1:0] base_hi = rd_base[AW-1:BW];
            reg [BW-1:0] rot; // base_lo of the read in flight: bank of word 0
            wire [63:0] bank_q[0:BANKS-1];
            always @(posedge clk) if (rd_en) rot <= base_lo;

            genvar b;
            for (b = 0; b < BANKS; b = b + 1) begin : g_bank
                reg [63:0] mem[0:DEPTH-1];
                reg [63:0] q;
                localparam [BW-1:0] B = b;
                // Banks below the base's bank hold words of the next block (borrow of B - base_lo).
                wire [BW:0] diff = {1'b0, B} - {1'b0, base_lo};
                wire [AW-BW-1:0] off = base_hi + {{(AW-BW-1){1'b0}}, diff[BW]};
                wire sel = we && waddr[BW-1:0] == B;
                wire [AW-BW-1:0] a = sel ? waddr[AW-1:BW] : off;
                always @(posedge clk) begin
                    if (sel) mem[a] <= wdata;
                    else if (rd_en) q <= mem[a];
                end
                assign bank_q[b] = q;
            end
            // Rotate bank outputs back into address order.
            for (b = 0; b < BANKS; b = b + 1) begin : g_rot
                localparam [BW-1:0] B = b;
                wire [BW-1:0] src = rot + B;
                assign rd_data[64*b+:64] = bank_q[src];
            end
        end
    endgenerate
endmodule

`default_nettype wire
