// f_gamma engine (QUANT_GRAD, spec 4): row max, exact division, LFSR stochastic rounding.
`default_nettype none

// Per row s (spec 4):
//   max pass   one i16 read per cycle, m = max |g| (-32768 read as -32767), m -> i32 at mdst + s
//   per element, row-major: U = next LFSR draw, t = g + m,
//              Q = floor(n*t*2^15 / m) (m > 0) or n*2^15 (m = 0), c = (Q + U) >> 16 -> u8 at dst
//
// Divider: Q < 2^24 means n*t*2^15 < m*2^24, so the remainder starts at (n*t) >> 9 (< m) and
// 24 restoring steps, one per cycle, take the numerator bits (n*t)[8:0] then 15 zeros. The
// remainder stays below m <= 32767 (15 bits). n*t = t*(2^G - 1) is formed in G Horner steps,
// x = 2x + t.
// Addresses are kept as running pointers: 2*src + i (i16), 4*dst + i (u8), mdst + s (i32).
//
// Schedule for m > 0: LOAD (draw U, start the divider, latch the previous element's code) then
// 24 DIV cycles, i.e. 25 cycles per element (26 with the max pass); the latched code is written in
// the next cycle. While the divider runs, a small prefetch machine reads the next g and prepares
// n*t. Rows with m = 0 take one LOAD cycle per element (all their g are 0). Reads and writes of D
// never happen in the same cycle (D may be a single-port RAM).

module drf_fgamma #(
    parameter DAW = 15  // D address bits (2^DAW 32-bit words); at most 30
) (
    input  wire           clk,
    input  wire           rst,
    // Command: the QUANT_GRAD payload (spec 9.6), byte i at [8i +: 8]
    input  wire           start,
    input  wire [191:0]   args,
    output wire           busy,
    output reg            done,
    // LFSR (spec 7)
    input  wire           seed_we,
    input  wire [31:0]    seed,
    input  wire           lfsr_reset,
    output reg  [31:0]    lfsr_state,
    // D memory
    output wire           d_re,
    output wire [DAW-1:0] d_raddr,
    input  wire [31:0]    d_rdata,
    output wire           d_we,
    output wire [DAW-1:0] d_waddr,
    output wire [31:0]    d_wdata,
    output wire [3:0]     d_wbe
);
    localparam HW = DAW + 1;  // i16 pointer bits: {word, half}
    localparam BW = DAW + 2;  // u8 pointer bits: {word, byte lane}
    localparam QW = 24;       // quotient bits: Q <= n*2^16 < 2^24
    localparam [4:0] DIV_LAST = QW - 1;  // last divider step

    // Main states
    localparam [3:0] ST_IDLE = 4'd0,  // waiting for start
                     ST_ROW  = 4'd1,  // row setup
                     ST_MAX  = 4'd2,  // max pass: one read per element
                     ST_MX1  = 4'd3,  // max pass drains: data of the last read arrives
                     ST_MX2  = 4'd4,  // max pass drains: last |g| folded into m
                     ST_MWR  = 4'd5,  // write m
                     ST_LOAD = 4'd6,  // next element: draw, start divider; latch previous code
                     ST_DIV  = 4'd7,  // 24 divider steps
                     ST_FIN  = 4'd8,  // latch the row's last code
                     ST_NEXT = 4'd9;  // write it; next row or done
    // Prefetch states
    localparam [2:0] PF_IDLE = 3'd0,  // nothing to do
                     PF_RD   = 3'd1,  // read g
                     PF_LAT  = 3'd2,  // data arrives, g latched
                     PF_T    = 3'd3,  // t = g + m
                     PF_NT   = 3'd4,  // n*t, one Horner step per cycle
                     PF_RDY  = 3'd5;  // n*t ready for LOAD

    // Unused payload bits: reserved bytes and address / count bits above the memory size.
    wire [191:0] unused_args = args;

    // Command fields: args is stable from start until done (drf_core's contract)
    wire [HW-1:0] e_num = args[64 +: HW];   // E (S*E i16 elements fit D, so E < 2^HW)
    wire          e_num1 = e_num == {{(HW-1){1'b0}}, 1'b1};  // E == 1
    wire [3:0]    g_bits = args[96 +: 4];   // G, 1..8

    // Control
    reg [3:0]     st;
    reg [2:0]     pf;
    reg [DAW-1:0] s_cnt;     // rows left, counting down to 1 (S < 2^DAW: the maxima fit D)
    reg           s_one;     // s_cnt == 1 (registered; s_cnt changes once per row)
    reg [HW-1:0]  e_cnt;     // elements left in the row's max pass, then in its LOADs
    reg           e_one;     // e_cnt == 1: this read / LOAD is the row's last
    reg           wr_pend;   // the divider holds an element of this row (code latched at next LOAD)
    reg           div_last;  // the element in the divider is the row's last
    reg           mzero;     // m == 0 for this row
    reg           mfirst;    // the next max-pass |g| is the row's first
    reg           cw;        // write code_r this cycle
    reg [4:0]     dcnt;      // divider step
    reg [3:0]     pcnt;      // prefetch Horner step

    // Pointers
    reg [HW-1:0]  gp;        // i16 pointer of the next element to LOAD (and to prefetch)
    reg [HW-1:0]  sp;        // i16 pointer of the max pass
    reg [BW-1:0]  cp;        // u8 pointer of the next code to write
    reg [DAW-1:0] mp;        // i32 pointer of the next row max

    // Datapath
    reg [14:0]    mx;        // running max |g|, then m
    reg           rhalf;     // i16 half of the word on d_rdata
    reg [15:0]    g_reg;     // g, saturated
    reg [14:0]    a_reg;     // |g|
    reg [15:0]    t_reg;     // t = g + m, 0..2m
    reg [QW-1:0]  nt;        // n*t < 2^24, built by Horner steps
    reg [14:0]    rem;       // divider remainder, < m
    reg [QW-1:0]  qn;        // numerator bits shift out at the top, quotient bits in at the bottom
    reg [7:0]     code_r;    // code to write

    // Read valid flags (control)
    reg           rv;        // d_rdata holds the data of a read issued last cycle
    reg           rscan;     // ... and it was a max-pass read
    reg           av;        // a_reg holds a max-pass |g|

    // ---------------------------------------------------------------------------------------------
    // Reads: the max pass and the prefetch share the port (never at the same time).
    wire          scan = (st == ST_MAX);
    wire [HW-1:0] rp   = scan ? sp : gp;
    assign d_re    = scan || (pf == PF_RD);
    assign d_raddr = rp[HW-1:1];

    // |sat(g)|: the 16-bit magnitude is 0x8000 only for -32768, which saturates to 32767.
    wire [15:0] half = rhalf ? d_rdata[31:16] : d_rdata[15:0];
    wire [15:0] gsat = (half == 16'h8000) ? 16'h8001 : half;
    wire [15:0] gmag = half[15] ? 16'd0 - half : half;
    wire [14:0] gabs = gmag[15] ? 15'h7FFF : gmag[14:0];

    always @(posedge clk) begin
        rhalf <= rp[0];
        if (rv) begin
            g_reg <= gsat;
            a_reg <= gabs;
        end
    end

    always @(posedge clk) begin
        rv    <= d_re;
        rscan <= scan;
        av    <= rv && rscan;
        if (rst) begin
            rv    <= 1'b0;
            rscan <= 1'b0;
            av    <= 1'b0;
        end
    end

    // ---------------------------------------------------------------------------------------------
    // Prefetch: g at gp -> t_reg -> nt = n*t. Started at the row's m write and in the first divider
    // cycle; it needs G + 4 cycles, well inside the 24 divider cycles.
    wire        load_go = (st == ST_LOAD) && (mzero || pf == PF_RDY);
    wire        pf_go   = (st == ST_MWR && mx != 15'd0) ||
                          (st == ST_DIV && dcnt == 5'd0 && !div_last);
    wire [15:0] t_sum   = g_reg + {1'b0, mx};  // g in [-m, m]: t in [0, 2m], exact in 16 bits

    always @(posedge clk) begin
        case (pf)
            PF_IDLE: if (pf_go) pf <= PF_RD;
            PF_RD:   pf <= PF_LAT;
            PF_LAT:  pf <= PF_T;
            PF_T: begin
                t_reg <= t_sum;
                nt    <= {QW{1'b0}};
                pcnt  <= 4'd1;
                pf    <= PF_NT;
            end
            PF_NT: begin  // after k steps nt = t*(2^k - 1); G steps
                nt   <= {nt[QW-2:0], 1'b0} + {8'd0, t_reg};
                pcnt <= pcnt + 4'd1;
                if (pcnt == g_bits)
                    pf <= PF_RDY;
            end
            PF_RDY:  if (load_go) pf <= PF_IDLE;
            default: pf <= PF_IDLE;
        endcase
        if (rst)
            pf <= PF_IDLE;
    end

    // ---------------------------------------------------------------------------------------------
    // Divider step and result
    wire [15:0]   rem_sh   = {rem, qn[QW-1]};                  // < 2m
    wire [16:0]   rem_diff = {1'b0, rem_sh} - {2'b00, mx};
    wire          qbit     = !rem_diff[16];                    // rem_sh >= m
    wire          unused_diff = rem_diff[15];                  // 0 whenever the difference is kept
    wire [7:0]    n_val    = (8'd1 << g_bits) - 8'd1;          // 2^G - 1 (G = 8: 255)

    // c = (Q + U) >> 16 <= n, so the sum fits 24 bits; its low 16 bits are the dropped fraction.
    wire [QW-1:0] q_plus_u = qn + {8'd0, lfsr_state[15:0]};
    wire [7:0]    code     = q_plus_u[23:16];
    wire [15:0]   unused_frac = q_plus_u[15:0];

    // ---------------------------------------------------------------------------------------------
    // Main sequencer
    wire latch_code = (st == ST_FIN) || (load_go && wr_pend);

    always @(posedge clk) begin
        done  <= 1'b0;
        cw    <= latch_code;
        s_one <= (s_cnt == {{(DAW-1){1'b0}}, 1'b1});
        if (latch_code)
            code_r <= code;
        if (cw)
            cp <= cp + 1'b1;
        case (st)
            ST_IDLE: if (start) begin
                gp      <= {args[0 +: DAW], 1'b0};
                s_cnt   <= args[32 +: DAW];
                cp      <= {args[128 +: DAW], 2'b00};
                mp      <= args[160 +: DAW];
                st      <= ST_ROW;
            end
            ST_ROW: begin
                e_cnt  <= e_num;
                e_one  <= e_num1;
                sp     <= gp;
                mfirst <= 1'b1;
                st     <= ST_MAX;
            end
            ST_MAX: begin
                sp    <= sp + 1'b1;
                e_cnt <= e_cnt - 1'b1;
                e_one <= (e_cnt == {{(HW-2){1'b0}}, 2'd2});
                if (e_one)
                    st <= ST_MX1;
            end
            ST_MX1: st <= ST_MX2;
            ST_MX2: st <= ST_MWR;
            ST_MWR: begin
                mp      <= mp + 1'b1;
                e_cnt   <= e_num;
                e_one   <= e_num1;
                mzero   <= (mx == 15'd0);
                wr_pend <= 1'b0;
                st      <= ST_LOAD;
            end
            ST_LOAD: if (load_go) begin
                wr_pend  <= 1'b1;
                gp       <= gp + 1'b1;
                e_cnt    <= e_cnt - 1'b1;
                e_one    <= (e_cnt == {{(HW-2){1'b0}}, 2'd2});
                div_last <= e_one;
                dcnt     <= 5'd0;
                if (mzero) begin
                    qn <= {1'b0, n_val, 15'd0};  // Q = n*2^15
                    if (e_one)
                        st <= ST_FIN;
                end else begin
                    rem <= nt[QW-1:9];
                    qn  <= {nt[8:0], 15'd0};
                    st  <= ST_DIV;
                end
            end
            ST_DIV: begin
                rem  <= qbit ? rem_diff[14:0] : rem_sh[14:0];
                qn   <= {qn[QW-2:0], qbit};
                dcnt <= dcnt + 5'd1;
                if (dcnt == DIV_LAST)
                    st <= div_last ? ST_FIN : ST_LOAD;
            end
            ST_FIN: st <= ST_NEXT;
            ST_NEXT: begin
                s_cnt <= s_cnt - 1'b1;
                if (s_one) begin
                    st   <= ST_IDLE;
                    done <= 1'b1;
                end else begin
                    st <= ST_ROW;
                end
            end
            default: st <= ST_IDLE;
        endcase
        if (av) begin
            mfirst <= 1'b0;
            if (mfirst || a_reg > mx)
                mx <= a_reg;
        end
        if (rst) begin
            st   <= ST_IDLE;
            done <= 1'b0;
            cw   <= 1'b0;
        end
    end

    assign busy = (st != ST_IDLE);

    // ---------------------------------------------------------------------------------------------
    // Writes: m (i32) at MWR; a code (u8) in the cycle after it is latched (LOAD, FIN). The cycle
    // after LOAD is DIV (the prefetch reads one cycle later) or LOAD; after FIN comes NEXT.
    wire mwr = (st == ST_MWR);
    assign d_we    = mwr || cw;
    // Address and data are zero without a write (drf_core ORs the engines' write ports).
    assign d_waddr = mwr ? mp : cw ? cp[BW-1:2] : {DAW{1'b0}};
    assign d_wdata = mwr ? {17'd0, mx} : cw ? {4{code_r}} : 32'd0;
    assign d_wbe   = mwr ? 4'hF : (4'b0001 << cp[1:0]);

    // ---------------------------------------------------------------------------------------------
    // LFSR: one draw per LOAD; U of the element in the divider is lfsr_state[15:0].
    wire [31:0] lfsr_next;

    drf_lfsr16 u_lfsr (
        .state_in  (lfsr_state),
        .state_out (lfsr_next)
    );

    always @(posedge clk) begin
        if (rst || lfsr_reset)
            lfsr_state <= 32'h0000_0001;
        else if (seed_we)
            lfsr_state <= seed;
        else if (load_go)
            lfsr_state <= lfsr_next;
    end
endmodule

`default_nettype wire
