// Data memory D: 32-bit words, one read and one byte-enabled write port.
`default_nettype none

module drf_dmem #(
    parameter AW = 14 // word-address bits: 2^AW words
) (
    input wire clk,
    // Read port: rdata one cycle after re
    input wire re,
    input wire [AW-1:0] raddr,
    output reg [31:0] rdata,
    // Write port
    input wire we,
    input wire [AW-1:0] waddr,
    input wire [31:0] wdata,
    input wire [3:0] wbe // byte enables: u8 and i16 views write parts of a word
);
    // No engine reads a word in the cycle it is written (docs/rtl.md), so a read-write collision is
    // a don't-care: without this Yosys adds a bypass (registered write address, data and compare).
    (* no_rw_check *)
    reg [31:0] mem[0:(1<<AW)-1];

    genvar i;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_byte
            always @(posedge clk) if (we && wbe[i]) mem[waddr][8*i+:8] <= wdata[8*i+:8];
        end
    endgenerate

    always @(posedge clk) if (re) rdata <= mem[raddr];
endmodule

`default_nettype wire
