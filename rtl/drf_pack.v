// PACK engine (spec 6): u8 codes in D, gathered with strides, to the bit-plane layout of L or R.
`default_nettype none

// The output words of the row-interleaved layout (spec 2.1), base + (p*KW + w)*RP + r with the row
// pitch RP = 8*ceil(rows/8), are produced in address order: plane p outermost, then word w, then
// row r; after a block's last row the address skips the RP - rows pad-row words, which PACK leaves
// as they are. As the block starts at a multiple of 8, the next block starts at the last row's
// address + 1 rounded up to a multiple of 8: no row pitch or block address is kept.
//
// A word takes 64 cycles, one per slot t = 0 .. 63 (code k = 64w + t). Each slot costs one D read;
// bit p of the code is shifted into the top of a 64-bit shift register, so after the word's 64th
// slot bit t holds slot t. Slots past the end of K in the plane row's last word (k >= K, "pad
// slots") shift in 0 (their D read is harmless), so padding bits come out zero. The word is
// written to L or R the cycle after its last slot, while the next word's slots come in. One plane
// per pass keeps the area at one 64-bit register; the codes are read b times. done rises
// rows*b*64*ceil(K/64) + 4 cycles after start (start, read of the first slot, the slots, the hit
// stage, write of the last word): one slot per cycle.
//
// Schedule, three stages for timing (iCE40 UP5K at 40 MHz): the read stage's registers (u, wd, rc,
// idx and the flags pd, re) describe the slot whose D word is read in this cycle, so the read
// address is a register plus src (one adder); the gather stage gets the slot's data the cycle
// after, with the few bits it needs delayed (the byte of the D word, the pad, word-end, plane-end
// and row-end flags and a valid bit; the plane p is kept there only); the hit stage registers the
// code bit selected from the data (with the word-end flags), and the shift register takes it in
// the next cycle. The read stage sits at the first slot while idle, so the cycle after start
// reads it. The last slot's data ends the command; by then the read stage has read the next
// plane's first code (src + 0, harmless), and it returns to idle.
//
// Limits: the slots after the plane row's last code (kh: k + 1 == K) in its word are pad slots,
// flagged by pd (registered), and "last row of the block" is the flag re, so no counter compare or
// carry chain lies between them and the read address. Counters: u = t + 1 modulo 64 (t = 63 is
// u = 0, the word's last slot; u counts on through the words); wd = K div 64 - w modulo 2^9 counts
// the words down (w advances after the block's last row); the row's last word (K - 1) div 64 (lw)
// is wd = 0 if K mod 64 != 0, else wd = 1, so kh = lw && (u == K mod 64), and the plane's last
// slot is t = 63 of lw in the block's last row. rc = r + 1 modulo 2^OW counts the rows up at each
// word's start, and re = (rc == rows) is registered a cycle after it (re is only used at a word's
// last slot). K and rows are taken modulo 2^15 and 2^OW (K <= 32768, rows <= 2^OW); args is
// stable from start until done (drf_core's contract).
//
// Element index r*stride_r + k*stride_k is kept relative to the view's element 0 (4*src), with
// adds only, modulo 2^(DAW+2) (the command engine has checked that the largest index is inside
// D), so a plane starts from 0 by a reset; the read address adds src:
//   bw  = 64w*stride_k             (start of word w, row 0; a multiple of 64)
//   bwr = bw + r*stride_r          (start of word w, row r)
//   idx = bwr + t*stride_k         (code k = 64w + t)
// Needs DAW >= 5.
//
// Area (iCE40: a logic cell is one LUT4 and one flip-flop): the 64-bit register is a plain shift
// register that shifts in every cycle (no enable, no reset, no bit select: one flip-flop-only
// cell a bit); the pad slots cost cycles (up to 63 per plane row) instead of cells.

module drf_pack #(
    parameter DAW = 15,  // D address bits (2^DAW 32-bit words); 5 .. 30
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

    // Unused payload bits: reserved bytes and address / count bits above the memory sizes.
    wire [223:0] unused_args = args;

    // Command fields, read in place: args is stable from start until done (drf_core's contract)
    wire [DAW-1:0] src  = args[0 +: DAW];
    wire [IW-1:0]  sr   = args[32 +: IW];   // stride_r
    wire [IW-1:0]  sk   = args[64 +: IW];   // stride_k
    wire [OW-1:0]  rows = args[96 +: OW];   // modulo 2^OW (rows <= 2^OW)
    wire [14:0]    kk   = args[128 +: 15];  // K modulo 2^15 (K <= 32768)
    wire [2:0]     bits = args[160 +: 3];   // modulo 8 (bits = 8: 0)
    wire           dest = args[168];        // 0: L, 1: R
    wire [OW-1:0]  dst  = args[192 +: OW];

    // Control
    reg           rv;         // read stage: the registers hold a slot whose code is read now
    reg [5:0]     u;          // t + 1 (modulo 64) of the code k = 64w + t
    reg [8:0]     wd;         // K/64 - w (modulo 512): counts the words of a plane row down
    reg [OW-1:0]  rc;         // row + 1 (modulo 2^OW): counts the rows of a block up
    reg           pd;         // k >= K: a pad slot (after kh in the row's last word)
    reg           re;         // rc == rows: the block's last row (valid from a word's 2nd slot)
    reg           v;          // gather stage: the D data of a slot arrives now
    reg [1:0]     g_b;        // ... its byte in the D word
    reg           g_pd;       // ... it is a pad slot
    reg           g_te;       // ... it is its word's last slot (t = 63)
    reg           g_pe;       // ... and its plane's last slot
    reg           g_re;       // ... its re
    reg [2:0]     p;          // ... its plane
    reg           h_bit;      // hit stage: the slot's code bit, registered from the D data
    reg           h_end;      // ... it is a word's last slot
    reg           h_re;       // ... its re
    reg           h_fin;      // ... it is the command's last slot
    reg           s2_we;      // the word in sh is complete: write it
    reg           s2_rend;    // ... and it is its block's last row
    reg           s2_fin;     // ... and the command's last word

    // Datapath
    reg [IW-1:0]  idx;
    reg [IW-1:0]  bwr;
    reg [IW-1:6]  bw;         // bits 5:0 are 0
    reg [63:0]    sh;         // the word being gathered: slot t ends at bit t
    reg [OW-1:0]  oaddr;      // address of the next word written

    // ---------------------------------------------------------------------------------------------
    // Read stage: slot sequence
    wire          t_end  = (u == 6'd0);             // the word's last slot (t = 63)
    wire          lw     = (wd[8:1] == 8'd0) && (wd[0] == (kk[5:0] == 6'd0));  // row's last word
    wire          kh     = lw && (u == kk[5:0]);   // k + 1 == K: the plane row's last code
    wire          pl_end = t_end && lw && re;       // the plane's last slot
    wire          nw     = !rv || t_end;            // next slot starts a word
    wire          z      = !rv || pl_end;           // next slot starts a plane: all at 0

    // Next word's row start: the following row, else row 0 of the next word, else 0.
    wire [IW-1:0] bwr_sum  = bwr + sr;
    wire [IW-1:6] bw_sum   = bw + sk[IW-7:0];
    wire [IW-1:0] bwr_next = z ? {IW{1'b0}} : re ? {bw_sum, 6'd0} : bwr_sum;
    wire [IW-1:0] idx_next = nw ? bwr_next : idx + sk;

    // t restarts with each word, w moves on after the block's last row; r restarts with each
    // block.
    wire          w_adv   = !rv || (t_end && re);
    wire [5:0]    u_next  = rv ? u + 6'd1 : 6'd1;
    wire [8:0]    wd_next = w_adv ? (z ? kk[14:6] : wd - 9'd1) : wd;

    // The gather stage ends the command on the last slot's data; the read stage has moved on to
    // the first slot of a plane that is not packed by then (a harmless read of src).
    wire          g_fin  = g_pe && (p + 3'd1 == bits);

    assign d_re    = rv;
    assign d_raddr = src + idx[IW-1:2];

    always @(posedge clk) begin
        rv  <= start || (rv && !(v && g_fin));
        idx <= idx_next;
        if (nw)
            bwr <= bwr_next;
        if (w_adv)
            bw <= z ? {(IW-6){1'b0}} : bw_sum;
        u   <= u_next;
        wd  <= wd_next;
        pd  <= !nw && (pd || kh);
        if (nw)
            rc <= (!rv || re) ? {{(OW-1){1'b0}}, 1'b1} : rc + 1'b1;
        re  <= (rc == rows);
        // gather stage
        v    <= rv && !(v && g_fin);
        g_b  <= idx[1:0];
        g_pd <= pd;
        g_te <= t_end;
        g_pe <= pl_end;
        g_re <= re;
        if (!v || g_pe)
            p <= v ? p + 3'd1 : 3'd0;
        if (rst) begin
            rv <= 1'b0;
            v  <= 1'b0;
        end
    end

    assign busy = rv || v || h_end || s2_we;

    // ---------------------------------------------------------------------------------------------
    // Gather and write. The code bit is selected from the D data (a 32:1 mux behind the memory's
    // output), 0 in a pad slot, and registered in the hit stage; the shift register takes it.
    always @(posedge clk) begin
        h_bit <= d_rdata[{g_b, p}] && !g_pd;
        h_end <= v && g_te;
        h_re  <= g_re;
        h_fin <= v && g_fin;
        if (rst) begin
            h_end <= 1'b0;
            h_fin <= 1'b0;
        end
    end

    // Shifts in every cycle: the 64 slots of a word come in consecutive cycles (the read stage
    // never stalls), so when the word is written (s2_we, the cycle after its last slot's hit
    // stage) bit t holds slot t. Outside a command it shifts in whatever, harmlessly.
    always @(posedge clk)
        sh <= {h_bit, sh[63:1]};

    // Next address: + 1 within a block, the next multiple of 8 after its last row.
    always @(posedge clk) begin
        done    <= s2_fin;
        s2_we   <= h_end;
        s2_rend <= h_re;
        s2_fin  <= h_fin;
        if (start)
            oaddr <= dst;
        else if (s2_we)
            oaddr <= {oaddr[OW-1:3] + {{(OW-4){1'b0}}, s2_rend || (&oaddr[2:0])},
                      s2_rend ? 3'd0 : oaddr[2:0] + 3'd1};
        if (rst) begin
            done   <= 1'b0;
            s2_we  <= 1'b0;
            s2_fin <= 1'b0;
        end
    end

    assign l_we    = s2_we && !dest;
    assign l_waddr = oaddr[LAW-1:0];
    assign l_wdata = sh;
    assign r_we    = s2_we && dest;
    assign r_waddr = oaddr[RAW-1:0];
    assign r_wdata = sh;
endmodule

`default_nettype wire
