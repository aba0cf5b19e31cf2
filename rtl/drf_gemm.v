// drf_gemm: GEMM engine (spec 3): stream generator, ROWS x COLS DPU array, drain (WRITE32 / ACC64).
`default_nettype none

// Formats and what the array accumulates per (i, j) (docs/rtl.md; n = 2^bits - 1):
//
//     L R | DPU op | sum pass         | C at the drain
//     U U | AND    | -                | P
//     S U | AND    | SR_j (R planes)  | 2P - n_L·SR_j
//     U S | XOR    | SR_j (R planes)  | n_L·SR_j - X          (= 2P - n_R·SL_i)
//     S S | XOR    | -                | K·n_L·n_R - 2X
//
// P = Σ 2^(p+q) popcount(l_p AND r_q), X = the same with XOR (padding masked). With ACC_MAC the
// DPUs accumulate 2P, -X, -2X (and -SR_j in an SU sum pass) instead, so C = t + b throughout.
// Both mixed formats use the row sums of R, so there is one kind of sum pass: it counts the R
// planes alone (DPU op "b", no L read) for one column band, once per band, with the R tiles
// outermost. The drain turns
// the band's sums into corr_j = n_L·SR_j (Horner, n_L·x = 2(…(2x + x)…) + x) before the band's
// first tile is drained.
//
// Pipeline (cycle numbers from the issue of a stream element in cycle t):
//   t        issue: L/R read, element flags; the candidate registers advance
//   t+1      "M" stage: L/R words from the memories, per-bit codes u/v; DPU popcount starts
//   t+1+PCS  accumulator adds (first / shift)        PCS = POPCOUNT_STAGES
//   t+2+PCS  `last` reached the accumulator one cycle ago: shadows capture, the drain starts
// A tile's `last` is issued only if the previous tile's drain will have taken its last shadow
// value by the time of the capture (ld_cnt), so the DPU pipeline itself never stalls. The next
// tile's position (n_*) is combinational from the current tile's registers; a tile lasts at
// least two cycles.
//
// One DPU (E = 1): no shadow. The drain reads the accumulator itself, which holds its value
// between tiles (bubbles add nothing) until the next tile's first element reaches it: the first
// element of a tile issued in t' loads it at the end of t'+1+PCS (Horner) or clears it at the end
// of t'+PCS (ACC_MAC). The drain starts a cycle earlier than above, in t+1+PCS of the last
// element, and reads the accumulator in t+2+PCS (WRITE32, ACC64) or in t+2+PCS .. t+1+PCS+bL (a
// sum pass's Horner steps). So the next tile's first element is held for `hold` cycles after the
// last element's issue: ACC_MAC + bL - 1 after a sum pass, ACC_MAC after any other tile, the
// same as with shadows (ACC_MAC's gap). `last` stays behind ld_cnt (one tile in the drain's
// queue).
//
// Drain, per shadow value in row-major order (through the DPU chain), skipping rows >= M and
// columns >= N of edge tiles; the chain head is taken in cycle T, C is ready in T+1:
//   WRITE32: 1 cycle per element: D write issued at T+2.
//   ACC64:   2 cycles per element: scale·C (a 32 x 16 signed multiply) at T+2, its words
//            registered in T+3 and T+4, read lo at T+3 and hi at T+4, write lo + prod_lo at T+5
//            and hi + prod_hi + carry at T+6.
//   sum:     bL cycles per column (Horner steps of n_L·SR_j, each reads the head), the first
//            COLS values only (row 0).
//
// Setup after start: 19 cycles of shift-adds (KW·P_M, KW·P_N, plane bases), where
// P_M, P_N are the row pitches (M, N rounded up to multiples of 8, spec 2.1). The arguments are
// read from `args` throughout (stable until done, see drf_core).
module drf_gemm #(
    parameter ROWS = 4,            // DPU rows (L banks)
    parameter COLS = 4,            // DPU columns (R banks)
    parameter LAW = 16,            // L word address bits
    parameter RAW = 16,            // R word address bits
    parameter DAW = 20,            // D word address bits
    parameter POPCOUNT_STAGES = 3, // register stages in each DPU's popcount tree (1 .. 7)
    parameter ACC_MAC = 0          // DPU accumulators multiply-accumulate by 2^(p+q) (drf_dpu)
) (
    input  wire                 clk,
    input  wire                 rst,
    // Command
    input  wire                 start,
    input  wire [319:0]         args,        // spec 9.5 payload, byte i at [8i +: 8]
    output wire                 busy,
    output reg                  done,
    output reg                  array_busy,  // the array consumes a (non-sum-pass) element
    // L memory
    output wire                 l_rd_en,
    output wire [LAW-1:0]       l_rd_base,
    input  wire [ROWS*64-1:0]   l_rd_data,
    // R memory
    output wire                 r_rd_en,
    output wire [RAW-1:0]       r_rd_base,
    input  wire [COLS*64-1:0]   r_rd_data,
    // D memory
    output wire                 d_re,
    output wire [DAW-1:0]       d_raddr,
    input  wire [31:0]          d_rdata,
    output reg                  d_we,
    output reg  [DAW-1:0]       d_waddr,
    output reg  [31:0]          d_wdata,
    output wire [3:0]           d_wbe
);

    localparam PCS = POPCOUNT_STAGES;
    localparam E = ROWS * COLS;                     // shadow values per tile
    localparam SHADOW = E > 1 ? 1 : 0;              // 0: the drain reads the one accumulator
    localparam DS = SHADOW != 0 ? PCS + 1 : PCS;    // ctl_last stage at which the drain starts
    localparam DC = DS + 1;                         // issue of `last` to the drain's start, cycles
    localparam LD_W32 = (E > DC ? E : DC) - 1;      // ld_cnt after a WRITE32 tile's last
    localparam LD_A64 = (2 * E > DC ? 2 * E : DC) - 1;  // ... after an ACC64 tile's last
    localparam RB = ROWS > 1 ? $clog2(ROWS) : 1;    // drain row counter bits
    localparam CB = COLS > 1 ? $clog2(COLS) : 1;    // drain column counter bits

    // The same constants at the widths they are used with.
    localparam [31:0] ROWS_32 = ROWS;
    localparam [31:0] COLS_32 = COLS;
    localparam [31:0] ROWS_M1 = ROWS - 1;
    localparam [31:0] COLS_M1 = COLS - 1;
    localparam [31:0] LD_W32_32 = LD_W32;
    localparam [31:0] LD_A64_32 = LD_A64;
    localparam [31:0] DC_32 = DC;
    localparam [LAW:0] ROWS_L = ROWS_32[LAW:0];
    localparam [RAW:0] COLS_R = COLS_32[RAW:0];
    localparam [DAW-1:0] ROWS_D = ROWS_32[DAW-1:0];
    localparam [DAW-1:0] COLS_D = COLS_32[DAW-1:0];
    localparam [11:0] COLS_C = COLS_32[11:0];
    localparam [RB-1:0] ROW_LAST = ROWS_M1[RB-1:0];
    localparam [CB-1:0] COL_LAST = COLS_M1[CB-1:0];
    localparam [11:0] LD_W32_C = LD_W32_32[11:0];
    localparam [11:0] LD_A64_C = LD_A64_32[11:0];
    localparam [11:0] DC_C = DC_32[11:0];
    localparam [3:0] HOLD_MAC = ACC_MAC != 0 ? 4'd1 : 4'd0;

    localparam [1:0] ST_IDLE = 2'd0, ST_SETUP = 2'd1, ST_RUN = 2'd2;
    localparam [4:0] SU_DONE = 5'd18;  // last setup cycle: the first tile is loaded

    // ---------------------------------------------------------------------------------------------
    // Arguments (spec 9.5): args is stable from start until done (drf_core's contract), so the
    // fields are read from it; only values derived by arithmetic are registered.
    // ---------------------------------------------------------------------------------------------

    reg [1:0]      state;
    wire [LAW:0]   a_m = args[64 +: LAW + 1];   // M <= L words, so LAW + 1 bits hold it
    wire [RAW:0]   a_n = args[96 +: RAW + 1];
    reg [LAW-1:0]  a_pm;      // row pitch of L: M rounded up to a multiple of 8 (spec 2.1)
    reg [RAW-1:0]  a_pn;      // row pitch of R (both modulo the memory size)
    wire [15:0]    a_k = args[128 +: 16];       // 1 .. 32768
    reg [14:0]     k_m1;      // K - 1 (K = 32768 wraps to 0 - 1)
    wire [3:0]     a_bl = args[160 +: 4];
    wire [3:0]     a_br = args[168 +: 4];
    wire           a_fl = args[176];
    wire           a_fr = args[184];
    wire           a_acc64 = args[192];
    wire [DAW-1:0] a_dst = args[224 +: DAW];
    wire [DAW-1:0] a_ldc = args[256 +: DAW];
    wire [15:0]    a_scale = args[288 +: 16];   // an i16 (spec 3.3; the command engine checked it)

    wire [8:0]  kw_m1 = k_m1[14:6];         // KW - 1
    wire [5:0]  k_fin = k_m1[5:0];          // last valid bit of the last word of a plane row
    wire        kw_one = kw_m1 == 9'd0;
    wire        xor_mode = a_fr;            // US and SS count XOR
    wire        needs_sum = a_fl ^ a_fr;
    wire [DAW-1:0] esz = {{(DAW-2){1'b0}}, a_acc64, ~a_acc64};         // D words per element
    wire [DAW-1:0] ldc_w = a_acc64 ? {a_ldc[DAW-2:0], 1'b0} : a_ldc;    // row pitch in words
    // Drain cycles of a sum tile; one more for a column of several DPUs, whose one corr word is
    // written in the sum drain's last cycle: the next drain's first read of it must come after
    // that. (A single DPU holds its next tile for the sum drain instead, see `hold`.)
    wire [11:0]    sum_len = COLS_C * {8'd0, a_bl} + (COLS == 1 && E > 1 ? 12'd1 : 12'd0);

    // Constants of the command, derived from the latched arguments. They are registers so that
    // no timing path runs through their arithmetic; they settle during setup.
    reg [DAW-1:0]  k_esz, k_ldc_w;
    reg [DAW-1:0]  rowstep;   // D words from one tile row to the next
    reg [DAW-1:0]  colstep;   // ... from one column band to the next
    reg [11:0]     ld_sum;    // ld_cnt after a sum tile's last
    reg [2:0]      bl_m1;
    reg [3:0]      s_top;     // first s of a tile
    reg [3:0]      s_top_sum; // ... of a sum pass
    reg [3:0]      ws_top;    // ACC_MAC: weight exponent of a regular tile's first s: s_top + fl
    reg [4:0]      su_thr_l, su_thr_r;  // setup phase B bounds
    always @(posedge clk) begin
        k_esz <= esz;
        k_ldc_w <= ldc_w;
        rowstep <= ldc_w * ROWS_D;
        colstep <= esz * COLS_D;
        ld_sum <= (sum_len > DC_C ? sum_len : DC_C) - 12'd1;
        bl_m1 <= a_bl[2:0] - 3'd1;
        s_top <= a_bl + a_br - 4'd2;
        s_top_sum <= a_br - 4'd1;
        ws_top <= s_top + {3'd0, a_fl};
        su_thr_l <= {1'b0, a_bl} + 5'd9;
        su_thr_r <= {1'b0, a_br} + 5'd9;
    end

    // ---------------------------------------------------------------------------------------------
    // Setup: KW·P_M, KW·P_N, the bases of the first plane pair, K·n_L·n_R
    // ---------------------------------------------------------------------------------------------

    reg [4:0]      su_t;
    reg [9:0]      su_kw;     // KW, shifted left as its bits are used (MSB first)
    reg [LAW-1:0]  kwm;       // KW·P_M: L words per plane
    reg [RAW-1:0]  kwn;
    reg [LAW-1:0]  ltop;      // Lbase + (bL-1)·KW·P_M: the first pair of a tile
    reg [RAW-1:0]  rtop;      // Rbase + (bR-1)·KW·N
    reg [RAW-1:0]  r_jump;    // N - 2·KW·N: R step from (q, KW-1) to (q-1, 0)
    reg [31:0]     g_knn;     // K·n_L·n_R (SS; 0 otherwise)
    wire [14:0]    arg_k_m1 = args[128 +: 15] - 15'd1;
    wire [8:0]     arg_kw_m1 = arg_k_m1[14:6];  // KW - 1 of the args

    // Control FSM.
    wire all_idle;
    always @(posedge clk) begin
        done <= 1'b0;
        case (state)
        ST_IDLE: if (start) begin
            state <= ST_SETUP;
            a_pm <= {args[64 + 3 +: LAW - 3] + {{(LAW-4){1'b0}}, |args[64 +: 3]}, 3'b000};
            a_pn <= {args[96 + 3 +: RAW - 3] + {{(RAW-4){1'b0}}, |args[96 +: 3]}, 3'b000};
            k_m1 <= arg_k_m1;
        end
        ST_SETUP: if (su_t == SU_DONE)
            state <= ST_RUN;
        default: if (all_idle) begin
            state <= ST_IDLE;
            done <= 1'b1;
        end
        endcase
        if (rst) begin
            state <= ST_IDLE;
            done <= 1'b0;
        end
    end

    assign busy = state != ST_IDLE;

    // Setup datapath. Phase A (t = 0..9): KW·P_M and KW·P_N by shift-add over the bits of KW.
    // Phase B (t = 10..17): ltop, rtop by repeated adds; r_jump. The step enables are registered
    // a cycle ahead (su_*).
    // K·n_L·n_R (SS only, else 0) by two multiplies, which Yosys maps to DSP blocks (an iCE40
    // SB_MAC16 each, an ECP5 MULT18X18D): n_L·n_R = (2^bL - 1)(2^bR - 1) < 2^16, then K·n_L·n_R
    // < 2^31. Both are registered; the args are stable, so g_knn is ready two cycles after start,
    // long before the first drain.
    reg  [15:0] g_nn;
    wire [7:0]  n_l, n_r;
    genvar gb;
    generate
        for (gb = 0; gb < 8; gb = gb + 1) begin : g_n
            assign n_l[gb] = a_bl > gb;
            assign n_r[gb] = a_br > gb;
        end
    endgenerate
    always @(posedge clk) begin
        g_nn <= (a_fl & a_fr) ? n_l * n_r : 16'd0;
        g_knn <= a_k * g_nn;
    end

    reg       su_a, su_j, su_l, su_r;
    wire [4:0] su_t1 = su_t + 5'd1;
    always @(posedge clk) begin
        su_a <= state == ST_IDLE || su_t1 < 5'd10;
        su_j <= state != ST_IDLE && su_t1 == 5'd10;
        su_l <= state != ST_IDLE && su_t1 >= 5'd10 && su_t1 < su_thr_l;
        su_r <= state != ST_IDLE && su_t1 >= 5'd10 && su_t1 < su_thr_r;
        if (state == ST_IDLE) begin
            su_t <= 5'd0;
            su_kw <= {1'b0, arg_kw_m1} + 10'd1;
            kwm <= {LAW{1'b0}};
            kwn <= {RAW{1'b0}};
            ltop <= args[0 +: LAW];
            rtop <= args[32 +: RAW];
        end else if (state == ST_SETUP) begin
            su_t <= su_t1;
            if (su_a) begin
                kwm <= {kwm[LAW-2:0], 1'b0} + (su_kw[9] ? a_pm[LAW-1:0] : {LAW{1'b0}});
                kwn <= {kwn[RAW-2:0], 1'b0} + (su_kw[9] ? a_pn[RAW-1:0] : {RAW{1'b0}});
                su_kw <= {su_kw[8:0], 1'b0};
            end
            if (su_j)
                r_jump <= a_pn[RAW-1:0] - {kwn[RAW-2:0], 1'b0};
            if (su_l)
                ltop <= ltop + kwm;
            if (su_r)
                rtop <= rtop + kwn;
        end
    end

    // ---------------------------------------------------------------------------------------------
    // Stream generator: the candidate element and its addresses
    // ---------------------------------------------------------------------------------------------
    //
    // Tile loop: column bands (j0) outermost, then row tiles (i0); a band starts with its sum pass
    // when the formats need one. Element loop of a tile: s = p + q from bL + bR - 2 down to 0,
    // p ascending within s, w = 0 .. KW - 1 innermost. With rows innermost in the layout, the L
    // address steps by P_M from one element to the next within an s (also from (p, KW-1) to
    // (p+1, 0)), the R address by P_N, or by P_N - 2·KW·P_N from (q, KW-1) to (q-1, 0). A new s starts
    // from ls / rs, the first pair of the s, which move down by one plane.

    reg            c_run;     // a candidate exists
    reg            c_sum;     // the current tile is a sum pass
    reg            c_first, c_shift;
    reg            w_last, p_last, s_zero, c_last;
    reg [2:0]      p;         // plane of L (q = s - p)
    reg [2:0]      p_hi_m1;   // last p of this s, minus one
    reg            l_down;    // p_lo > 0 in this s: the next s starts one L plane lower
    reg [3:0]      ns_s;      // the next s and its range of p
    reg [2:0]      ns_plo, ns_phi;
    reg            ns_single, ns_szero;  // ... it has one plane pair; it is 0
    reg            ns_top;    // ... p_hi == s (registered: fa_phi's compare is off the single path)
    reg [8:0]      wl;        // words left in this plane pair after this one
    reg [LAW-1:0]  la, ls, tb_l;  // address; first pair of this s; first pair of the tile
    reg [RAW-1:0]  ra, rs, tb_r;
    reg [LAW:0]    rem_rows;  // M - i0
    reg [RAW:0]    rem_cols;  // N - j0
    reg [DAW-1:0]  dband, dtile;  // D address of element (0, j0) and (i0, j0)
    reg [ROWS-1:0] c_rmask;   // rows / columns of the tile inside the result
    reg [COLS-1:0] c_cmask;
    reg            c_more_rows, c_more_cols;  // rem_rows > ROWS, rem_cols > COLS
    reg [11:0]     ld_cnt;    // cycles until a `last` may be issued
    reg            last_ok;   // ld_cnt is 0 and the next tile (n_*) is ready

    // After a tile's last element the next tile's first waits `hold` cycles. With ACC_MAC one
    // (the gap), in which the accumulators clear. With one DPU (E == 1) the drain reads the
    // accumulator, so the first element must not reach it before the drain's last read (see the
    // header): ACC_MAC + bL - 1 cycles after a sum pass, ACC_MAC after any other tile.
    reg  hold;
    wire issue = c_run & ~hold & (~c_last | last_ok);
    reg  su_done;             // the last setup cycle
    always @(posedge clk)
        su_done <= ~rst && state == ST_SETUP && su_t == SU_DONE - 5'd1;
    generate
        if (E == 1) begin : g_hold
            // after a sum pass bL - 1 + ACC_MAC cycles (bL is 1 .. 8), else ACC_MAC
            wire [3:0] hold_sum = ACC_MAC != 0 ? a_bl : {1'b0, bl_m1};
            wire [3:0] hold_len = c_sum ? hold_sum : HOLD_MAC;
            reg  [3:0] hold_cnt;   // hold cycles left, this one included
            always @(posedge clk) begin
                if (issue && c_last) begin
                    hold_cnt <= hold_len;
                    hold <= hold_len != 4'd0;
                end else begin
                    hold_cnt <= hold_cnt - {3'd0, hold_cnt != 4'd0};
                    hold <= hold_cnt > 4'd1;
                end
                if (rst) begin
                    hold_cnt <= 4'd0;
                    hold <= 1'b0;
                end
            end
        end else begin : g_gap
            always @(posedge clk)
                hold <= ACC_MAC != 0 && ~rst && issue && c_last;
        end
    endgenerate
    // A tile loads its registers on `tile_load`. With ACC_MAC that is the gap (the first hold
    // cycle), one cycle after the last element's issue (or after su_done): the load enable then
    // comes straight from a flip-flop to the ~150 tile registers instead of through the issue
    // logic. Without ACC_MAC there is no gap and the load is the cycle of the last issue.
    wire tile_event = su_done | (issue & c_last);
    reg  tile_event_q;
    always @(posedge clk)
        tile_event_q <= ~rst & tile_event;
    wire tile_load = ACC_MAC != 0 ? tile_event_q : tile_event;

    // The element after the candidate, inside the tile. The plane pairs of s are p = p_lo .. p_hi
    // with p_lo = max(0, s - bR + 1) and p_hi = min(s, bLe - 1) (bLe = 1 in a sum pass); from s to
    // s - 1, p_lo drops by one while it is above 0 (and then the L base moves down a plane, else
    // the R base does), and p_hi drops by one once it equals s. The range of the next s is kept
    // one s ahead (ns_*), so a new s only loads registers.
    wire [LAW-1:0] ls_next = ls - (l_down ? kwm : {LAW{1'b0}});
    wire [RAW-1:0] rs_next = rs - (l_down ? {RAW{1'b0}} : kwn);
    wire           new_s = w_last & p_last;   // the next element starts the next s
    reg  [2:0] x_p;
    reg  [8:0] x_wl;
    reg        x_wlast, x_plast, x_szero;
    always @* begin
        x_p = p;
        x_wl = wl - 9'd1;
        x_wlast = wl == 9'd1;
        x_plast = p_last;
        x_szero = s_zero;
        if (w_last) begin
            x_wl = kw_m1;
            x_wlast = kw_one;
            if (!p_last) begin
                x_p = p + 3'd1;
                x_plast = p == p_hi_m1;
            end else begin
                x_p = ns_plo;
                x_plast = ns_single;
                x_szero = ns_szero;
            end
        end
    end

    // One s down: (s, p_lo, p_hi) -> (s - 1, p_lo - [p_lo > 0], p_hi - [p_hi == s]), from the
    // next s (at a new s) or from the first s of the next tile (at a new tile).
    wire [3:0] fa_s = ns_s - 4'd1;
    wire [2:0] fa_plo = ns_plo - {2'd0, ns_plo != 3'd0};
    wire [2:0] fa_phi = ns_phi - {2'd0, ns_top};
    // p_hi == s holds from the first s that has it on (both step down together); before, the s
    // after next has it if p_hi == s - 1 now.
    wire       fa_top = ns_top | ({1'b0, ns_phi} == fa_s);

    // The first s of a tile (its p range n_p0) and the s after it, per kind of tile (regular, sum
    // pass): constants of the command, registered, so that a tile load only selects by q_sum.
    // Fields: {p_hi(s - 1) == s - 1, n_p0, s - 1, p_lo(s - 1), p_hi(s - 1), single, s - 1 == 0,
    // l_down, n_p0 - 1, s == 0}. (The weights' s starts from s_top_sum / ws_top, see cs.)
    function [20:0] tile_first(input [3:0] ts, input [2:0] tp);
        reg [3:0] bs;
        reg [2:0] bp, bphi;
        begin
            bs = ts - 4'd1;
            bp = tp - {2'd0, tp != 3'd0};
            bphi = tp - {2'd0, {1'b0, tp} == ts};
            tile_first = {{1'b0, bphi} == bs, tp, bs, bp, bphi, bp == bphi, bs == 4'd0,
                          tp != 3'd0, tp - 3'd1, ts == 4'd0};
        end
    endfunction
    reg  [20:0] tf_reg, tf_sum;
    always @(posedge clk) begin
        tf_reg <= tile_first(s_top, bl_m1);
        tf_sum <= tile_first(s_top_sum, 3'd0);
    end
    wire [20:0] tf = q_sum ? tf_sum : tf_reg;
    wire        n_szero = tf[0];   // the tile's first s is 0

    always @(posedge clk) begin
        if (tile_load) begin
            ns_s <= tf[16:13];
            ns_plo <= tf[12:10];
            ns_phi <= tf[9:7];
            ns_single <= tf[6];
            ns_top <= tf[20];
            ns_szero <= tf[5];
            l_down <= tf[4];
            p_hi_m1 <= tf[3:1];
        end else if (issue && new_s) begin
            ns_s <= fa_s;
            ns_plo <= fa_plo;
            ns_phi <= fa_phi;
            ns_single <= fa_plo == fa_phi;
            ns_top <= fa_top;
            ns_szero <= fa_s == 4'd0;
            l_down <= ns_plo != 3'd0;
            p_hi_m1 <= ns_phi - 3'd1;
        end
    end

    // The next tile (or the first one, during setup), from the current one's registers.
    wire           n_end, n_sum;
    wire [2:0]     n_p0;      // its p_lo = p_hi = bLe - 1
    wire [LAW:0]   n_rem_rows;
    wire [RAW:0]   n_rem_cols;
    wire [LAW-1:0] n_tb_l;
    wire [RAW-1:0] n_tb_r;
    wire [DAW-1:0] n_dband, n_dtile;
    reg            y_end, y_sum;
    reg [LAW:0]    y_rem_rows;
    reg [RAW:0]    y_rem_cols;
    reg [LAW-1:0]  y_tb_l;
    reg [RAW-1:0]  y_tb_r;
    reg [DAW-1:0]  y_dband, y_dtile;
    always @* begin
        y_end = 1'b0;
        y_sum = 1'b0;
        y_rem_rows = rem_rows;
        y_rem_cols = rem_cols;
        y_tb_l = tb_l;
        y_tb_r = tb_r;
        y_dband = dband;
        y_dtile = dtile;
        if (!c_run) begin
            // the first tile (c_run is 0 from idle until the first tile_load)
            y_sum = needs_sum;
            y_rem_rows = a_m;
            y_rem_cols = a_n;
            y_tb_l = ltop;
            y_tb_r = rtop;
            y_dband = a_dst;
            y_dtile = a_dst;
        end else if (c_sum) begin
            // the band's first tile follows its sum pass
        end else if (c_more_rows) begin
            y_rem_rows = rem_rows - ROWS_L;
            y_tb_l = tb_l + ROWS_L[LAW-1:0];
            y_dtile = dtile + rowstep;
        end else if (c_more_cols) begin
            y_sum = needs_sum;
            y_rem_rows = a_m;
            y_rem_cols = rem_cols - COLS_R;
            y_tb_l = ltop;
            y_tb_r = tb_r + COLS_R[RAW-1:0];
            y_dband = dband + colstep;
            y_dtile = dband + colstep;
        end else begin
            y_end = 1'b1;
        end
    end

    // The next tile's kind (end, sum pass) is registered a cycle ahead, which takes it and the
    // s-range logic after it (n_p0, fb_*) off one path: its inputs (c_run, c_sum, c_more_*) change
    // only with a tile_load, and the next tile_load is at least two cycles later (the first after
    // su_done, when they are constant, then `last_ok`).
    reg q_end, q_sum;
    always @(posedge clk) begin
        q_end <= y_end;
        q_sum <= y_sum;
    end
    assign n_end = q_end;
    assign n_sum = q_sum;
    assign n_p0 = tf[19:17];
    assign n_rem_rows = y_rem_rows;
    assign n_rem_cols = y_rem_cols;
    assign n_tb_l = y_tb_l;
    assign n_tb_r = y_tb_r;
    assign n_dband = y_dband;
    assign n_dtile = y_dtile;

    // The next tile's row / column flags (rem > ROWS, ..., and the masks rem > i), by the branch
    // of the next-tile logic above: each compares a register (rem_*, or the stable M, N) with a
    // constant, so no compare follows the n_rem_* subtract (its carry chain and the branch mux
    // before it made the longest path). Row and column 0 are always inside (M, N >= 1, spec 9.5).
    reg            nx_more_rows, nx_more_cols;
    reg [ROWS-1:0] nx_rmask;
    reg [COLS-1:0] nx_cmask;
    integer        xi;
    always @* begin
        nx_rmask[0] = 1'b1;
        nx_cmask[0] = 1'b1;
        if (!c_run || (!c_sum && !c_more_rows)) begin  // first tile, or a new band: M rows again
            nx_more_rows = a_m > ROWS_L;
            for (xi = 1; xi < ROWS; xi = xi + 1)
                nx_rmask[xi] = a_m > xi[LAW:0];
        end else if (c_more_rows && !c_sum) begin      // next row tile: rem_rows - ROWS left
            nx_more_rows = rem_rows > 2 * ROWS_L;
            for (xi = 1; xi < ROWS; xi = xi + 1)
                nx_rmask[xi] = rem_rows > ROWS_L + xi[LAW:0];
        end else begin                                  // after a sum pass: the same rows
            nx_more_rows = c_more_rows;
            for (xi = 1; xi < ROWS; xi = xi + 1)
                nx_rmask[xi] = c_rmask[xi];
        end
        if (!c_run) begin                               // first tile: N columns
            nx_more_cols = a_n > COLS_R;
            for (xi = 1; xi < COLS; xi = xi + 1)
                nx_cmask[xi] = a_n > xi[RAW:0];
        end else if (!c_sum && !c_more_rows) begin      // new band: rem_cols - COLS left
            nx_more_cols = rem_cols > 2 * COLS_R;
            for (xi = 1; xi < COLS; xi = xi + 1)
                nx_cmask[xi] = rem_cols > COLS_R + xi[RAW:0];
        end else begin                                  // the same band
            nx_more_cols = c_more_cols;
            for (xi = 1; xi < COLS; xi = xi + 1)
                nx_cmask[xi] = c_cmask[xi];
        end
    end

    // ACC_MAC: the candidate's weight exponent, s (+ 1 in a regular tile of an S-left format: 2P,
    // 2X), one less whenever s steps down.
    reg [3:0] cs;
    always @(posedge clk)
        if (tile_load)
            cs <= q_sum ? s_top_sum : ws_top;
        else if (issue && new_s)
            cs <= cs - 4'd1;

    always @(posedge clk) begin
        if (tile_load) begin
            c_run <= ~n_end;
            c_sum <= n_sum;
            c_first <= 1'b1;
            c_shift <= 1'b1;
            p <= n_p0;
            wl <= kw_m1;
            w_last <= kw_one;
            p_last <= 1'b1;
            s_zero <= n_szero;
            c_last <= kw_one && n_szero;
            la <= n_tb_l;
            ls <= n_tb_l;
            tb_l <= n_tb_l;
            ra <= n_tb_r;
            rs <= n_tb_r;
            tb_r <= n_tb_r;
            rem_rows <= n_rem_rows;
            rem_cols <= n_rem_cols;
            dband <= n_dband;
            dtile <= n_dtile;
            c_more_rows <= nx_more_rows;
            c_more_cols <= nx_more_cols;
            c_rmask <= nx_rmask;
            c_cmask <= nx_cmask;
        end else if (issue) begin
            c_first <= 1'b0;
            c_shift <= new_s;
            p <= x_p;
            wl <= x_wl;
            w_last <= x_wlast;
            p_last <= x_plast;
            s_zero <= x_szero;
            c_last <= x_wlast & x_plast & x_szero;
            if (!new_s) begin
                // next word, or the next plane pair of this s (p + 1, q - 1)
                la <= la + a_pm[LAW-1:0];
                ra <= ra + (w_last ? r_jump : a_pn[RAW-1:0]);
            end else begin
                // next s: the pair (p_lo(s-1), q_hi(s-1))
                la <= ls_next;
                ls <= ls_next;
                ra <= rs_next;
                rs <= rs_next;
            end
        end
        if (rst || state == ST_IDLE)
            c_run <= 1'b0;
    end

    always @(posedge clk) begin
        if (issue && c_last)
            ld_cnt <= c_sum ? ld_sum : a_acc64 ? LD_A64_C : LD_W32_C;
        else if (ld_cnt != 12'd0)
            ld_cnt <= ld_cnt - 12'd1;
        // a `last` needs ld_cnt == 0 and n_* computed from the current tile
        last_ok <= ~tile_load && ld_cnt <= 12'd1;
        if (rst) begin
            ld_cnt <= 12'd0;
            last_ok <= 1'b0;
        end
    end

    assign l_rd_en = issue & ~c_sum;
    assign l_rd_base = la;
    assign r_rd_en = issue;
    assign r_rd_base = ra;

    // ---------------------------------------------------------------------------------------------
    // M stage: per-bit codes and the element flags down the DPU pipeline
    // ---------------------------------------------------------------------------------------------

    // {u, v} per bit: 00 masked, 01 AND, 10 XOR, 11 count b (sum pass); see drf_dpu.
    // Bit k is valid unless it is padding: w_last and k > k_fin. The compare is split at bit 3 of
    // k (hi: k / 8 against k_fin[5:3], lo: k mod 8 against k_fin[2:0]), and the op and w_last are
    // folded into the per-hi terms, so each code bit is one LUT4 of three terms. `issue` is not in
    // them (it would put the code bits behind the issue logic): a bubble's count is whatever the
    // operands give, and the accumulators ignore it (ctl_v: weight 0, or no Horner update).
    wire        op_u = c_sum | xor_mode;
    wire        op_v = c_sum | ~xor_mode;
    reg  [63:0] m_u, m_v;
    reg  [7:0]  hi_all_u, hi_all_v, hi_eq_u, hi_eq_v, lo_ge;
    integer     hk, hb;  // loop indices: hk in the comb block, hb in the clocked one (one driver each)
    always @* begin
        for (hk = 0; hk < 8; hk = hk + 1) begin
            hi_all_u[hk] = op_u & (~w_last | k_fin[5:3] > hk[2:0]);
            hi_all_v[hk] = op_v & (~w_last | k_fin[5:3] > hk[2:0]);
            hi_eq_u[hk] = op_u & (k_fin[5:3] == hk[2:0]);
            hi_eq_v[hk] = op_v & (k_fin[5:3] == hk[2:0]);
            lo_ge[hk] = k_fin[2:0] >= hk[2:0];
        end
    end

    reg [PCS:0]   ctl_v;      // bit d: an element was issued d + 1 cycles ago (else a bubble)
    reg [PCS:0]   ctl_first;  // ... and it was a tile's first
    reg [PCS:0]   ctl_shift;
    reg [DS:0]    ctl_last;
    reg [4*PCS-1:0] ctl_s;    // ACC_MAC: s of the element issued d + 1 cycles ago at [4d +: 4]
    wire [4*PCS+3:0] ctl_s_next = {ctl_s, cs};
    // ACC_MAC: its weight 2^s one cycle early, 0 for a bubble
    wire [15:0]   dpu_w = {15'd0, ctl_v[PCS-1]} << ctl_s[4*(PCS-1) +: 4];
    // ACC_MAC: the element is subtracted: a regular tile of US or SS (-X, -2X), a sum pass of SU
    // (-SR_j); so C is the accumulator plus b, without an inversion (see the drain).
    reg [PCS-1:0] ctl_sub;
    wire [PCS:0]  ctl_sub_next = {ctl_sub, c_sum ? a_fl : a_fr};
    // The drain starts: the shadows capture the tile's values (with E == 1 the last element is
    // being added, and the drain's first take reads the accumulator in the next cycle).
    wire          d_start = ctl_last[DS];

    always @(posedge clk) begin
        for (hb = 0; hb < 64; hb = hb + 1) begin
            m_u[hb] <= hi_all_u[hb / 8] | (hi_eq_u[hb / 8] & lo_ge[hb % 8]);
            m_v[hb] <= hi_all_v[hb / 8] | (hi_eq_v[hb / 8] & lo_ge[hb % 8]);
        end
        ctl_v <= {ctl_v[PCS-1:0], issue};
        ctl_first <= {ctl_first[PCS-1:0], issue & c_first};
        ctl_shift <= {ctl_shift[PCS-1:0], issue & c_shift};
        ctl_last <= {ctl_last[DS-1:0], issue & c_last};
        ctl_s <= ctl_s_next[4*PCS-1:0];
        ctl_sub <= ctl_sub_next[PCS-1:0];
        array_busy <= issue & ~c_sum;
        if (rst) begin
            ctl_v <= {(PCS + 1){1'b0}};
            ctl_first <= {(PCS + 1){1'b0}};
            ctl_shift <= {(PCS + 1){1'b0}};
            ctl_last <= {(DS + 1){1'b0}};
            array_busy <= 1'b0;
        end
    end

    // Descriptor of the tile whose `last` is in the DPU pipeline (at most one, see ld_cnt).
    reg            pend_v;
    reg            pend_sum;
    reg [ROWS-1:0] pend_rmask;
    reg [COLS-1:0] pend_cmask;
    reg [DAW-1:0]  pend_dtile;

    always @(posedge clk) begin
        if (issue && c_last) begin
            pend_v <= 1'b1;
            pend_sum <= c_sum;
            pend_rmask <= c_rmask;
            pend_cmask <= c_cmask;
            pend_dtile <= dtile;
        end else if (d_start) begin
            pend_v <= 1'b0;
        end
        if (rst)
            pend_v <= 1'b0;
    end

    // ---------------------------------------------------------------------------------------------
    // DPU array; shadows chained in row-major order, drained from DPU (0, 0)
    // ---------------------------------------------------------------------------------------------

    wire [32*E+31:0] chain;          // shadow of DPU e at [32e +: 32]; a zero word at the end
    wire [31:0]      head = chain[31:0];
    assign chain[32*E +: 32] = 32'd0;

    genvar gi, gj;
    generate
        for (gi = 0; gi < ROWS; gi = gi + 1) begin : g_row
            for (gj = 0; gj < COLS; gj = gj + 1) begin : g_col
                localparam IDX = gi * COLS + gj;
                drf_dpu #(
                    .POPCOUNT_STAGES(PCS),
                    .ACC_MAC(ACC_MAC),
                    .SHADOW(SHADOW)
                ) u_dpu (
                    .clk        (clk),
                    .a          (l_rd_data[64*gi +: 64]),
                    .b          (r_rd_data[64*gj +: 64]),
                    .u          (m_u),
                    .v          (m_v),
                    .valid_d    (ctl_v[PCS-1]),
                    .first_d    (ctl_first[PCS-1]),
                    .shift_d    (ctl_shift[PCS-1]),
                    .cap_d      (ctl_last[PCS]),
                    .chain_shift_d(take_d),
                    .w_d        (dpu_w),
                    .sub_d      (ctl_sub[PCS-1]),
                    .chain_in   (chain[32*(IDX+1) +: 32]),
                    .shadow     (chain[32*IDX +: 32])
                );
            end
        end
    endgenerate

    // ---------------------------------------------------------------------------------------------
    // Drain
    // ---------------------------------------------------------------------------------------------

    reg            d_act, d_sum, d_ph;
    reg [ROWS-1:0] d_rmask;
    reg [COLS-1:0] d_cmask;
    reg [RB-1:0]   d_r;
    reg [CB-1:0]   d_c;
    reg [2:0]      d_h;               // sum pass: Horner step for n_L·SR_j
    reg [DAW-1:0]  d_addr, d_rowaddr;
    reg [31:0]     d_y;               // sum pass: twice the Horner partial, 0 at a column's start
    reg [31:0]     corr;              // n_L·SR_j of the band for column d_c (read from cmem)

    // The drain's state machine: next state (nd_*) and `take`, registered a cycle ahead because it
    // fans out to every shadow.
    reg  take_q;
    wire take_d;   // take_q's next value; each DPU keeps its own copy of take_q (fan-out)
    wire d_last_el = d_r == ROW_LAST && d_c == COL_LAST;
    wire sum_step = d_act & d_sum;
    wire sum_take = take_q & d_sum;
    wire el_take = take_q & ~d_sum;
    wire el_done = d_act & ~d_sum & (~a_acc64 | d_ph);

    reg       nd_act, nd_sum, nd_ph;
    reg [2:0] nd_h;
    // The column after this cycle: it addresses cmem one cycle ahead.
    wire [CB-1:0] nd_c = d_start ? {CB{1'b0}} :
                         sum_take || (el_done && d_c != COL_LAST) ? d_c + 1'b1 :
                         el_done ? {CB{1'b0}} : d_c;
    always @* begin
        nd_act = d_act;
        nd_sum = d_sum;
        nd_ph = d_ph;
        nd_h = d_h;
        if (d_start) begin
            nd_act = 1'b1;
            nd_sum = pend_sum;
            nd_ph = 1'b0;
            nd_h = 3'd0;
        end else if (sum_step) begin
            if (sum_take) begin
                nd_h = 3'd0;
                if (d_c == COL_LAST)
                    nd_act = 1'b0;
            end else begin
                nd_h = d_h + 3'd1;
            end
        end else if (el_done) begin
            nd_ph = 1'b0;
            if (d_last_el)
                nd_act = 1'b0;
        end else if (el_take) begin
            nd_ph = 1'b1;
        end
    end

    assign take_d = ~rst & nd_act & (nd_sum ? nd_h == bl_m1 : ~a_acc64 | ~nd_ph);

    always @(posedge clk) begin
        d_act <= nd_act;
        d_sum <= nd_sum;
        d_ph <= nd_ph;
        d_h <= nd_h;
        take_q <= take_d;
        if (d_start) begin
            d_rmask <= pend_rmask;
            d_cmask <= pend_cmask;
            d_r <= {RB{1'b0}};
            d_c <= {CB{1'b0}};
            d_addr <= pend_dtile;
            d_rowaddr <= pend_dtile;
        end else if (el_done) begin
            if (d_c == COL_LAST) begin
                d_r <= d_r + 1'b1;
                d_rowaddr <= d_rowaddr + k_ldc_w;
                d_addr <= d_rowaddr + k_ldc_w;
            end else begin
                d_addr <= d_addr + k_esz;
            end
        end
        d_c <= nd_c;
        if (rst) begin
            d_act <= 1'b0;
            take_q <= 1'b0;
        end
    end

    // The band's corr_j, one word per column, in a small RAM (an EBR on the iCE40): the sum pass
    // writes column d_c at its take; the read follows nd_c, so corr is column d_c's word. No
    // column is read in the cycle it is written.
    (* no_rw_check, ram_style = "block" *)
    reg [31:0] cmem [0:(1 << CB) - 1];
    wire [31:0] c_out;   // the adder of C below: in a sum pass d_y + head, n_L·SR_j at the take
    always @(posedge clk) begin
        if (sum_take)
            cmem[d_c] <= c_out;
        corr <= cmem[nd_c];
    end

    // C from the chain head (P or X) and the band's corr_j. Every C fits int32 (spec 3.1), so
    // 32-bit arithmetic modulo 2^32 gives it exactly: no wider intermediate is needed.
    // One adder, t = acc·2^fl, b = corr_j (SU, US), K·n_L·n_R (SS) or 0 (UU):
    //   UU: t + b = t;  US: ~t + b + 1 = corr - t;  SS: ~t + b + 1 = K·n_L·n_R - t;
    //   SU: ~(~t + b) = t - corr (the output inverted: ~x = -x - 1).
    // The sum is registered at the take (s2). In a sum pass the same adder makes the Horner steps:
    // t = head, b = d_y (g_knn is 0 outside SS, corr is deselected), no carry-in; d_y holds twice
    // the previous step's sum, or 0 in a column's first step. The controls follow nd_sum.
    // With ACC_MAC the accumulators hold the signed, doubled sums already (2P, -X, -2X, and -SR_j
    // in an SU sum pass, so corr_j is -n_L·SR_j there): C = t + b in every format, and the
    // shift, the inversions and the carry-in below are constant 0.
    localparam PLAIN = ACC_MAC == 0;
    reg         c_fl, inv_t, c_cin, sel_corr, inv_c;
    always @(posedge clk) begin
        inv_c <= PLAIN & a_fl & ~a_fr & ~nd_sum;
        c_fl <= PLAIN & a_fl & ~nd_sum;
        inv_t <= PLAIN & (a_fl | a_fr) & ~nd_sum;
        c_cin <= PLAIN & a_fr & ~nd_sum;
        sel_corr <= needs_sum & ~nd_sum;
        if (sum_step & ~sum_take & ~d_start)
            d_y <= {c_out[30:0], 1'b0};
        else
            d_y <= 32'd0;
    end
    wire [31:0] c_t = (c_fl ? {head[30:0], 1'b0} : head) ^ {32{inv_t}};
    wire [31:0] c_b = g_knn | (corr & {32{sel_corr}}) | d_y;

    // Element pipeline, from the take in cycle T: s2 holds C in T+1 and T+2 (the next take is at
    // T+2 for ACC64). WRITE32 writes it in T+2. ACC64 samples scale·C at the end of T+2 (s3_prod,
    // valid in T+3 and T+4); its lo and hi words are registered in turn (acc_b, valid in T+4 and
    // T+5), so no adder follows the multiplier's output directly. D's lo word is read in T+3 and
    // hi in T+4; lo + prod_lo is added in T+4 and hi + prod_hi + carry in T+5, straight from the
    // memory's output; the writes go out in T+5 and T+6. The next element reads in T+5 and T+6.
    reg            s2_v1, s2_v2, s3_v, s4_v, s5_v, s5_cy;
    (* keep *) reg [31:0] s2_c;  // kept in fabric: C goes from its adder into flip-flops, not into the DSP input registers
    reg [47:0]     s3_prod;   // scale·C: |scale| <= 2^15, |C| < 2^31, so 48 bits hold it
    reg [31:0]     acc_b;
    reg [DAW-1:0]  s2_addr, s3_addr, s4_addr;
    wire [32:0]    c_add = {c_t, 1'b1} + {c_b, c_cin};  // the carry-in in bit 0
    assign c_out = c_add[32:1] ^ {32{inv_c}};  // C at an element's take (inv_c is 0 in a sum pass)
    // One adder for both words: lo + prod_lo in T+4 (s4), hi + prod_hi + carry in T+5 (s5).
    wire [33:0]    acc_sum = {1'b0, d_rdata, 1'b1} + {1'b0, acc_b, s5_cy};  // carry-in in bit 0
    wire [DAW-1:0] one_d = {{(DAW-1){1'b0}}, 1'b1};

    always @(posedge clk) begin
        s2_v1 <= el_take & d_rmask[d_r] & d_cmask[d_c];
        s2_v2 <= s2_v1 & a_acc64;
        if (el_take) begin
            s2_c <= c_out;
            s2_addr <= d_addr;
        end
        s3_v <= s2_v2;
        if (s2_v2) begin
            s3_prod <= $signed(s2_c) * $signed(a_scale);  // a 32 x 16 multiply (two SB_MAC16)
            s3_addr <= s2_addr;
        end
        acc_b <= s3_v ? s3_prod[31:0] : {{16{s3_prod[47]}}, s3_prod[47:32]};
        s4_v <= s3_v;
        if (s4_v)
            s4_addr <= s3_addr;
        s5_v <= s4_v;
        s5_cy <= s4_v & acc_sum[33];  // 0 except in the cycle of the hi add
        if (a_acc64) begin
            d_we <= s4_v | s5_v;
            d_waddr <= s4_v ? s3_addr : s4_addr + one_d;
            d_wdata <= acc_sum[32:1];
        end else begin
            d_we <= s2_v1;
            d_waddr <= s2_addr;
            d_wdata <= s2_c;
        end
        // The write address and data are zero while no write is issued (drf_core ORs the engines).
        if (a_acc64 ? ~(s4_v | s5_v) : ~s2_v1) begin
            d_waddr <= {DAW{1'b0}};
            d_wdata <= 32'd0;
        end
        if (rst) begin
            s2_v1 <= 1'b0;
            s2_v2 <= 1'b0;
            s3_v <= 1'b0;
            s4_v <= 1'b0;
            s5_v <= 1'b0;
            d_we <= 1'b0;
        end
    end

    assign d_re = s3_v | s4_v;
    assign d_raddr = s4_v ? s3_addr + one_d : s3_addr;
    assign d_wbe = 4'hF;

    // With ACC_MAC the first tile loads a cycle after su_done, while c_run is still 0.
    assign all_idle = ~c_run & ~(ACC_MAC != 0 && tile_event_q) & ~pend_v & ~d_act & ~s2_v1 &
                      ~s2_v2 & ~s3_v & ~s4_v & ~s5_v & ~d_we;

    /* verilator lint_off UNUSED */
    // Reserved bytes, format/mode bits above bit 0 and address bits beyond the memories: the
    // command engine has validated them (spec 8.5, 2.3). Bit 16 of n_L·n_R (< 2^16), the
    // carry-in bits of two adders and the pipelines' last stages.
    wire unused_ok = ^{args, c_add[0], acc_sum[0], ctl_s_next[4*PCS +: 4], ctl_sub_next[PCS]};
    /* verilator lint_on UNUSED */

endmodule

`default_nettype wire
