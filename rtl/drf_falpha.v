// f_alpha engine (QUANT_ACT, spec 5): counts the channel thresholds each i32 accumulator passes.
`default_nettype none

// One element every n_A + 3 cycles, one D access per cycle (never a read and a write together):
//
//   ACC  read acc[i][j]                    (data: last threshold of the previous element, compared)
//   FLG  read the channel's flags word     (data: acc, latched; the count takes the last compare)
//   WR   write the previous element's code (data: flags, latched; the count is complete)
//   THR  read T[t], t = 0 .. n_A - 1       (data: T[t - 1], each compared and counted)
//
// Compare and count, per data word: d = 0: acc >= T, d = 1: acc <= T (signed); the count takes
// each compare a cycle later. After the last element, ACC and FLG cycles without a read take the
// last compare, and WR writes the last code.

module drf_falpha #(
    parameter DAW = 15  // D address bits (2^DAW 32-bit words); at most 30
) (
    input  wire           clk,
    input  wire           rst,
    // Command: the QUANT_ACT payload (spec 9.7), byte i at [8i +: 8]
    input  wire           start,
    input  wire [191:0]   args,
    output wire           busy,
    output reg            done,
    // D memory
    output wire           d_re,
    output wire [DAW-1:0] d_raddr,
    input  wire [31:0]    d_rdata,
    output wire           d_we,
    output wire [DAW-1:0] d_waddr,
    output wire [31:0]    d_wdata,
    output wire [3:0]     d_wbe
);
    // States
    localparam [2:0] ST_IDLE = 3'd0,  // waiting for start
                     ST_ACC  = 3'd1,  // read the accumulator
                     ST_WR   = 3'd2,  // write the previous code
                     ST_FLG  = 3'd3,  // read the flags word
                     ST_THR  = 3'd4;  // read the thresholds
    // What d_rdata holds (the tag of last cycle's read)
    localparam [1:0] TAG_NONE = 2'd0,
                     TAG_ACC  = 2'd1,
                     TAG_FLG  = 2'd2,
                     TAG_THR  = 2'd3;

    // Unused payload bits: reserved bytes and address / count bits above the memory size.
    wire [191:0] unused_args = args;

    // Command fields: args is stable from start until done (drf_core's contract)
    wire [DAW-1:0] thr = args[128 +: DAW];  // i32 view base of the threshold records
    wire [DAW-1:0] m_val = args[32 +: DAW]; // M (M*N accumulators fit D, so M, N < 2^DAW)
    wire [DAW-1:0] n_val = args[64 +: DAW]; // N
    wire [2:0]     a_lo = args[96 +: 3];    // A modulo 8 (A = 1 .. 8)
    wire           axis = args[104];        // 0: channel = row, 1: channel = column

    // Control
    reg [2:0]     st;
    reg [1:0]     rtag;      // what d_rdata holds this cycle
    reg [DAW-1:0] i_idx;     // i + 1 of the current element
    reg [DAW-1:0] j_idx;     // j + 1
    reg [8:0]     t_w;       // t + 2 while T[t] is read (2 .. 2^A)
    reg           have_prev; // a previous element waits for its code write
    reg           fin;       // the reads of the last element have been issued

    // Pointers
    reg [DAW-1:0] ap;        // i32 pointer of the next accumulator
    reg [DAW+1:0] cp;        // u8 pointer of the next code to write
    reg [DAW-1:0] rec;       // record of the current channel
    reg [DAW-1:0] ra;        // read pointer in the record (flags, thresholds)

    // Datapath
    reg [31:0]    acc_n;     // accumulator of the current element, inverted (~acc = -acc - 1)
    reg           dir;       // direction bit d of the current channel
    reg [7:0]     count;     // thresholds passed so far

    // ---------------------------------------------------------------------------------------------
    // The element's column and row are the last ones (the counters change once per element)
    wire row_one = (i_idx == m_val);
    wire col_one = (j_idx == n_val);

    // Reads
    wire rd_acc = (st == ST_ACC) && !fin;
    wire rd_flg = (st == ST_FLG) && !fin;
    assign d_re    = rd_acc || rd_flg || (st == ST_THR);
    assign d_raddr = (st == ST_ACC) ? ap : ra;

    // T[t] is the record's last threshold when t = n_A - 1 = 2^A - 2, that is t_w = 2^A: bit A
    // of t_w (t_w < 2^A before).
    wire [7:0] t_wsel = {t_w[7:1], t_w[8]};
    wire       t_end  = t_wsel[a_lo];

    always @(posedge clk) begin
        rtag <= rd_acc ? TAG_ACC : rd_flg ? TAG_FLG : (st == ST_THR) ? TAG_THR : TAG_NONE;
        if (rst)
            rtag <= TAG_NONE;
    end

    // Compare (spec 5), signed: d = 0 counts acc >= T, d = 1 counts acc <= T. With ~acc = -acc - 1,
    // acc >= T iff ~acc + T < 0, and acc <= T iff ~acc + T + 1 >= 0: one 33-bit sum with carry-in
    // d, whose sign decides (no inverter in front of the carry chain, no equality compare).
    wire [32:0] cmp = {acc_n[31], acc_n} + {d_rdata[31], d_rdata} + {32'd0, dir};
    wire hit = cmp[32] ^ dir;
    wire [31:0] unused_cmp = cmp[31:0];  // only the sign is used

    // ---------------------------------------------------------------------------------------------
    // Sequencer
    always @(posedge clk) begin
        done    <= 1'b0;
        case (st)
            ST_IDLE: begin
                // loaded in every idle cycle (args is valid at start), so that start only
                // steers the state
                ap        <= args[0 +: DAW];
                i_idx     <= {{(DAW-1){1'b0}}, 1'b1};
                j_idx     <= {{(DAW-1){1'b0}}, 1'b1};
                rec       <= args[128 +: DAW];
                cp        <= {args[160 +: DAW], 2'b00};
                have_prev <= 1'b0;
                fin       <= 1'b0;
                if (start)
                    st <= ST_ACC;
            end
            ST_ACC: begin
                ap <= ap + 1'b1;
                ra <= rec;
                st <= ST_FLG;
            end
            ST_FLG: begin
                ra  <= ra + 1'b1;
                t_w <= 9'd2;
                st  <= ST_WR;
            end
            ST_WR: begin
                have_prev <= 1'b1;
                if (have_prev)
                    cp <= cp + 1'b1;
                if (fin) begin
                    st   <= ST_IDLE;
                    done <= 1'b1;
                end else begin
                    st <= ST_THR;
                end
            end
            ST_THR: begin
                ra  <= ra + 1'b1;
                t_w <= t_w + 9'd1;
                if (t_end) begin
                    // Next element: advance (i, j) and the channel record. ra + 1 is the record
                    // after the current one (records are consecutive, 1 + n_A words each).
                    if (col_one) begin
                        j_idx <= {{(DAW-1){1'b0}}, 1'b1};
                        i_idx <= i_idx + 1'b1;
                        rec   <= axis ? thr : ra + 1'b1;
                        if (row_one)
                            fin <= 1'b1;
                    end else begin
                        j_idx <= j_idx + 1'b1;
                        if (axis)
                            rec <= ra + 1'b1;
                    end
                    st <= ST_ACC;
                end
            end
            default: st <= ST_IDLE;
        endcase
        if (rst) begin
            st   <= ST_IDLE;
            done <= 1'b0;
        end
    end

    // Data of last cycle's read. A threshold's compare is registered (hit_q) and counted a cycle
    // later, so the 33-bit carry chain ends in one flip-flop; the last threshold's hit_q is
    // registered in ACC and counted in FLG, so the count is the code at WR.
    reg hit_q;
    always @(posedge clk) begin
        case (rtag)
            TAG_ACC: acc_n <= ~d_rdata;
            TAG_FLG: dir <= d_rdata[0];
            default: ;
        endcase
        hit_q <= rtag == TAG_THR && hit;
        if (st == ST_WR)  // the previous code is written now
            count <= 8'd0;
        else if (hit_q)
            count <= count + 8'd1;
        if (rst)
            hit_q <= 1'b0;
    end

    assign busy = (st != ST_IDLE);

    // ---------------------------------------------------------------------------------------------
    // Writes: the previous element's code at WR.
    assign d_we    = (st == ST_WR) && have_prev;
    // Address and data are zero without a write (drf_core ORs the engines' write ports).
    assign d_waddr = d_we ? cp[DAW+1:2] : {DAW{1'b0}};
    assign d_wdata = {4{d_we ? count : 8'd0}};
    assign d_wbe   = 4'b0001 << cp[1:0];
endmodule

`default_nettype wire
