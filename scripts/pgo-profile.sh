#!/bin/bash
# Makes profiles/Sim.profdata, the profile release builds of Sim and Packets are optimized with (Package.swift).
#
#   scripts/pgo-profile.sh
#
# Builds the libraries instrumented (LLVM's IR-level instrumentation, in .build/pgo-generate), runs the flow
# benchmarks at a fifth or a fiftieth of their size and every shipped scenario with them, and merges the
# counts. Run it after changing the simulation's hot paths (Sim's engine, network and endpoints, Packets'
# frames and files): a function changed since the profile was made is optimized without it, so an old profile
# costs speed, never correctness. The profile steers where the compiler inlines and how it lays out code, not
# what the code does: a build with it and one without (VPCSIM_NO_PGO=1) write byte-identical files.
# Needs the toolchain's llvm-profdata and libclang_rt.profile (both ship with Swift on Linux); about 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
toolchain=$(dirname "$(readlink -f "$(command -v swiftc)")")
profdata=$toolchain/llvm-profdata
[ -x "$profdata" ] || profdata=$(command -v llvm-profdata || true)
[ -n "$profdata" ] && [ -x "$profdata" ] || { echo "pgo-profile.sh: llvm-profdata not found beside swiftc or on PATH" >&2; exit 1; }
runtime=$(ls "$toolchain"/../lib/clang/*/lib/linux/libclang_rt.profile-"$(uname -m)".a 2>/dev/null | head -1)
[ -n "$runtime" ] || { echo "pgo-profile.sh: libclang_rt.profile-$(uname -m).a not found under $toolchain/../lib/clang" >&2; exit 1; }
work=$(mktemp -d)
scratch=.build/pgo-generate
raw=$PWD/$scratch/raw  # a fixed place: the build's flags name it, and a new one would rebuild everything
trap 'rm -rf "$work" "$raw"' EXIT
rm -rf "$raw"
VPCSIM_PGO_GENERATE="$raw" swift build -c release --scratch-path "$scratch" \
    -Xlinker "$runtime" -Xlinker -u__llvm_profile_runtime
bin=$scratch/release
nm "$bin/vpcsim-bench" > "$work/symbols"
grep -q __llvm_profile_begin_counters "$work/symbols" || { echo "pgo-profile.sh: $bin/vpcsim-bench is not instrumented" >&2; exit 1; }
export LLVM_PROFILE_FILE="$raw/%p.profraw" VPCSIM_BENCH_DIR="$work/bench"
mkdir -p "$VPCSIM_BENCH_DIR"
# The simulation's benchmarks, then every scenario. Not `large-vpc`: its YAML parse runs a loop some 200 million
# times, ten times the simulation's hottest function, and with it in the profile the compiler no longer took the
# simulation for hot code (`engine`: 40,977 instructions a flow, as with no profile; 37,304 with it left out).
"$bin/vpcsim-bench" engine 200000
"$bin/vpcsim-bench" flows 200000 off
"$bin/vpcsim-bench" flows 20000 on
# `vpcsim replay`'s reading and grouping (about a fiftieth of the engine's instructions above).
"$bin/vpcsim-bench" replay 300000
for s in scenarios/*.yaml; do
    # Every shipped scenario exits 0 (their expectations hold); one that fails or crashes here stops the script.
    "$bin/vpcsim" run "$s" --out "$work/runs/$(basename "$s" .yaml)" --quiet >/dev/null
done
mkdir -p profiles
"$profdata" merge --sparse -o profiles/Sim.profdata.tmp "$raw"/*.profraw
mv profiles/Sim.profdata.tmp profiles/Sim.profdata
# The build does not know the profile is an input: touch the sources it optimizes so that the next build uses it.
find Sources/Sim Sources/Packets -name '*.swift' -exec touch {} +
echo "pgo-profile.sh: profiles/Sim.profdata ($(stat -c %s profiles/Sim.profdata) bytes) from $(ls "$raw" | wc -l) runs"
