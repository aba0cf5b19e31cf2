// Byte-wide simple dual-port RAM (one write port, one registered read port): the payload buffer
// and the state RAM of the host interface (INFO table, counters, STATS snapshot). Maps to iCE40
// EBR / ECP5 block RAM; the first INIT_BYTES bytes start with INIT (byte i at [8i +: 8]).
`default_nettype none

module drf_bram8 #(
    parameter AW = 10,        // address bits (2^AW bytes)
    parameter INIT_BYTES = 0, // bytes initialised from INIT (the rest start undefined)
    parameter [8*(INIT_BYTES > 0 ? INIT_BYTES : 1)-1:0] INIT = 0
) (
    input wire clk,
    input wire we,
    input wire [AW-1:0] waddr,
    input wire [7:0] wdata,
    input wire re,
    input wire [AW-1:0] raddr,
    output reg [7:0] rdata // data of the last enabled read, one cycle later
);
    // Never read and written at the same address in one cycle: no collision logic needed.
    (* no_rw_check *) reg [7:0] mem[0:(1<<AW)-1];
    integer i;
    initial for (i = 0; i < INIT_BYTES; i = i + 1) mem[i] = INIT[8*i+:8];
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        if (re) rdata <= mem[raddr];
    end
endmodule

`default_nettype wire
