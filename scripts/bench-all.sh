#!/bin/bash
# Every figure of docs/performance.md, in one sitting: runs each `vpcsim-bench` command of the page's table
# RUNS times (default 2) and prints its result lines, with the commit, the time and the load average before each,
# so that a sitting's figures can be told from a loaded machine's. Needs a release build:
#   swift build -c release --product vpcsim-bench
#   scripts/bench-all.sh [RUNS] [KEEP-DIR]
# KEEP-DIR keeps the generated inputs (the 1.1 GB flow log of `replay`, the compare-logs logs, the TGW dump)
# between sittings; by default they go in a temporary directory removed at the end.
set -euo pipefail
runs=${1:-2}
cd "$(dirname "$0")/.."
bin=${BENCH_BIN:-.build/release/vpcsim-bench}
[ -x "$bin" ] || { echo "bench-all.sh: $bin not found (swift build -c release --product vpcsim-bench)" >&2; exit 1; }
if [ -n "${2:-}" ]; then keep=$2; mkdir -p "$keep"; else keep=$(mktemp -d); trap 'rm -rf "$keep"' EXIT; fi
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
bench() {
    for _ in $(seq "$runs"); do
        echo "== vpcsim-bench $* (load average $(cut -d' ' -f1-3 /proc/loadavg))"
        "$bin" "$@" 2>&1 | tail -n 4
    done
}
bench engine 300000
bench flows 1000000 off
bench flows 1000000 off ipv6
bench hops 50000
bench large-vpc 7
bench syn-pcap 5000000
bench compare-logs 1000000 "$keep/compare-logs"
bench replay 10000000 "$keep/replay"
bench tgw-account 7 "$keep/tgw"
bench tgw-flows 1000000
