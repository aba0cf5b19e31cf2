// UART PHY, 8N1, for the FT231X (ULX3S, 3 Mbaud) and FT2232H port B (iCEBreaker, up to 12 Mbaud):
// a line receiver with a one-byte holding register and a transmitter, bytes in and out by
// valid/ready. The divisor is fixed at build time (CLKS_PER_BIT = clock / baud, at least 4).
`default_nettype none

module drf_uart #(
    parameter CLKS_PER_BIT = 8 // clock cycles per bit: e.g. 48 MHz / 12 Mbaud = 4, 48 / 3 = 16
) (
    input wire clk,
    input wire rst,
    // Line
    input wire rxd,            // from the host's TXD (idle high)
    output reg txd,            // to the host's RXD
    // Bytes received from the host
    output reg rx_valid,
    output reg [7:0] rx_data,
    input wire rx_ready,
    // Bytes to send to the host
    input wire tx_valid,
    input wire [7:0] tx_data,
    output wire tx_ready,
    // Line errors (one-cycle pulses): a byte lost because the holding register was full, or a
    // stop bit that was low
    output reg rx_overrun,
    output reg rx_frame_err
);
    localparam CW = $clog2(CLKS_PER_BIT + 1);
    localparam [31:0] CPB = CLKS_PER_BIT;
    localparam [CW-1:0] BIT_LAST = CPB[CW-1:0] - 1'b1;
    localparam [CW-1:0] HALF_LAST = CPB[CW:1] - 1'b1; // the middle of the start bit

    // ---- receiver: the line is synchronised, each bit sampled in its middle ----
    reg [1:0] rxd_sync;
    localparam [1:0] R_IDLE = 2'd0, R_START = 2'd1, R_DATA = 2'd2, R_STOP = 2'd3;
    reg [1:0] rstate;
    reg [CW-1:0] rcnt;
    reg [2:0] rbit;
    reg [7:0] rshift;
    reg rwait_high;            // after a framing error: wait for the line to be idle again
    wire rx_line = rxd_sync[1];

    always @(posedge clk) begin
        rxd_sync <= {rxd_sync[0], rxd};
        if (rst) begin
            rxd_sync <= 2'b11;
            rstate <= R_IDLE;
            rx_valid <= 1'b0;
            rx_overrun <= 1'b0;
            rx_frame_err <= 1'b0;
            rwait_high <= 1'b0;
        end else begin
            rx_overrun <= 1'b0;
            rx_frame_err <= 1'b0;
            if (rx_valid && rx_ready) rx_valid <= 1'b0;
            case (rstate)
                R_IDLE: begin
                    if (rx_line) rwait_high <= 1'b0;
                    else if (!rwait_high) begin
                        rstate <= R_START;
                        rcnt <= HALF_LAST;
                    end
                end
                R_START:
                    if (rcnt != 0) rcnt <= rcnt - 1'b1;
                    else if (rx_line) rstate <= R_IDLE; // a glitch, not a start bit
                    else begin
                        rstate <= R_DATA;
                        rcnt <= BIT_LAST;
                        rbit <= 3'd0;
                    end
                R_DATA:
                    if (rcnt != 0) rcnt <= rcnt - 1'b1;
                    else begin
                        rshift <= {rx_line, rshift[7:1]};
                        rcnt <= BIT_LAST;
                        rbit <= rbit + 1'b1;
                        if (rbit == 3'd7) rstate <= R_STOP;
                    end
                default: // R_STOP: sampled in its middle, so the next start edge is seen in time
                    if (rcnt != 0) rcnt <= rcnt - 1'b1;
                    else begin
                        rstate <= R_IDLE;
                        if (!rx_line) begin
                            rx_frame_err <= 1'b1;
                            rwait_high <= 1'b1;
                        end else if (rx_valid && !rx_ready) begin
                            rx_overrun <= 1'b1; // no flow control on the line: the byte is lost
                        end else begin
                            rx_valid <= 1'b1;
                            rx_data <= rshift;
                        end
                    end
            endcase
        end
    end

    // ---- transmitter: start bit, 8 data bits LSB first, stop bit ----
    reg [8:0] tshift;          // data and stop bit still to send (after the start bit)
    reg [3:0] tbits;           // bits left in the current character, 0 when idle
    reg [CW-1:0] tcnt;
    assign tx_ready = tbits == 4'd0;

    always @(posedge clk) begin
        if (rst) begin
            txd <= 1'b1;
            tbits <= 4'd0;
        end else if (tbits == 4'd0) begin
            if (tx_valid) begin
                txd <= 1'b0;
                tshift <= {1'b1, tx_data};
                tbits <= 4'd10;
                tcnt <= BIT_LAST;
            end
        end else if (tcnt != 0) begin
            tcnt <= tcnt - 1'b1;
        end else begin
            tbits <= tbits - 1'b1;
            tcnt <= BIT_LAST;
            if (tbits != 4'd1) begin
                txd <= tshift[0];
                tshift <= {1'b1, tshift[8:1]};
            end
        end
    end
endmodule

`default_nettype wire
