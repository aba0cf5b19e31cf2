// Frame receiver of spec 8.2 (rules 1-4 and 7): hunts for SYNC0 SYNC1, checks the header's
// CRC-16, skips oversize frames, stores the payload, checks the frame's CRC-32 and compares the
// frame's key (header and FCRC) with the remembered one (rule 5) as the bytes arrive, and applies
// the idle rule. It reports one event per frame that needs an answer and then waits (in_ready
// low) until the command engine has answered it, so the payload buffer and the header fields stay
// put while the engine uses them. The CRC registers are shared with the response encoder, which
// drives them (tx_crc_*) while the receiver waits.
`default_nettype none

module drf_frame_rx #(
    parameter MAX_PAYLOAD = 520,     // largest accepted payload (spec 8.1 len limit)
    parameter RX_IDLE_CYCLES = 1000, // clock cycles without a byte inside a frame: rule 7
    parameter PAW = 10               // payload buffer address bits (2^PAW >= MAX_PAYLOAD + 32)
) (
    input wire clk,
    input wire rst,
    // Byte stream from the PHY
    input wire in_valid,
    input wire [7:0] in_data,
    output wire in_ready,
    // Payload buffer: payload bytes at 0.., frame keys in two 16-byte slots at 2^PAW - 32 (the
    // engine's argument register listens to the write port too); the read port is the
    // receiver's while it does not wait (key compare), one cycle latency
    output wire pb_we,
    output wire [PAW-1:0] pb_waddr,
    output wire [7:0] pb_wdata,
    output wire [PAW-1:0] pb_raddr,
    input wire [7:0] pb_rdata,
    // Event to the command engine: held until ev_ack; ev_kind until the CRCs are driven by
    // tx_crc_* (it reads the CRC-32 register)
    output wire ev_valid,
    output wire [1:0] ev_kind,       // EV_OK, EV_BAD_CRC, EV_TOO_LONG, EV_TRUNCATED
    input wire ev_ack,
    output reg [7:0] opcode,
    output reg [7:0] tag,
    output reg [15:0] len,
    output reg key_match,            // header and FCRC equal the remembered frame's (EV_OK)
    input wire key_commit,           // remember this frame's key (pulse while ev_valid)
    // CRC registers, driven by the response encoder while ev_valid
    input wire tx_crc_init,          // states after SYNC0 SYNC1
    input wire tx_crc16_en,
    input wire tx_crc32_en,
    input wire [7:0] tx_crc_data,
    output wire [7:0] crc16_hi,      // bits 15:8 of the CRC-16/CCITT-FALSE state (the CRC itself)
    output wire [7:0] crc16_nlo,     // bits 7:0 of the CRC-16 state with the CRC input byte taken in
                                     // (tx_crc_data while the response goes out)
    output wire [7:0] crc32_nlo,     // the same of the CRC-32 state (uninverted: the CRC is ~state)
    // Counter pulses (statistics of spec 9.10)
    output reg junk1,                // one byte discarded while hunting
    output reg junk2,                // two bytes discarded at once (SYNC0 + a non-SYNC byte)
    output reg hdr_err               // header dropped (HCRC mismatch or idle inside the header)
);
    localparam [1:0] EV_OK = 2'd0, EV_BAD_CRC = 2'd1, EV_TOO_LONG = 2'd2, EV_TRUNCATED = 2'd3;
    localparam [2:0] S_HUNT = 3'd0, S_SYNC1 = 3'd1, S_HDR = 3'd2, S_PAY = 3'd3, S_FCRC = 3'd4,
                     S_WAIT = 3'd6;
    // CRC states after the two sync bytes, so the sync bytes need no CRC cycles of their own.
    localparam [15:0] CRC16_SYNC = 16'hA122;
    localparam [31:0] CRC32_SYNC = 32'hAE7A4488;
    // CRC-32 state after a frame and its correct FCRC (the residue of the reflected CRC).
    localparam [31:0] CRC32_RESIDUE = 32'hDEBB20E3;
    localparam [31:0] MAXP = MAX_PAYLOAD;
    localparam IW = $clog2(RX_IDLE_CYCLES + 1);
    localparam [31:0] IDLE_LAST32 = RX_IDLE_CYCLES - 1;
    localparam [IW-1:0] IDLE_LAST = IDLE_LAST32[IW-1:0];
    // A key slot: header bytes 2-7 at +2..+7, FCRC bytes at +8..+11.
    localparam [15:0] KEY_BASE = (16'd1 << PAW) - 16'd32;

    // len > MAXP as AND/OR terms of the bits of len (a comparison would become a carry chain).
    function len_over(input [15:0] x);
        integer b;
        begin
            len_over = 1'b0;
            for (b = 0; b < 16; b = b + 1)
                len_over = MAXP[b] ? x[b] && len_over : x[b] || len_over;
        end
    endfunction

    reg [2:0] state;
    reg [15:0] pos;          // header/FCRC: address in the key slot; payload: byte index
    reg over;                // oversize frame: payload and FCRC bytes are discarded
    reg slot;                // key slot of the frame being received (the other one remembers)
    reg hcrc_lo_ok;          // HCRC byte 6 matched
    reg [1:0] kind;          // the event; EV_OK is EV_BAD_CRC unless the CRC-32 state (fcrc_chk)
    reg fcrc_chk;            // is the residue: compared in the register, after the last byte
    assign ev_kind = fcrc_chk && crc32 != CRC32_RESIDUE ? EV_BAD_CRC : kind;
    reg [IW-1:0] idle_cnt;
    reg [31:0] crc32;

    wire take = in_valid && in_ready;
    assign in_ready = state != S_WAIT;
    assign ev_valid = state == S_WAIT;
    wire [15:0] pos_inc = pos + 1'b1;
    wire [15:0] key_slot = KEY_BASE | {11'd0, slot, 4'd0};
    wire in_key = state == S_HDR || state == S_FCRC;
    assign pb_we = take && (in_key || (state == S_PAY && !over));
    assign pb_waddr = pos[PAW-1:0];
    assign pb_wdata = in_data;

    // The position after this cycle: the key byte read ahead (remembered slot) is there when
    // its byte arrives.
    reg [15:0] pos_nx;
    always @(*) begin
        pos_nx = pos;
        if (take) case (state)
            S_SYNC1: pos_nx = key_slot | 16'd2;
            S_HDR: pos_nx = pos[2:0] == 3'd7 && len != 16'd0 ? 16'd0 : pos_inc;
            S_PAY: pos_nx = pos_inc == len ? key_slot | 16'd8 : pos_inc;
            default: pos_nx = pos_inc;
        endcase
    end
    assign pb_raddr = pos_nx[PAW-1:0] ^ {{(PAW-5){1'b0}}, 1'b1, 4'd0};

    // The CRC pair: the receiver's while it takes bytes, the response encoder's while it waits.
    reg [15:0] crc16;
    wire [15:0] crc16_next;
    wire [31:0] crc32_next;
    wire tx = state == S_WAIT;
    wire [7:0] crc_data = tx ? tx_crc_data : in_data;
    drf_crc16_byte u_crc16 (.crc_in(crc16), .data(crc_data), .crc_out(crc16_next));
    drf_crc32_byte u_crc32 (.crc_in(crc32), .data(crc_data), .crc_out(crc32_next));
    wire crc_init = tx ? tx_crc_init : take && state == S_SYNC1 && in_data == 8'h4E;
    wire crc16_en = tx ? tx_crc16_en : take && state == S_HDR && !(pos[2] && pos[1]);  // pos < 6
    wire crc32_en = tx ? tx_crc32_en : take && (state[2] || state[1]);  // S_HDR and later
    // The response encoder's lazy update (drf_cmd): the states with its pending byte taken in.
    assign crc16_nlo = crc16_next[7:0];
    assign crc16_hi = crc16[15:8];
    assign crc32_nlo = crc32_next[7:0];
    always @(posedge clk) begin
        if (crc_init) begin
            crc16 <= CRC16_SYNC;
            crc32 <= CRC32_SYNC;
        end else begin
            if (crc16_en) crc16 <= crc16_next;
            if (crc32_en) crc32 <= crc32_next;
        end
    end

    wire idle = state != S_HUNT && state != S_WAIT && !take && idle_cnt == IDLE_LAST;

    always @(posedge clk) begin
        pos <= pos_nx;
        if (rst) begin
            state <= S_HUNT;
            slot <= 1'b0;
            idle_cnt <= {IW{1'b0}};
            junk1 <= 1'b0;
            junk2 <= 1'b0;
            hdr_err <= 1'b0;
        end else begin
            junk1 <= 1'b0;
            junk2 <= 1'b0;
            hdr_err <= 1'b0;
            if (key_commit) slot <= !slot;
            // The idle timer runs only inside a frame and restarts with every byte.
            if (take || state == S_HUNT || state == S_WAIT) idle_cnt <= {IW{1'b0}};
            else idle_cnt <= idle_cnt + 1'b1;
            // Key bytes (header 2-7, FCRC) against the remembered frame's.
            if (take && in_key && in_data != pb_rdata) key_match <= 1'b0;

            if (idle) begin
                case (state)
                    S_SYNC1: begin // a lone SYNC0 was hunting junk after all
                        junk1 <= 1'b1;
                        state <= S_HUNT;
                    end
                    S_HDR: begin // incomplete header: nothing to answer
                        hdr_err <= 1'b1;
                        state <= S_HUNT;
                    end
                    default: begin // payload or FCRC after a valid header
                        kind <= over ? EV_TOO_LONG : EV_TRUNCATED;
                        fcrc_chk <= 1'b0;
                        state <= S_WAIT;
                    end
                endcase
            end else if (state == S_WAIT) begin
                if (ev_ack) state <= S_HUNT;
            end else if (take) begin
                case (state)
                    S_HUNT: begin
                        if (in_data == 8'hD0) state <= S_SYNC1;
                        else junk1 <= 1'b1;
                    end
                    S_SYNC1: begin
                        if (in_data == 8'h4E) begin
                            state <= S_HDR;
                            key_match <= 1'b1;
                        end else if (in_data == 8'hD0) begin
                            junk1 <= 1'b1; // the earlier SYNC0; keep hunting from this one
                        end else begin
                            junk2 <= 1'b1;
                            state <= S_HUNT;
                        end
                    end
                    S_HDR: begin
                        case (pos[2:0])
                            3'd2: opcode <= in_data;
                            3'd3: tag <= in_data;
                            3'd4: len[7:0] <= in_data;
                            3'd5: len[15:8] <= in_data;
                            3'd6: hcrc_lo_ok <= in_data == crc16[7:0];
                            default: begin // byte 7: the header is complete
                                over <= len_over(len);
                                if (!hcrc_lo_ok || in_data != crc16[15:8]) begin
                                    // Rule 2: drop without an answer, hunt from the next byte.
                                    hdr_err <= 1'b1;
                                    state <= S_HUNT;
                                end else begin
                                    // Rule 3: an oversize frame's len + 4 bytes are skipped.
                                    state <= len == 16'd0 ? S_FCRC : S_PAY;
                                end
                            end
                        endcase
                    end
                    S_PAY: if (pos_inc == len) state <= S_FCRC;
                    S_FCRC:
                        if (pos[1:0] == 2'd3) begin
                            kind <= over ? EV_TOO_LONG : EV_OK;
                            fcrc_chk <= !over;
                            state <= S_WAIT;
                        end
                    default: state <= S_HUNT;
                endcase
            end
        end
    end
endmodule

`default_nettype wire
