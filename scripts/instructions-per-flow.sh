#!/bin/bash
# Instructions per flow of the simulation, counted by callgrind: deterministic, unlike wall time on a shared VM.
#
#   scripts/instructions-per-flow.sh [engine|off|on|all-hops] [TOP] [ipv6]
#
# Runs `vpcsim-bench engine N` (or `flows N off|on|all-hops`) under valgrind's callgrind for N = 2,000 and 4,000 and
# prints, per flow (the difference of the two runs divided by that of their N, so start-up cancels out), the total and
# the TOP functions by their own instructions. With `off`, `on` or `all-hops` (captures with all-hops.pcapng,
# as `vpcsim run` writes by default) the threads are counted apart: the first is
# the simulation's, also given without the frames it built (which thread builds a frame varies from run to run
# under callgrind), then the sum of all threads. `ipv6`: the dual-stack flows (`vpcsim-bench flows N off ipv6`: over
# IPv6 through ::/0 rules and the egress-only internet gateway) instead of the IPv4 ones.
# FLOWS="12000 24000" runs other N: with `off`, 2,000 and 4,000 flows fall on either side of fixed costs that
# stop at a size (the outcome keeps the first 10,000 flow-log records and their text, `keptRecordLimit`), which
# then count for or against the flows; from 12,000 flows on both runs are past them.
# Needs valgrind (apt-get install valgrind) and a release build:
#   swift build -c release --product vpcsim-bench
# Swift's debug information makes valgrind give up, so a stripped copy of the binary is run.
set -euo pipefail
mode=${1:-engine}
top=${2:-25}
extra=("${@:3}")
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "instructions-per-flow.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
bin=${BENCH_BIN:-.build/release/vpcsim-bench}
[ -x "$bin" ] || { echo "instructions-per-flow.sh: $bin not found (swift build -c release --product vpcsim-bench)" >&2; exit 1; }
case $mode in
engine) args=(engine) ;;
off|on|all-hops) args=(flows) ;;
*) echo "instructions-per-flow.sh: mode is engine, off, on or all-hops, not '$mode'" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$bin" "$work/bench" && strip --strip-debug "$work/bench"
export VPCSIM_BENCH_DIR="$work/out"
mkdir -p "$VPCSIM_BENCH_DIR"
read -r n1 n2 <<< "${FLOWS:-2000 4000}"
for n in "$n1" "$n2"; do
    if [ "$mode" = engine ]; then a=(engine "$n"); else a=(flows "$n" "$mode"); fi
    a+=("${extra[@]}")
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/cg.$n" "$work/bench" "${a[@]}" >/dev/null 2>&1
done
python3 - "$work" "$top" "$n1" "$n2" <<'EOF'
import os, re, subprocess, sys
work, top, n1, n2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
span = int(n2) - int(n1)
def self_costs(path):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", path], capture_output=True, text=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(\S.*)", line)
        if m and "PROGRAM TOTALS" not in line:
            fn = re.sub(r" \[.*\]$", "", m.group(2).split(":", 1)[-1])
            costs[fn] = costs.get(fn, 0) + int(m.group(1).replace(",", ""))
    return costs
def total(path):
    for line in open(path):
        if line.startswith(("summary:", "totals:")): return int(line.split()[1])
    return 0
files = sorted(f for f in os.listdir(work) if f.startswith(f"cg.{n1}"))
threads = 0
allThreads = 0
frames = 0
for f in files:
    a, b = os.path.join(work, f), os.path.join(work, f.replace(f"cg.{n1}", f"cg.{n2}"))
    per = (total(b) - total(a)) / span
    if per < 1: continue
    thread = f.split("-")[-1] if "-" in f else "1"
    print(f"thread {int(thread)}: {per:,.0f} instructions per flow")
    threads += 1
    allThreads += per
    ca, cb = self_costs(a), self_costs(b)
    if int(thread) == 1:
        # Frames are built on whichever thread has time (PcapWriterThread.isBehind), which under callgrind (threads
        # run one at a time) varies from run to run: the simulation's thread without them compares across runs.
        frames = sum(cb.get(k, 0) - ca.get(k, 0) for k in set(ca) | set(cb) if "5FrameV5write2to5parts" in k) / span
        if frames >= 1:
            print(f"  ({per - frames:,.0f} without building frames: {frames:,.0f} of Frame.write(to:parts:payload:))")
    rows = sorted(((cb.get(k, 0) - ca.get(k, 0)) / span, k) for k in set(ca) | set(cb))
    for v, k in reversed(rows[-top:]):
        name = subprocess.run(["swift", "demangle", "--simplified", "--compact", k], capture_output=True, text=True).stdout.strip() or k
        print(f"  {v:9,.0f}  {name[:140]}")
if threads > 1:
    print(f"all threads: {allThreads:,.0f} instructions per flow")
EOF
