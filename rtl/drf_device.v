// The device behind a byte stream: frame receiver, command engine with response encoder, and the
// compute core (spec 8-9). A PHY (drf_uart, drf_ft245) or a simulation harness feeds rx_* and
// drains tx_*; everything runs in one clock domain.
`default_nettype none

module drf_device #(
    parameter ROWS = 4,                 // DPU rows of the GEMM array (power of two, <= 8)
    parameter COLS = 4,                 // DPU columns
    parameter LAW = 12,                 // L word-address bits (2^LAW 64-bit words)
    parameter RAW = 12,                 // R word-address bits
    parameter DAW = 14,                 // D word-address bits (2^DAW 32-bit words)
    parameter MAX_PAYLOAD = 520,        // INFO max_payload: a WRITE carries MAX_PAYLOAD - 8 bytes
    parameter RX_IDLE_CYCLES = 1000000, // idle cycles inside a frame before rule 7 applies
    parameter CLOCK_HZ = 100000000,     // core clock, reported by INFO
    parameter ACC_MAC = 0               // DPU accumulator form (drf_core): 1 on iCE40 (SB_MAC16)
) (
    input wire clk,
    input wire rst,
    // Command bytes from the host
    input wire rx_valid,
    input wire [7:0] rx_data,
    output wire rx_ready,
    // Response bytes to the host
    output wire tx_valid,
    output wire [7:0] tx_data,
    input wire tx_ready
);
    // Payload buffer: the payload, and above it the receiver's two 16-byte frame-key slots.
    localparam PAW = $clog2(MAX_PAYLOAD + 32);
    // INFO's rx_timeout_us: the idle time rounded up to whole microseconds (64-bit: no overflow).
    function [63:0] widen(input [31:0] x);  // (a concatenation with a parameter-derived
        widen = {32'd0, x};                  // value trips Verilator 5.006's WIDTHCONCAT)
    endfunction
    localparam [63:0] CLK64 = widen(CLOCK_HZ);
    localparam [63:0] RX_TIMEOUT_US64 = (64'd1000000 * RX_IDLE_CYCLES + CLK64 - 64'd1) / CLK64;
    localparam [31:0] RX_TIMEOUT_US = RX_TIMEOUT_US64[31:0];

    wire pb_we, pb_re, ev_valid, ev_ack, junk1, junk2, hdr_err, key_match, key_commit;
    wire tx_crc_init, tx_crc16_en, tx_crc32_en;
    wire [PAW-1:0] pb_waddr, pb_raddr, rx_raddr, cmd_raddr;
    wire [7:0] pb_wdata, pb_rdata, opcode, tag, tx_crc_data;
    wire [1:0] ev_kind;
    wire [15:0] len;
    wire [7:0] crc16_hi, crc16_nlo, crc32_nlo;

    drf_frame_rx #(.MAX_PAYLOAD(MAX_PAYLOAD), .RX_IDLE_CYCLES(RX_IDLE_CYCLES), .PAW(PAW)) u_rx (
        .clk(clk), .rst(rst),
        .in_valid(rx_valid), .in_data(rx_data), .in_ready(rx_ready),
        .pb_we(pb_we), .pb_waddr(pb_waddr), .pb_wdata(pb_wdata),
        .pb_raddr(rx_raddr), .pb_rdata(pb_rdata),
        .ev_valid(ev_valid), .ev_kind(ev_kind), .ev_ack(ev_ack),
        .opcode(opcode), .tag(tag), .len(len), .key_match(key_match), .key_commit(key_commit),
        .tx_crc_init(tx_crc_init), .tx_crc16_en(tx_crc16_en), .tx_crc32_en(tx_crc32_en),
        .tx_crc_data(tx_crc_data), .crc16_hi(crc16_hi), .crc16_nlo(crc16_nlo), .crc32_nlo(crc32_nlo),
        .junk1(junk1), .junk2(junk2), .hdr_err(hdr_err)
    );

    // The payload buffer: a WRITE touches memory only after its FCRC has passed. The read port
    // is the receiver's (key compare) until it reports a frame, then the engine's.
    assign pb_raddr = ev_valid ? cmd_raddr : rx_raddr;
    drf_bram8 #(.AW(PAW)) u_payload (
        .clk(clk), .we(pb_we), .waddr(pb_waddr), .wdata(pb_wdata),
        .re(pb_re || !ev_valid), .raddr(pb_raddr), .rdata(pb_rdata)
    );

    wire cmd_valid, cmd_ready, cmd_done, host_we, host_re;
    wire [7:0] cmd_op;
    wire [319:0] cmd_args;
    wire [1:0] host_mem;
    wire [31:0] host_addr, lfsr_state, cycles, busy_cycles;
    wire [63:0] host_wdata, host_rdata;

    drf_cmd #(.ROWS(ROWS), .COLS(COLS), .LAW(LAW), .RAW(RAW), .DAW(DAW),
              .MAX_PAYLOAD(MAX_PAYLOAD), .PAW(PAW), .CLOCK_HZ(CLOCK_HZ),
              .RX_TIMEOUT_US(RX_TIMEOUT_US)) u_cmd (
        .clk(clk), .rst(rst),
        .ev_valid(ev_valid), .ev_kind(ev_kind), .ev_ack(ev_ack),
        .opcode(opcode), .tag(tag), .len(len), .key_match(key_match), .key_commit(key_commit),
        .junk1(junk1), .junk2(junk2), .hdr_err(hdr_err),
        .tx_crc_init(tx_crc_init), .tx_crc16_en(tx_crc16_en), .tx_crc32_en(tx_crc32_en),
        .tx_crc_data(tx_crc_data), .crc16_hi(crc16_hi), .crc16_nlo(crc16_nlo), .crc32_nlo(crc32_nlo),
        .pb_we(pb_we), .pb_waddr(pb_waddr), .pb_wdata(pb_wdata), .pb_re(pb_re), .pb_raddr(cmd_raddr), .pb_rdata(pb_rdata),
        .cmd_valid(cmd_valid), .cmd_op(cmd_op), .cmd_args(cmd_args), .cmd_ready(cmd_ready),
        .cmd_done(cmd_done),
        .host_we(host_we), .host_re(host_re), .host_mem(host_mem), .host_addr(host_addr),
        .host_wdata(host_wdata), .host_rdata(host_rdata),
        .lfsr_state(lfsr_state), .cycles(cycles),
        .busy_cycles(busy_cycles),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready)
    );

    drf_core #(.ROWS(ROWS), .COLS(COLS), .LAW(LAW), .RAW(RAW), .DAW(DAW), .ACC_MAC(ACC_MAC)) u_core (
        .clk(clk), .rst(rst),
        .cmd_valid(cmd_valid), .cmd_op(cmd_op), .cmd_args(cmd_args), .cmd_ready(cmd_ready),
        .cmd_done(cmd_done),
        .host_we(host_we), .host_re(host_re), .host_mem(host_mem), .host_addr(host_addr),
        .host_wdata(host_wdata), .host_rdata(host_rdata),
        .lfsr_state(lfsr_state), .cycles(cycles),
        .busy_cycles(busy_cycles)
    );
endmodule

`default_nettype wire
