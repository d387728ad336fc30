#!/bin/bash
# Cache misses per flow of the simulation's engine, simulated by valgrind's cachegrind: deterministic, where wall
# time on a shared VM moves by ±30% from one second to the next.
#
#   scripts/cache-misses-per-flow.sh [TOP]
#
# Runs `vpcsim-bench engine N` (the simulation alone, one thread) under cachegrind for N = 4,000 and 8,000 and
# prints, per flow (the difference of the two runs divided by 4,000, so start-up cancels out): instructions, and
# misses of the first-level instruction cache (I1), of the first-level data cache (D1) and of a 512 KiB
# second-level cache (L2, this machine's per core; cachegrind calls it LL), then the TOP functions by each; and
# the hot code's footprint: the 64-byte lines of code executed at least once a flow on average (callgrind with
# --dump-instr=yes on `engine 4000`), against the 32 KiB I1.
# Caches as this machine's AMD EPYC: I1 and D1 32 KiB, 8-way, 64-byte lines; L2 512 KiB, 8-way.
#
# Why: instruction counts (scripts/instructions-per-flow.sh) miss what the memory system costs. An I1 miss that
# hits the L2 costs some 12–14 cycles, a D1 miss as much, an L2 miss that hits the L3 some 40–50; at a flow's
# ~43,000 instructions (~11,000 cycles at 4 a cycle) a thousand I1 misses are as much again.
# Needs valgrind (apt-get install valgrind) and a release build:
#   swift build -c release --product vpcsim-bench
set -euo pipefail
top=${1:-15}
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "cache-misses-per-flow.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
bin=${BENCH_BIN:-.build/release/vpcsim-bench}
[ -x "$bin" ] || { echo "cache-misses-per-flow.sh: $bin not found (swift build -c release --product vpcsim-bench)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$bin" "$work/bench" && strip --strip-debug "$work/bench"
for n in 4000 8000; do
    valgrind --tool=cachegrind --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=524288,8,64 \
        --cachegrind-out-file="$work/cg.$n" "$work/bench" engine "$n" >/dev/null 2>&1
done
valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$work/instr.4000" "$work/bench" engine 4000 >/dev/null 2>&1
python3 - "$work" "$top" <<'EOF'
import collections, re, subprocess, sys
work, top = sys.argv[1], int(sys.argv[2])
events = ["Ir", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"]
def load(path):
    out = subprocess.run(["cg_annotate", "--show=" + ",".join(events), "--sort=Ir", "--threshold=0", path],
                         capture_output=True, text=True).stdout
    rows, totals = {}, None
    num = r"([\d,]+)\s*(?:\([^)]*\))?\s+"
    for line in out.splitlines():
        m = re.match(r"\s*" + num * len(events) + r"(\S.*)$", line)
        if not m: continue
        v = [int(m.group(i + 1).replace(",", "")) for i in range(len(events))]
        name = m.group(len(events) + 1)
        if "PROGRAM TOTALS" in name: totals = v; continue
        name = re.sub(r"^.*?:", "", name, count=1)
        rows[name] = [a + b for a, b in zip(rows.get(name, [0] * len(events)), v)]
    return rows, totals
(ra, ta), (rb, tb) = load(f"{work}/cg.4000"), load(f"{work}/cg.8000")
per = [(b - a) / 4000 for a, b in zip(ta, tb)]
ir, i1, d1r, d1w, ilr, dlr, dlw = per
print(f"per flow: {ir:,.0f} instructions; I1 misses {i1:,.0f}; D1 misses {d1r + d1w:,.0f} ({d1r:,.0f} reads, "
      f"{d1w:,.0f} writes); L2 misses {ilr + dlr + dlw:,.0f} ({ilr:,.0f} code, {dlr + dlw:,.0f} data)")
diff = {k: [(b - a) / 4000 for a, b in zip(ra.get(k, [0] * len(events)), v)] for k, v in rb.items()}
def demangle(k):
    return subprocess.run(["swift", "demangle", "--simplified", "--compact", k], capture_output=True, text=True).stdout.strip() or k
for title, f in [("I1 misses", lambda v: v[1]), ("D1 misses", lambda v: v[2] + v[3]), ("L2 misses", lambda v: v[4] + v[5] + v[6])]:
    print(f"{title} by function:")
    for k, v in sorted(diff.items(), key=lambda kv: -f(kv[1]))[:top]:
        if f(v) >= 0.5: print(f"  {f(v):7.1f}  {demangle(k)[:130]}")
# Hot code: a line whose most executed instruction ran at least 4,000 times (once a flow). callgrind's file gives
# each instruction's address absolutely (0x...) or relative to the one before (+n / -n), then its counts.
counts, addr, skip = collections.Counter(), 0, False
for line in open(f"{work}/instr.4000"):
    if line.startswith("calls="): skip = True; continue
    m = re.match(r"^(0x[0-9a-f]+|\+\d+|-\d+|\*)\s+\S+\s+(\d+)", line)
    if not m: continue
    p = m.group(1)
    if p.startswith("0x"): addr = int(p, 16)
    elif p[0] == "+": addr += int(p[1:])
    elif p[0] == "-": addr -= int(p[1:])
    if skip: skip = False; continue  # a call's inclusive cost, not the instruction's own
    counts[addr] += int(m.group(2))
lines = collections.Counter()
for a, c in counts.items(): lines[a >> 6] = max(lines[a >> 6], c)
hot = sum(1 for c in lines.values() if c >= 4000)
print(f"hot code: {hot:,} lines of 64 bytes ({hot * 64 // 1024} KiB) executed at least once a flow; I1 holds 32 KiB")
EOF
