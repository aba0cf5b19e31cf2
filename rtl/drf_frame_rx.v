// Frame receiver of spec 8.2 (rules 1-4 and 7): hunts for SYNC0 SYNC1, checks the header's
// CRC-16, skips oversize frames, stores the payload and checks the frame's CRC-32, and applies the
// idle rule. It reports one event per frame that needs an answer and then waits (in_ready low)
// until the command engine has answered it, so the payload buffer and the header fields stay put
// while the engine uses them.
`default_nettype none

module drf_frame_rx #(
    parameter MAX_PAYLOAD = 520,     // largest accepted payload (spec 8.1 len limit)
    parameter RX_IDLE_CYCLES = 1000, // clock cycles without a byte inside a frame: rule 7
    parameter PAW = 10               // payload buffer address bits (2^PAW >= MAX_PAYLOAD)
) (
    input wire clk,
    input wire rst,
    // Byte stream from the PHY
    input wire in_valid,
    input wire [7:0] in_data,
    output wire in_ready,
    // Payload buffer write port (the engine's argument register listens to it too)
    output wire pb_we,
    output wire [PAW-1:0] pb_waddr,
    output wire [7:0] pb_wdata,
    // Event to the command engine: held until ev_ack
    output wire ev_valid,
    output reg [1:0] ev_kind,        // EV_OK, EV_BAD_CRC, EV_TOO_LONG, EV_TRUNCATED
    input wire ev_ack,
    output reg [7:0] opcode,
    output reg [7:0] tag,
    output reg [15:0] len,
    output reg [31:0] fcrc,
    // Counter pulses (statistics of spec 9.10)
    output reg junk1,                // one byte discarded while hunting
    output reg junk2,                // two bytes discarded at once (SYNC0 + a non-SYNC byte)
    output reg hdr_err               // header dropped (HCRC mismatch or idle inside the header)
);
    localparam [1:0] EV_OK = 2'd0, EV_BAD_CRC = 2'd1, EV_TOO_LONG = 2'd2, EV_TRUNCATED = 2'd3;
    localparam [2:0] S_HUNT = 3'd0, S_SYNC1 = 3'd1, S_HDR = 3'd2, S_PAY = 3'd3, S_FCRC = 3'd4,
                     S_DISC = 3'd5, S_WAIT = 3'd6;
    // CRC states after the two sync bytes, so the sync bytes need no CRC cycles of their own.
    localparam [15:0] CRC16_SYNC = 16'hA122;
    localparam [31:0] CRC32_SYNC = 32'hAE7A4488;
    localparam [31:0] MAXP = MAX_PAYLOAD;
    localparam IW = $clog2(RX_IDLE_CYCLES + 1);
    localparam [31:0] IDLE_LAST32 = RX_IDLE_CYCLES - 1;
    localparam [IW-1:0] IDLE_LAST = IDLE_LAST32[IW-1:0];

    reg [2:0] state;
    reg [15:0] pos;          // byte index inside the header, payload or FCRC
    reg [16:0] skip;         // oversize: bytes still to discard (len + 4 at most)
    reg [15:0] crc16;
    reg [31:0] crc32;
    reg [7:0] hcrc_lo;
    reg [IW-1:0] idle_cnt;

    wire take = in_valid && in_ready;
    assign in_ready = state != S_WAIT;
    assign ev_valid = state == S_WAIT;
    assign pb_we = take && state == S_PAY;
    assign pb_waddr = pos[PAW-1:0];
    assign pb_wdata = in_data;

    wire [15:0] crc16_next;
    wire [31:0] crc32_next;
    drf_crc16_byte u_crc16 (.crc_in(crc16), .data(in_data), .crc_out(crc16_next));
    drf_crc32_byte u_crc32 (.crc_in(crc32), .data(in_data), .crc_out(crc32_next));

    wire idle = state != S_HUNT && state != S_WAIT && !take && idle_cnt == IDLE_LAST;

    always @(posedge clk) begin
        if (rst) begin
            state <= S_HUNT;
            idle_cnt <= {IW{1'b0}};
            junk1 <= 1'b0;
            junk2 <= 1'b0;
            hdr_err <= 1'b0;
        end else begin
            junk1 <= 1'b0;
            junk2 <= 1'b0;
            hdr_err <= 1'b0;
            // The idle timer runs only inside a frame and restarts with every byte.
            if (take || state == S_HUNT || state == S_WAIT) idle_cnt <= {IW{1'b0}};
            else idle_cnt <= idle_cnt + 1'b1;

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
                    S_DISC: begin
                        ev_kind <= EV_TOO_LONG;
                        state <= S_WAIT;
                    end
                    default: begin // payload or FCRC after a valid header
                        ev_kind <= EV_TRUNCATED;
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
                            pos <= 16'd2;
                            crc16 <= CRC16_SYNC;
                            crc32 <= CRC32_SYNC;
                        end else if (in_data == 8'hD0) begin
                            junk1 <= 1'b1; // the earlier SYNC0; keep hunting from this one
                        end else begin
                            junk2 <= 1'b1;
                            state <= S_HUNT;
                        end
                    end
                    S_HDR: begin
                        pos <= pos + 1'b1;
                        crc32 <= crc32_next;
                        if (pos < 16'd6) crc16 <= crc16_next;
                        case (pos[2:0])
                            3'd2: opcode <= in_data;
                            3'd3: tag <= in_data;
                            3'd4: len[7:0] <= in_data;
                            3'd5: len[15:8] <= in_data;
                            3'd6: hcrc_lo <= in_data;
                            default: begin // byte 7: the header is complete
                                pos <= 16'd0;
                                if ({in_data, hcrc_lo} != crc16) begin
                                    // Rule 2: drop without an answer, hunt from the next byte.
                                    hdr_err <= 1'b1;
                                    state <= S_HUNT;
                                end else if ({16'd0, len} > MAXP) begin
                                    skip <= {1'b0, len} + 17'd4;
                                    state <= S_DISC;
                                end else begin
                                    state <= len == 16'd0 ? S_FCRC : S_PAY;
                                end
                            end
                        endcase
                    end
                    S_PAY: begin
                        crc32 <= crc32_next;
                        if (pos == len - 1'b1) begin
                            pos <= 16'd0;
                            state <= S_FCRC;
                        end else begin
                            pos <= pos + 1'b1;
                        end
                    end
                    S_FCRC: begin
                        pos <= pos + 1'b1;
                        fcrc <= {in_data, fcrc[31:8]};
                        if (pos[1:0] == 2'd3) begin
                            ev_kind <= {in_data, fcrc[31:8]} == ~crc32 ? EV_OK : EV_BAD_CRC;
                            state <= S_WAIT;
                        end
                    end
                    S_DISC: begin
                        skip <= skip - 1'b1;
                        if (skip == 17'd1) begin
                            ev_kind <= EV_TOO_LONG;
                            state <= S_WAIT;
                        end
                    end
                    default: state <= S_HUNT;
                endcase
            end
        end
    end
endmodule

`default_nettype wire
