// FT245-style synchronous FIFO PHY (FT232H / FT2232H in sync FIFO mode, 60 MHz CLKOUT): bytes
// from the host's FIFO (RXF#, OE#, RD#) and to it (TXE#, WR#) over one shared 8-bit bus, split
// into in / out / output-enable for the board's top level, which places the tristate buffers.
// Runs on CLKOUT: the device behind it is clocked by it too (or sits behind a clock-domain FIFO).
// A transfer happens at a rising edge where RD# (WR#) and RXF# (TXE#) were both low, so the
// registered strobes need slack: received bytes go through a 4-entry FIFO and RD# is held low
// only while it has room for the byte of the next edge.
//
//   state   OE#  RD#  bus driven by   WR#
//   IDLE     1    1   nobody           1     turnaround: the bus changes direction only here
//   RD_OE    0    1   FTDI             1     OE# one clock before RD# (datasheet)
//   RD       0    0   FTDI             1     one byte per edge while RXF# is low
//   WR       1    1   FPGA             0 while a byte is held
`default_nettype none

module drf_ft245 (
    input wire clk,            // the FTDI's CLKOUT
    input wire rst,
    // FTDI side
    input wire ft_rxf_n,       // data available to read
    input wire ft_txe_n,       // room to write
    output wire ft_rd_n,
    output wire ft_wr_n,
    output wire ft_oe_n,
    output wire ft_siwu_n,     // send immediate / wake up: unused, held high
    input wire [7:0] ft_data_in,
    output wire [7:0] ft_data_out,
    output wire ft_data_oe,    // drive the bus (never while OE# is low)
    // Bytes received from the host
    output wire rx_valid,
    output wire [7:0] rx_data,
    input wire rx_ready,
    // Bytes to send to the host
    input wire tx_valid,
    input wire [7:0] tx_data,
    output wire tx_ready
);
    localparam [1:0] M_IDLE = 2'd0, M_RD_OE = 2'd1, M_RD = 2'd2, M_WR = 2'd3;
    reg [1:0] mode;

    // Receive FIFO, 4 entries.
    reg [7:0] fifo[0:3];
    reg [1:0] wp, rp;
    reg [2:0] count;
    wire rd_xfer = mode == M_RD && !ft_rxf_n;        // the FTDI hands over a byte at this edge
    wire pop = rx_valid && rx_ready;
    wire [2:0] count_next = count + {2'd0, rd_xfer} - {2'd0, pop};
    wire room_next = count_next <= 3'd3;             // room for a byte at the next edge
    assign rx_valid = count != 3'd0;
    assign rx_data = fifo[rp];

    // Transmit holding register.
    reg hold_valid;
    reg [7:0] hold;
    wire wr_xfer = mode == M_WR && hold_valid && !ft_txe_n;
    assign tx_ready = !hold_valid || wr_xfer;
    wire hold_next = (tx_valid && tx_ready) || (hold_valid && !wr_xfer);

    assign ft_oe_n = !(mode == M_RD_OE || mode == M_RD);
    assign ft_rd_n = mode != M_RD;
    assign ft_wr_n = !(mode == M_WR && hold_valid);
    assign ft_data_oe = mode == M_WR;
    assign ft_data_out = hold;
    assign ft_siwu_n = 1'b1;

    always @(posedge clk) begin
        if (rst) begin
            mode <= M_IDLE;
            wp <= 2'd0;
            rp <= 2'd0;
            count <= 3'd0;
            hold_valid <= 1'b0;
        end else begin
            if (rd_xfer) begin
                fifo[wp] <= ft_data_in;
                wp <= wp + 1'b1;
            end
            if (pop) rp <= rp + 1'b1;
            count <= count_next;
            if (tx_valid && tx_ready) hold <= tx_data;
            hold_valid <= hold_next;
            case (mode)
                // Reads first: the host's commands are what the device waits for.
                M_IDLE:
                    if (!ft_rxf_n && room_next) mode <= M_RD_OE;
                    else if (hold_next && !ft_txe_n) mode <= M_WR;
                M_RD_OE: mode <= !ft_rxf_n && room_next ? M_RD : M_IDLE;
                M_RD: if (ft_rxf_n || !room_next) mode <= M_IDLE;
                default: // M_WR: until nothing is left to send or the host's FIFO is full
                    if (!hold_next || ft_txe_n) mode <= M_IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire
