#!/bin/sh
# bench/lane/area.sh DIR: logic cells of DPU lane variants on the iCE40 UP5K (Yosys synth_ice40
# -dsp, then nextpnr-ice40 --pack-only, each module on its own), as binary ops per cell per cycle
# (a 64-bit lane does 128: an AND and an add per bit). DIR holds the generated carry-chain
# popcount (and_popcount_carry.v) and receives the netlists and logs.
set -e
dir=$1
: "${YOSYS:=yosys}" "${NEXTPNR_ICE40:=nextpnr-ice40}"
rtl="rtl/drf_dpu.v rtl/drf_popcount64.v rtl/drf_mac.v rtl/drf_shadow.v"
lanes="bench/lane/lanes.v $dir/and_popcount_carry.v"

cells() { # name top chparam files...
    name=$1 top=$2 params=$3
    shift 3
    $YOSYS -q -l "$dir/$name.yosys.log" -p "read_verilog -DDRF_ICE40_DSP $*; $params \
        hierarchy -top $top; synth_ice40 -dsp -top $top -json $dir/$name.json" > /dev/null
    $NEXTPNR_ICE40 -q --up5k --package sg48 --json "$dir/$name.json" --pack-only \
        -l "$dir/$name.pnr.log" 2> /dev/null
    sed -n 's/.*ICESTORM_LC: *\([0-9]*\)\/.*/\1/p' "$dir/$name.pnr.log" | head -1
}

row() { # label cells [ops]
    if [ -n "$3" ]; then
        printf '%-58s %5s cells  %s binary ops / cell / cycle\n' "$1" "$2" \
            "$(awk -v c="$2" 'BEGIN { printf "%.2f", 128 / c }')"
    else
        printf '%-58s %5s cells\n' "$1" "$2"
    fi
}

echo "bench-lane: iCE40 UP5K logic cells, each module packed alone (accumulators in an SB_MAC16)"
row "DPU as shipped: op select, Wallace tree, shadow" \
    "$(cells dpu drf_dpu 'chparam -set ACC_MAC 1 drf_dpu;' $rtl)" ops
row "DPU as a one-DPU array builds it (no shadow)" \
    "$(cells dpu_direct drf_dpu 'chparam -set ACC_MAC 1 -set SHADOW 0 drf_dpu;' $rtl)" ops
row "DPU with the op tied to AND" \
    "$(cells dpu_and lane_and 'chparam -set CARRY 0 lane_and;' $rtl $lanes)" ops
row "AND-only lane, carry-chain popcount, shadow" \
    "$(cells carry lane_and '' $rtl $lanes)" ops
row "AND-only lane, carry-chain popcount, no shadow (1 DPU)" \
    "$(cells carry_direct lane_and 'chparam -set SHADOW 0 lane_and;' $rtl $lanes)" ops
row "compressor: AND + Wallace tree (count registered)" \
    "$(cells wallace lane_and_wallace '' $rtl $lanes)"
row "compressor: AND in the carry chains (combinational)" \
    "$(cells carry_popcount and_popcount_carry '' $lanes)"
