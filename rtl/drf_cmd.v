// Command engine of spec 8.2 rules 5-6, 8.3-8.5 and 9: duplicate-frame memory, validation in the
// spec's order, execution through drf_core, the STATS counters and the response encoder.
`default_nettype none

module drf_cmd #(
    parameter ROWS = 4,              // INFO geometry (the core's DPU array)
    parameter COLS = 4,
    parameter LAW = 12,              // L, R, D word-address bits (INFO sizes and range checks)
    parameter RAW = 12,
    parameter DAW = 14,
    parameter MAX_PAYLOAD = 520,     // INFO max_payload; the payload buffer holds this many bytes
    parameter PAW = 10,              // payload buffer address bits
    parameter CLOCK_HZ = 10000000,   // INFO core clock
    parameter RX_TIMEOUT_US = 100    // INFO rx_timeout_us (the receiver's idle time)
) (
    input wire clk,
    input wire rst,
    // Receiver events and the frame they describe (stable while ev_valid)
    input wire ev_valid,
    input wire [1:0] ev_kind,        // 0 FCRC ok; 1, 2, 3: answer BAD_CRC, TOO_LONG, TRUNCATED
    output wire ev_ack,
    input wire [7:0] opcode,
    input wire [7:0] tag,
    input wire [15:0] len,
    input wire [31:0] fcrc,
    input wire args_shift,           // payload bytes 0..39 as they arrive
    input wire [7:0] args_byte,
    input wire junk1,
    input wire junk2,
    input wire hdr_err,
    // Payload buffer read port (one cycle latency)
    output wire pb_re,
    output wire [PAW-1:0] pb_raddr,
    input wire [7:0] pb_rdata,
    // Compute core
    output wire cmd_valid,
    output wire [7:0] cmd_op,
    output wire [319:0] cmd_args,
    input wire cmd_ready,
    input wire cmd_done,
    output wire host_we,
    output wire host_re,
    output wire [1:0] host_mem,
    output wire [31:0] host_addr,
    output wire [63:0] host_wdata,
    input wire [63:0] host_rdata,
    output wire stats_clear,
    input wire [31:0] lfsr_state,
    input wire [63:0] cycles,
    input wire [63:0] busy_cycles,
    // Response byte stream to the PHY
    output reg tx_valid,
    output reg [7:0] tx_data,
    input wire tx_ready
);
    // ---- constants of the spec ----
    localparam [7:0] OP_INFO = 8'h01, OP_RESET = 8'h02, OP_WRITE = 8'h03, OP_READ = 8'h04,
                     OP_GEMM = 8'h05, OP_QGRAD = 8'h06, OP_QACT = 8'h07, OP_PACK = 8'h08,
                     OP_SEED = 8'h09, OP_STATS = 8'h0A, OP_ECHO = 8'h0B;
    localparam [2:0] ST_OK = 3'd0, ST_BAD_OPCODE = 3'd4, ST_BAD_LENGTH = 3'd5, ST_BAD_ARG = 3'd6,
                     ST_BAD_ADDR = 3'd7;
    localparam [31:0] MAX_K = 32'd32768;
    localparam [32:0] L_WORDS = 33'd1 << LAW, R_WORDS = 33'd1 << RAW, D_WORDS = 33'd1 << DAW;
    localparam [31:0] MAXP = MAX_PAYLOAD;
    localparam [31:0] READ_MAX_D = (MAXP - 1) / 4, READ_MAX_LR = (MAXP - 1) / 8; // words per READ

    // INFO response data (spec 9.1), byte i at [8i +: 8].
    localparam [15:0] IMPL_RTL = 16'd1, PROTO_VERSION = 16'd1;
    localparam [31:0] ROWS32 = ROWS, COLS32 = COLS;
    localparam [31:0] TIMEOUT32 = RX_TIMEOUT_US, CLOCK32 = CLOCK_HZ;
    localparam [31:0] INFO_MAXP = MAX_PAYLOAD;
    localparam [31:0] L_WORDS32 = L_WORDS[31:0];
    localparam [31:0] R_WORDS32 = R_WORDS[31:0];
    localparam [31:0] D_WORDS32 = D_WORDS[31:0];
    localparam [383:0] INFO_DATA = {
        32'd0, TIMEOUT32, CLOCK32, 16'd1 /* f_gamma lanes */, 16'd64 /* DPU word */,
        COLS32[15:0], ROWS32[15:0],
        MAX_K, D_WORDS32, R_WORDS32, L_WORDS32, INFO_MAXP,
        IMPL_RTL, PROTO_VERSION, 32'h41465244 /* "DRFA" */};

    // ---- engine states ----
    localparam [3:0] C_IDLE = 4'd0, C_ALIGN = 4'd1, C_DECIDE = 4'd2, C_VSTEP = 4'd3,
                     C_VMUL = 4'd4, C_EXEC = 4'd5, C_CORE_START = 4'd6, C_CORE_WAIT = 4'd7,
                     C_WRITE = 4'd8, C_STATS = 4'd9, C_RESP_START = 4'd10, C_RESP = 4'd11,
                     C_FINISH = 4'd12;
    reg [3:0] state;
    reg [2:0] st;          // status of the response being built
    reg ev_ok;             // the event is a frame that passed both CRCs
    reg is_dup;            // answered from the duplicate memory: nothing executed

    // ---- argument register: payload bytes 0..39, byte i at [8i +: 8] ----
    reg [319:0] args;
    reg [5:0] acnt;        // bytes in args since the frame began (alignment)
    wire [7:0] b0 = args[7:0], b12 = args[103:96], b13 = args[111:104], b20 = args[167:160],
               b21 = args[175:168], b22 = args[183:176], b23 = args[191:184], b24 = args[199:192];
    wire [31:0] w0 = args[31:0], w1 = args[63:32], w2 = args[95:64], w3 = args[127:96],
                w4 = args[159:128], w5 = args[191:160], w6 = args[223:192], w7 = args[255:224],
                w8 = args[287:256], w9 = args[319:288];
    assign cmd_args = args;
    assign cmd_op = opcode;

    // ---- duplicate-frame memory (rule 5): header fields + FCRC and the status answered ----
    reg dup_valid;
    reg [63:0] dup_key;
    reg [2:0] dup_st;
    wire [63:0] key = {opcode, tag, len, fcrc};

    // ---- checks that need no arithmetic: opcode, length, arguments (8.5 order) ----
    function bits_bad(input [7:0] b);
        bits_bad = b == 8'd0 || b > 8'd8;
    endfunction
    wire id_d = b0 == 8'd2;                          // WRITE/READ to D: 4-byte words
    wire [15:0] wr_min = id_d ? 16'd12 : 16'd16;
    wire wr_frac = id_d ? len[1:0] != 2'd0 : len[2:0] != 3'd0;
    wire [15:0] wr_bytes = len - 16'd8;
    wire [15:0] wr_count = id_d ? {2'd0, wr_bytes[15:2]} : {3'd0, wr_bytes[15:3]};
    wire res123 = args[31:8] != 24'd0;
    reg [2:0] pre_st;      // first failing check before the address checks
    reg need_addr;         // the command has address checks (a program below)
    always @(*) begin
        pre_st = ST_OK;
        need_addr = 1'b0;
        case (opcode)
            OP_INFO, OP_RESET: if (len != 16'd0) pre_st = ST_BAD_LENGTH;
            OP_WRITE:
                if (len == 16'd0) pre_st = ST_BAD_LENGTH;
                else if (b0 > 8'd2) pre_st = ST_BAD_ARG;
                else if (len < wr_min || wr_frac) pre_st = ST_BAD_LENGTH;
                else if (res123) pre_st = ST_BAD_ARG;
                else need_addr = 1'b1;
            OP_READ:
                if (len != 16'd12) pre_st = ST_BAD_LENGTH;
                else if (b0 > 8'd2 || res123 || w2 == 32'd0) pre_st = ST_BAD_ARG;
                else if (w2 > (id_d ? READ_MAX_D : READ_MAX_LR)) pre_st = ST_BAD_LENGTH;
                else need_addr = 1'b1;
            OP_GEMM:
                if (len != 16'd40) pre_st = ST_BAD_LENGTH;
                else if (w0[2:0] != 3'd0 || w1[2:0] != 3'd0 || w2 == 32'd0 || w3 == 32'd0 ||
                         w4 == 32'd0 || w4 > MAX_K || bits_bad(b20) || bits_bad(b21) ||
                         b22 > 8'd1 || b23 > 8'd1 || b24 > 8'd1 || args[223:200] != 24'd0 ||
                         w8 < w3 || (b24 == 8'd0 && w9 != 32'd0))
                    pre_st = ST_BAD_ARG;
                else need_addr = 1'b1;
            OP_QGRAD:
                if (len != 16'd24) pre_st = ST_BAD_LENGTH;
                else if (w1 == 32'd0 || w2 == 32'd0 || bits_bad(b12) || args[127:104] != 24'd0)
                    pre_st = ST_BAD_ARG;
                else need_addr = 1'b1;
            OP_QACT:
                if (len != 16'd24) pre_st = ST_BAD_LENGTH;
                else if (w1 == 32'd0 || w2 == 32'd0 || bits_bad(b12) || b13 > 8'd1 ||
                         args[127:112] != 16'd0)
                    pre_st = ST_BAD_ARG;
                else need_addr = 1'b1;
            OP_PACK:
                if (len != 16'd28) pre_st = ST_BAD_LENGTH;
                else if (w3 == 32'd0 || w4 == 32'd0 || w4 > MAX_K || bits_bad(b20) ||
                         b21 > 8'd1 || args[191:176] != 16'd0 || w6[2:0] != 3'd0)
                    pre_st = ST_BAD_ARG;
                else need_addr = 1'b1;
            OP_SEED:
                if (len != 16'd4) pre_st = ST_BAD_LENGTH;
                else if (w0 == 32'd0) pre_st = ST_BAD_ARG;
            OP_STATS:
                if (len != 16'd4) pre_st = ST_BAD_LENGTH;
                else if (b0[7:1] != 7'd0 || res123) pre_st = ST_BAD_ARG;
            OP_ECHO: if ({16'd0, len} > MAXP - 32'd1) pre_st = ST_BAD_LENGTH;
            default: pre_st = ST_BAD_OPCODE;
        endcase
    end

    // ---- address checks (spec 2.3) and bin_ops: a short program per opcode over one serial
    // multiplier (P = P0 + X·Y, shift-add, LSB first, mod 2^64) and one region / overlap comparator.
    // Every product of the range checks is below 2^64 (two 32-bit factors, or small ones), so the
    // mod-2^64 multiplier is exact there; word counts are then saturated to 35 bits, bit 34
    // meaning "at least 2^34", which no memory (at most 2^32 words) can hold.
    localparam [1:0] PK_END = 2'd0, PK_MUL = 2'd1, PK_REG = 2'd2, PK_OVL = 2'd3;
    localparam [3:0] PROG_BINOPS = 4'd15;
    localparam [1:0] TO_NONE = 2'd0, TO_T0 = 2'd1, TO_T1 = 2'd2, TO_BINOPS = 2'd3;
    reg [3:0] prog, step;
    reg [63:0] mp, mx;     // multiplier
    reg [31:0] my;
    reg [34:0] t0, t1;     // saturated word counts kept between steps
    reg [63:0] bin_ops;

    wire [34:0] sat_p = {|mp[63:34], mp[33:0]};
    wire [34:0] sat_2p = {|mp[63:33], mp[32:0], 1'b0};
    wire [34:0] t0_p1 = {1'b0, t0[33:0]} + 35'd1;
    wire [34:0] t0_p3 = {1'b0, t0[33:0]} + 35'd3;
    wire [34:0] t0_half = {t0[34], t0_p1[34:1]};          // ceil(n / 2): i16 words
    wire [34:0] t0_quarter = {t0[34], 1'b0, t0_p3[34:2]}; // ceil(n / 4): u8 words
    wire [34:0] pack_src_w = {sat_p[34], 2'b00, sat_p[33:2]} + 35'd1; // (a + b) / 4 + 1
    // Row pitch (8·ceil(rows/8)) and words per plane row (ceil(K/64)); K <= 32768 here.
    function [63:0] pitch(input [31:0] rows);
        pitch = {31'd0, ({1'b0, rows} + 33'd7) & ~33'd7};
    endfunction
    wire [31:0] kw = {6'd0, w4[31:6]} + {31'd0, w4[5:0] != 6'd0};
    function [32:0] msize(input [1:0] id);
        msize = id == 2'd0 ? L_WORDS : id == 2'd1 ? R_WORDS : D_WORDS;
    endfunction

    // The step table.
    reg [1:0] pk;
    reg [63:0] ip, ix;     // multiplier initial values
    reg [31:0] iy;
    reg [1:0] to;          // where the product goes
    reg [31:0] ra;         // region: base, words, memory size
    reg [34:0] rn;
    reg [32:0] rs;
    reg [31:0] oa, ob;     // overlap: two regions
    reg [34:0] ona, onb;
    always @(*) begin
        pk = PK_END;
        ip = 64'd0; ix = 64'd0; iy = 32'd0; to = TO_NONE;
        ra = 32'd0; rn = 35'd0; rs = 33'd0;
        oa = 32'd0; ona = 35'd0; ob = 32'd0; onb = 35'd0;
        case (prog)
            OP_WRITE[3:0]: if (step == 4'd0) begin
                pk = PK_REG; ra = w1; rn = {19'd0, wr_count}; rs = msize(b0[1:0]);
            end
            OP_READ[3:0]: if (step == 4'd0) begin
                pk = PK_REG; ra = w1; rn = {3'd0, w2}; rs = msize(b0[1:0]);
            end
            OP_GEMM[3:0]: case (step)
                // L: RP_M·KW·bits_L words at Lbase; R likewise; D: (M-1)·ldc + N elements
                4'd0: begin pk = PK_MUL; ix = pitch(w2); iy = kw; end
                4'd1: begin pk = PK_MUL; ix = mp; iy = {24'd0, b20}; end
                4'd2: begin pk = PK_REG; ra = w0; rn = sat_p; rs = L_WORDS; end
                4'd3: begin pk = PK_MUL; ix = pitch(w3); iy = kw; end
                4'd4: begin pk = PK_MUL; ix = mp; iy = {24'd0, b21}; end
                4'd5: begin pk = PK_REG; ra = w1; rn = sat_p; rs = R_WORDS; end
                4'd6: begin pk = PK_MUL; ip = {32'd0, w3}; ix = {32'd0, w2 - 32'd1}; iy = w8; end
                4'd7: begin pk = PK_REG; ra = w7; rn = b24[0] ? sat_2p : sat_p; rs = D_WORDS; end
                default: ;
            endcase
            OP_QGRAD[3:0]: case (step)
                // n = S·E; src ceil(n/2) words, dst ceil(n/4), mdst S; pairwise disjoint
                4'd0: begin pk = PK_MUL; ix = {32'd0, w1}; iy = w2; to = TO_T0; end
                4'd1: begin pk = PK_REG; ra = w0; rn = t0_half; rs = D_WORDS; end
                4'd2: begin pk = PK_REG; ra = w4; rn = t0_quarter; rs = D_WORDS; end
                4'd3: begin pk = PK_REG; ra = w5; rn = {3'd0, w1}; rs = D_WORDS; end
                4'd4: begin pk = PK_OVL; oa = w0; ona = t0_half; ob = w4; onb = t0_quarter; end
                4'd5: begin pk = PK_OVL; oa = w0; ona = t0_half; ob = w5; onb = {3'd0, w1}; end
                4'd6: begin pk = PK_OVL; oa = w4; ona = t0_quarter; ob = w5; onb = {3'd0, w1}; end
                default: ;
            endcase
            OP_QACT[3:0]: case (step)
                // n = M·N at src, (M or N)·2^A threshold words, ceil(n/4) at dst; disjoint
                4'd0: begin pk = PK_MUL; ix = {32'd0, w1}; iy = w2; to = TO_T0; end
                4'd1: begin
                    pk = PK_MUL; ix = {32'd0, b13[0] ? w2 : w1}; iy = 32'd1 << b12[3:0]; to = TO_T1;
                end
                4'd2: begin pk = PK_REG; ra = w0; rn = t0; rs = D_WORDS; end
                4'd3: begin pk = PK_REG; ra = w4; rn = t1; rs = D_WORDS; end
                4'd4: begin pk = PK_REG; ra = w5; rn = t0_quarter; rs = D_WORDS; end
                4'd5: begin pk = PK_OVL; oa = w0; ona = t0; ob = w4; onb = t1; end
                4'd6: begin pk = PK_OVL; oa = w0; ona = t0; ob = w5; onb = t0_quarter; end
                4'd7: begin pk = PK_OVL; oa = w4; ona = t1; ob = w5; onb = t0_quarter; end
                default: ;
            endcase
            OP_PACK[3:0]: case (step)
                // largest element (rows-1)·stride_r + (K-1)·stride_k; destination operand words
                4'd0: begin pk = PK_MUL; ix = {32'd0, w3 - 32'd1}; iy = w1; to = TO_T0; end
                4'd1: begin pk = PK_MUL; ip = {29'd0, t0}; ix = {32'd0, w4 - 32'd1}; iy = w2; end
                4'd2: begin pk = PK_REG; ra = w0; rn = pack_src_w; rs = D_WORDS; end
                4'd3: begin pk = PK_MUL; ix = pitch(w3); iy = kw; end
                4'd4: begin pk = PK_MUL; ix = mp; iy = {24'd0, b20}; end
                4'd5: begin pk = PK_REG; ra = w6; rn = sat_p; rs = b21[0] ? R_WORDS : L_WORDS; end
                default: ;
            endcase
            PROG_BINOPS: case (step)
                // bin_ops += 2·M·N·K·bits_L·bits_R (mod 2^64), after a GEMM passed its checks
                4'd0: begin pk = PK_MUL; ix = {31'd0, w2, 1'b0}; iy = w3; end
                4'd1: begin pk = PK_MUL; ix = mp; iy = w4; end
                4'd2: begin pk = PK_MUL; ix = mp; iy = {24'd0, b20}; end
                4'd3: begin pk = PK_MUL; ip = bin_ops; ix = mp; iy = {24'd0, b21}; to = TO_BINOPS; end
                default: ;
            endcase
            default: ;
        endcase
    end
    wire [34:0] reg_end = {3'd0, ra} + {1'b0, rn[33:0]};
    wire reg_ok = !rn[34] && reg_end <= {2'd0, rs};
    wire ovl = {3'd0, oa} < {3'd0, ob} + onb && {3'd0, ob} < {3'd0, oa} + ona;

    // ---- WRITE: payload bytes 8.. into words, one byte per cycle ----
    reg [15:0] w_ridx;     // next payload byte to read
    reg w_issue, w_vd;     // a read is issued / its byte is on pb_rdata
    reg [63:0] wreg;
    reg [2:0] bcnt;        // byte of the word being assembled
    reg [31:0] waddr;
    wire w_last = bcnt == (id_d ? 3'd3 : 3'd7);
    wire [63:0] wfull = {pb_rdata, wreg[63:8]};

    // ---- STATS snapshot (also what a duplicate STATS answers with) ----
    reg [31:0] frames_ok, frames_err, hdr_errors, junk_bytes, dup_frames;
    reg [63:0] gemm_ops;
    wire [447:0] stats_data = {busy_cycles, cycles, bin_ops, gemm_ops, lfsr_state, dup_frames,
                               junk_bytes, hdr_errors, frames_err, frames_ok};
    reg [5:0] sidx;
    wire snap_we = state == C_STATS;
    wire [7:0] snap_rdata;

    // ---- response encoder ----
    reg [16:0] ri;         // index of the next frame byte
    reg [15:0] dlen;       // response data bytes after the status
    reg [15:0] rlen;       // response payload length: status + data
    reg [15:0] dlen_calc;
    always @(*) begin
        if (st != ST_OK) dlen_calc = 16'd0;
        else case (opcode)
            OP_INFO: dlen_calc = 16'd48;
            OP_STATS: dlen_calc = 16'd56;
            OP_READ: dlen_calc = id_d ? {w2[13:0], 2'b00} : {w2[12:0], 3'b000};
            OP_ECHO: dlen_calc = len;
            default: dlen_calc = 16'd0;
        endcase
    end
    reg [16:0] data_end;   // 9 + dlen: index of the first FCRC byte
    reg [15:0] tcrc16;
    reg [31:0] tcrc32;
    wire resp = state == C_RESP;
    wire produce = resp && (!tx_valid || tx_ready);
    wire [16:0] ri_nx = produce ? ri + 1'b1 : ri;
    wire [16:0] dn = ri_nx - 17'd9;   // data index read ahead (RAM and memory latency)
    wire [16:0] di = ri - 17'd9;      // data index of the byte produced now
    wire [16:0] fi = ri - data_end;   // FCRC byte index
    wire [7:0] read_byte = id_d ? host_rdata[8*di[1:0]+:8] : host_rdata[8*di[2:0]+:8];
    reg [7:0] data_byte, out_byte;
    always @(*) begin
        case (opcode)
            OP_INFO: data_byte = INFO_DATA[8*di[5:0]+:8];
            OP_STATS: data_byte = snap_rdata;
            OP_READ: data_byte = read_byte;
            default: data_byte = pb_rdata; // ECHO
        endcase
        case (ri)
            17'd0: out_byte = 8'hD0;
            17'd1: out_byte = 8'h4E;
            17'd2: out_byte = {1'b1, opcode[6:0]};
            17'd3: out_byte = tag;
            17'd4: out_byte = rlen[7:0];
            17'd5: out_byte = rlen[15:8];
            17'd6: out_byte = tcrc16[7:0];
            17'd7: out_byte = tcrc16[15:8];
            17'd8: out_byte = {5'd0, st};
            default:
                if (ri < data_end) out_byte = data_byte;
                else out_byte = ~tcrc32[8*fi[1:0]+:8];
        endcase
    end
    wire [15:0] tcrc16_nx;
    wire [31:0] tcrc32_nx;
    drf_crc16_byte u_tcrc16 (.crc_in(tcrc16), .data(out_byte), .crc_out(tcrc16_nx));
    drf_crc32_byte u_tcrc32 (.crc_in(tcrc32), .data(out_byte), .crc_out(tcrc32_nx));

    drf_bram8 #(.AW(6)) u_snap (
        .clk(clk), .we(snap_we), .waddr(sidx), .wdata(stats_data[8*sidx+:8]),
        .re(resp), .raddr(dn[5:0]), .rdata(snap_rdata)
    );

    // ---- memory and buffer ports ----
    wire in_write = state == C_WRITE;
    assign pb_re = in_write ? w_issue : resp;
    assign pb_raddr = in_write ? w_ridx[PAW-1:0] : dn[PAW-1:0];
    assign host_we = in_write && w_vd && w_last;
    assign host_re = resp && opcode == OP_READ && st == ST_OK;
    assign host_mem = b0[1:0];
    assign host_addr = in_write ? waddr : w1 + (id_d ? {17'd0, dn[16:2]} : {18'd0, dn[16:3]});
    assign host_wdata = id_d ? {32'd0, wfull[63:32]} : wfull;
    assign cmd_valid = state == C_CORE_START;

    // ---- sequencing ----
    reg clr_cnt;           // RESET, or STATS with the clear flag: counters to zero this cycle
    reg stats_clr;
    reg ack;
    reg cnt_ok, cnt_err, cnt_dup, gemm_inc;
    assign ev_ack = ack;
    assign stats_clear = stats_clr;
    wire mul_store_binops = state == C_VMUL && my == 32'd0 && to == TO_BINOPS;

    always @(posedge clk) begin
        if (rst) begin
            state <= C_IDLE;
            dup_valid <= 1'b0;
            tx_valid <= 1'b0;
            ack <= 1'b0;
            clr_cnt <= 1'b0;
            stats_clr <= 1'b0;
            cnt_ok <= 1'b0;
            cnt_err <= 1'b0;
            cnt_dup <= 1'b0;
            gemm_inc <= 1'b0;
        end else begin
            ack <= 1'b0;
            clr_cnt <= 1'b0;
            stats_clr <= 1'b0;
            cnt_ok <= 1'b0;
            cnt_err <= 1'b0;
            cnt_dup <= 1'b0;
            gemm_inc <= 1'b0;
            if (tx_valid && tx_ready) tx_valid <= 1'b0;
            case (state)
                C_IDLE: if (ev_valid && !ack) begin
                    ev_ok <= ev_kind == 2'd0;
                    is_dup <= 1'b0;
                    // BAD_CRC, TOO_LONG and TRUNCATED are the event codes themselves.
                    st <= {1'b0, ev_kind};
                    acnt <= len > 16'd40 ? 6'd40 : len[5:0];
                    state <= ev_kind == 2'd0 ? C_ALIGN : C_RESP_START;
                end
                C_ALIGN: // shift zeros until byte 0 of the payload sits at args[7:0]
                    if (acnt == 6'd40) state <= C_DECIDE;
                    else acnt <= acnt + 1'b1;
                C_DECIDE:
                    if (dup_valid && key == dup_key) begin
                        is_dup <= 1'b1;
                        st <= dup_st;
                        state <= C_RESP_START;
                    end else begin
                        st <= pre_st;
                        prog <= opcode[3:0];
                        step <= 4'd0;
                        state <= pre_st != ST_OK ? C_RESP_START : need_addr ? C_VSTEP : C_EXEC;
                    end
                C_VSTEP: case (pk)
                    PK_END: state <= prog == PROG_BINOPS ? C_CORE_START : C_EXEC;
                    PK_MUL: begin
                        mp <= ip;
                        mx <= ix;
                        my <= iy;
                        state <= C_VMUL;
                    end
                    PK_REG: if (reg_ok) step <= step + 1'b1;
                            else begin st <= ST_BAD_ADDR; state <= C_RESP_START; end
                    default: if (!ovl) step <= step + 1'b1;
                             else begin st <= ST_BAD_ADDR; state <= C_RESP_START; end
                endcase
                C_VMUL:
                    if (my == 32'd0) begin
                        if (to == TO_T0) t0 <= sat_p;
                        if (to == TO_T1) t1 <= sat_p;
                        step <= step + 1'b1;
                        state <= C_VSTEP;
                    end else begin
                        if (my[0]) mp <= mp + mx;
                        mx <= {mx[62:0], 1'b0};
                        my <= {1'b0, my[31:1]};
                    end
                C_EXEC: case (opcode)
                    OP_RESET: begin
                        clr_cnt <= 1'b1;
                        state <= C_CORE_START;
                    end
                    OP_WRITE: begin
                        w_ridx <= 16'd8;
                        w_issue <= 1'b1;
                        w_vd <= 1'b0;
                        bcnt <= 3'd0;
                        waddr <= w1;
                        state <= C_WRITE;
                    end
                    OP_GEMM: begin
                        gemm_inc <= 1'b1;
                        prog <= PROG_BINOPS;
                        step <= 4'd0;
                        state <= C_VSTEP;
                    end
                    OP_QGRAD, OP_QACT, OP_PACK, OP_SEED: state <= C_CORE_START;
                    OP_STATS: begin
                        sidx <= 6'd0;
                        state <= C_STATS;
                    end
                    default: state <= C_RESP_START; // INFO, READ, ECHO: data comes with the answer
                endcase
                C_CORE_START: if (cmd_ready) state <= C_CORE_WAIT;
                C_CORE_WAIT: if (cmd_done) state <= C_RESP_START;
                C_WRITE: begin
                    if (w_issue) begin
                        w_ridx <= w_ridx + 1'b1;
                        if (w_ridx == len - 1'b1) w_issue <= 1'b0;
                    end
                    w_vd <= w_issue;
                    if (w_vd) begin
                        wreg <= wfull;
                        bcnt <= w_last ? 3'd0 : bcnt + 1'b1;
                        if (w_last) waddr <= waddr + 1'b1;
                    end
                    if (!w_issue && !w_vd) state <= C_RESP_START;
                end
                C_STATS: begin
                    sidx <= sidx + 1'b1;
                    if (sidx == 6'd55) begin
                        // sampled; now cleared if asked (this frame is counted afterwards)
                        clr_cnt <= b0[0];
                        stats_clr <= b0[0];
                        state <= C_RESP_START;
                    end
                end
                C_RESP_START: begin
                    dlen <= dlen_calc;
                    rlen <= dlen_calc + 16'd1;
                    data_end <= {1'b0, dlen_calc} + 17'd9;
                    ri <= 17'd0;
                    tcrc16 <= 16'hFFFF;
                    tcrc32 <= 32'hFFFFFFFF;
                    state <= C_RESP;
                end
                C_RESP: begin
                    if (produce) begin
                        tx_valid <= 1'b1;
                        tx_data <= out_byte;
                        ri <= ri + 1'b1;
                        if (ri < 17'd6) tcrc16 <= tcrc16_nx;
                        if (ri < data_end) tcrc32 <= tcrc32_nx;
                        if (ri >= data_end && fi[1:0] == 2'd3) state <= C_FINISH;
                    end
                end
                C_FINISH: begin
                    if (!ev_ok) cnt_err <= 1'b1;
                    else if (is_dup) cnt_dup <= 1'b1;
                    else begin
                        cnt_ok <= st == ST_OK;
                        cnt_err <= st != ST_OK;
                        dup_key <= key;
                        dup_st <= st;
                        // RESET clears the memory of the last frame, its own included.
                        dup_valid <= !(opcode == OP_RESET && st == ST_OK);
                    end
                    ack <= 1'b1;
                    state <= C_IDLE;
                end
                default: state <= C_IDLE;
            endcase
        end
    end

    // Argument register: filled while the receiver stores the payload, aligned in C_ALIGN.
    always @(posedge clk) begin
        if (args_shift) args <= {args_byte, args[319:8]};
        else if (state == C_ALIGN && acnt != 6'd40) args <= {8'd0, args[319:8]};
    end

    // Counters (spec 9.10), 32- and 64-bit, wrapping.
    always @(posedge clk) begin
        if (rst || clr_cnt) begin
            frames_ok <= 32'd0;
            frames_err <= 32'd0;
            hdr_errors <= 32'd0;
            junk_bytes <= 32'd0;
            dup_frames <= 32'd0;
            gemm_ops <= 64'd0;
            bin_ops <= 64'd0;
        end else begin
            if (junk1 || junk2) junk_bytes <= junk_bytes + (junk2 ? 32'd2 : 32'd1);
            if (hdr_err) hdr_errors <= hdr_errors + 1'b1;
            if (cnt_ok) frames_ok <= frames_ok + 1'b1;
            if (cnt_err) frames_err <= frames_err + 1'b1;
            if (cnt_dup) dup_frames <= dup_frames + 1'b1;
            if (gemm_inc) gemm_ops <= gemm_ops + 1'b1;
            if (mul_store_binops) bin_ops <= mp;
        end
    end

    wire unused = &{1'b0, wr_bytes[1:0], t0_p1[0], t0_p3[1:0], wreg[7:0], b22[0], b23[0], w5, w6, w7, w8, w9, dn[16], di[16:6], fi[16:2], dlen};
endmodule

`default_nettype wire
