// f_gamma engine (QUANT_GRAD, spec 4): row max, exact division, LFSR stochastic rounding.
`default_nettype none

// Per row s (spec 4):
//   max pass   one i16 read per cycle, m = max |g| (-32768 read as -32767), m -> i32 at mdst + s
//   per element, row-major: U = next LFSR draw, t = g + m,
//              Q = floor(n*t*2^15 / m) (m > 0) or n*2^15 (m = 0), c = (Q + U) >> 16 -> u8 at dst
//
// Datapath (sized for the iCE40 UP5K): three adders and a compare chain.
//   max        from the registered read (hw, a cycle after the data arrives: no arithmetic on the
//              memory's output): a compare chain folds |g| of a max-pass read into the running
//              max, kept as mx + minc so that no adder forms |g|; the t adder forms m at the end.
//   t adder    after an element read, t = g + m.
//   x adder    {rem, qn[23:15]}: first G Horner steps {rem, qn} = 2*{rem, qn} + t*2^15, leaving
//              n*t*2^15 with rem = (n*t) >> 9 (< m, since Q < 2^24) and qn = {(n*t)[8:0], 15'd0};
//              then 24 non-restoring divider steps, rem = 2*rem + qn[23] -/+ m by the sign of rem,
//              one per cycle; the quotient bit (rem >= 0 after the step) shifts into qn.
//   Q + U      the code from the finished quotient.
// A row with m = 0 (all g = 0) divides with m = 1: t = 1 and Q = n*2^15, the spec's value.
// The LFSR steps once per cycle in divider steps 16..31, so each element's draw is done by WT.
// The element addresses are kept as running pointers: 2*src + i (i16), 4*dst + i (u8); the row
// max's address mdst + s (i32) is summed from the row index (and registered). One i16 read
// pointer serves both passes over a row; it goes back to the row's first element (rs) after the
// max pass, and ends the element pass at the next row's first element. The last read / element of
// a pass and the last row come from up-counters compared with E and S.
//
// Schedule per row: ROW, E max-pass reads (MAX), MX1..MX3 (the last read registered, folded,
// m = mx + minc formed in t), MWR (write m), RD and RD2 (read the first g, register it); per
// element WT (t = g + m; the previous code is latched and written in the next cycle), G HOR
// cycles, 24 DIV cycles (the second-to-last one reads the next g); a final WT latches the row's
// last code. That is 25 + G
// cycles per element plus 1 in the max pass, at most 34 for G = 8 (the earlier divider with a
// prefetch machine took 26), and 8 per row. Reads and writes of D never happen in the
// same cycle (D may be a single-port RAM).

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

    // States
    localparam [3:0] ST_IDLE = 4'd0,  // waiting for start
                     ST_ROW  = 4'd1,  // row setup, m cleared
                     ST_MAX  = 4'd2,  // max pass: one read per element
                     ST_MX1  = 4'd3,  // max pass drains: the last read's data is registered
                     ST_MX2  = 4'd4,  // ... and folded into the max
                     ST_MX3  = 4'd11, // m = mx + minc by the t adder
                     ST_MWR  = 4'd5,  // write m, take it into mx
                     ST_RD   = 4'd6,  // read the row's first g; m = 0 becomes 1 for the division
                     ST_RD2  = 4'd10, // its data is registered
                     ST_WT   = 4'd7,  // latch the previous code; next element: t = g + m
                     ST_HOR  = 4'd8,  // n*t, one Horner step per cycle
                     ST_DIV  = 4'd9;  // 24 divider steps

    // Unused payload bits: reserved bytes and address / count bits above the memory size.
    wire [191:0] unused_args = args;

    // Command fields: args is stable from start until done (drf_core's contract)
    wire [HW-1:0] e_num = args[64 +: HW];   // E (S*E i16 elements fit D, so E < 2^HW)
    wire [DAW-1:0] s_num = args[32 +: DAW]; // S
    wire [DAW-1:0] mdst  = args[160 +: DAW];
    wire [3:0]    g_bits = args[96 +: 4];   // G, 1..8

    // Control
    reg [3:0]     st;
    reg [DAW-1:0] s_idx;     // row index s, counted up at MWR (S < 2^DAW: the maxima fit D)
    reg           s_one;     // s_idx == S after MWR: the row is the last (registered)
    reg [HW-1:0]  e_idx;     // 1 + index of the read (max pass) / the element entering the
                             // divider at the next WT (element pass)
    reg           more;      // the row has an element after the one in the divider
    reg           wpend;     // qn holds a finished quotient whose code is latched at ST_WT
    reg [4:0]     cnt;       // Horner steps 1..G, then divider steps 8..31

    // Pointers
    reg [HW-1:0]  rp;        // i16 read pointer: the max pass, then the element pass, over the row
    reg [HW-1:0]  rs;        // i16 pointer of the row's first element (rp goes back to it at MWR)
    reg [BW-1:0]  cp;        // u8 pointer of the next code to write
    reg           cw;        // write code_r this cycle (see Writes)
    reg [7:0]     code_r;    // code to write, else 0

    // Datapath
    reg [14:0]    mx;        // max pass: m - minc; then m (1 if the row's m is 0)
    reg           minc;      // max pass: the running max is mx + minc
    reg           rhalf;     // i16 half of the word on d_rdata
    reg [15:0]    t;         // m at MWR; t = g + m (0..2m) for Horner; 0 when dividing
    reg [15:0]    rem;       // Horner: (n*t) >> 9; divider: signed remainder in [-m, m)
    reg [QW-1:0]  qn;        // Horner: (n*t) << 15; divider: numerator bits out, quotient bits in

    // Read valid flags (control). Read data is registered (hw) before any arithmetic: the D
    // memory's output goes through a LUT into flip-flops, and the t adder starts from them.
    reg           rv;        // d_rdata holds the data of a read issued last cycle
    reg           rscan;     // ... and it was a max-pass read
    reg           hvs, hve;  // hw holds a max-pass read; ... an element read (one cycle later)
    reg [15:0]    hw;        // the i16 read, registered
    reg [14:0]    a_nx;      // ~x of it (x = g[14:0] ^ sign, see the max pass), registered beside
                             // hw so that the compare's carry chains start from flip-flops
    wire          hmin = (hw == 16'h8000);  // -32768, read as -32767

    // ---------------------------------------------------------------------------------------------
    // Reads: the max pass, then one g per element, both from rp.
    wire          e_one    = (e_idx == e_num);  // the read / element is the row's last
    wire          scan     = (st == ST_MAX);
    wire          div_pre  = (st == ST_DIV) && (cnt == 5'd30);  // a cycle before the last step
    assign d_re    = scan || (st == ST_RD) || (div_pre && more);
    assign d_raddr = rp[HW-1:1];

    always @(posedge clk) begin
        if (d_re)
            rhalf <= rp[0];
        rv    <= d_re;
        rscan <= scan;
        hvs   <= rv && rscan;
        hve   <= rv && !rscan;
        if (rv) begin
            hw <= half;
            a_nx <= ~(half[14:0] ^ {15{half[15]}});
        end else if (st == ST_MX2)  // the t adder forms m = 0 + mx + minc in MX3
            hw <= 16'd0;
        if (rst) begin
            rv    <= 1'b0;
            rscan <= 1'b0;
            hvs   <= 1'b0;
            hve   <= 1'b0;
        end
    end

    // Max pass, one stage from hw: |sat(g)| = x + inc with x = g[14:0] ^ s (s the sign) and
    // inc = s && g != -32768. The running max m is kept as mx + minc, so |g| is folded without
    // an adder: mx, minc <= x, inc when x >= m, the carry of mx + ~x with carry
    // in minc. That folds every |g| > m (then x >= m + 1 - inc >= m) and never a |g| < m (as
    // |g| >= x), so m ends as max |g|. In MX3 the t adder forms m = mx + minc (hw is 0 then).
    // After an element read the t adder forms t = sat(g) + m = g + m + (g == -32768). The half
    // select feeds hw and ~x (a_nx, registered beside hw, so that the compare's chains start from
    // flip-flops); the sign and -32768 flags come from hw.
    wire [15:0] half  = rhalf ? d_rdata[31:16] : d_rdata[15:0];
    wire        m_x3  = (st == ST_MX3);
    wire [15:0] t_sum = hw + {1'b0, mx} + {15'd0, hmin || (m_x3 && minc)};
    wire        a_inc = hw[15] && !hmin;
    // The compare's carry, 2^15 - 1 + m - x >= 2^15, by carry select: bits 6:0 in one chain,
    // bits 14:7 in two (carry in 0 and 1) beside it, so no chain is longer than 8 bits.
    wire [7:0]  a_lo  = {1'b0, mx[6:0]} + {1'b0, a_nx[6:0]} + {7'd0, minc};
    wire [8:0]  a_hi0 = {1'b0, mx[14:7]} + {1'b0, a_nx[14:7]};
    wire [8:0]  a_hi1 = {1'b0, mx[14:7]} + {1'b0, a_nx[14:7]} + 9'd1;
    wire        a_cy  = a_lo[7] ? a_hi1[8] : a_hi0[8];
    wire        a_fold = hvs && !a_cy;
    wire [22:0] unused_cmp = {a_lo[6:0], a_hi0[7:0], a_hi1[7:0]};  // only the carries are used

    // ---------------------------------------------------------------------------------------------
    // Horner and divider share one adder over {rem, qn[23:15]}, with a carry junction between.
    //   Horner (G steps from 0): {rem, qn} <- 2*{rem, qn} + t*2^15, i.e. n*t*2^15 at the end, so rem
    //     starts the division at (n*t) >> 9 (< m, as Q < 2^24) and qn at {(n*t)[8:0], 15'd0}.
    //   Divider (24 steps, non-restoring): rem <- 2*rem + qn[23] - m if rem >= 0, + m if rem < 0;
    //     the quotient bit, rem >= 0 after the step, equals the restoring divider's. t is 0, so
    //     the qn half of the adder only shifts, and qn[14:0] shifts the quotient bits in.
    wire        hor  = (st == ST_HOR);
    wire        rneg = rem[15];
    wire [15:0] m_op = rneg ? {1'b0, mx} : ~{1'b0, mx};
    wire [15:0] r_op = hor ? {9'd0, t[15:9]} : m_op;
    wire        j_a  = hor || !rneg;   // junction: propagate the qn carry (Horner) or
    wire        j_b  = !hor && !rneg;  // carry in 1 for a subtraction (divider)
    wire [25:0] x_sum = {rem[14:0], qn[23], j_a, qn[22:14]} + {r_op, j_b, t[8:0]};
    wire        qbit = !x_sum[25];
    wire        unused_x = x_sum[9];

    // c = (Q + U) >> 16 <= n, so the sum fits 24 bits; its low 16 bits are the dropped fraction.
    wire [QW-1:0] q_plus_u    = qn + {8'd0, lfsr_state[15:0]};
    wire [7:0]    code        = q_plus_u[23:16];
    wire [15:0]   unused_frac = q_plus_u[15:0];

    always @(posedge clk) begin
        if (hve || m_x3)
            t <= t_sum;
        else if (hor && cnt[3:0] == g_bits)
            t <= 16'd0;
        if (st == ST_WT) begin
            rem <= 16'd0;
            qn  <= {QW{1'b0}};
        end else if (hor || st == ST_DIV) begin
            rem        <= x_sum[25:10];
            qn[23:15]  <= x_sum[8:0];
            if (!hor)
                qn[14:0] <= {qn[13:0], qbit};
        end
    end

    // The other loads of mx: 0 at ROW, m at MWR, 1 for m = 0 at RD (minc is 0 after them).
    wire        mx_ld  = (st == ST_ROW) || (st == ST_MWR) || (st == ST_RD && mx[14:1] == 14'd0);
    wire [14:0] mx_alt = (st == ST_MWR) ? t[14:0] : (st == ST_RD) ? 15'd1 : 15'd0;

    // ---------------------------------------------------------------------------------------------
    // Main sequencer
    always @(posedge clk) begin
        done  <= 1'b0;
        s_one <= (s_idx == s_num);
        if (cw)  // a code was written (see Writes); start (in IDLE) cannot come in that cycle
            cp <= cp + 1'b1;
        case (st)
            ST_IDLE: begin
                // loaded in every idle cycle (args is valid at start), so that start only
                // steers the state
                rs    <= {args[0 +: DAW], 1'b0};
                if (start) begin
                    s_idx <= {DAW{1'b0}};
                    cp    <= {args[128 +: DAW], 2'b00};
                    st    <= ST_ROW;
                end
            end
            ST_ROW: begin
                e_idx <= {{(HW-1){1'b0}}, 1'b1};
                rp    <= rs;
                st    <= ST_MAX;
            end
            ST_MAX: begin
                rp    <= rp + 1'b1;
                e_idx <= e_idx + 1'b1;
                if (e_one)
                    st <= ST_MX1;
            end
            ST_MX1: st <= ST_MX2;
            ST_MX2: st <= ST_MX3;
            ST_MX3: st <= ST_MWR;
            ST_MWR: begin
                s_idx <= s_idx + 1'b1;
                rp    <= rs;
                e_idx <= {{(HW-1){1'b0}}, 1'b1};
                more  <= 1'b1;
                wpend <= 1'b0;
                st    <= ST_RD;
            end
            ST_RD: st <= ST_RD2;
            ST_RD2: st <= ST_WT;
            ST_WT: begin
                if (more) begin
                    rp    <= rp + 1'b1;
                    e_idx <= e_idx + 1'b1;
                    more  <= !e_one;
                    wpend <= 1'b1;
                    cnt   <= 5'd1;
                    st    <= ST_HOR;
                end else begin
                    rs    <= rp;  // the next row's first element
                    if (s_one) begin
                        st   <= ST_IDLE;
                        done <= 1'b1;
                    end else begin
                        st <= ST_ROW;
                    end
                end
            end
            ST_HOR: begin  // after k steps rem:qn = t*(2^k - 1)*2^15
                cnt <= cnt + 5'd1;
                if (cnt[3:0] == g_bits) begin
                    cnt <= 5'd8;
                    st  <= ST_DIV;
                end
            end
            ST_DIV: begin
                cnt <= cnt + 5'd1;
                if (&cnt)
                    st <= ST_WT;
            end
            default: st <= ST_IDLE;
        endcase
        // m: cleared per row, raised by each larger |g| (as mx + minc), formed in t at MX3 and
        // taken at MWR; after its write, 0 becomes 1, so that t = 0 + 1 and
        // Q = n*1*2^15/1 = n*2^15, the spec's value for m = 0. A fold comes only in MAX, MX1
        // and MX2, so the compare's carry goes through one LUT into the enable and the data of
        // mx (the other loads are decoded from the state alone).
        if (a_fold || mx_ld) begin
            mx   <= a_fold ? ~a_nx : mx_alt;
            minc <= a_fold && a_inc;
        end
        if (rst) begin
            st   <= ST_IDLE;
            done <= 1'b0;
        end
    end

    assign busy = (st != ST_IDLE);

    // ---------------------------------------------------------------------------------------------
    // Writes: m (i32) at MWR; a code (u8) latched at WT and written in the next cycle (HOR, ROW or
    // IDLE, none of which reads). code_r is zero outside that cycle.

    always @(posedge clk) begin
        cw     <= (st == ST_WT) && wpend;
        code_r <= ((st == ST_WT) && wpend) ? code : 8'd0;
        if (rst) begin
            cw     <= 1'b0;
            code_r <= 8'd0;
        end
    end

    // The row max's address, mdst + s, registered (s is stable for the cycles before MWR), so no
    // carry chain lies in front of D's write address.
    reg [DAW-1:0] ma;
    always @(posedge clk)
        ma <= mdst + s_idx;

    wire mwr = (st == ST_MWR);
    assign d_we    = mwr || cw;
    // Address and data are zero without a write (drf_core ORs the engines' write ports).
    assign d_waddr = mwr ? ma : cw ? cp[BW-1:2] : {DAW{1'b0}};
    assign d_wdata = {4{code_r}} | {17'd0, t[14:0] & {15{mwr}}};
    assign d_wbe   = mwr ? 4'hF : (4'b0001 << cp[1:0]);

    // ---------------------------------------------------------------------------------------------
    // LFSR: one step per cycle in divider steps 16..31, so an element's draw is complete, and U is
    // lfsr_state[15:0], when its code is latched at WT.
    wire [31:0] lfsr_next;

    drf_lfsr16 #(.STEPS(1)) u_lfsr (
        .state_in  (lfsr_state),
        .state_out (lfsr_next)
    );

    always @(posedge clk) begin
        if (rst || lfsr_reset)
            lfsr_state <= 32'h0000_0001;
        else if (seed_we)
            lfsr_state <= seed;
        else if (st == ST_DIV && cnt[4])
            lfsr_state <= lfsr_next;
    end
endmodule

`default_nettype wire
