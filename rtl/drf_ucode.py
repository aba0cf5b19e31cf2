#!/usr/bin/env python3
# Usage: python3 rtl/drf_ucode.py rtl/drf_ucode.v
"""Assembler for the drf_cmd check program: writes rtl/drf_ucode.v (a ROM and the entry table)."""
import sys

# FETCH transforms: (name, add constant, negative, shift right, pow2)
XF = ["none", "idle2", "bits", "le1", "kmax", "kw", "ceil8", "dec", "inc", "wrd", "wrlr", "p2m1",
      "b7", "ff"]
XF_DOC = {
    "none": "F = field", "idle2": "F = (field + 1) >> 2", "bits": "F = (field - 1) >> 3",
    "le1": "F = field >> 1", "kmax": "F = (field - 1) >> 15", "kw": "F = (field + 63) >> 6",
    "ceil8": "F = (field + 7) >> 3", "dec": "F = field - 1", "inc": "F = field + 1",
    "wrd": "F = (field - 8) >> 2", "wrlr": "F = (field - 8) >> 3",
    "p2m1": "F = 1 << (field - 1) (field in 1..8)",
    "b7": "F = field >> 7", "ff": "F = (field + 1) >> 8"}
TESTS = {None: 0, "z": 1, "nz": 2, "low3": 3}
OPS = {"end": 0, "mul": 1, "ce": 2, "fail": 3, "br": 4, "call": 5, "ret": 6}
XSEL = {"1": 0, "2": 1, "4": 2, "8": 3, "P": 4, "E": 5}
COND = {"always": 0, "fz": 1, "fnz": 2, "low3": 3, "lt": 4, "ge": 5, "wrlen": 6, "b0d": 7,
        "b13": 8, "lim": 9}
ST = {"len": 1, "arg": 2, "addr": 3}
LIM = {"L": 0, "R": 1, "D": 2, "2D": 3, "4D": 4, "4Dm1": 5, "b0": 6, "b21": 7, "rdmax": 8}
SRC = {"LEN": 63, "ZERO": 62}

def F(off, n=4, xf="none", test=None):
    return ("fetch", off, n, xf, test)

PROGS = {}
PROGS["none"] = [("end",)]
PROGS["write"] = [
    F(0, 1, "idle2", "nz"),
    ("fail", "wrlen", "len"),
    F(1, 3, test="nz"),
    ("br", "b0d", "wd"),
    F("LEN", 2, "wrlr"), ("br", "always", "wc"),
    "wd:", F("LEN", 2, "wrd"),
    "wc:", ("mul", 0, "1"),
    F(4), ("mul", 1, "1"), ("fail", "lim", "addr", "b0"),
    ("end",)]
PROGS["read"] = [
    F(0, 1, "idle2", "nz"), F(1, 3, test="nz"), F(8, 4, test="z"),
    ("mul", 0, "1"), ("fail", "lim", "len", "rdmax"),
    F(4), ("mul", 1, "1"), ("fail", "lim", "addr", "b0"),
    ("end",)]
PROGS["gemm"] = [
    F(0, test="low3"), F(4, test="low3"), F(8, test="z"), F(12, test="z"),
    F(16, 4, "kmax", "nz"), F(20, 1, "bits", "nz"), F(21, 1, "bits", "nz"),
    F(22, 1, "le1", "nz"), F(23, 1, "le1", "nz"), F(24, 1, "le1", "nz"), F(25, 3, test="nz"),
    F(12), ("mul", 0, "1"), ("ce",), F(32), ("mul", 0, "1"), ("fail", "lt", "arg"),
    # scale: 0 for WRITE32; for ACC64 an i16 (bytes 38, 39 copies of bit 15: 0x00 or 0xFF)
    F(24, 1), ("br", "fnz", "g1"), F(36, test="nz"), ("br", "always", "g3"),
    "g1:", F(37, 1, "b7"), ("br", "fnz", "g2"), F(38, 2, test="nz"), ("br", "always", "g3"),
    "g2:", F(38, 1, "ff", "z"), F(39, 1, "ff", "z"),
    "g3:",
    F(16, 4, "kw"), ("mul", 0, "8"), F(8, 4, "ceil8"), ("mul", 0, "P"), F(20, 1), ("mul", 0, "P"),
    F(0), ("mul", 1, "1"), ("fail", "lim", "addr", "L"),
    F(16, 4, "kw"), ("mul", 0, "8"), F(12, 4, "ceil8"), ("mul", 0, "P"), F(21, 1), ("mul", 0, "P"),
    F(4), ("mul", 1, "1"), ("fail", "lim", "addr", "R"),
    F(8, 4, "dec"), ("mul", 0, "1"), F(32), ("mul", 0, "P"), F(12), ("mul", 1, "1"),
    F(24, 1, "inc"), ("mul", 0, "P"), F(28), ("mul", 1, "1"), ("fail", "lim", "addr", "D"),
    # bin_ops delta = 2*M*N*K*bits_L*bits_R, left in P
    F(8), ("mul", 0, "2"), F(12), ("mul", 0, "P"), F(16), ("mul", 0, "P"), F(20, 1),
    ("mul", 0, "P"), F(21, 1), ("mul", 0, "P"),
    ("end",)]
