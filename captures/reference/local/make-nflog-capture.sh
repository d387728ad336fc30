#!/bin/bash
# Makes nflog_tcp-netns.pcap (captures/reference/local): one TCP connection between two Linux network namespaces, every packet of it
# logged by an nftables `log group 7 queue-threshold 1` rule (each packet handed to userspace at once, so that
# its record timestamp is when it was logged) in the client's namespace and captured with `tcpdump -i nflog:7`
# (link type 239, LINKTYPE_NFLOG). Needs root, iproute2, nftables, tcpdump and python3.
# Usage: make-nflog-capture.sh OUT.pcap
set -euo pipefail
out=${1:?usage: make-nflog-capture.sh OUT.pcap}
a=vpcsim-nflog-client
b=vpcsim-nflog-server
cleanup() {
    [[ -n ${dump:-} ]] && kill "$dump" 2>/dev/null || true
    [[ -n ${srv:-} ]] && kill "$srv" 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add "$a"
ip netns add "$b"
ip link add veth-nfa netns "$a" type veth peer name veth-nfb netns "$b"
ip -n "$a" addr add 10.99.0.1/24 dev veth-nfa
ip -n "$b" addr add 10.99.0.2/24 dev veth-nfb
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set veth-nfa up
ip -n "$b" link set veth-nfb up
# Log the connection's packets both ways, as seen in the client's namespace.
ip netns exec "$a" nft -f - <<'NFT'
table inet vpcsim_nflog {
    chain out { type filter hook output priority 0; ip daddr 10.99.0.2 tcp dport 8080 log group 7 queue-threshold 1; }
    chain in  { type filter hook input priority 0;  ip saddr 10.99.0.2 tcp sport 8080 log group 7 queue-threshold 1; }
}
NFT
ip netns exec "$b" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.2", 8080)); s.listen(1)
c, _ = s.accept()
data = c.recv(100)
c.sendall(b"pong\n")
c.close()
' &
srv=$!
ip netns exec "$a" tcpdump -i nflog:7 -U -w "$out" 2>/dev/null &
dump=$!
sleep 1
ip netns exec "$a" python3 -c '
import socket, time
c = socket.create_connection(("10.99.0.2", 8080), timeout=5)
c.sendall(b"ping\n")
print(c.recv(100).decode().strip())
time.sleep(0.2)
c.close()
'
wait "$srv"
sleep 1
kill -INT "$dump"
wait "$dump" || true
dump=
