// CRC-16/CCITT-FALSE (poly 0x1021, MSB first) advanced by one byte: the header check of spec 8.1.
`default_nettype none

module drf_crc16_byte (
    input wire [15:0] crc_in,  // state before the byte (0xFFFF before the first byte)
    input wire [7:0] data,
    output reg [15:0] crc_out  // the CRC itself: no final XOR in this variant
);
    integer i;
    reg [15:0] c;
    always @(*) begin
        c = crc_in;
        for (i = 7; i >= 0; i = i - 1)
            c = {c[14:0], 1'b0} ^ ((c[15] ^ data[i]) ? 16'h1021 : 16'h0000);
        crc_out = c;
    end
endmodule

`default_nettype wire
