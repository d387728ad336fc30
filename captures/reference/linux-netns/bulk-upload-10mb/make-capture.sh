#!/bin/bash
# Makes sender-eth0.pcap and run.log (captures/reference/linux-netns/bulk-upload-10mb): a real OpenSSH
# `sftp put` of 10,000,000 bytes between two Linux network namespaces joined by a wire with 10 ms of delay each
# way (a 20 ms round trip), CUBIC in both namespaces, the kernel's default tcp_rmem/tcp_wmem, offloads off (so
# that the capture shows the segments on the wire), captured at the sender's interface with a 96-byte snaplen
# (headers only: the fixture stays small).
# The kernel this was made on has no sch_netem (`tc qdisc add … netem` fails: "Specified qdisc kind is unknown"),
# so the wire is delay-wire.c (beside this script): a process that owns one TAP device in each namespace and
# writes every frame read from one to the other 10 ms later, in order (the capture's SYN → SYN-ACK shows the
# round trip it makes). Writing a frame into a namespace runs that namespace's TCP receive path in the wire's
# process, so the wire carries a few hundred Mbit/s on a busy 2-CPU machine: a bottleneck of its own.
# Needs root, iproute2, ethtool, gcc, tcpdump, OpenSSH's sshd and sftp, python3.
# Usage: make-capture.sh OUTDIR
set -euo pipefail
out=$(realpath "${1:?usage: make-capture.sh OUTDIR}")
a=vpcsim-bulk-client
b=vpcsim-bulk-server
work=$(mktemp -d)
cleanup() {
    [[ -n ${dump:-} ]] && kill "$dump" 2>/dev/null || true
    [[ -n ${srv:-} ]] && kill "$srv" 2>/dev/null || true
    [[ -n ${wire:-} ]] && kill "$wire" 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns del "$a" 2>/dev/null || true
ip netns del "$b" 2>/dev/null || true
# A new namespace starts with the initial namespace's congestion control, and may only switch to one in the
# (global) tcp_allowed_congestion_control: make CUBIC the initial namespace's default while the two namespaces
# are made, then put back what it was.
cc_before=$(sysctl -n net.ipv4.tcp_congestion_control)
sysctl -q -w net.ipv4.tcp_congestion_control=cubic
ip netns add "$a"
ip netns add "$b"
sysctl -q -w net.ipv4.tcp_congestion_control="$cc_before"
gcc -O2 -o "$work/delay-wire" "$(dirname "$0")/delay-wire.c"
# The wire and both ends run at real-time priorities, so that other work on the machine
# shows as little as it can in the timings.
coproc WIRE { exec chrt -f 20 "$work/delay-wire" tap-bka tap-bkb 10000; }
wire=$WIRE_PID
read -r ready <&"${WIRE[0]}"
[[ $ready == ready ]]
ip link set tap-bka netns "$a"
ip link set tap-bkb netns "$b"
ip -n "$a" addr add 10.99.1.1/24 dev tap-bka
ip -n "$b" addr add 10.99.1.2/24 dev tap-bkb
for ns in "$a" "$b"; do
    ip -n "$ns" link set lo up
    # Each namespace gets the kernel's defaults for a new namespace; set the ones the comparison depends on
    # explicitly so that the host's own settings cannot leak in.
    [[ $(ip netns exec "$ns" sysctl -n net.ipv4.tcp_congestion_control) == cubic ]] || { echo "$ns: not cubic" >&2; exit 1; }
    ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_rmem="4096 131072 6291456"
    ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_wmem="4096 16384 4194304"
done
ip -n "$a" link set tap-bka up
ip -n "$b" link set tap-bkb up
for dev in "$a:tap-bka" "$b:tap-bkb"; do
    ns=${dev%%:*}; ifc=${dev#*:}
    ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off tx off rx off sg off >/dev/null 2>&1 || true
    ip netns exec "$ns" ip link set "$ifc" txqueuelen 10000
done
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
chmod 600 "$work/authorized_keys"
mkdir -p /run/sshd
cat >"$work/sshd_config" <<EOF
ListenAddress 10.99.1.2
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
EOF
head -c 10000000 /dev/zero | tr '\0' 'x' >"$work/upload.bin"
ip netns exec "$b" chrt -f 10 /usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
srv=$!
ip netns exec "$a" tcpdump -i tap-bka -s 96 -U -w "$out/sender-eth0.pcap" 'tcp port 22' 2>/dev/null &
dump=$!
sleep 1
{
    echo "# bulk-upload-10mb: sftp put of 10000000 bytes, 10.99.1.1 -> 10.99.1.2:22"
    echo "host kernel: $(uname -r)  $(ssh -V 2>&1)"
    for ns in "$a" "$b"; do
        echo "$ns: $(ip netns exec "$ns" sysctl net.ipv4.tcp_congestion_control net.ipv4.tcp_rmem net.ipv4.tcp_wmem \
            net.ipv4.tcp_adv_win_scale net.ipv4.tcp_slow_start_after_idle | tr '\n' ' ')"
        echo "$ns qdisc: $(ip netns exec "$ns" tc qdisc show | tr '\n' ' ')"
    done
    echo "offloads (sender): $(ip netns exec "$a" ethtool -k tap-bka 2>/dev/null \
        | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):' | tr '\n' ' ')"
    start=$(date +%s.%N)
    echo "put $work/upload.bin /tmp/vpcsim-bulk-upload.bin" >"$work/batch"
    ip netns exec "$a" chrt -f 10 sftp -q -b "$work/batch" -i "$work/client_key" -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o BatchMode=yes root@10.99.1.2 2>&1 | sed 's/^/sftp: /'
    end=$(date +%s.%N)
    echo "sftp exit 0, wall time $(python3 -c "print(f'{$end - $start:.3f}')") s (connection to exit)"
    echo "received: $(stat -c %s /tmp/vpcsim-bulk-upload.bin) bytes"
} >"$out/run.log"
rm -f /tmp/vpcsim-bulk-upload.bin
sleep 1
kill -INT "$dump"
wait "$dump" || true
dump=
echo "capture: $(tcpdump -r "$out/sender-eth0.pcap" 2>/dev/null | wc -l) packets" >>"$out/run.log"
cat "$out/run.log"
