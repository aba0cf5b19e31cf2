// Byte-wide simple dual-port RAM (one write port, one registered read port): the payload buffer
// and the STATS snapshot of the host interface. Maps to iCE40 EBR / ECP5 block RAM.
`default_nettype none

module drf_bram8 #(
    parameter AW = 10 // address bits (2^AW bytes)
) (
    input wire clk,
    input wire we,
    input wire [AW-1:0] waddr,
    input wire [7:0] wdata,
    input wire re,
    input wire [AW-1:0] raddr,
    output reg [7:0] rdata // data of the last enabled read, one cycle later
);
    reg [7:0] mem[0:(1<<AW)-1];
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        if (re) rdata <= mem[raddr];
    end
endmodule

`default_nettype wire