# QUANT_GRAD: S1 = 2*src + n (limit 2D), S2 = 4*dst + n (4D), S3 = mdst + S (D)
PROGS["qgrad"] = [
    F(4, test="z"), F(8, test="z"), F(12, 1, "bits", "nz"), F(13, 3, test="nz"),
    ("call", "qs1"), ("fail", "lim", "addr", "2D"),
    ("call", "qs2"), ("fail", "lim", "addr", "4D"),
    ("call", "qs3"), ("fail", "lim", "addr", "D"),
    ("call", "qs2"), ("ce",), F(0), ("mul", 0, "4"), ("br", "ge", "q12"),
    ("call", "qs1"), ("ce",), F(16), ("mul", 0, "2"), ("fail", "lt", "addr"),
    "q12:",
    ("call", "qs3"), ("ce",), F(0), ("mul", 0, "1"), ("br", "ge", "q13"),
    ("call", "qs1"), ("ce",), F(20), ("mul", 0, "2"), ("fail", "lt", "addr"),
    "q13:",
    ("call", "qs3"), ("ce",), F(16), ("mul", 0, "1"), ("br", "ge", "q23"),
    ("call", "qs2"), ("ce",), F(20), ("mul", 0, "4"), ("fail", "lt", "addr"),
    "q23:", ("end",),
    "qs1:", F(4), ("mul", 0, "1"), F(8), ("mul", 0, "P"), F(0), ("mul", 1, "2"), ("ret",),
    "qs2:", F(4), ("mul", 0, "1"), F(8), ("mul", 0, "P"), F(16), ("mul", 1, "4"), ("ret",),
    "qs3:", F(4), ("mul", 0, "1"), F(20), ("mul", 1, "1"), ("ret",)]
# QUANT_ACT: S1 = src + n (D), S2 = thr + ch * 2^A (D), S3 = 4*dst + n (4D)
PROGS["qact"] = [
    F(4, test="z"), F(8, test="z"), F(12, 1, "bits", "nz"), F(13, 1, "le1", "nz"),
    F(14, 2, test="nz"),
    ("call", "as1"), ("fail", "lim", "addr", "D"),
    ("call", "as2"), ("fail", "lim", "addr", "D"),
    ("call", "as3"), ("fail", "lim", "addr", "4D"),
    ("call", "as2"), ("ce",), F(0), ("mul", 0, "1"), ("br", "ge", "a12"),
    ("call", "as1"), ("ce",), F(16), ("mul", 0, "1"), ("fail", "lt", "addr"),
    "a12:",
    ("call", "as3"), ("ce",), F(0), ("mul", 0, "4"), ("br", "ge", "a13"),
    ("call", "as1"), ("ce",), F(20), ("mul", 0, "1"), ("fail", "lt", "addr"),
    "a13:",
    ("call", "as3"), ("ce",), F(16), ("mul", 0, "4"), ("br", "ge", "a23"),
    ("call", "as2"), ("ce",), F(20), ("mul", 0, "1"), ("fail", "lt", "addr"),
    "a23:", ("end",),
    "as1:", F(4), ("mul", 0, "1"), F(8), ("mul", 0, "P"), F(0), ("mul", 1, "1"), ("ret",),
    "as2:", ("br", "b13", "as2n"), F(4), ("br", "always", "as2c"), "as2n:", F(8),
    "as2c:", ("mul", 0, "2"), F(12, 1, "p2m1"), ("mul", 0, "P"), F(16), ("mul", 1, "1"), ("ret",),
    "as3:", F(4), ("mul", 0, "1"), F(8), ("mul", 0, "P"), F(20), ("mul", 1, "4"), ("ret",)]
