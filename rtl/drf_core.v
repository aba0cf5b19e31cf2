// Compute core: memories L, R, D, the GEMM / f_gamma / f_alpha / PACK engines, counters.
`default_nettype none

module drf_core #(
    parameter ROWS = 4, // DPU rows of the GEMM array; L memory banks (power of two)
    parameter COLS = 4, // DPU columns; R memory banks (power of two)
    parameter LAW = 12, // L word-address bits (2^LAW 64-bit words)
    parameter RAW = 12, // R word-address bits
    parameter DAW = 14, // D word-address bits (2^DAW 32-bit words)
    parameter ACC_MAC = 0 // 1: DPU accumulators multiply-accumulate (iCE40 SB_MAC16), see drf_dpu
) (
    input wire clk,
    input wire rst,
    // Command: validated payload bytes of spec section 9 (byte i at [8i +: 8]). Contract: cmd_op
    // and cmd_args are stable from cmd_valid until cmd_done (the engines read them while running).
    input wire cmd_valid,
    input wire [7:0] cmd_op,
    input wire [319:0] cmd_args,
    output wire cmd_ready,
    output reg cmd_done,
    // Host memory port (WRITE / READ commands), used while cmd_ready
    input wire host_we,
    input wire host_re,
    input wire [1:0] host_mem,
    input wire [31:0] host_addr,
    input wire [63:0] host_wdata,
    output wire [63:0] host_rdata,
    // Status: counters of the last command, restarted by each cmd_valid & cmd_ready (the command
    // engine adds them to its 64-bit STATS counters after cmd_done). No command runs for 2^32
    // cycles: the longest, a GEMM, takes fewer than about 2^(LAW+RAW) + 2^DAW cycles.
    output wire [31:0] lfsr_state,
    output wire [31:0] cycles,      // cycles in which the command executed
    output wire [31:0] busy_cycles  // ... of them, cycles in which the DPU array did useful work
);
    // Opcodes of spec 8.4 that reach the core
    localparam [7:0] OP_RESET = 8'h02, OP_GEMM = 8'h05, OP_QGRAD = 8'h06, OP_QACT = 8'h07,
                     OP_PACK = 8'h08, OP_SEED = 8'h09;
    localparam CAW = (LAW > RAW ? (LAW > DAW ? LAW : DAW) : (RAW > DAW ? RAW : DAW));

    // The engine running the current command, one-hot: registered with the command, they select
    // the engines' done signals and gate their D read ports into an OR (two LUT levels from any
    // register to the memory's address). s_none: no engine runs.
    reg s_gemm, s_fg, s_fa, s_pk, s_clear, s_none;
    reg [CAW-1:0] clr_addr;   // RESET: next address to clear
    assign cmd_ready = s_none && !cmd_done;

    wire start = cmd_valid && cmd_ready;
    wire gemm_start = start && cmd_op == OP_GEMM;
    wire fg_start = start && cmd_op == OP_QGRAD;
    wire fa_start = start && cmd_op == OP_QACT;
    wire pk_start = start && cmd_op == OP_PACK;
    wire seed_we = start && cmd_op == OP_SEED;
    wire lfsr_reset = start && cmd_op == OP_RESET;

    // ---- engines ----
    // cmd_op and cmd_args stay stable from cmd_valid until cmd_done (the command engine holds its
    // argument register while a core command runs), so the engines read their fields from
    // cmd_args while they run instead of latching them.
    wire gemm_busy, gemm_done, gemm_array_busy;
    wire gemm_l_rd_en, gemm_r_rd_en, gemm_d_re, gemm_d_we;
    wire [LAW-1:0] gemm_l_rd_base;
    wire [RAW-1:0] gemm_r_rd_base;
    wire [DAW-1:0] gemm_d_raddr, gemm_d_waddr;
    wire [31:0] gemm_d_wdata;
    wire [3:0] gemm_d_wbe;
    wire [ROWS*64-1:0] l_rd_data;
    wire [COLS*64-1:0] r_rd_data;
    wire [31:0] d_rdata;

    drf_gemm #(.ROWS(ROWS), .COLS(COLS), .LAW(LAW), .RAW(RAW), .DAW(DAW), .ACC_MAC(ACC_MAC)) u_gemm (
        .clk(clk), .rst(rst),
        .start(gemm_start), .args(cmd_args), .busy(gemm_busy), .done(gemm_done),
        .array_busy(gemm_array_busy),
        .l_rd_en(gemm_l_rd_en), .l_rd_base(gemm_l_rd_base), .l_rd_data(l_rd_data),
        .r_rd_en(gemm_r_rd_en), .r_rd_base(gemm_r_rd_base), .r_rd_data(r_rd_data),
        .d_re(gemm_d_re), .d_raddr(gemm_d_raddr), .d_rdata(d_rdata),
        .d_we(gemm_d_we), .d_waddr(gemm_d_waddr), .d_wdata(gemm_d_wdata), .d_wbe(gemm_d_wbe)
    );

    wire fg_busy, fg_done, fg_d_re, fg_d_we;
    wire [DAW-1:0] fg_d_raddr, fg_d_waddr;
    wire [31:0] fg_d_wdata;
    wire [3:0] fg_d_wbe;
    drf_fgamma #(.DAW(DAW)) u_fgamma (
        .clk(clk), .rst(rst),
        .start(fg_start), .args(cmd_args[191:0]), .busy(fg_busy), .done(fg_done),
        .seed_we(seed_we), .seed(cmd_args[31:0]), .lfsr_reset(lfsr_reset),
        .lfsr_state(lfsr_state),
        .d_re(fg_d_re), .d_raddr(fg_d_raddr), .d_rdata(d_rdata),
        .d_we(fg_d_we), .d_waddr(fg_d_waddr), .d_wdata(fg_d_wdata), .d_wbe(fg_d_wbe)
    );

    wire fa_busy, fa_done, fa_d_re, fa_d_we;
    wire [DAW-1:0] fa_d_raddr, fa_d_waddr;
    wire [31:0] fa_d_wdata;
    wire [3:0] fa_d_wbe;
    drf_falpha #(.DAW(DAW)) u_falpha (
        .clk(clk), .rst(rst),
        .start(fa_start), .args(cmd_args[191:0]), .busy(fa_busy), .done(fa_done),
        .d_re(fa_d_re), .d_raddr(fa_d_raddr), .d_rdata(d_rdata),
        .d_we(fa_d_we), .d_waddr(fa_d_waddr), .d_wdata(fa_d_wdata), .d_wbe(fa_d_wbe)
    );

    wire pk_busy, pk_done, pk_d_re, pk_l_we, pk_r_we;
    wire [DAW-1:0] pk_d_raddr;
    wire [LAW-1:0] pk_l_waddr;
    wire [RAW-1:0] pk_r_waddr;
    wire [63:0] pk_l_wdata, pk_r_wdata;
    drf_pack #(.DAW(DAW), .LAW(LAW), .RAW(RAW)) u_pack (
        .clk(clk), .rst(rst),
        .start(pk_start), .args(cmd_args[223:0]), .busy(pk_busy), .done(pk_done),
        .d_re(pk_d_re), .d_raddr(pk_d_raddr), .d_rdata(d_rdata),
        .l_we(pk_l_we), .l_waddr(pk_l_waddr), .l_wdata(pk_l_wdata),
        .r_we(pk_r_we), .r_waddr(pk_r_waddr), .r_wdata(pk_r_wdata)
    );

    // ---- sequencing ----
    // A start's engine comes from cmd_op alone (start implies s_none and no engine's done).
    wire clearing = s_clear;
    wire clr_last = &clr_addr;
    wire eng_done = (s_gemm & gemm_done) | (s_fg & fg_done) | (s_fa & fa_done) |
                    (s_pk & pk_done) | (s_clear & clr_last);

    // Commands without an engine (SEED, and the no-ops) are done the cycle after their start.
    wire instant = !(cmd_op == OP_GEMM || cmd_op == OP_QGRAD || cmd_op == OP_QACT ||
                     cmd_op == OP_PACK || cmd_op == OP_RESET);

    always @(posedge clk) begin
        s_gemm <= gemm_start | (s_gemm & ~eng_done);
        s_fg <= fg_start | (s_fg & ~eng_done);
        s_fa <= fa_start | (s_fa & ~eng_done);
        s_pk <= pk_start | (s_pk & ~eng_done);
        s_clear <= lfsr_reset | (s_clear & ~eng_done);
        s_none <= start ? instant : s_none | eng_done;
        if (rst) begin
            {s_gemm, s_fg, s_fa, s_pk, s_clear} <= 5'd0;
            s_none <= 1'b1;
            cmd_done <= 1'b0;
            clr_addr <= 0;
        end else begin
            cmd_done <= start ? instant : eng_done;
            if (start) clr_addr <= 0;
            else if (clearing) clr_addr <= clr_addr + 1'b1;
        end
    end

    // ---- memory port multiplexing ----
    wire host_l = host_mem == 2'd0, host_r = host_mem == 2'd1, host_d = host_mem == 2'd2;

    // RESET writes zero to the first 2^xAW words of each memory while clr_addr counts. L and R take
    // the same write data (PACK drives one word to both ports), so one multiplexer serves both.
    wire [63:0] op_wdata = clearing ? 64'd0 : s_pk ? pk_l_wdata : host_wdata;
    wire l_we = clearing ? 1'b1 : s_pk ? pk_l_we : host_we && host_l;
    wire r_we = clearing ? 1'b1 : s_pk ? pk_r_we : host_we && host_r;
    wire l_rd_en = s_gemm ? gemm_l_rd_en : host_re && host_l;
    wire r_rd_en = s_gemm ? gemm_r_rd_en : host_re && host_r;
    // One address per memory (a bank never reads and writes in the same cycle).
    wire [LAW-1:0] l_addr = clearing ? clr_addr[LAW-1:0] : s_pk ? pk_l_waddr :
                            s_gemm ? gemm_l_rd_base : host_addr[LAW-1:0];
    wire [RAW-1:0] r_addr = clearing ? clr_addr[RAW-1:0] : s_pk ? pk_r_waddr :
                            s_gemm ? gemm_r_rd_base : host_addr[RAW-1:0];

    // D writes: the engines drive zero address and data while they do not write, and clr_addr is
    // zero outside RESET (it wraps to 0 at the end), so the write port is an OR of the sources.
    wire host_dwe = s_none && host_we && host_d;
    wire d_we = gemm_d_we | fg_d_we | fa_d_we | clearing | host_dwe;
    wire [DAW-1:0] d_waddr = gemm_d_waddr | fg_d_waddr | fa_d_waddr | clr_addr[DAW-1:0] |
                             (host_addr[DAW-1:0] & {DAW{host_dwe}});
    wire [31:0] d_wdata = gemm_d_wdata | fg_d_wdata | fa_d_wdata | (host_wdata[31:0] & {32{host_dwe}});
    wire d_re = (gemm_d_re & s_gemm) | (fg_d_re & s_fg) | (fa_d_re & s_fa) | (pk_d_re & s_pk) |
                (host_re & host_d & s_none);
    wire [DAW-1:0] d_raddr = (gemm_d_raddr & {DAW{s_gemm}}) | (fg_d_raddr & {DAW{s_fg}}) |
                             (fa_d_raddr & {DAW{s_fa}}) | (pk_d_raddr & {DAW{s_pk}}) |
                             (host_addr[DAW-1:0] & {DAW{s_none}});
    wire [3:0] d_wbe = (gemm_d_wbe & {4{s_gemm}}) | (fg_d_wbe & {4{s_fg}}) |
                       (fa_d_wbe & {4{s_fa}}) | {4{s_clear | s_none}};

    drf_opmem #(.BANKS(ROWS), .AW(LAW)) u_lmem (
        .clk(clk), .addr(l_addr), .we(l_we), .wdata(op_wdata),
        .rd_en(l_rd_en), .rd_data(l_rd_data)
    );
    drf_opmem #(.BANKS(COLS), .AW(RAW)) u_rmem (
        .clk(clk), .addr(r_addr), .we(r_we), .wdata(op_wdata),
        .rd_en(r_rd_en), .rd_data(r_rd_data)
    );
    drf_dmem #(.AW(DAW)) u_dmem (
        .clk(clk), .re(d_re), .raddr(d_raddr), .rdata(d_rdata),
        .we(d_we), .waddr(d_waddr), .wdata(d_wdata), .wbe(d_wbe)
    );

    // Host reads: which memory the read in flight came from, and which word of the bank block.
    localparam LBW = $clog2(ROWS) > 0 ? $clog2(ROWS) : 1;
    localparam RBW = $clog2(COLS) > 0 ? $clog2(COLS) : 1;
    reg [1:0] host_mem_q;
    reg [LBW-1:0] host_lw;
    reg [RBW-1:0] host_rw;
    always @(posedge clk) if (host_re) begin
        host_mem_q <= host_mem;
        host_lw <= ROWS > 1 ? host_addr[LBW-1:0] : {LBW{1'b0}};
        host_rw <= COLS > 1 ? host_addr[RBW-1:0] : {RBW{1'b0}};
    end
    wire [63:0] host_lword = l_rd_data[64*host_lw+:64];
    wire [63:0] host_rword = r_rd_data[64*host_rw+:64];
    assign host_rdata = host_mem_q == 2'd0 ? host_lword : host_mem_q == 2'd1 ? host_rword :
                        {32'd0, d_rdata};

    // ---- counters ----
    // With ACC_MAC (the iCE40 form) each counter is a drf_mac, an SB_MAC16 accumulating 1 x inc:
    // a DSP block the core does not otherwise use holds the 32-bit register and its adder, which
    // saves 32 logic cells per counter. drf_mac registers b, so its weight is 1 from the second
    // clock on; reset lasts longer than that.
    generate
        if (ACC_MAC != 0) begin : g_cnt_mac
            drf_mac u_cycles (
                .clk(clk), .load(rst || start), .a({6'd0, !s_none}), .b_d(16'd1), .sub_d(1'b0),
                .acc(cycles)
            );
            drf_mac u_busy (
                .clk(clk), .load(rst || start), .a({6'd0, gemm_array_busy}), .b_d(16'd1),
                .sub_d(1'b0), .acc(busy_cycles)
            );
        end else begin : g_cnt
            reg [31:0] cycles_q, busy_q;
            always @(posedge clk) begin
                if (rst || start) begin
                    cycles_q <= 32'd0;
                    busy_q <= 32'd0;
                end else begin
                    if (!s_none) cycles_q <= cycles_q + 1'b1;
                    if (gemm_array_busy) busy_q <= busy_q + 1'b1;
                end
            end
            assign cycles = cycles_q;
            assign busy_cycles = busy_q;
        end
    endgenerate

    // Engines only run when selected; the others must be idle.
    // Address bits above a memory's size are ignored (the command engine range-checks them).
    // PACK's R write data equals its L write data.
    wire unused = &{1'b0, gemm_busy, fg_busy, fa_busy, pk_busy, host_addr, pk_r_wdata};
endmodule

`default_nettype wire
