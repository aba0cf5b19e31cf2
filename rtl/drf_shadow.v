// drf_shadow: a DPU's drain shadow: the accumulator on `cap`, else a shift along the drain chain.
`default_nettype none

// The shadow takes the accumulator on `cap` (the cycle after a tile's last word was added, while
// the next tile already loads the accumulator) and otherwise shifts along the drain chain on
// `chain_shift`: chain_in is the next DPU's shadow, so the array drains through one port. Both
// controls come a cycle early and are registered here, one copy per DPU (fan-out).
module drf_shadow (
    input  wire        clk,
    // Control, one cycle early
    input  wire        cap_d,
    input  wire        chain_shift_d,
    // Data
    input  wire [31:0] acc,
    input  wire [31:0] chain_in,
    output reg  [31:0] shadow
);
    (* keep *) reg cap, chain_shift;
    always @(posedge clk) begin
        cap <= cap_d;
        chain_shift <= chain_shift_d;
        if (cap)
            shadow <= acc;
        else if (chain_shift)
            shadow <= chain_in;
    end
endmodule

`default_nettype wire
