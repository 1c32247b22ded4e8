#!/usr/bin/env bash
# Whether the heap that many short connections leave behind stops growing:
# stackd on its own (a LOOPBACK link, an FTP daemon, a SOCKS door, metrics),
# ROUNDS rounds of N connections through the door to the daemon (each read
# to the greeting and closed by the client), the heap after each round and
# every 10 s for IDLE afterwards. No root needed.
#
# Usage: scripts/heap-rounds.sh [rounds] [n]   (default 20 1400; IDLE=90s)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20} n=${2:-1400}
bin=$(mktemp -d)
cleanup() { [ -n "${stackd:-}" ] && { kill "$stackd" 2>/dev/null; wait "$stackd" 2>/dev/null || true; }; rm -rf "$bin"; }
trap cleanup EXIT
go build -o "$bin/heaprounds" ./scripts/heaprounds
go build -o "$bin/stackd" ./cmd/stackd
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
door=$(port) metrics=$(port)
mkdir -p "$bin/pub"
cat > "$bin/deck" <<DECK
DEFINE LINK ID=LOOP9,TYPE=LOOPBACK,IPADDR=10.99.90.1,MASK=255.255.255.0
DEFINE FILE PUBLIC=PUB,DLBL=$bin/pub
DEFINE USER ID=HEAP,PASSWORD=heap
DEFINE FTPD ID=FTP01,PORT=21,COUNT=1000,PERCLIENT=1000
DEFINE SOCKSD ID=S1,PORT=$door,COUNT=1000,PERCLIENT=1000
DECK
"$bin/stackd" --socket "$bin/sock" --data "$bin/data" --deck "$bin/deck" --metrics "127.0.0.1:$metrics" </dev/null >"$bin/out" 2>&1 &
stackd=$!
for _ in $(seq 50); do grep -q IPN213I "$bin/out" 2>/dev/null && break; sleep 0.2; done
"$bin/heaprounds" -door "127.0.0.1:$door" -metrics "http://127.0.0.1:$metrics/metrics" -rounds "$rounds" -n "$n" -idle "${IDLE:-90s}"
