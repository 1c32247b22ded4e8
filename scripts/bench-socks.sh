#!/usr/bin/env bash
# SOCKS door benchmark (needs root): a host client through the stack's
# SOCKS door against the same client through a SOCKS server on the kernel
# (Debian's microsocks: the fair peer, a proxy on the same path) and
# connecting directly through the kernel, on the same veth, in interleaved
# rounds, ratios per round.
#
#   ns ipnbA: veth end A, the kernel server at 10.77.41.1
#   ns ipnbB: veth end B, the client's kernel at 10.77.41.2, stackd with a
#             RAW link on the same end at 10.77.41.20 and a SOCKS door on
#             127.0.0.1:1080, and microsocks on 127.0.0.1:1081
#
# SHORT: 10,000 connections, 8 at a time: connect, send 1 KiB, close.
# DL: the server sends 1 GiB, the client reads.
#
# PROFILE=file: stackd writes a CPU profile of its whole run there (for go
# tool pprof with the stackd binary the script built, kept as file.bin).
# TESTS="short dl": some of the measurements only.
#
# Usage: scripts/bench-socks.sh [rounds]   (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
A=ipnbA$$ B=ipnbB$$ VA=ipnbva$$ VB=ipnbvb$$
. scripts/lib/nspair.sh
bin=$(mktemp -d)
cleanup() {
  pkill -f "$bin/ipnbench" 2>/dev/null || true
  [ -n "${msocks:-}" ] && { kill "$msocks" 2>/dev/null; wait "$msocks" 2>/dev/null || true; }
  # stackd ends on TERM and writes its profile first.
  [ -n "${stackd:-}" ] && { kill "$stackd" 2>/dev/null; wait "$stackd" 2>/dev/null || true; }
  pkill -f "$bin/stackd" 2>/dev/null || true
  nspair_down
  rm -rf "$bin"
}
trap cleanup EXIT
command -v microsocks >/dev/null || { echo "bench-socks.sh: microsocks is missing: apt-get install microsocks" >&2; exit 1; }
go build -o "$bin/ipnbench" ./scripts/ipnbench
go build -o "$bin/stackd" ./cmd/stackd

nspair_up 41

cat > "$bin/deck" <<DECK
DEFINE LINK ID=OSA1,TYPE=OSAX,DEV=$VB,IPADDR=10.77.41.20,MASK=255.255.255.0
DEFINE SOCKSD ID=SOCKS1,PORT=1080,PERCLIENT=10000,COUNT=10000
DECK
prof=()
if [ -n "${PROFILE:-}" ]; then
  prof=(--cpuprofile "$PROFILE")
  cp "$bin/stackd" "$PROFILE.bin"
fi
tests=" ${TESTS:-short dl} "
ip netns exec "$B" "$bin/stackd" "${prof[@]}" --socket "$bin/console.sock" --data "$bin/data" --deck "$bin/deck" \
  --console off --hardcopy none > "$bin/stackd.out" 2>&1 &
stackd=$!
for _ in $(seq 100); do grep -q IPN213I "$bin/stackd.out" 2>/dev/null && break; sleep 0.05; done
grep -q IPN213I "$bin/stackd.out" || { echo "stackd did not start:"; cat "$bin/stackd.out"; exit 1; }
grep -q IPN204E "$bin/stackd.out" && { echo "the deck failed:"; cat "$bin/stackd.out"; exit 1; }
ip netns exec "$B" microsocks -i 127.0.0.1 -p 1081 > "$bin/microsocks.out" 2>&1 &
msocks=$!
for _ in $(seq 100); do ip netns exec "$B" ss -ltn 2>/dev/null | grep -q '127.0.0.1:1081' && break; sleep 0.05; done
ip netns exec "$B" ss -ltn | grep -q '127.0.0.1:1081' || { echo "microsocks did not start:"; cat "$bin/microsocks.out"; exit 1; }

# serve MODE: starts the kernel server in ns A and waits until it listens.
serve() {
  ip netns exec "$A" "$bin/ipnbench" server --impl kernel --dev "$VA" --addr 10.77.41.1/24 --port 5001 --mode "$1" \
    > "$bin/server.out" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q READY "$bin/server.out" 2>/dev/null && return; sleep 0.05; done
  echo "server did not start:"; cat "$bin/server.out"; exit 1
}
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
# run SERVERMODE CLIENTMODE [client flags]: one measurement; a client that
# failed or printed nothing ends the script, rather than leave a hole.
run() {
  serve "$1"
  local out rc=0
  out=$(ip netns exec "$B" timeout 120 "$bin/ipnbench" client --target 10.77.41.1:5001 --mode "$2" "${@:3}" 2>&1) || rc=$?
  stop
  if [ "$rc" != 0 ] || [ -z "$out" ]; then
    echo "bench-socks.sh: the client ($2 ${*:3}) failed with rc $rc: ${out:-no output}" >&2
    echo "stackd's last lines:" >&2; tail -20 "$bin/stackd.out" >&2
    tail -20 "$bin/data/"*.log 2>/dev/null >&2 || true
    exit 1
  fi
  echo "$out"
}
figure() { awk '{for (i=1;i<=NF;i++) if ($i ~ /Gbit\/s|\/s$/) {print $(i-1)} }' | sed 's/[^0-9.]//g' | tail -1; }
ratio() { awk -v s="$1" -v k="$2" 'BEGIN { if (s == "-" || k == "-") print "-"; else if (k > 0) printf "%.2f", s / k; else print "n/a" }'; }

echo "date: $(date -u +%FT%TZ)  kernel: $(uname -r)  cpus: $(nproc)  go: $(go version | awk '{print $3}')"
shorts="" dls="" mshorts="" mdls=""
for r in $(seq "$rounds"); do
  ks=- ss=- ms=- kd=- sd=- md=-
  if [[ $tests == *" short "* ]]; then
    ks=$(run short short --conns 10000 --c 8 | tee -a /dev/stderr | sed 's/.*: //; s/\/s//')
    ss=$(run short short --conns 10000 --c 8 --socks 127.0.0.1:1080 | tee -a /dev/stderr | sed 's/.*: //; s/\/s//')
    ms=$(run short short --conns 10000 --c 8 --socks 127.0.0.1:1081 | tee -a /dev/stderr | sed 's/.*: //; s/\/s//')
  fi
  if [[ $tests == *" dl "* ]]; then
    kd=$(run source dl | tee -a /dev/stderr | figure)
    sd=$(run source dl --socks 127.0.0.1:1080 | tee -a /dev/stderr | figure)
    md=$(run source dl --socks 127.0.0.1:1081 | tee -a /dev/stderr | figure)
  fi
  echo "ROUND $r  SHORT direct $ks microsocks $ms door $ss /s door/microsocks $(ratio "$ss" "$ms") door/direct $(ratio "$ss" "$ks")  DL direct $kd microsocks $md door $sd Gbit/s door/microsocks $(ratio "$sd" "$md") door/direct $(ratio "$sd" "$kd")"
  shorts+=" $(ratio "$ss" "$ks")" dls+=" $(ratio "$sd" "$kd")" mshorts+=" $(ratio "$ss" "$ms")" mdls+=" $(ratio "$sd" "$md")"
done
echo "RATIOS by round  door/microsocks: SHORT$mshorts  DL$mdls   door/direct: SHORT$shorts  DL$dls"