# PACK: x = (rows-1)*sr + (K-1)*sk; src fits iff x + 4*src <= 4D - 1
PROGS["pack"] = [
    F(12, test="z"), F(16, 4, "kmax", "nz"), F(20, 1, "bits", "nz"), F(21, 1, "le1", "nz"),
    F(22, 2, test="nz"), F(24, test="low3"),
    F(12, 4, "dec"), ("mul", 0, "1"), F(4), ("mul", 0, "P"), ("ce",),
    F(16, 4, "dec"), ("mul", 0, "1"), F(8), ("mul", 0, "P"),
    F("ZERO", 1, "inc"), ("mul", 1, "E"), F(0), ("mul", 1, "4"), ("fail", "lim", "addr", "4Dm1"),
    F(16, 4, "kw"), ("mul", 0, "8"), F(12, 4, "ceil8"), ("mul", 0, "P"), F(20, 1), ("mul", 0, "P"),
    F(24), ("mul", 1, "1"), ("fail", "lim", "addr", "b21"),
    ("end",)]
PROGS["seed"] = [F(0, test="z"), ("end",)]
PROGS["stats"] = [F(0, 1, "le1", "nz"), F(1, 3, test="nz"), ("end",)]
ENTRY = {0x03: "write", 0x04: "read", 0x05: "gemm", 0x06: "qgrad", 0x07: "qact", 0x08: "pack",
         0x09: "seed", 0x0A: "stats"}

def enc(ins, labels, pfx):
    k = ins[0]
    if k == "fetch":
        _, off, n, xf, test = ins
        o = SRC[off] if isinstance(off, str) else off
        return (1 << 15) | (o << 9) | ((n - 1) << 7) | (XF.index(xf) << 3) | (TESTS[test] << 1)
    op = OPS[k] << 12
    if k == "mul":
        return op | (ins[1] << 11) | (XSEL[ins[2]] << 8)
    if k == "fail":
        lim = LIM[ins[3]] if len(ins) > 3 else 0
        return op | (COND[ins[1]] << 8) | (ST[ins[2]] << 6) | (lim << 2)
    if k == "br":
        return op | (COND[ins[1]] << 8) | labels[pfx + ins[2]]
    if k == "call":
        return op | labels[pfx + ins[1]]
    return op

def text(ins):
    k = ins[0]
    if k == "fetch":
        _, off, n, xf, test = ins
        s = "fetch %s, %d bytes: %s" % (off, n, XF_DOC[xf])
        return s + ("; BAD_ARG if %s" % {"z": "F == 0", "nz": "F != 0", "low3": "F % 8 != 0"}[test]
                    if test else "")
    if k == "mul":
        return "P = %s + %s * F" % ("P" if ins[1] else "0", ins[2])
    if k == "ce":
        return "E = P"
    if k == "fail":
        return "fail %s if %s%s" % (ins[2], ins[1], (" " + ins[3]) if len(ins) > 3 else "")
    if k == "br":
        return "if %s goto %s" % (ins[1], ins[2])
    if k == "call":
        return "call %s" % ins[1]
    return k

def main():
    code, labels, entries, comments = [], {}, {}, []
    for name, prog in PROGS.items():
        entries[name] = len(code)
        pc = len(code)
        for ins in prog:
            if isinstance(ins, str):
                labels[name + "." + ins[:-1]] = pc
            else:
                pc += 1
        for ins in prog:
            if isinstance(ins, str):
                continue
            code.append(enc(ins, labels, name + "."))
            comments.append("%s: %s" % (name, text(ins)))
    assert len(code) <= 256, len(code)
    out = []
    out.append("// Check program of drf_cmd (generated by rtl/drf_ucode.py: edit that, then run it).")
    out.append("// A ROM of 16-bit instructions, one cycle read latency (an EBR), and the entry")
    out.append("// address of each opcode's program (0: END, nothing to check).")
    out.append("`default_nettype none")
    out.append("")
    out.append("module drf_ucode (")
    out.append("    input wire clk,")
    out.append("    input wire re,")
    out.append("    input wire [7:0] addr,")
    out.append("    output reg [15:0] data,")
    out.append("    input wire [3:0] op,      // opcode bits 3:0 (opcodes 0x03-0x0A have programs)")
    out.append("    output reg [7:0] entry")
    out.append(");")
    out.append("    always @(posedge clk) if (re) begin")
    out.append("        case (addr)")
    for i, (c, t) in enumerate(zip(code, comments)):
        out.append("            8'd%d: data <= 16'h%04X; // %s" % (i, c, t))
    out.append("            default: data <= 16'h0000;")
    out.append("        endcase")
    out.append("    end")
    out.append("    always @(*) begin")
    out.append("        case (op)")
    for opc, name in sorted(ENTRY.items()):
        out.append("            4'd%d: entry = 8'd%d; // %s" % (opc, entries[name], name))
    out.append("            default: entry = 8'd0;")
    out.append("        endcase")
    out.append("    end")
    out.append("endmodule")
    out.append("")
    out.append("`default_nettype wire")
    open(sys.argv[1], "w").write("\n".join(out) + "\n")
    print("%d instructions" % len(code), file=sys.stderr)

main()
