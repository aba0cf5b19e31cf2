// Banked 64-bit operand memory (L or R): any BANKS consecutive words in one read.
`default_nettype none

module drf_opmem #(
    parameter BANKS = 4, // banks, a power of two up to 8; word address a lives in bank a mod BANKS
    parameter AW = 12    // word-address bits: 2^AW words in all
) (
    input wire clk,
    // One address for both ports: a bank has a single address (so it maps to single-port SPRAM as
    // well as to EBR/BRAM), and its user never reads and writes in the same cycle.
    input wire [AW-1:0] addr,
    // Write port: one word per cycle, any address
    input wire we,
    input wire [63:0] wdata,
    // Read port: the BANKS words of the aligned block that holds addr, one cycle after rd_en;
    // word (block + b) at [64b +: 64]. The operand layout (spec 2.1: bases and row pitches are
    // multiples of 8) makes every GEMM read aligned, so all banks share one offset and no rotation
    // is needed.
    input wire rd_en,
    output wire [BANKS*64-1:0] rd_data
);
    localparam BW = $clog2(BANKS); // bank-select bits
    localparam DEPTH = (1 << AW) / BANKS;

    generate
        if (BANKS == 1) begin : g_single
            reg [63:0] mem[0:DEPTH-1];
            reg [63:0] q;
            always @(posedge clk) begin
                if (we) mem[addr] <= wdata;
                else if (rd_en) q <= mem[addr];
            end
            assign rd_data = q;
        end else begin : g_banked
            genvar b;
            for (b = 0; b < BANKS; b = b + 1) begin : g_bank
                localparam [BW-1:0] B = b;
                reg [63:0] mem[0:DEPTH-1];
                reg [63:0] q;
                wire sel = we && addr[BW-1:0] == B;
                always @(posedge clk) begin
                    if (sel) mem[addr[AW-1:BW]] <= wdata;
                    else if (rd_en) q <= mem[addr[AW-1:BW]];
                end
                assign rd_data[64*b+:64] = q;
            end
            // A read uses the block offset only; the low address bits select a write's bank (and
            // the host's word in drf_core).
        end
    endgenerate
endmodule

`default_nettype wire
