#!/usr/bin/env python3
"""Runs valid scenarios with edge values through `vpcsim run` and reports any run that crashes, hangs or writes a
capture tshark finds malformed.

    scripts/fuzz-inputs.py semantic [CASES] [SEED]

semantic: valid scenarios with edge values for assumptions, sizes, durations and generator counts, run with
captures on; one run in seven also has its pcaps checked by tshark (checksums, malformed frames).

The parsers themselves (scenario YAML, pcap/pcapng, flow logs, AWS dumps) are fuzzed by vpcsim-fuzz
(docs/robustness.md), in process and far faster; this script covers what that does not: whole simulations.

A crash is a signal, an exit status of 128 or more, or Swift's "Fatal error"; an invalid input must exit 2 with
one line on stderr. Offending inputs are kept under $FUZZ_DIR (default /tmp/vpcsim-fuzz). Exit status: 0 none
found, 1 some. Needs a release build (swift build -c release --product vpcsim). The same SEED gives the same
cases. Found on 2026-11-27: a 1 TB flow size and server_synack_retries: 255 crashed, a flow starting in 136
years exhausted memory, a tcp flow of size 0 sent a byte (all fixed).
"""
import glob, os, random, re, shutil, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build/release/vpcsim")
WORK = os.environ.get("FUZZ_DIR", "/tmp/vpcsim-fuzz")
ASSUMPTIONS = {
    "nat_port_selection": ["preserve", "random", "sequential"], "vpc_hop_latency_us": ["0", "1", "10000000"],
    "nat_processing_us": ["0", "10000000"], "internet_rtt_ms": ["0", "1", "600000"], "internet_hops": ["0", "64"],
    "nat_decrements_ttl": ["true", "false"], "igw_decrements_ttl": ["true", "false"],
    "nat_idle_timeout_s": ["1", "86400"], "nat_connections_per_destination": ["1", "2", "64512"],
    "server_synack_retries": ["0", "255"], "lambda_ephemeral_ports": ["1-1", "65535-65535", "1024-1025"],
    "flow_log_record_per_connection": ["true", "false"],
}
# Sizes 1-4 left out: a tcp flow's few random bytes on port 22 are malformed SSH to tshark (docs/scenarios.md).
FIELDS = {"size": ["0", "5", "1460", "1461", "100000"], "start": ["0s", "1ns", "1000h"], "hold": ["0s", "1ns", "1000h"],
          "connect_timeout": ["1ns", "1ms", "1000h"], "over": ["0s", "1ns", "1000h"]}

found = 0


def run(args, timeout=120):
    try:
        return subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def check(case, args, keep):
    """Runs vpcsim; records a crash, a hang or a multi-line invalid-input error, keeping `keep` (a path)."""
    global found
    r = run(args)
    problem = None
    if r is None:
        problem = "no answer in 120 s"
    elif r.returncode < 0 or r.returncode >= 128 or "Fatal error" in r.stderr or "Program crashed" in r.stderr:
        problem = f"crashed (status {r.returncode}): " + " | ".join(l for l in r.stderr.splitlines() if "error" in l.lower())[:300]
    elif r.returncode == 2 and r.stderr.strip().count("\n") > 0:
        problem = "invalid input reported on more than one line: " + r.stderr[:300].replace("\n", " | ")
    if problem:
        found += 1
        dest = os.path.join(WORK, f"case{case}-" + os.path.basename(keep.rstrip("/")))
        print(f"case {case}: {' '.join(os.path.basename(a) if a.startswith('/') else a for a in args[1:])}: {problem} (input kept: {dest})")
        keep_input(keep, dest)
    return r


def keep_input(path, dest):
    if os.path.isdir(path):
        shutil.copytree(path, dest, dirs_exist_ok=True)
    else:
        shutil.copy(path, dest)


# tshark 4.0 does not know sntrup761x25519 (the reality scenarios' key exchange) and calls its keys' length
# invalid (docs/fidelity.md): a frame with that message is no fault (unless malformed).
KNOWN_EXPERT = ("Invalid key length",)


def tshark_faults(pcap):
    """The frames tshark finds malformed, with a bad checksum, or with an error other than KNOWN_EXPERT."""
    t = run(["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
             "-Y", '_ws.malformed || _ws.expert.severity >= "error"', "-T", "fields", "-e", "frame.number",
             "-e", "_ws.malformed", "-e", "_ws.expert.message", "-E", "aggregator=|"])
    if t is None:
        return ["tshark gave no answer in 120 s"]
    if t.returncode != 0:
        return ["tshark failed: " + t.stderr.strip()[:200]]
    faults = []
    for line in t.stdout.splitlines():
        number, malformed, messages = (line.split("\t") + ["", ""])[:3]
        found_messages = [m for m in messages.split("|") if m]
        if any(m.startswith(KNOWN_EXPERT) for m in found_messages) and not malformed:
            continue  # the unknown key exchange, and what tshark misreads after it in the same frame
        unknown = found_messages
        if malformed or unknown:
            faults.append(f"frame {number}: " + ("malformed " if malformed else "") + ", ".join(unknown))
    return faults


def main():
    global found
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    if mode != "semantic":
        print(__doc__, file=sys.stderr)
        return 2
    if not os.access(BIN, os.X_OK):
        print(f"fuzz-inputs.py: {BIN} not found (swift build -c release --product vpcsim)", file=sys.stderr)
        return 2
    os.makedirs(WORK, exist_ok=True)
    out = os.path.join(WORK, "out")
    scenarios = sorted(glob.glob(os.path.join(ROOT, "scenarios/*.yaml")))
    for case in range(cases):
        text = open(rng.choice(scenarios)).read()
        picks = dict(rng.sample(sorted(ASSUMPTIONS.items()), rng.randint(1, 5)))
        block = "assumptions:\n" + "".join(f"  {k}: {rng.choice(v)}\n" for k, v in picks.items())
        text = re.sub(r"^assumptions:\n(?:  .*\n)*", "", text, flags=re.M) + "\n" + block
        text = re.sub(r"^(\s+(?:- )?)(size|start|hold|connect_timeout|over): [^#\n]*",
                      lambda m: f"{m.group(1)}{m.group(2)}: {rng.choice(FIELDS[m.group(2)])} " if rng.random() < 0.5 else m.group(0),
                      text, flags=re.M)
        text = re.sub(r"count: \d+", lambda m: "count: " + rng.choice(["1", "3", "2000"]), text)
        text = re.sub(r"^    expect: \{min_ok.*\n", "", text, flags=re.M)
        path = os.path.join(WORK, "case.yaml")
        open(path, "w").write(text)
        shutil.rmtree(out, ignore_errors=True)
        r = check(case, [BIN, "run", path, "--out", out, "--quiet"], path)
        if r is not None and r.returncode in (0, 1) and case % 7 == 0 and shutil.which("tshark"):
            for pcap in sorted(glob.glob(os.path.join(out, "*.pcap*"))):
                faults = tshark_faults(pcap)
                if faults:
                    found += 1
                    kept = os.path.join(WORK, f"case{case}-tshark.yaml")
                    print(f"case {case}: tshark: {os.path.basename(pcap)}: {faults[0][:200]}"
                          f"{f' (and {len(faults) - 1} more)' if len(faults) > 1 else ''} (input kept: {kept})")
                    keep_input(path, kept)
    print(f"fuzz-inputs.py {mode}: {cases} cases, {found} problem{'s' if found != 1 else ''} found")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
