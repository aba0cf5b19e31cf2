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
// codes are read b times. done rises rows*b*K + 3 cycles after start (start, read of the first
// code, the codes, write of the last word).
//
// Schedule: the registers (k, rn, p, idx) describe the slot whose D data arrives in this cycle;
// the read address is that of the next slot, taken from the next-state logic, so the gather needs
// no pipeline copies of the slot. The cycle after start only reads the first code (drf_core
// routes the D port to PACK from then on).
//
// Counters are compared with the command fields as they are (args is stable from start until
// done), so no limit is precomputed. k = {w, t} counts the codes of a plane row (15 bits,
// K <= 32768 taken modulo 2^15: k + 1 meets K only at the row's last code); t returns to 0 for
// each row of a word, w advances after the block's last row. rn = r + 1 counts 1 .. rows.
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
// block of 8 cells): registers hold values whose next state is one LUT (a counter that compares
// its own output, r + 1 kept instead of r), and the 64-bit register takes its bit select in the
// data LUT rather than as per-bit clock enables.

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
    reg           pre;        // the cycle after start: read the first code
    reg           v;          // the registers hold a slot whose data arrives now
    reg [14:0]    k;          // {w, t}: code of the plane row
    reg [OW-1:0]  rn;         // row + 1: compared with rows as it is
    reg [2:0]     p;          // plane
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
    // Slot sequence
    wire [14:0]   k_inc  = k + 15'd1;
    wire [2:0]    p_inc  = p + 3'd1;
    wire          k_hit  = (k_inc == kk);           // the plane row's last code
    wire          t_end  = k_hit || (&k[5:0]);      // the word's last code
    wire          r_end  = (rn == rows);            // the block's last row
    wire          pl_end = t_end && r_end && k_hit; // the plane's last code
    wire          fin    = pl_end && (p_inc == bits);
    wire          nw     = !v || t_end;             // next slot starts a word
    wire          z      = !v || pl_end;            // next slot starts a plane: all at 0

    // Next word's row start: the following row, else row 0 of the next word, else 0.
    wire [IW-1:0] bwr_sum  = bwr + sr;
    wire [IW-1:6] bw_sum   = bw + sk[IW-7:0];
    wire [IW-1:0] bwr_next = z ? {IW{1'b0}} : r_end ? {bw_sum, 6'd0} : bwr_sum;
    wire [IW-1:0] idx_next = nw ? bwr_next : idx + sk;

    assign d_re    = pre || (v && !fin);
    assign d_raddr = src + idx_next[IW-1:2];

    always @(posedge clk) begin
        pre <= start;
        v   <= pre || (v && !fin);
        idx <= idx_next;
        if (nw)
            bwr <= bwr_next;
        if (!v || (t_end && r_end))
            bw <= z ? {(IW-6){1'b0}} : bw_sum;
        // t restarts with each word, w moves on after the block's last row (t = 63 then, so
        // k + 1 = {w + 1, 0}); r restarts with each block
        k[5:0] <= nw ? 6'd0 : k_inc[5:0];
        if (!v || r_end)
            k[14:6] <= z ? 9'd0 : k_inc[14:6];
        if (nw)
            rn <= (!v || r_end) ? {{(OW-1){1'b0}}, 1'b1} : rn + 1'b1;
        if (z)
            p <= v ? p_inc : 3'd0;
        if (rst) begin
            pre <= 1'b0;
            v   <= 1'b0;
        end
    end

    assign busy = pre || v || s2_we;

    // ---------------------------------------------------------------------------------------------
    // Gather and write
    wire code_bit = d_rdata[{idx[1:0], p}];

    // Bit 8j + i takes the code of slot t = 8j + i; slot 0 clears the other bits by the flip-flops'
    // synchronous reset. The bit's update is written as an XOR rather than as "if (hit)" so that
    // Yosys keeps it in the bit's LUT (one logic cell a bit) instead of making a clock enable of
    // each bit, which iCE40 shares per block of 8 cells. Outside a word (v = 0) t is 0: bit 0 and
    // the clear act after the last word has been written, harmlessly.
    wire       clr = (k[5:0] == 6'd0);
    wire [7:0] hit_j = 8'd1 << k[5:3];
    wire [7:0] hit_i = 8'd1 << k[2:0];

    genvar j, i;
    generate
        for (j = 0; j < 8; j = j + 1) begin : g_byte
            for (i = 0; i < 8; i = i + 1) begin : g_bit
                wire hit = hit_j[j] && hit_i[i];
                always @(posedge clk)
                    if (clr && (j != 0 || i != 0))
                        sh[8*j+i] <= 1'b0;
                    else
                        sh[8*j+i] <= sh[8*j+i] ^ (hit && (code_bit ^ sh[8*j+i]));
            end
        end
    endgenerate

    // Next address: + 1 within a block, the next multiple of 8 after its last row.
    always @(posedge clk) begin
        done    <= s2_fin;
        s2_we   <= v && t_end;
        s2_rend <= r_end;
        s2_fin  <= v && fin;
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
