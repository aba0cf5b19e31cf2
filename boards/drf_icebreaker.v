// drf_icebreaker: the accelerator on an iCEBreaker (iCE40UP5K-SG48): drf_device behind the UART of
// the board's FT2232H (port B), clocked by a PLL from the 12 MHz oscillator.
//
// Clock: 12 MHz x 72 / 32 = 27 MHz (icepll -i 12 -o 27; VCO 864 MHz), so the UART runs at exactly
// 9 clocks per bit at 3 Mbaud, the driver's default rate (libdorefa: usb:0403:6010, interface B).
// The core alone routes above 40 MHz; the whole device's host side (command engine, receiver)
// tops out near 30 MHz on the UP5K (docs/perf.md), and 27 MHz is the next multiple of 3 MHz.
// Reset: held until the PLL locks and for 2^16 cycles after, and while the user button is pressed.
// LEDs (active low): green = the device is out of reset; red = a UART line error (overrun or
// framing) was seen since reset.
`default_nettype none

module drf_icebreaker #(
    parameter ROWS = 1,
    parameter COLS = 1,
    parameter LAW = 14,                 // L in the four SPRAMs (16 Ki words of 64 bits)
    parameter RAW = 10,                 // R and D in EBR
    parameter DAW = 10,
    parameter MAX_PAYLOAD = 136,        // payload buffer and key slots in one EBR
    parameter CLOCK_HZ = 27000000,
    parameter BAUD = 3000000,
    parameter RX_IDLE_CYCLES = 270000   // 10 ms inside a frame (spec 8.2 rule 7)
) (
    input  wire clk_12m,  // pin 35
    input  wire uart_rx,  // pin 6, from the FT2232H's TXD
    output wire uart_tx,  // pin 9, to its RXD
    input  wire btn_n,    // pin 10, user button
    output wire led_r_n,  // pin 11
    output wire led_g_n   // pin 37
);
    wire clk, locked;
`ifdef VERILATOR
    // Lint only: the PLL is a hard block.
    assign clk = clk_12m;
    assign locked = 1'b1;
`else
    SB_PLL40_PAD #(
        .FEEDBACK_PATH("SIMPLE"),
        .DIVR(4'd0),
        .DIVF(7'd71),
        .DIVQ(3'd5),
        .FILTER_RANGE(3'd1)
    ) u_pll (
        .PACKAGEPIN(clk_12m),
        .PLLOUTGLOBAL(clk),
        .LOCK(locked),
        .RESETB(1'b1),
        .BYPASS(1'b0)
    );
`endif

    reg [16:0] por = 17'd0;   // bit 16 set: out of reset
    reg [1:0] btn_sync = 2'b11;
    always @(posedge clk) begin
        btn_sync <= {btn_sync[0], btn_n};
        if (!locked || !btn_sync[1])
            por <= 17'd0;
        else if (!por[16])
            por <= por + 17'd1;
    end
    wire rst = !por[16];

    wire rx_valid, rx_ready, tx_valid, tx_ready, overrun, frame_err;
    wire [7:0] rx_data, tx_data;
    drf_uart #(.CLKS_PER_BIT(CLOCK_HZ / BAUD)) u_uart (
        .clk(clk), .rst(rst), .rxd(uart_rx), .txd(uart_tx),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready),
        .rx_overrun(overrun), .rx_frame_err(frame_err)
    );

    drf_device #(
        .ROWS(ROWS), .COLS(COLS), .LAW(LAW), .RAW(RAW), .DAW(DAW), .MAX_PAYLOAD(MAX_PAYLOAD),
        .RX_IDLE_CYCLES(RX_IDLE_CYCLES), .CLOCK_HZ(CLOCK_HZ), .ACC_MAC(1)
    ) u_device (
        .clk(clk), .rst(rst),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready)
    );

    reg line_err = 1'b0;
    always @(posedge clk)
        if (rst) line_err <= 1'b0;
        else if (overrun || frame_err) line_err <= 1'b1;
    assign led_r_n = !line_err;
    assign led_g_n = rst;
endmodule

`default_nettype wire
