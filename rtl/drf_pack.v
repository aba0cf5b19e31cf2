// PACK engine (spec 6): u8 codes in D, gathered with strides, to the bit-plane layout of L or R.
`default_nettype none

// The output words of the row-interleaved layout (spec 2.1), base + (p*KW + w)*RP + r with the row
// pitch RP = 8*ceil(rows/8), are produced in address order: plane p outermost, then word w, then
// row r; after a block's last row the address skips the RP - rows pad-row words, which PACK leaves
// as they are. A word takes one cycle per
// code k = 64w + t, t = 0 .. n - 1 (n = 64, or what is left of K in the plane row's last word, at
// least 2: a second slot for a 1-code word is padding, no read). Each code costs one D read; bit p
// of it is written to bit t of a 64-bit register, whose other bits are cleared with code t = 0,
// so padding bits k >= K come out zero. The word is written to L or R the cycle after its last
// code, while the next word's codes stream in. One plane per pass keeps the area at one 64-bit
// register; the codes are read b times.
//
// Element index r*stride_r + k*stride_k, kept with adds only, modulo 2^(DAW+2) (the command
// engine has checked that the largest index is inside D), with the base src*4 folded in:
//   bw  = 4*src + 64w*stride_k             (start of word w, row 0)
//   bwr = bw + r*stride_r                  (start of word w, row r)
//   idx = bwr + t*stride_k                 (code k = 64w + t)
// The next word's bwr (nb) is computed in a word's first cycle and used after its last.
// Pipeline: issue (read) -> gather (data arrives) -> write.

module drf_pack #(
    parameter DAW = 15,  // D address bits (2^DAW 32-bit words); at most 30
    parameter LAW = 12,  // L address bits
    parameter RAW = 12   // R address bits
) (
    input  wire           clk,
    input  wire           rst,
    // Command: the PACK payload (spec 9.8), byte i at [8i +: 8]
    input  wire           start,
    input  wire [223:0]   args,
    output wire           busy,
    output reg            done,
    // D read port
    output wire           d_re,
    output wire [DAW-1:0] d_raddr,
    input  wire [31:0]    d_rdata,
    // L and R write ports
    output wire           l_we,
    output wire [LAW-1:0] l_waddr,
    output wire [63:0]    l_wdata,
    output wire           r_we,
    output wire [RAW-1:0] r_waddr,
    output wire [63:0]    r_wdata
);
    localparam IW = DAW + 2;                  // u8 element index bits
    localparam OW = (LAW > RAW) ? LAW : RAW;  // operand address bits

    // States
    localparam [1:0] ST_IDLE = 2'd0,  // waiting for start
                     ST_RUN  = 2'd1,  // one code per cycle
                     ST_DR1  = 2'd2,  // last code arrives
                     ST_DR2  = 2'd3;  // last word written

    // Unused payload bits: reserved bytes and address / count bits above the memory sizes.
    wire [223:0] unused_args = args;

    // Command fields: args is stable from start until done (drf_core's contract); values derived
    // by arithmetic are registered at start
    wire [IW-1:0] src4 = {args[0 +: DAW], 2'b00};  // 4*src: element index of the view's element 0
    wire [IW-1:0] sr = args[32 +: IW];            // stride_r
    wire [IW-1:0] sk = args[64 +: IW];            // stride_k
    reg [OW-1:0]  r_last;     // rows - 1
    reg [14:0]    k_last;     // K - 1 (K <= 32768); KW - 1 = k_last[14:6]
    reg [5:0]     t_lastw;    // last slot of the plane row's last word: max(k_last[5:0], 1)
    reg [2:0]     p_last;     // bits - 1
    wire          dest = args[168];  // 0: L, 1: R
    reg           one_word;   // KW == 1
    reg           one_row;    // rows == 1

    // Control
    reg [1:0]     st;
    reg [2:0]     p;          // plane
    reg [8:0]     wc;         // words of the plane row left after this one
    reg [OW-1:0]  rc;         // rows left after this one
    reg [5:0]     t;          // slot within the word
    reg           t_end;      // this slot is the word's last
    reg           w_end;      // wc == 0: the plane row's last word
    reg           r_end;      // rc == 0: the last row
    reg           p_end;      // p == bits - 1 (registered; p changes once per plane)
    reg           s1_v;       // gather stage holds a slot
    reg           s1_rd;      // ... which was read (else padding: bit 0)
    reg           s1_end;     // ... and it is the word's last
    reg           s2_we;      // the word in sh is complete: write it

    // Datapath
    reg [IW-1:0]  bw;
    reg [IW-1:0]  bwr;
    reg [IW-1:0]  idx;
    reg [IW-1:0]  nb;         // bwr of the next word: bwr + stride_r, bw + 64*stride_k or 4*src
    reg [5:0]     s1_t;       // slot of the code in the gather stage
    reg [4:0]     s1_bit;     // its bit in d_rdata: {byte lane, plane}
    reg [63:0]    sh;         // the word being gathered: code k = 64w + t at bit t
    reg [OW-1:0]  oaddr;      // next output word address
    reg [OW-1:0]  oblk;       // address of row 0 of the current (plane, word) block
    reg [OW-1:0]  rp;         // row pitch: rows rounded up to a multiple of 8
    reg           s1_rend;    // the gather stage's word is its block's last row
    reg           s2_rend;    // ... and the word being written

    // ---------------------------------------------------------------------------------------------
    // Issue
    wire          run   = (st == ST_RUN);
    wire [5:0]    t_inc = t + 6'd1;
    wire [14:0]   k_m1  = args[128 +: 15] - 15'd1;       // K - 1 at start (K = 32768: 0x7FFF)
    wire [IW-1:0] sk64  = {sk[IW-7:0], 6'd0};

    assign d_re    = run && (!w_end || t <= k_last[5:0]);  // k = 64w + t < K
    assign d_raddr = idx[IW-1:2];

    always @(posedge clk) begin
        done  <= 1'b0;
        p_end <= (p == p_last);
        // bwr, bw and the end flags hold during a word (>= 2 cycles): nb is ready at its end.
        nb    <= !r_end ? bwr + sr : !w_end ? bw + sk64 : src4;
        case (st)
            ST_IDLE: if (start) begin
                r_last   <= args[96 +: OW] - 1'b1;
                k_last   <= k_m1;
                t_lastw  <= (k_m1[5:0] == 6'd0) ? 6'd1 : k_m1[5:0];
                p_last   <= args[160 +: 3] - 3'd1;
                oaddr    <= args[192 +: OW];
                oblk     <= args[192 +: OW];
                rp       <= {args[96 + 3 +: OW - 3] + {{(OW-4){1'b0}}, |args[96 +: 3]}, 3'b000};
                one_word <= (k_m1[14:6] == 9'd0);
                one_row  <= (args[96 +: OW] == {{(OW-1){1'b0}}, 1'b1});
                p        <= 3'd0;
                wc       <= k_m1[14:6];
                rc       <= args[96 +: OW] - 1'b1;
                t        <= 6'd0;
                t_end    <= 1'b0;
                w_end    <= (k_m1[14:6] == 9'd0);
                r_end    <= (args[96 +: OW] == {{(OW-1){1'b0}}, 1'b1});
                bw       <= {args[0 +: DAW], 2'b00};
                bwr      <= {args[0 +: DAW], 2'b00};
                idx      <= {args[0 +: DAW], 2'b00};
                st       <= ST_RUN;
            end
            ST_RUN: begin
                if (!t_end) begin
                    t     <= t_inc;
                    t_end <= (t_inc == (w_end ? t_lastw : 6'd63));
                    idx   <= idx + sk;
                end else begin
                    // Next word: the following row, else the next word of row 0, else next plane.
                    t     <= 6'd0;
                    t_end <= 1'b0;
                    idx   <= nb;
                    bwr   <= nb;
                    if (!r_end) begin
                        rc    <= rc - 1'b1;
                        r_end <= (rc == {{(OW-1){1'b0}}, 1'b1});
                    end else begin
                        rc    <= r_last;
                        r_end <= one_row;
                        bw    <= nb;
                        if (!w_end) begin
                            wc    <= wc - 9'd1;
                            w_end <= (wc == 9'd1);
                        end else begin
                            wc    <= k_last[14:6];
                            w_end <= one_word;
                            p     <= p + 3'd1;
                            if (p_end)
                                st <= ST_DR1;
                        end
                    end
                end
            end
            ST_DR1: st <= ST_DR2;
            ST_DR2: begin
                st   <= ST_IDLE;
                done <= 1'b1;
            end
            default: st <= ST_IDLE;
        endcase
        if (s2_we) begin
            if (s2_rend) begin
                oaddr <= oblk + rp;
                oblk  <= oblk + rp;
            end else begin
                oaddr <= oaddr + 1'b1;
            end
        end
        if (rst) begin
            st   <= ST_IDLE;
            done <= 1'b0;
        end
    end

    assign busy = (st != ST_IDLE);

    // ---------------------------------------------------------------------------------------------
    // Gather and write
    always @(posedge clk) begin
        s1_v   <= run;
        s1_rd  <= d_re;
        s1_end <= t_end;
        s1_rend <= r_end;
        s2_we  <= s1_v && s1_end;
        s2_rend <= s1_rend;
        if (rst) begin
            s1_v  <= 1'b0;
            s2_we <= 1'b0;
        end
    end

    always @(posedge clk) begin
        s1_t   <= t;
        s1_bit <= {idx[1:0], p};
    end

    wire code_bit = s1_rd && d_rdata[s1_bit];

    // Bit 8j + k takes the code of slot 8j + k; slot 0 clears the rest. One enable per byte of the
    // register (j = slot / 8), the slot's low bits select within it.
    wire       first = (s1_t == 6'd0);
    wire [7:0] sel_k = 8'd1 << s1_t[2:0];

    genvar j, k;
    generate
        for (j = 0; j < 8; j = j + 1) begin : g_byte
            localparam [2:0] J = j;  // this byte's slot / 8
            wire en = s1_v && (first || s1_t[5:3] == J);
            for (k = 0; k < 8; k = k + 1) begin : g_bit
                always @(posedge clk)
                    if (en)
                        sh[8*j+k] <= first ? (j == 0 && k == 0 && code_bit)
                                           : (sel_k[k] ? code_bit : sh[8*j+k]);
            end
        end
    endgenerate

    assign l_we    = s2_we && !dest;
    assign l_waddr = oaddr[LAW-1:0];
    assign l_wdata = sh;
    assign r_we    = s2_we && dest;
    assign r_waddr = oaddr[RAW-1:0];
    assign r_wdata = sh;
endmodule

`default_nettype wire
