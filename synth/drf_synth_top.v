// Synthesis harness for drf_core: every core input comes from a serial shift chain and every
// output goes out through one, so place and route sees the whole core behind four pins.
// Used only for resource and Fmax reports (make synth); the board tops come with the host
// interface (issue 4).
`default_nettype none

module drf_synth_top #(
    parameter ROWS = 4, // as drf_core
    parameter COLS = 4,
    parameter LAW = 12,
    parameter RAW = 12,
    parameter DAW = 14,
    parameter ACC_MAC = 0
) (
    input wire clk,
    input wire din,       // serial stimulus
    input wire [1:0] ctl, // 0 shift, 1 command, 2 host write, 3 host read / capture outputs
    output wire dout      // serial results
);
    localparam IN_BITS = 320 + 8 + 32 + 64 + 2;
    localparam OUT_BITS = 64 + 32 + 32 + 32 + 2;

    reg [IN_BITS-1:0] sin;
    reg [OUT_BITS-1:0] sout;
    reg [3:0] rst_cnt = 4'd0;
    wire rst = !rst_cnt[3];
    always @(posedge clk) if (rst) rst_cnt <= rst_cnt + 1'b1;

    // ctl is registered, as the device's command engine drives cmd_valid from a flip-flop: a path
    // from the pin would time the pad, not the core.
    reg [1:0] ctl_q;
    always @(posedge clk) ctl_q <= ctl;

    always @(posedge clk) if (ctl_q == 2'd0) sin <= {sin[IN_BITS-2:0], din};

    wire cmd_ready, cmd_done;
    wire [63:0] host_rdata;
    wire [31:0] lfsr_state, cycles, busy_cycles;

    drf_core #(.ROWS(ROWS), .COLS(COLS), .LAW(LAW), .RAW(RAW), .DAW(DAW), .ACC_MAC(ACC_MAC)) u_core (
        .clk(clk), .rst(rst),
        .cmd_valid(ctl_q == 2'd1), .cmd_op(sin[327:320]), .cmd_args(sin[319:0]),
        .cmd_ready(cmd_ready), .cmd_done(cmd_done),
        .host_we(ctl_q == 2'd2), .host_re(ctl_q == 2'd3), .host_mem(sin[425:424]),
        .host_addr(sin[359:328]), .host_wdata(sin[423:360]), .host_rdata(host_rdata),
        .lfsr_state(lfsr_state), .cycles(cycles),
        .busy_cycles(busy_cycles)
    );

    always @(posedge clk)
        if (ctl_q == 2'd3) sout <= {host_rdata, lfsr_state, cycles, busy_cycles, cmd_ready, cmd_done};
        else sout <= {1'b0, sout[OUT_BITS-1:1]};
    assign dout = sout[0];
endmodule

`default_nettype wire
