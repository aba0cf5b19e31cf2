#!/usr/bin/env python3
"""Summarises a Yosys log and a nextpnr JSON report: cells by kind, utilisation and Fmax.

usage: synth_report.py --arch ice40|ecp5 --yosys LOG [--pnr REPORT.json] [--label TEXT]
"""
import argparse
import json
import re
import sys

CELLS = {
    "ice40": [("SB_LUT4", "LUT4"), ("SB_CARRY", "carry"), ("SB_DFF", "FF (all SB_DFF*)"),
              ("SB_RAM40_4K", "EBR"), ("SB_SPRAM256KA", "SPRAM"), ("SB_MAC16", "DSP")],
    "ecp5": [("LUT4", "LUT4"), ("CCU2C", "carry (CCU2C)"), ("TRELLIS_FF", "FF"),
             ("DP16KD", "BRAM (DP16KD)"), ("MULT18X18D", "DSP (MULT18X18D)"),
             ("TRELLIS_DPR16X4", "LUTRAM")],
}


def yosys_cells(path):
    """Cell counts of the last 'Number of cells' block for the top (flattened) design."""
    text = open(path, encoding="utf-8", errors="replace").read()
    blocks = text.split("Printing statistics.")
    last = blocks[-1] if len(blocks) > 1 else text
    counts = {}
    # Yosys 0.23 prints "  NAME   COUNT"; newer releases (yowasp) print "  COUNT   NAME".
    for m in re.finditer(r"^\s+([A-Za-z_$][\w$]*)\s+(\d+)\s*$", last, re.M):
        counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
    for m in re.finditer(r"^\s+(\d+)\s+([A-Za-z_$][\w$]*)\s*$", last, re.M):
        counts[m.group(2)] = counts.get(m.group(2), 0) + int(m.group(1))
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", choices=CELLS.keys(), required=True)
    ap.add_argument("--yosys", required=True)
    ap.add_argument("--pnr")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    try:
        counts = yosys_cells(a.yosys)
    except OSError as e:
        sys.exit(f"synth_report: {e}")
    print(f"== {a.label or a.arch}")
    for key, name in CELLS[a.arch]:
        n = sum(v for k, v in counts.items() if k.startswith(key))
        print(f"  {name:20s} {n}")
    if a.pnr:
        try:
            rep = json.load(open(a.pnr))
        except (OSError, ValueError) as e:
            sys.exit(f"synth_report: cannot read {a.pnr}: {e}")
        util = rep.get("utilization", {})
        for k in ("ICESTORM_LC", "ICESTORM_RAM", "ICESTORM_SPRAM", "ICESTORM_DSP", "TRELLIS_SLICE",
                  "TRELLIS_COMB", "TRELLIS_FF", "DP16KD", "MULT18X18D"):
            if k in util:
                print(f"  {k:20s} {util[k]['used']} / {util[k]['available']}")
        for clk, f in rep.get("fmax", {}).items():
            print(f"  Fmax {clk}: {f['achieved']:.1f} MHz (target {f['constraint']:.1f} MHz)")


if __name__ == "__main__":
    main()
