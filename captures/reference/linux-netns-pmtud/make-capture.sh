#!/bin/bash
# Makes a real PMTUD black hole and its fix (captures/reference/linux-netns-pmtud): a real OpenSSH `sftp`
# client and a real sshd in Linux network namespaces, five of them in a line:
#
#   client c0 (1500) ── e0 edge e1 (1400) ── i0 isp i1 (1500) ── v0 vpc v1 (9001) ── s0 server (9001)
#   10.98.1.2   10.98.1.1    10.98.2.2    10.98.2.1  10.98.3.1  10.98.3.2  10.98.4.1  10.98.4.2
#
# The client sits on an ordinary 1500-byte LAN behind a narrower link (edge ↔ isp at MTU 1400: a PPPoE line or a
# corporate VPN), so it advertises MSS 1460; the server has an instance's MTU, 9001. A full-size segment from the
# server (1500 bytes, DF set) cannot cross the 1400 link: the isp router drops it and sends ICMP type 3 code 4
# (next-hop MTU 1400) back toward the server. The vpc namespace stands where the server's network ACL stands:
# in the black-hole variant its nftables forward chain drops ICMP type 3 code 4 toward the server; in the fixed
# variant nothing is dropped, the server caches the path MTU and resegments, and the session completes.
# Every namespace uses CUBIC (logged), offloads are off on every veth (the captures show the segments on the
# wire), tcp_mtu_probing is 0 (the kernel default, logged). Captures: 128-byte snaplen, at c0, i0, i1, v0, s0.
# Needs root, iproute2, nftables, ethtool, tcpdump, OpenSSH's sshd and sftp.
# Usage: make-capture.sh OUTDIR [SECONDS]   (SECONDS: how long the black-hole client waits, default 75)
set -euo pipefail
out=$(realpath "${1:?usage: make-capture.sh OUTDIR [SECONDS]}")
wait_s=${2:-75}
here=$(dirname "$(realpath "$0")")
nss=(pm-client pm-edge pm-isp pm-vpc pm-server)
work=$(mktemp -d)
dumps=()
cleanup() {
    for p in "${dumps[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -n ${srv:-} ]] && kill "$srv" 2>/dev/null || true
    for ns in "${nss[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
chmod 600 "$work/authorized_keys"
mkdir -p /run/sshd
cat >"$work/sshd_config" <<CONF
ListenAddress 10.98.4.2
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
echo ls / >"$work/batch"

# link NS1 IF1 ADDR1 MTU1 NS2 IF2 ADDR2 MTU2
link() {
    ip link add "$2" netns "$1" type veth peer name "$6" netns "$5"
    ip -n "$1" addr add "$3/24" dev "$2"
    ip -n "$5" addr add "$7/24" dev "$6"
    ip -n "$1" link set "$2" mtu "$4"
    ip -n "$5" link set "$6" mtu "$8"
    for e in "$1:$2" "$5:$6"; do
        ip netns exec "${e%%:*}" ethtool -K "${e#*:}" tso off gso off gro off tx off rx off sg off >/dev/null 2>&1 || true
        ip -n "${e%%:*}" link set "${e#*:}" up
    done
}

setup() {
    for ns in "${nss[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    # A new namespace starts with the initial namespace's congestion control: make it CUBIC while the namespaces
    # are made (the host's may be bbr), then put back what it was.
    local cc_before
    cc_before=$(sysctl -n net.ipv4.tcp_congestion_control)
    sysctl -q -w net.ipv4.tcp_congestion_control=cubic
    for ns in "${nss[@]}"; do ip netns add "$ns"; done
    sysctl -q -w net.ipv4.tcp_congestion_control="$cc_before"
    for ns in "${nss[@]}"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_congestion_control=cubic
        ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_mtu_probing=0
    done
    link pm-client c0 10.98.1.2 1500 pm-edge e0 10.98.1.1 1500
    link pm-edge e1 10.98.2.2 1400 pm-isp i0 10.98.2.1 1400
    link pm-isp i1 10.98.3.1 1500 pm-vpc v0 10.98.3.2 1500
    link pm-vpc v1 10.98.4.1 9001 pm-server s0 10.98.4.2 9001
    for ns in pm-edge pm-isp pm-vpc; do ip netns exec "$ns" sysctl -q -w net.ipv4.ip_forward=1; done
    ip -n pm-client route add default via 10.98.1.1
    ip -n pm-edge route add default via 10.98.2.1
    ip -n pm-isp route add 10.98.1.0/24 via 10.98.2.2
    ip -n pm-isp route add 10.98.4.0/24 via 10.98.3.2
    ip -n pm-vpc route add default via 10.98.3.1
    ip -n pm-server route add default via 10.98.4.1
}

capture() {  # NS IF FILE
    ip netns exec "$1" tcpdump -i "$2" -s 128 -U -w "$3" 'tcp port 22 or icmp' 2>/dev/null &
    dumps+=($!)
}

run() {  # VARIANT SECONDS
    local variant=$1 secs=$2 dir="$out/$1"
    mkdir -p "$dir"
    setup
    if [[ $variant == blackhole ]]; then
        # The network ACL: ICMP destination unreachable / fragmentation needed toward the server is dropped.
        ip netns exec pm-vpc nft -f - <<NFT
table inet nacl {
    chain forward {
        type filter hook forward priority 0; policy accept;
        oifname "v1" icmp type destination-unreachable icmp code frag-needed counter drop
    }
}
NFT
    fi
    ip netns exec pm-server /usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd-$variant.log" &
    srv=$!
    capture pm-client c0 "$dir/client-c0.pcap"
    capture pm-isp i0 "$dir/isp-i0.pcap"
    capture pm-isp i1 "$dir/isp-i1.pcap"
    capture pm-vpc v0 "$dir/vpc-v0.pcap"
    capture pm-server s0 "$dir/server-s0.pcap"
    sleep 1
    {
        echo "# linux-netns-pmtud: $variant"
        echo "host kernel: $(uname -r)  $(ssh -V 2>&1)"
        for ns in "${nss[@]}"; do
            echo "$ns: $(ip netns exec "$ns" sysctl net.ipv4.tcp_congestion_control net.ipv4.tcp_mtu_probing \
                net.ipv4.ip_no_pmtu_disc | tr '\n' ' ')"
            echo "$ns mtu: $(ip -n "$ns" -o link show | awk '$2 != "lo:" {print $2, $4, $5}' | tr '\n' ' ')"
        done
        [[ $variant == blackhole ]] && echo "pm-vpc nft: $(ip netns exec pm-vpc nft list ruleset | tr -s ' \n' ' ')"
        local start end rc=0
        start=$(date +%s.%N)
        echo "client: timeout ${secs}s sftp -b (ls /) root@10.98.4.2, ConnectTimeout=10"
        ip netns exec pm-client timeout "$secs" sftp -v -b "$work/batch" -i "$work/client_key" \
            -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=10 \
            root@10.98.4.2 >"$work/sftp.out" 2>&1 || rc=$?
        end=$(date +%s.%N)
        grep -E 'debug1: (Connection established|Remote protocol|SSH2_MSG_KEXINIT|expecting|SSH2_MSG_KEX_ECDH_REPLY|Authenticated)|^sftp>|^Connection|Timeout' \
            "$work/sftp.out" | sed 's/^/sftp: /' || true
        echo "sftp exit $rc after $(awk "BEGIN {printf \"%.3f\", $end - $start}") s (124: killed by timeout)"
        echo "server route cache: $(ip -n pm-server route get 10.98.1.2 | tr -s ' \n' ' ')"
        [[ $variant == blackhole ]] && echo "pm-vpc nft counter: $(ip netns exec pm-vpc nft list ruleset | grep -o 'packets [0-9]* bytes [0-9]*')"
    } >"$dir/run.log"
    sleep 1
    for p in "${dumps[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${dumps[@]}"; do wait "$p" 2>/dev/null || true; done
    dumps=()
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
    srv=
    for f in "$dir"/*.pcap; do echo "capture $(basename "$f"): $(tcpdump -r "$f" 2>/dev/null | wc -l) packets" >>"$dir/run.log"; done
    cat "$dir/run.log"
}

run blackhole "$wait_s"
run fixed 20
