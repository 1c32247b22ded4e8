#!/usr/bin/env bash
# Whether the heap that many short connections leave behind stops growing:
# stackd on its own (a LOOPBACK link, an FTP daemon, a SOCKS door, metrics),
# ROUNDS rounds of N connections through the door to the daemon (each read
# to the greeting and closed by the client), the heap after each round and
# every 10 s for IDLE afterwards. No root needed.
#
# MSL=5S sets the TIME_WAIT model's MSL (the stack's TIME_WAIT is 2×MSL);
# MEMPROFILE=file writes stackd's heap profile when it ends (after the idle
# watch; for go tool pprof with the binary, kept as file.bin). At the end it
# shows what the connection table, the FTP daemon and the door still hold.
#
# Usage: scripts/heap-rounds.sh [rounds] [n]   (default 20 1400; IDLE=90s)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20} n=${2:-1400}
bin=$(mktemp -d)
cleanup() {
  # stackd ends on TERM and writes its heap profile first.
  [ -n "${stackd:-}" ] && { kill "$stackd" 2>/dev/null; wait "$stackd" 2>/dev/null || true; }
  [ -n "${MEMPROFILE:-}" ] && cp "$bin/stackd" "$MEMPROFILE.bin"
  rm -rf "$bin"
}
trap cleanup EXIT
go build -o "$bin/heaprounds" ./scripts/heaprounds
go build -o "$bin/stackd" ./cmd/stackd
go build -o "$bin/ipnconsole" ./cmd/ipnconsole
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
door=$(port) metrics=$(port)
mkdir -p "$bin/pub"
cat > "$bin/deck" <<DECK
DEFINE LINK ID=LOOP9,TYPE=LOOPBACK,IPADDR=10.99.90.1,MASK=255.255.255.0
DEFINE FILE PUBLIC=PUB,DLBL=$bin/pub
DEFINE USER ID=HEAP,PASSWORD=heap
DEFINE FTPD ID=FTP01,PORT=21,COUNT=1000,PERCLIENT=1000
DEFINE SOCKSD ID=S1,PORT=$door,COUNT=1000,PERCLIENT=1000
${MSL:+SET MSL=$MSL}
DECK
"$bin/stackd" ${MEMPROFILE:+--memprofile "$MEMPROFILE"} --socket "$bin/sock" --data "$bin/data" --deck "$bin/deck" --metrics "127.0.0.1:$metrics" </dev/null >"$bin/out" 2>&1 &
stackd=$!
for _ in $(seq 50); do grep -q IPN213I "$bin/out" 2>/dev/null && break; sleep 0.2; done
"$bin/heaprounds" -door "127.0.0.1:$door" -metrics "http://127.0.0.1:$metrics/metrics" -rounds "$rounds" -n "$n" -idle "${IDLE:-90s}"
printf 'QUERY CONNECTIONS\nQUERY FTPDS\n' | "$bin/ipnconsole" --socket "$bin/sock" | grep -E 'IPN142I|IPN147I|IPN447I' || true
curl -s "http://127.0.0.1:$metrics/metrics" | grep -E '^go_goroutines|^go_memstats_heap_objects' || true
