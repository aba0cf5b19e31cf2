// Command engine of spec 8.2 rules 5-6, 8.3-8.5 and 9: duplicate-frame memory, validation in the
// spec's order, execution through drf_core, the STATS counters and the response encoder. Built to
// be small: the checks are a program (drf_ucode) over one byte-serial field fetch and one serial
// multiply-add, the counters live in a RAM, and every response byte comes from a RAM or a mux.
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
    // Receiver events and the frame they describe (stable while ev_valid; ev_kind only until the
    // response drives the CRCs: it is read when the event is taken)
    input wire ev_valid,
    input wire [1:0] ev_kind,        // 0 FCRC ok; 1, 2, 3: answer BAD_CRC, TOO_LONG, TRUNCATED
    output wire ev_ack,
    input wire [7:0] opcode,
    input wire [7:0] tag,
    input wire [15:0] len,
    input wire key_match,            // the frame's header and FCRC equal the remembered ones
    output wire key_commit,          // remember this frame's key (receiver's key slots)
    input wire junk1,
    input wire junk2,
    input wire hdr_err,
    // The receiver's CRC pair, driven here while the response goes out
    output wire tx_crc_init,
    output wire tx_crc16_en,
    output wire tx_crc32_en,
    output wire [7:0] tx_crc_data,
    input wire [7:0] crc16_hi,       // CRC-16 state bits 15:8 (the register)
    input wire [7:0] crc16_nlo,      // CRC-16 state bits 7:0 with the pending byte taken in
    input wire [7:0] crc32_nlo,      // CRC-32 state bits 7:0, the same (the next FCRC byte, inverted)
    // Payload buffer: the receiver's write port (bytes 0..39 also fill the argument register)
    // and the read port (one cycle latency)
    input wire pb_we,
    input wire [PAW-1:0] pb_waddr,
    input wire [7:0] pb_wdata,
    output wire pb_re,
    output wire [PAW-1:0] pb_raddr,
    input wire [7:0] pb_rdata,
    // Compute core
    output wire cmd_valid,
    output wire [7:0] cmd_op,
    output wire [319:0] cmd_args,    // stable from cmd_valid until cmd_done
    input wire cmd_ready,
    input wire cmd_done,
    output wire host_we,
    output wire host_re,
    output wire [1:0] host_mem,
    output wire [31:0] host_addr,
    output wire [63:0] host_wdata,
    input wire [63:0] host_rdata,
    input wire [31:0] lfsr_state,
    input wire [31:0] cycles,        // the core's counts for its last command
    input wire [31:0] busy_cycles,
    // Response byte stream to the PHY
    output reg tx_valid,
    output reg [7:0] tx_data,
    input wire tx_ready
);
    // ---- constants of the spec ----
    localparam [7:0] OP_INFO = 8'h01, OP_RESET = 8'h02, OP_WRITE = 8'h03, OP_READ = 8'h04,
                     OP_GEMM = 8'h05, OP_QGRAD = 8'h06, OP_QACT = 8'h07, OP_PACK = 8'h08,
                     OP_SEED = 8'h09, OP_STATS = 8'h0A, OP_ECHO = 8'h0B;
    localparam [2:0] ST_OK = 3'd0, ST_BAD_OPCODE = 3'd4, ST_BAD_LENGTH = 3'd5, ST_BAD_ARG = 3'd6;
    // BAD_ADDR (7) comes from the check program (FAIL ... addr).
    localparam [31:0] MAXP = MAX_PAYLOAD;
    localparam [31:0] READ_MAX_D = (MAXP - 1) / 4, READ_MAX_LR = (MAXP - 1) / 8; // words per READ
    // Bytes of the check arithmetic (P, X, E in the state RAM): every 32-bit field and every
    // product of bin_ops (2·M·N·K·bits_L·bits_R <= 2^(LAW+RAW+7) for a GEMM whose operands fit)
    // is exact; larger values saturate (flag "big"). Every check is monotone in its values and
    // compares them with the big flags, so exactness above 2^(8·NB) never changes an answer.
    localparam NBW = (LAW + RAW + 15) / 8;
    localparam NB = NBW < 4 ? 4 : (NBW > 8 ? 8 : NBW);
    localparam CAW = (LAW > RAW ? (LAW > DAW ? LAW : DAW) : (RAW > DAW ? RAW : DAW));
    localparam RIW = $clog2(MAX_PAYLOAD + 13); // response byte index
    // The response's byte index starts at -9 (mod 2^RIW): header bytes 0-8 (status at 8) at
    // RI0.., data byte i at i, the FCRC after them (no wrap: MAX_PAYLOAD + 12 < 2^RIW).
    localparam [RIW:0] RI0_W = (1 << RIW) - 9;
    localparam [RIW-1:0] RI0 = RI0_W[RIW-1:0];
    localparam [RIW-1:0] RI_W7 = 7;        // WRITE: before the first data byte (8)
    // Limits of the region checks (P > limit fails), drf_ucode.py LIM: 8-byte entries of the
    // state RAM table at A_LIM, in the order of LIM (the entries for LIM b0, b21 and rdmax are
    // chosen among them).
    localparam [63:0] LIM_L = 64'd1 << LAW, LIM_R = 64'd1 << RAW, LIM_D = 64'd1 << DAW;
    localparam [63:0] RDMAX_D = {32'd0, READ_MAX_D}, RDMAX_LR = {32'd0, READ_MAX_LR};
    localparam [511:0] LIM_TAB = {RDMAX_LR, RDMAX_D, (LIM_D << 2) - 64'd1, LIM_D << 2, LIM_D << 1,
                                  LIM_D, LIM_R, LIM_L};

    // INFO response data (spec 9.1), byte i at [8i +: 8]: the first 48 bytes of the state RAM.
    localparam [15:0] IMPL_RTL = 16'd1, PROTO_VERSION = 16'd1;
    localparam [31:0] ROWS32 = ROWS, COLS32 = COLS;
    localparam [31:0] TIMEOUT32 = RX_TIMEOUT_US, CLOCK32 = CLOCK_HZ;
    localparam [31:0] MAX_K = 32'd32768;
    localparam [32:0] L_WORDS = 33'd1 << LAW, R_WORDS = 33'd1 << RAW, D_WORDS = 33'd1 << DAW;
    // Built by a function: its sized arguments keep Verilator 5.006 from taking the
    // parameter-derived values for unsized ones in the concatenation (WIDTHCONCAT).
    function [383:0] info_data(input [31:0] timeout, input [31:0] clock, input [31:0] maxp);
        info_data = {
            32'd0, timeout, clock, 16'd1 /* f_gamma lanes */, 16'd64 /* DPU word */,
            COLS32[15:0], ROWS32[15:0],
            MAX_K, D_WORDS[31:0], R_WORDS[31:0], L_WORDS[31:0], maxp,
            IMPL_RTL, PROTO_VERSION, 32'h41465244 /* "DRFA" */};
    endfunction
    localparam [383:0] INFO_DATA = info_data(TIMEOUT32, CLOCK32, MAXP);
    // State RAM: INFO at 0, the check values P and X at 48 and 56, live counters at 64 + (STATS
    // offset), the STATS snapshot at 128, E at 184, the limit table at 192. Bytes NB..7 of P stay
    // zero (bin_ops adds all 8).
    localparam [2047:0] STATE_INIT = {LIM_TAB, 1152'd0, INFO_DATA};
    localparam [7:0] A_OK = 8'd64, A_ERR = 8'd68, A_HDR = 8'd72, A_JUNK = 8'd76, A_DUP = 8'd80,
                     A_GEMM = 8'd88, A_BIN = 8'd96, A_CYC = 8'd104, A_BUSY = 8'd112;
    localparam [4:0] A_P = 5'd6, A_X = 5'd7, A_E = 5'd23, A_LIM = 5'd24; // address / 8

    // ---- engine states ----
    localparam [4:0] C_ZERO = 5'd0, C_IDLE = 5'd1, C_DECIDE = 5'd2, C_UFETCH = 5'd3,
                     C_UEXEC = 5'd4, C_FBYTE = 5'd5, C_FSHIFT = 5'd6, C_MUL = 5'd7, C_EXEC = 5'd8,
                     C_RMW = 5'd9, C_BIN = 5'd10, C_CORE_START = 5'd11, C_CORE_WAIT = 5'd12,
                     C_WRITE = 5'd13, C_SNAP = 5'd14, C_RESP_START = 5'd15, C_RESP = 5'd16,
                     C_FINISH = 5'd17, C_ACK = 5'd18, C_FOLD = 5'd19, C_ENG = 5'd20;
    reg [4:0] state;
    reg [2:0] st;          // status of the response being built
    reg ev_ok;             // the event is a frame that passed both CRCs
    reg is_dup;            // answered from the duplicate memory: nothing executed
    reg ack;
    assign ev_ack = ack;

    // ---- argument register: payload bytes 0..39 as they arrive, byte i at [8i +: 8] ----
    // The receiver holds off while a frame is answered, so the register is stable while the core
    // executes. Bytes past the payload keep old values: no command reads beyond its length.
    reg [319:0] args;
    integer k;
    always @(posedge clk)
        for (k = 0; k < 40; k = k + 1)
            if (pb_we && {{(32-PAW){1'b0}}, pb_waddr} == k) args[8*k+:8] <= pb_wdata;
    assign cmd_args = args;
    assign cmd_op = opcode;
    wire [7:0] b0 = args[7:0];
    wire id_d = b0 == 8'd2;  // WRITE/READ to D: 4-byte words

    // ---- duplicate-frame memory (rule 5): the receiver keeps the key and compares it; here
    // only whether it is valid and the status answered ----
    reg dup_valid;
    reg [2:0] dup_st;
    assign key_commit = state == C_FINISH && ev_ok && !is_dup;

    // ---- length and opcode checks (8.5); the rest is the opcode's check program ----
    // A frame that gets this far has len <= MAX_PAYLOAD < 2^PAW (else the receiver answers
    // TOO_LONG), so the bits of len above PAW are zero here and need no logic.
    localparam [31:0] LEN_MASK = (32'd1 << PAW) - 32'd1;
    wire [15:0] lenv = len & LEN_MASK[15:0];
    reg [2:0] len_st;
    always @(*) begin
        len_st = ST_OK;
        case (opcode)
            OP_INFO, OP_RESET: if (lenv != 16'd0) len_st = ST_BAD_LENGTH;
            OP_WRITE: if (lenv == 16'd0) len_st = ST_BAD_LENGTH;
            OP_READ: if (lenv != 16'd12) len_st = ST_BAD_LENGTH;
            OP_GEMM: if (lenv != 16'd40) len_st = ST_BAD_LENGTH;
            OP_QGRAD, OP_QACT: if (lenv != 16'd24) len_st = ST_BAD_LENGTH;
            OP_PACK: if (lenv != 16'd28) len_st = ST_BAD_LENGTH;
            OP_SEED, OP_STATS: if (lenv != 16'd4) len_st = ST_BAD_LENGTH;
            OP_ECHO: if ({16'd0, lenv} == MAXP) len_st = ST_BAD_LENGTH; // (len <= MAXP here)
            default: len_st = ST_BAD_OPCODE;
        endcase
    end
    // WRITE's length once the buffer id is known: at least one word, whole words.
    // (as bit tests: yosys would build carry chains for the comparisons)
    wire len_lt16 = lenv[15:4] == 12'd0;
    wire wrlen_bad = id_d ? (len_lt16 && lenv[3:2] != 2'b11) || lenv[1:0] != 2'd0 :
                            len_lt16 || lenv[2:0] != 3'd0;

    // ---- the check program (drf_ucode.py): instruction register, program counter ----
    wire [15:0] ins;
    wire [7:0] entry;
    reg [7:0] pc, ret_pc;
    drf_ucode u_ucode (.clk(clk), .re(state == C_UFETCH), .addr(pc), .data(ins),
                       .op(opcode[3:0]), .entry(entry));
    wire i_fetch = ins[15];
    wire [2:0] i_op = ins[14:12];
    localparam [2:0] I_END = 3'd0, I_MUL = 3'd1, I_CE = 3'd2, I_FAIL = 3'd3, I_BR = 3'd4,
                     I_CALL = 3'd5; // 6: RET
    wire [5:0] f_off = ins[14:9];
    wire [1:0] f_n = ins[8:7];       // bytes - 1
    wire [3:0] f_xf = ins[6:3];
    wire [1:0] f_test = ins[2:1];
    wire [3:0] i_cond = ins[11:8];
    wire [2:0] i_st = {1'b1, ins[7:6]}; // 5 BAD_LENGTH, 6 BAD_ARG, 7 BAD_ADDR
    wire [3:0] i_lim = ins[5:2];

    // FETCH transform: add a constant (sign-extended) while the bytes come in, shift right.
    reg [7:0] xf_c;
    reg xf_neg, xf_pow2;
    reg [3:0] xf_shr;
    always @(*) begin
        xf_c = 8'd0; xf_neg = 1'b0; xf_shr = 4'd0; xf_pow2 = 1'b0;
        case (f_xf)
            4'd1: begin xf_c = 8'd1; xf_shr = 4'd2; end               // (f + 1) >> 2
            4'd2: begin xf_c = 8'hFF; xf_neg = 1'b1; xf_shr = 4'd3; end // (f - 1) >> 3
            4'd3: xf_shr = 4'd1;                                      // f >> 1
            4'd4: begin xf_c = 8'hFF; xf_neg = 1'b1; xf_shr = 4'd15; end // (f - 1) >> 15
            4'd5: begin xf_c = 8'd63; xf_shr = 4'd6; end              // (f + 63) >> 6
            4'd6: begin xf_c = 8'd7; xf_shr = 4'd3; end               // (f + 7) >> 3
            4'd7: begin xf_c = 8'hFF; xf_neg = 1'b1; end              // f - 1
            4'd8: xf_c = 8'd1;                                        // f + 1
            4'd9: begin xf_c = 8'hF8; xf_neg = 1'b1; xf_shr = 4'd2; end // (f - 8) >> 2
            4'd10: begin xf_c = 8'hF8; xf_neg = 1'b1; xf_shr = 4'd3; end // (f - 8) >> 3
            4'd11: begin xf_c = 8'hFF; xf_neg = 1'b1; xf_pow2 = 1'b1; end // 1 << (f - 1), f in 1..8
            4'd12: xf_shr = 4'd7;                                     // f >> 7
            4'd13: begin xf_c = 8'd1; xf_shr = 4'd8; end               // (f + 1) >> 8
            default: ;
        endcase
    end

    // ---- datapath: F (fetched field, 33 bits, a register); P = P0 + X·F, X and E are NB-byte
    // values in the state RAM with "big" flags (the value is at least 2^(8·NB)) here ----
    reg [32:0] F;
    reg Pb, Xb, Eb;
    reg [2:0] fj;          // FETCH: byte slot
    reg fcy;               // FETCH: carry of the byte-serial add
    reg [3:0] shcnt;
    wire f_zero = F == 33'd0;
    reg [2:0] emode;       // byte engine pass (below)
    reg [7:0] opa;
    reg ec, xc;            // carry of the sum (byte engine, RMW); bit 7 of the last X byte (MSTEP)
    reg cmp_done;          // the compare of this FAIL / BR instruction is in ec
    wire p_lt_e = !Pb && (Eb || !ec);
    reg cond;
    always @(*) begin
        case (i_cond)
            4'd0: cond = 1'b1;
            4'd1: cond = f_zero;
            4'd2: cond = !f_zero;
            4'd3: cond = F[2:0] != 3'd0;
            4'd4: cond = p_lt_e;             // (after an E_LT pass)
            4'd5: cond = !p_lt_e;
            4'd6: cond = wrlen_bad;
            4'd7: cond = id_d;
            4'd8: cond = args[104];          // QUANT_ACT axis
            default: cond = Pb || ec;        // region outside its memory (after E_LIM)
        endcase
    end
    reg test_fail;
    always @(*) begin
        case (f_test)
            2'd1: test_fail = f_zero;
            2'd2: test_fail = !f_zero;
            2'd3: test_fail = F[2:0] != 3'd0;
            default: test_fail = 1'b0;
        endcase
    end
    // Byte k of the fetched field (zero past its size) plus the constant and the carry.
    wire [1:0] fk = fj[1:0] - 2'd1;
    wire [7:0] f_src = f_off == 6'd63 ? (fk == 2'd0 ? lenv[7:0] : fk == 2'd1 ? lenv[15:8] : 8'd0) :
                       f_off == 6'd62 ? 8'd0 : pb_rdata;
    wire [7:0] f_byte = fk <= f_n ? f_src : 8'd0;
    wire [8:0] f_add = {1'b0, f_byte} + {1'b0, fk == 2'd0 ? xf_c : {8{xf_neg}}} + {8'd0, fcy};

    // ---- state RAM: INFO, counters, STATS snapshot ----
    reg ram_we, ram_re;
    reg [7:0] ram_waddr, ram_raddr, ram_wdata;
    wire [7:0] ram_rdata;
    drf_bram8 #(.AW(8), .INIT_BYTES(256), .INIT(STATE_INIT)) u_state (
        .clk(clk), .we(ram_we), .waddr(ram_waddr), .wdata(ram_wdata),
        .re(ram_re), .raddr(ram_raddr), .rdata(ram_rdata)
    );
    reg [5:0] j;           // RMW / SNAP / ZERO byte index
    reg [5:2] rmw_a;       // counter address - 64 (0 for the snapshot and zeroing)
    reg rmw_wide;          // 8 bytes (else 4)
    reg [7:0] pend_junk;   // junk bytes not yet added to the RAM counter
    reg [3:0] pend_hdr;
    reg [1:0] rmw_src;     // the addend: at byte 0 1 (0) or the pending count (1: junk_bytes at
                           // A_JUNK, else hdr_errors); 2 cycles, 3 busy_cycles
    reg [4:0] rmw_next, zero_next;
    wire [5:0] jm = j - 1'b1;
    wire [31:0] core_cnt = rmw_src[0] ? busy_cycles : cycles;
    // STATS bytes the core provides: the LFSR state (20..23). cycles and busy_cycles are RAM
    // counters like the others: the core's counts are added after each core command (C_FOLD).

    // Byte engine (C_ENG): a pass over the bytes k of two RAM operands, A (read in even steps,
    // kept in opa) and B (read in odd steps); even step 2k+2 writes W1[k] = B + A' + carry, odd
    // step 2k+3 writes X[k] (MINIT, MSTEP). j is the step.
    localparam [2:0] E_MINIT = 3'd0, // X = 2^s, P or E; P = 0 unless accumulating
                     E_MSTEP = 3'd1, // P += F[0] ? X : 0; X <<= 1
                     E_CE = 3'd2,    // E = P
                     E_BIN = 3'd3,   // bin_ops (8 bytes) += P
                     E_LIM = 3'd4,   // carry = P > limit
                     E_LT = 3'd5;    // carry = P >= E
    wire e_cmp = emode[2];
    wire e_acc = ins[11];  // MINIT: P is kept
    wire [2:0] ek = j[3:1];
    wire [2:0] ekm = ek - 1'b1;
    localparam integer E_END_I = 2 * NB + 1;
    localparam [5:0] E_END = E_END_I[5:0];
    wire e_last = j == (emode == E_BIN ? 6'd17 : E_END);
    reg [2:0] lim_idx;
    always @(*) begin
        case (i_lim)
            4'd6: lim_idx = b0[1:0] == 2'd0 ? 3'd0 : b0[1:0] == 2'd1 ? 3'd1 : 3'd2;
            4'd7: lim_idx = {2'd0, args[168]}; // PACK destination
            4'd8: lim_idx = id_d ? 3'd6 : 3'd7;
            default: lim_idx = i_lim[2:0];
        endcase
    end
    reg [4:0] e_ra, e_w1;
    always @(*) begin
        case (emode)
            E_MINIT: e_ra = ins[10] && ins[8] ? A_E : A_P;
            E_MSTEP: e_ra = A_X;
            E_LIM: e_ra = A_LIM | {2'd0, lim_idx};
            E_LT: e_ra = A_E;
            default: e_ra = A_P;
        endcase
        case (emode)
            E_CE: e_w1 = A_E;
            E_BIN: e_w1 = A_BIN[7:3];
            default: e_w1 = A_P;
        endcase
    end
    wire e_w1en = !e_cmp;
    wire e_need = !i_fetch && (i_op == I_FAIL || i_op == I_BR) && (i_cond[3:1] == 3'd2 || (i_cond[3] && i_cond[2:0] != 3'd0));
    wire e_w2en = emode == E_MINIT || emode == E_MSTEP;
    wire [4:0] e_rb = emode == E_BIN ? A_BIN[7:3] : A_P;
    wire e_bm = !(emode == E_MINIT && !e_acc);
    wire e_am = emode == E_MSTEP ? F[0] : emode == E_BIN || e_cmp;
    // (opa holds A inverted for the compares; the adder takes opa & e_am)
    // One adder for every computed RAM byte: the byte engine's W1 (C_ENG), counter + addend
    // (C_RMW), the snapshot's copy or LFSR byte (C_SNAP) and zero (C_ZERO); ec is its carry.
    // Its operands come from registers set a step ahead: every byte loop counts j up by one per
    // cycle in one state, and nothing at its j = 0 is written or carried, so the value for step
    // j + 1 is computed at step j (jm = j - 1 is then j). The RMW addend, the snapshot's LFSR byte
    // and the byte engine's A enable are each zero outside their state, so the sum starts one LUT
    // level after flip-flops (and the state RAM's output): no state decode, byte multiplexer or
    // counter select in front of the adder (the board's critical path, 34 ns).
    wire in_rmw = state == C_RMW, in_eng = state == C_ENG, in_snap = state == C_SNAP;
    wire [7:0] pend_junk_d = pend_junk + {6'd0, junk2, junk1};  // their values at the next step
    wire [3:0] pend_hdr_d = pend_hdr + {3'd0, hdr_err};
    wire j_core = j[5:2] == 4'd5;  // step j + 1 writes snapshot byte 20..23: an LFSR byte
    reg [7:0] rmw_q, core_q;
    reg eam_q, bm_q, cin_q;
    always @(posedge clk) begin
        rmw_q <= !in_rmw ? 8'd0 :
                 rmw_src[1] ? (j[5:2] != 4'd0 ? 8'd0 : core_cnt[8*j[1:0]+:8]) :
                 j != 6'd0 ? 8'd0 : !rmw_src[0] ? 8'd1 :
                 rmw_a[2] ? pend_junk_d : {4'd0, pend_hdr_d};
        core_q <= in_snap && j_core ? lfsr_state[8*j[1:0]+:8] : 8'd0;
        eam_q <= in_eng && e_am;
        bm_q <= in_rmw || (in_eng && e_bm) || (in_snap && !j_core);
        cin_q <= in_rmw || in_eng;
    end
    wire [7:0] s_a = rmw_q | (opa & {8{eam_q}}) | core_q;
    wire [8:0] sum = {1'b0, ram_rdata & {8{bm_q}}} + {1'b0, s_a} + {8'd0, ec && cin_q};
    wire [7:0] e_w2 = emode == E_MSTEP ? {opa[6:0], xc} :
                      ins[10] ? opa : (ekm == 3'd0 ? 8'd1 << ins[9:8] : 8'd0);

    // ---- WRITE: payload bytes 8.. into words, one byte per cycle; READ: words out as bytes ----
    // wreg is a byte shift register for both. WRITE shifts each payload byte in at the top of the
    // word (byte 7, or byte 3 for 4-byte D words), so a full word is in place after its last byte.
    // READ takes the first byte of a word straight from the memory and keeps the word shifted
    // right by one byte, so every later byte is wreg[7:0].
    // WRITE reads the payload with the response's byte index ri (idle until the response): the
    // read of byte ri + 1 is issued while that is below len, and while byte ri arrives (w_vd) its
    // position in the word is ri mod the word size (the data start at 8).
    reg w_vd, w_full;
    reg [63:0] wreg;
    reg [CAW-1:0] waddr;

    // ---- response encoder ----
    reg [RIW-1:0] ri;      // index of the next byte: header RI0..-1, data 0.., then FCRC
    reg [RIW-1:0] dlen;    // data bytes: index of the first FCRC byte
    wire [RIW-1:0] rlen_r = dlen + 1'b1; // response payload length: status + data
    wire [15:0] rlen = {{(16-RIW){1'b0}}, rlen_r};
    reg [15:0] dlen_calc;
    always @(*) begin
        if (st != ST_OK) dlen_calc = 16'd0;
        else case (opcode)
            OP_INFO: dlen_calc = 16'd48;
            OP_STATS: dlen_calc = 16'd56;
            OP_READ: dlen_calc = id_d ? {args[77:64], 2'b00} : {args[76:64], 3'b000};
            OP_ECHO: dlen_calc = lenv;
            default: dlen_calc = 16'd0;
        endcase
    end
    wire resp = state == C_RESP;
    wire produce = resp && (!tx_valid || tx_ready);
    wire [RIW-1:0] ri_inc = ri + 1'b1;
    // WRITE reads payload byte ri + 1 while it is not the last: w_go holds ri + 1 != len, set a
    // step ahead (len >= 12 at the start, ri + 2 != len at each step), so no adder and compare
    // sit between ri and the payload buffer's read address.
    reg w_go;
    wire w_issue = state == C_WRITE && w_go;
    wire w_last = id_d ? ri[1:0] == 2'd3 : ri[2:0] == 3'd7;
    wire [RIW-1:0] ri_nx = produce || w_issue ? ri_inc : ri;
    wire [RIW-1:0] dn = ri_nx;            // data index read ahead (RAM and memory latency)
    wire ri_hdr = &ri[RIW-1:4] && (ri[3] || &ri[2:0]);  // ri >= RI0: header and status byte
    wire ri_data = !ri_hdr;                // data (and FCRC) bytes
    wire in_fcrc = ri_data && ri >= dlen;
    wire [1:0] fi = ri[1:0] - dlen[1:0];   // FCRC byte index
    wire rd_first = ri[1:0] == 2'd0 && (id_d || !ri[2]);  // the first byte of a READ word
    wire [7:0] read_byte = rd_first ? host_rdata[7:0] : wreg[7:0];
    reg [7:0] data_byte, out_byte;
    always @(*) begin
        case (opcode)
            OP_INFO, OP_STATS: data_byte = ram_rdata;
            OP_READ: data_byte = read_byte;
            default: data_byte = pb_rdata; // ECHO
        endcase
        if (in_fcrc) out_byte = ~crc32_nlo; // the CRC register shifts right a byte per FCRC byte
        else if (ri_data) out_byte = data_byte;
        else case (ri[3:0])  // header byte ri + 9 (RI0 = 7 mod 16)
            4'd7: out_byte = 8'hD0;
            4'd8: out_byte = 8'h4E;
            4'd9: out_byte = {1'b1, opcode[6:0]};
            4'd10: out_byte = tag;
            4'd11: out_byte = rlen[7:0];
            4'd12: out_byte = rlen[15:8];
            4'd13: out_byte = crc16_nlo;  // byte 12 is pending
            4'd14: out_byte = crc16_hi;
            default: out_byte = {5'd0, st};
        endcase
    end
    // The CRCs start after the sync bytes. An FCRC byte goes into the CRC-32 inverted (as the
    // state's low byte), which clears that byte: the state shifts right by 8 and out_byte is the
    // next FCRC byte.
    wire ri_sync = ri_hdr && (!ri[3] || ri[2:0] == 3'd0);  // ri[3:0] < 9
    assign tx_crc_init = state == C_RESP_START;
    // The CRCs are updated lazily: a byte's update is applied when the next byte is produced
    // (crc*_pend: one is pending; crc_data_q: its byte), so the CRC registers load from flip-flops,
    // not from the memories through the response multiplexer. The bytes made from a CRC, the
    // HCRC's low byte and every FCRC byte, always follow a pending byte, so they take the state
    // with it applied (crc16_nlo, crc32_nlo); the HCRC's high byte follows byte 13, which is not
    // in the CRC-16, so the register has byte 12 by then. The last FCRC byte's update never
    // happens (nothing reads it).
    reg crc16_pend, crc32_pend;
    reg [7:0] crc_data_q;
    always @(posedge clk) begin
        if (produce) begin
            crc16_pend <= ri_hdr && !ri_sync && !(ri[3] && ri[2] && ri[1:0] != 2'd0);
            crc32_pend <= !ri_sync;
            crc_data_q <= out_byte ^ {8{in_fcrc}};
        end
        if (rst || state == C_RESP_START) begin
            crc16_pend <= 1'b0;
            crc32_pend <= 1'b0;
        end
    end
    assign tx_crc16_en = produce && crc16_pend;
    assign tx_crc32_en = produce && crc32_pend;
    assign tx_crc_data = crc_data_q;

    // ---- memory and buffer ports ----
    wire in_write = state == C_WRITE;
    wire in_fetch = state == C_FBYTE;
    assign pb_re = in_write ? w_issue : in_fetch ? 1'b1 : resp;
    wire [15:0] f_addr = {10'd0, f_off} + {14'd0, fj[1:0]};
    assign pb_raddr = in_fetch ? f_addr[PAW-1:0] : dn[PAW-1:0];
    assign host_we = in_write && w_full;
    assign host_re = resp && opcode == OP_READ && st == ST_OK;
    assign host_mem = b0[1:0];
    // waddr is the word address for both: WRITE counts it up after each word, READ after the
    // first byte of each word (the read of the next word is under way while wreg shifts).
    assign host_addr = {{(32-CAW){1'b0}}, waddr};
    assign host_wdata = wreg;

    // wreg shifts right by a byte for each WRITE payload byte (w_vd) and each response byte
    // (produce): the top byte takes the payload byte (or 0), a READ word's first byte loads the
    // rest from the memory. Kept out of the state case so that each bit is one LUT of a shared
    // load select.
    wire wreg_sh = (in_write && w_vd) || produce;
    wire wreg_ld = resp && rd_first;
    wire wreg_d4 = in_write && id_d;  // 4-byte D words: the byte enters at byte 3
    always @(posedge clk)
        if (wreg_sh) begin
            wreg <= {pb_rdata & {8{in_write}}, wreg_ld ? host_rdata[63:8] : wreg[63:8]};
            if (wreg_d4)
                wreg[31:24] <= pb_rdata;
        end
    assign cmd_valid = state == C_CORE_START;

    always @(*) begin
        ram_re = 1'b0;
        // Counters are 4- or 8-byte aligned in 64..127: the byte index is ORed in. The snapshot
        // (read 64 + j, write 128 + j - 1) and the zeroing (write 64 + j - 1) have rmw_a = 0.
        ram_raddr = {2'b01, rmw_a | j[5:2], j[1:0]};
        ram_we = 1'b0;
        ram_waddr = {state == C_SNAP, state != C_SNAP, rmw_a | jm[5:2], jm[1:0]};
        ram_wdata = in_eng && j[0] ? e_w2 : sum[7:0];
        case (state)
            C_RMW: begin
                ram_re = j[5:3] == 3'd0 && !(j[2] && !rmw_wide);  // j < 8 or 4
                ram_we = j != 6'd0;
            end
            C_SNAP: begin
                ram_re = 1'b1;
                ram_we = j != 6'd0;
            end
            C_ZERO: ram_we = 1'b1; // j = 0 writes a zero to the unused byte 127
            C_RESP: begin
                ram_re = 1'b1;
                ram_raddr = {opcode == OP_STATS, 1'b0, dn[5:0]};
            end
            C_ENG: begin
                ram_re = 1'b1;
                ram_raddr = {j[0] ? e_rb : e_ra, ek};
                ram_we = (j[4] || j[3:1] != 3'd0) && (j[0] ? e_w2en : e_w1en);
                ram_waddr = {j[0] ? A_X : e_w1, ekm};
            end
            default: ;
        endcase
    end

    // ---- sequencing ----
    always @(posedge clk) begin
        if (rst) begin
            state <= C_ZERO;
            zero_next <= C_IDLE;
            j <= 6'd0;
            rmw_a <= 4'd0;
            dup_valid <= 1'b0;
            tx_valid <= 1'b0;
            ack <= 1'b0;
            pend_junk <= 8'd0;
            pend_hdr <= 4'd0;
        end else begin
            ack <= 1'b0;
            if (tx_valid && tx_ready) tx_valid <= 1'b0;
            // Counter events of the receiver wait here until the engine adds them (C_IDLE).
            pend_junk <= pend_junk_d;
            pend_hdr <= pend_hdr_d;
            case (state)
                C_ZERO: begin // counters to zero (reset, RESET, STATS with the clear flag)
                    j <= j + 1'b1;
                    if (j == 6'd56) begin
                        j <= 6'd0;
                        state <= zero_next;
                    end
                end
                C_IDLE: begin
                    j <= 6'd0;
                    ec <= 1'b0;
                    rmw_wide <= 1'b0;
                    rmw_src <= 2'd0;
                    rmw_next <= C_IDLE;
                    if (ack) begin
                        // the receiver drops ev_valid in this cycle
                    end else if (pend_hdr != 4'd0) begin
                        rmw_a <= A_HDR[5:2];
                        rmw_src <= 2'd1;
                        state <= C_RMW;
                    end else if (pend_junk != 8'd0) begin
                        rmw_a <= A_JUNK[5:2];
                        rmw_src <= 2'd1;
                        state <= C_RMW;
                    end else if (ev_valid) begin
                        ev_ok <= ev_kind == 2'd0;
                        is_dup <= 1'b0;
                        // BAD_CRC, TOO_LONG and TRUNCATED are the event codes themselves.
                        st <= {1'b0, ev_kind};
                        state <= ev_kind == 2'd0 ? C_DECIDE : C_RESP_START;
                    end
                end
                C_DECIDE: begin
                    waddr <= args[32+:CAW];  // WRITE and READ (a duplicate READ too)
                    if (dup_valid && key_match) begin
                        is_dup <= 1'b1;
                        st <= dup_st;
                        state <= C_RESP_START;
                    end else begin
                        st <= len_st;
                        pc <= entry;
                        state <= len_st != ST_OK ? C_RESP_START : C_UFETCH;
                    end
                end
                C_UFETCH: state <= C_UEXEC;
                C_UEXEC: begin
                    pc <= pc + 1'b1;
                    state <= C_UFETCH;
                    j <= 6'd0;
                    ec <= 1'b0;
                    xc <= 1'b0;
                    cmp_done <= 1'b0;
                    if (e_need && !cmp_done) begin // compare first, then this instruction again
                        pc <= pc;
                        emode <= i_cond[3] ? E_LIM : E_LT;
                        ec <= !i_cond[3];
                        cmp_done <= 1'b1;
                        state <= C_ENG;
                    end else if (i_fetch) begin
                        pc <= pc;
                        fj <= 3'd0;
                        fcy <= 1'b0;
                        shcnt <= xf_shr;
                        state <= C_FBYTE;
                    end else case (i_op)
                        I_END: state <= C_EXEC;
                        I_MUL: begin
                            Xb <= ins[10] && (ins[8] ? Eb : Pb);
                            if (!ins[11]) Pb <= 1'b0;
                            emode <= E_MINIT;
                            state <= C_ENG;
                        end
                        I_CE: begin
                            Eb <= Pb;
                            emode <= E_CE;
                            state <= C_ENG;
                        end
                        I_FAIL: if (cond) begin
                            st <= i_st;
                            state <= C_RESP_START;
                        end
                        I_BR: if (cond) pc <= ins[7:0];
                        I_CALL: begin
                            ret_pc <= pc + 1'b1;
                            pc <= ins[7:0];
                        end
                        default: pc <= ret_pc; // RET
                    endcase
                end
                C_FBYTE: begin // reads in slots 0-3, bytes arrive in slots 1-4
                    fj <= fj + 1'b1;
                    if (fj != 3'd0) begin
                        F <= {F[32], f_add[7:0], F[31:8]};
                        fcy <= f_add[8];
                        if (fj == 3'd4) begin
                            F[32] <= f_add[8] && !xf_neg;
                            state <= C_FSHIFT;
                        end
                    end
                end
                C_FSHIFT:
                    if (shcnt != 4'd0) begin
                        F <= {1'b0, F[32:1]};
                        shcnt <= shcnt - 1'b1;
                    end else begin
                        if (xf_pow2) F <= {25'd0, 8'd1 << F[2:0]};
                        pc <= pc + 1'b1;
                        state <= C_UFETCH;
                        if (test_fail) begin
                            st <= ST_BAD_ARG;
                            state <= C_RESP_START;
                        end
                    end
                C_MUL: begin
                    j <= 6'd0;
                    ec <= 1'b0;
                    xc <= 1'b0;
                    emode <= E_MSTEP;
                    state <= f_zero ? C_UFETCH : C_ENG;
                end
                C_ENG: begin
                    j <= j + 1'b1;
                    if (j[0]) begin
                        opa <= ram_rdata ^ {8{e_cmp}};
                        if (j != 6'd1) xc <= opa[7];
                    end else if (j != 6'd0) ec <= sum[8];
                    if (e_last) j <= 6'd0;
                    if (e_last) case (emode)
                        E_MINIT: state <= C_MUL;
                        E_MSTEP: begin
                            if (F[0]) Pb <= Pb | Xb | ec;
                            Xb <= Xb | opa[7];
                            F <= {1'b0, F[32:1]};
                            state <= C_MUL;
                        end
                        E_CE: state <= C_UFETCH;
                        E_BIN: state <= C_CORE_START;
                        default: state <= C_UEXEC; // compares
                    endcase
                end
                C_EXEC: begin
                    j <= 6'd0;
                    ec <= 1'b0;
                    rmw_a <= 4'd0;  // STATS snapshot, RESET zeroing
                    case (opcode)
                        OP_RESET: begin
                            zero_next <= C_CORE_START;
                            state <= C_ZERO;
                        end
                        OP_WRITE: begin
                            ri <= RI_W7;  // the first read is byte 8
                            w_go <= 1'b1;  // len >= 12
                            w_vd <= 1'b0;
                            w_full <= 1'b0;
                            state <= C_WRITE;
                        end
                        OP_GEMM: begin // gemm_ops += 1, then bin_ops += P
                            rmw_a <= A_GEMM[5:2];
                            rmw_wide <= 1'b1;
                            rmw_src <= 2'd0;
                            rmw_next <= C_BIN;
                            state <= C_RMW;
                        end
                        OP_QGRAD, OP_QACT, OP_PACK, OP_SEED: state <= C_CORE_START;
                        OP_STATS: state <= C_SNAP;
                        default: state <= C_RESP_START; // INFO, READ, ECHO: data comes with the answer
                    endcase
                end
                C_RMW: begin // counter += addend, one byte per cycle (read ahead one byte)
                    if (j == 6'd1 && rmw_src == 2'd1) begin // byte 0 takes the pending count
                        if (rmw_a[2]) pend_junk <= {6'd0, junk2, junk1};
                        else pend_hdr <= {3'd0, hdr_err};
                    end
                    j <= j + 1'b1;
                    if (j != 6'd0) ec <= sum[8];
                    if (j == (rmw_wide ? 6'd8 : 6'd4)) begin
                        j <= 6'd0;
                        state <= rmw_next;
                    end
                end
                C_BIN: begin
                    j <= 6'd0;
                    ec <= 1'b0;
                    emode <= E_BIN;
                    state <= C_ENG;
                end
                C_CORE_START: if (cmd_ready) state <= C_CORE_WAIT;
                C_CORE_WAIT: if (cmd_done) begin // cycles += the core's count, then busy_cycles
                    rmw_a <= A_CYC[5:2];
                    rmw_wide <= 1'b1;
                    rmw_src <= 2'd2;
                    ec <= 1'b0;
                    rmw_next <= C_FOLD;
                    state <= C_RMW;
                end
                C_FOLD: begin
                    rmw_a <= A_BUSY[5:2];
                    rmw_src <= 2'd3;
                    ec <= 1'b0;
                    rmw_next <= C_RESP_START;
                    state <= C_RMW;
                end
                C_WRITE: begin
                    ri <= ri_nx;
                    if (w_issue) w_go <= {{(16-RIW){1'b0}}, ri_inc + 1'b1} != lenv;
                    w_vd <= w_issue;
                    w_full <= w_vd && w_last;
                    if (w_full) waddr <= waddr + 1'b1;
                    if (!w_issue && !w_vd && !w_full) state <= C_RESP_START;
                end
                C_SNAP: begin // counters and the core's values to the snapshot
                    j <= j + 1'b1;
                    if (j == 6'd56) begin
                        // sampled; now cleared if asked (this frame is counted afterwards)
                        j <= 6'd0;
                        zero_next <= C_RESP_START;
                        state <= b0[0] ? C_ZERO : C_RESP_START;
                    end
                end
                C_RESP_START: begin
                    dlen <= dlen_calc[RIW-1:0];
                    ri <= RI0;
                    state <= C_RESP;
                end
                C_RESP: begin
                    if (produce) begin
                        if (rd_first && ri_data) waddr <= waddr + 1'b1;
                        tx_valid <= 1'b1;
                        tx_data <= out_byte;
                        ri <= ri_nx;
                        if (in_fcrc && fi == 2'd3) state <= C_FINISH;
                    end
                end
                C_FINISH: begin
                    j <= 6'd0;
                    ec <= 1'b0;
                    rmw_wide <= 1'b0;
                    rmw_src <= 2'd0;
                    rmw_next <= C_ACK;
                    state <= C_RMW;
                    if (!ev_ok) rmw_a <= A_ERR[5:2];
                    else if (is_dup) rmw_a <= A_DUP[5:2];
                    else begin
                        rmw_a <= st == ST_OK ? A_OK[5:2] : A_ERR[5:2];
                        dup_st <= st;
                        // RESET clears the memory of the last frame, its own included.
                        dup_valid <= !(opcode == OP_RESET && st == ST_OK);
                    end
                end
                C_ACK: begin
                    ack <= 1'b1;
                    state <= C_IDLE;
                end
                default: state <= C_IDLE;
            endcase
        end
    end

    wire unused = &{1'b0, dlen_calc[15:RIW], ins[0], f_addr[15:PAW]};
endmodule

`default_nettype wire
