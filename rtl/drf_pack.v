// PACK engine (spec 6): u8 codes in D, gathered with strides, to the bit-plane layout of L or R.
`default_nettype none

// The output words of the row-interleaved layout (spec 2.1), base + (p*KW + w)*RP + r with the row
// pitch RP = 8*ceil(rows/8), are produced in address order: plane p outermost, then word w, then
// row r; after a block's last row the address skips the RP - rows pad-row words, which PACK leaves
// as they are. As the block starts at a multiple of 8, the next block starts at the last row's
// address + 1 rounded up to a multiple of 8: no row pitch or block address is kept.
//
// A word takes one cycle per code k = 64w + t, t = 0 .. n - 1 (n = 64, or what is left of K in the
// plane row's last word; 1-code words included). Each code costs one D read; bit p of it is
// written to bit t of a 64-bit register, whose other bits are cleared with code t = 0, so padding
// bits k >= K come out zero. The word is written to L or R the cycle after its last code, while
// the next word's codes come in. One plane per pass keeps the area at one 64-bit register; the
// codes are read b times. done rises rows*b*K + 4 cycles after start (start, read of the first
// code, the codes, the hit stage, write of the last word): one code per cycle.
//
// Schedule, three stages for timing (iCE40 UP5K at 40 MHz): the read stage's registers (u, wd, rd,
// idx and the flags kh, re) describe the slot whose D word is read in this cycle, so the read
// address is a register plus src (one adder); the gather stage gets the slot's data the cycle
// after, with the few bits it needs delayed (u, the byte of the D word, kh, re and a valid bit; the
// plane p is kept there only); the hit stage registers the code bit selected from the data (with
// u and the word-end flags) and sets it into the word. The read stage sits at the first slot
// while idle, so the cycle after start reads it. The last slot's data ends the command; by then
// the read stage has read the next plane's first code (src + 0, harmless), and it returns to idle.
//
// Limits: "last code of the plane row" (kh: k + 1 == K) and "last row of the block" (re) are flags
// registered a cycle ahead from the next values of the counters, so no counter compare or carry
// chain lies between them and the address. Counters: u = t + 1 modulo 64 (t returns to 0 for each
// row of a word; t = 63 is u = 0); wd = K div 64 - w modulo 2^9 counts the words down (w advances
// after the block's last row; the row's last word (K - 1) div 64 is wd = 0 if K mod 64 != 0, else
// wd = 1), so kh = (u == K mod 64) in that word; rd = rows - r modulo 2^OW counts the rows down,
// re = (rd == 1). K and rows are taken modulo 2^15 and 2^OW (K <= 32768, rows <= 2^OW); args is
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
// Area (iCE40: a logic cell is one LUT4 and one flip-flop, clock enable and reset shared by a
// block of 8 cells): the 64-bit register takes its bit select in the data LUT rather than as
// per-bit clock enables. The pipeline (its 12 flip-flops mainly) costs about 24 logic cells.

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
    reg [OW-1:0]  rd;         // rows - row (modulo 2^OW): counts the rows of a block down
    reg           kh;         // k + 1 == K: the plane row's last code
    reg           re;         // rd == 1: the block's last row
    reg           v;          // gather stage: the D data of a slot arrives now
    reg [5:0]     g_u;        // ... its u
    reg [1:0]     g_b;        // ... its byte in the D word
    reg           g_kh;       // ... its kh, re
    reg           g_re;
    reg [2:0]     p;          // ... its plane
    reg           h_bit;      // hit stage: the slot's code bit, registered from the D data
    reg [5:0]     h_u;        // ... its u
    reg           h_end;      // ... it is a word's last code
    reg           h_re;       // ... its re
    reg           h_fin;      // ... it is the command's last code
    reg           s2_we;      // the word in sh is complete: write it
    reg           s2_rend;    // ... and it is its block's last row
    reg           s2_fin;     // ... and the command's last word

    // Datapath
    reg [IW-1:0]  idx;
    reg [IW-1:0]  bwr;
    reg [IW-1:6]  bw;         // bits 5:0 are 0
    reg [63:0]    sh;         // the word being gathered: code k = 64w + t at bit t
    reg [OW-1:0]  oaddr;      // address of the next word written

    // ---------------------------------------------------------------------------------------------
    // Read stage: slot sequence
    wire          t_end  = kh || (u == 6'd0);       // the word's last code (t = 63 or kh)
    wire          pl_end = kh && re;                // the plane's last code
    wire          nw     = !rv || t_end;            // next slot starts a word
    wire          z      = !rv || pl_end;           // next slot starts a plane: all at 0

    // Next word's row start: the following row, else row 0 of the next word, else 0.
    wire [IW-1:0] bwr_sum  = bwr + sr;
    wire [IW-1:6] bw_sum   = bw + sk[IW-7:0];
    wire [IW-1:0] bwr_next = z ? {IW{1'b0}} : re ? {bw_sum, 6'd0} : bwr_sum;
    wire [IW-1:0] idx_next = nw ? bwr_next : idx + sk;

    // t restarts with each word, w moves on after the block's last row; r restarts with each
    // block. The next slot is the row's last code when t + 1 == K modulo 64 in the row's last
    // word w = (K - 1) div 64, that is wd = 0 (K mod 64 != 0) or wd = 1 (K mod 64 = 0).
    wire          w_adv   = !rv || (t_end && re);
    wire [5:0]    u_next  = nw ? 6'd1 : u + 6'd1;
    wire [8:0]    wd_next = w_adv ? (z ? kk[14:6] : wd - 9'd1) : wd;
    wire          kh_next = (u_next == kk[5:0]) && (wd_next[8:1] == 8'd0) &&
                            (wd_next[0] == (kk[5:0] == 6'd0));
    wire [OW-1:0] rd_next = (!rv || re) ? rows : rd - 1'b1;

    // The gather stage ends the command on the last slot's data; the read stage has moved on to
    // the first slot of a plane that is not packed by then (a harmless read of src).
    wire          g_fin  = g_kh && g_re && (p + 3'd1 == bits);

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
        kh  <= kh_next;
        if (nw) begin
            rd <= rd_next;
            re <= (rd_next == {{(OW-1){1'b0}}, 1'b1});
        end
        // gather stage
        v    <= rv && !(v && g_fin);
        g_u  <= u;
        g_b  <= idx[1:0];
        g_kh <= kh;
        g_re <= re;
        if (!v || (g_kh && g_re))
            p <= v ? p + 3'd1 : 3'd0;
        if (rst) begin
            rv <= 1'b0;
            v  <= 1'b0;
        end
    end

    assign busy = rv || v || h_end || s2_we;

    // ---------------------------------------------------------------------------------------------
    // Gather and write. The code bit is selected from the D data (a 32:1 mux behind the memory's
    // output) and registered in the hit stage, which sets it into the gathered word.
    always @(posedge clk) begin
        h_bit <= d_rdata[{g_b, p}];
        h_u   <= g_u;
        h_end <= v && (g_kh || (g_u == 6'd0));
        h_re  <= g_re;
        h_fin <= v && g_fin;
        if (rst) begin
            h_end <= 1'b0;
            h_fin <= 1'b0;
        end
    end

    // Bit 8j + i takes the code of slot t = 8j + i; slot 0 clears the other bits by the flip-flops'
    // synchronous reset. The bit's update is written as an XOR rather than as "if (hit)" so that
    // Yosys keeps it in the bit's LUT (one logic cell a bit) instead of making a clock enable of
    // each bit, which iCE40 shares per block of 8 cells. Outside a word t is 0: bit 0 and
    // the clear act after the last word has been written, harmlessly.
    wire       clr = (h_u == 6'd1);
    wire [7:0] hit_j = 8'd1 << h_u[5:3];  // bit 8j + i takes u = 8j + i + 1 (modulo 64)
    wire [7:0] hit_i = 8'd1 << h_u[2:0];

    genvar j, i;
    generate
        for (j = 0; j < 8; j = j + 1) begin : g_byte
            for (i = 0; i < 8; i = i + 1) begin : g_bit
                localparam integer U = (8*j + i + 1) % 64;
                wire hit = hit_j[U/8] && hit_i[U%8];
                always @(posedge clk)
                    if (clr && (j != 0 || i != 0))
                        sh[8*j+i] <= 1'b0;
                    else
                        sh[8*j+i] <= sh[8*j+i] ^ (hit && (h_bit ^ sh[8*j+i]));
            end
        end
    endgenerate

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
