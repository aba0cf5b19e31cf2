// CRC-32 (IEEE 802.3 / zlib, reflected poly 0xEDB88320) advanced by one byte: the frame check of
// spec 8.1. The state is kept uninverted; the CRC is ~state (init 0xFFFFFFFF).
`default_nettype none

module drf_crc32_byte (
    input wire [31:0] crc_in,
    input wire [7:0] data,
    output reg [31:0] crc_out
);
    integer i;
    reg [31:0] c;
    always @(*) begin
        c = crc_in ^ {24'd0, data};
        for (i = 0; i < 8; i = i + 1)
            c = {1'b0, c[31:1]} ^ (c[0] ? 32'hEDB88320 : 32'h00000000);
        crc_out = c;
    end
endmodule

`default_nettype wire
