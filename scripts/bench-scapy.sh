#!/usr/bin/env bash
# Frames per second building and writing TCP SYNs to a pcap: scapy against `vpcsim-bench syn-pcap`, same run,
# same frames. Prints scapy's rate, ours, the ratio ours/scapy, and a tshark check that both files hold equivalent
# SYNs (same TCP option kinds, valid IPv4 and TCP checksums, same fields frame by frame).
#
#   scripts/bench-scapy.sh [SCAPY_N] [OURS_N]      defaults: 20000 and 5000000
#
# Installs python3-scapy with apt when no python3 can import scapy (non-interactive; sudo unless root). Needs
# tshark (scripts/setup installs it) and a Swift toolchain: builds vpcsim-bench in release.
set -euo pipefail
cd "$(dirname "$0")/.."
SCAPY_N=${1:-20000}
OURS_N=${2:-5000000}
CHECK_N=1000   # frames compared field by field with tshark

# A python3 that can import scapy: the one on PATH, else the system one (apt installs scapy there).
PY=""
for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import scapy' >/dev/null 2>&1; then
        PY=$candidate
        break
    fi
done
if [ -z "$PY" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "bench-scapy: installing python3-scapy" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-scapy >/dev/null \
        || { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
             $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-scapy >/dev/null; }
    PY=/usr/bin/python3
fi
command -v tshark >/dev/null 2>&1 || { echo "bench-scapy: tshark is missing (run scripts/setup)" >&2; exit 2; }

work=$(mktemp -d /tmp/vpcsim-bench-scapy.XXXXXX)
trap 'rm -rf "$work"' EXIT

# 1. scapy: the same frames as benchSYNToPcap in Sources/vpcsim-bench/main.swift, through scapy's PcapWriter
#    (what wrpcap uses) to a nanosecond pcap. Timed from the first frame to the file's close; import excluded.
"$PY" - "$SCAPY_N" "$work/scapy.pcap" >"$work/scapy.out" <<'EOF'
import sys, time
from decimal import Decimal
from scapy.all import Ether, IP, TCP, PcapWriter, conf
import scapy
n, path = int(sys.argv[1]), sys.argv[2]
conf.verb = 0
base = Decimal(1_700_000_000)
start = time.perf_counter()
w = PcapWriter(path, nano=True, linktype=1, sync=False)
for i in range(n):
    p = (Ether(dst="02:42:0a:00:01:01", src="02:42:0a:00:01:0a")
         / IP(src="10.0.1.10", dst="203.0.113.22", id=i & 0xFFFF, flags="DF", ttl=64)
         / TCP(sport=1024 + i % 64512, dport=22, seq=(i * 2654435761) & 0xFFFFFFFF, flags="S", window=64240,
               options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (i & 0xFFFFFFFF, 0)), ("NOP", None),
                        ("WScale", 7)]))
    p.time = base + Decimal(i) / 1_000_000   # 1 µs apart, as ours
    w.write(p)                               # builds the bytes: lengths and checksums computed here
w.close()
s = time.perf_counter() - start
print(f"{n} {s:.6f} {scapy.__version__} {sys.version.split()[0]}")
EOF
read -r s_n s_secs s_version py_version <"$work/scapy.out"
s_rate=$(awk -v n="$s_n" -v s="$s_secs" 'BEGIN { printf "%.0f", n / s }')
echo "scapy $s_version (Python $py_version): $s_n SYN frames built and written with PcapWriter in ${s_secs} s: $s_rate frames/s"

# 2. ours, release build: the timed run (file deleted), then a small run kept for the check.
swift build -c release --product vpcsim-bench >/dev/null
bench="$(swift build -c release --show-bin-path)/vpcsim-bench"
ours_line=$("$bench" syn-pcap "$OURS_N")
echo "vpcsim-bench: $ours_line"
o_secs=$(sed -E 's/.* in ([0-9.]+) s:.*/\1/' <<<"$ours_line")
o_rate=$(awk -v n="$OURS_N" -v s="$o_secs" 'BEGIN { printf "%.0f", n / s }')
"$bench" syn-pcap "$CHECK_N" "$work/ours.pcap" >/dev/null

echo "ratio ours/scapy: $(awk -v a="$o_rate" -v b="$s_rate" 'BEGIN { printf "%.0f", a / b }')x ($o_rate / $s_rate frames/s)"

# 3. Equivalence, with tshark: the first CHECK_N frames of each file, dissected with checksum validation on.
fields=(-e frame.len -e ip.id -e ip.flags -e ip.ttl -e ip.checksum.status -e tcp.srcport -e tcp.dstport
        -e tcp.seq_raw -e tcp.flags -e tcp.window_size_value -e tcp.checksum.status -e tcp.option_kind
        -e tcp.options.mss_val -e tcp.options.wscale.shift -e tcp.options.timestamp.tsval)
dissect() {
    tshark -r "$1" -c "$CHECK_N" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -T fields -E separator='|' \
        "${fields[@]}" 2>>"$work/tshark.err" || { cat "$work/tshark.err" >&2; exit 1; }
}
dissect "$work/ours.pcap" >"$work/ours.txt"
dissect "$work/scapy.pcap" >"$work/scapy.txt"
"$PY" - "$work/ours.txt" "$work/scapy.txt" "$work/ours.pcap" "$work/scapy.pcap" "$CHECK_N" <<'EOF'
import sys, struct
ours, theirs = (open(p).read().splitlines() for p in sys.argv[1:3])
n = int(sys.argv[5])
names = ["frame.len", "ip.id", "ip.flags", "ip.ttl", "ip.checksum.status", "tcp.srcport", "tcp.dstport",
         "tcp.seq_raw", "tcp.flags", "tcp.window", "tcp.checksum.status", "tcp.option_kind", "mss", "wscale", "tsval"]
problems = []
if len(ours) != n or len(theirs) != n:
    problems.append(f"frame counts {len(ours)} (ours) and {len(theirs)} (scapy), expected {n}")
good = "1"  # Wireshark's PROTO_CHECKSUM_E_GOOD
for label, rows in (("ours", ours), ("scapy", theirs)):
    for i, row in enumerate(rows):
        f = dict(zip(names, row.split("|")))
        if f["ip.checksum.status"] != good or f["tcp.checksum.status"] != good:
            problems.append(f"{label} frame {i + 1}: checksum status ip={f['ip.checksum.status']} tcp={f['tcp.checksum.status']}")
            break
kinds = {row.split("|")[11] for row in ours} | {row.split("|")[11] for row in theirs}
if len(kinds) != 1:
    problems.append(f"option kinds differ: {sorted(kinds)}")
diff = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
if diff:
    i = diff[0]
    problems.append(f"{len(diff)} frames dissect differently; first, frame {i + 1}:\n  ours  {ours[i]}\n  scapy {theirs[i]}")

def frames(path):
    data = open(path, "rb").read()
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        out.append(data[off + 16: off + 16 + incl])
        off += 16 + incl
    return out
a, b = frames(sys.argv[3]), frames(sys.argv[4])[:n]
identical = sum(x == y for x, y in zip(a, b))
first = ours[0].split("|") if ours else []
summary = (f"option kinds {first[11] if first else '?'} (MSS {first[12] if first else '?'}, SACK-permitted, "
           f"timestamps, NOP, window scale {first[13] if first else '?'}), IPv4 and TCP checksums good in both, "
           f"{n - len(diff)}/{n} frames dissect identically field by field, {identical}/{n} byte-identical")
if problems:
    print("tshark check: FAILED\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"tshark check: OK: first {n} frames of each file: {summary}")
EOF
