#!/usr/bin/env bash
# Link benchmarks (needs root): the stack against the kernel on the same veth
# pair, in interleaved rounds, figures printed as ratios per round.
#
#   ns ipnbA: veth end A; the kernel server at 10.77.40.1, the stack (a RAW
#             link on the same end) at 10.77.40.10
#   ns ipnbB: veth end B, the client at 10.77.40.2
#
# DL: REPS (5) connections, on each the server sends BULK_MB (2 GiB) and the
#     client reads (like FTP RETR): the median rate, the slowest, the fastest.
# UL: the same, the client sending (like FTP STOR).
# SHORT: 10,000 connections, 8 at a time: connect, send 1 KiB, close.
# IDLE: 10,000 idle connections held by the stack: RSS per connection.
#
# PROFILE=dir: the stack's server writes a CPU profile of each run there
# (stack-MODE-ROUND.prof, for go tool pprof).
#
# FAMILY=6: the same over IPv6 (fd77:40::1 the kernel, fd77:40::10 the
# stack, fd77:40::2 the client).
#
# A measurement whose client failed or printed nothing ends the script (no
# round is printed with a hole); the last line has every round's ratios.
#
# Usage: scripts/bench-links.sh [rounds]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
family=${FAMILY:-4} reps=${REPS:-5} bytes=$(( ${BULK_MB:-2048} << 20 ))
A=ipnbA$$ B=ipnbB$$ VA=ipnbva$$ VB=ipnbvb$$
. scripts/lib/nspair.sh
bin=$(mktemp -d)
cleanup() {
  pkill -f "$bin/ipnbench" 2>/dev/null || true
  nspair_down
  rm -rf "$bin"
}
trap cleanup EXIT
go build -o "$bin/ipnbench" ./scripts/ipnbench

nspair_up 40

# serve IMPL MODE: starts a server in ns A and waits until it listens.
serve() {
  local impl=$1 mode=$2 addr
  if [ "$family" = 6 ]; then
    if [ "$impl" = stack ]; then addr=fd77:40::10/64; else addr=fd77:40::1/64; fi
  elif [ "$impl" = stack ]; then addr=10.77.40.10/24; else addr=10.77.40.1/24; fi
  local prof=()
  if [ -n "${PROFILE:-}" ] && [ "$impl" = stack ]; then
    mkdir -p "$PROFILE"
    prof=(--cpuprofile "$PROFILE/stack-$mode-${r:-0}.prof")
  fi
  ip netns exec "$A" "$bin/ipnbench" server --impl "$impl" --dev "$VA" --addr "$addr" --port 5001 --mode "$mode" --bytes "$bytes" "${prof[@]}" \
    > "$bin/server.out" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q READY "$bin/server.out" 2>/dev/null && return; sleep 0.05; done
  echo "server did not start:"; cat "$bin/server.out"; exit 1
}
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
target() {
  if [ "$family" = 6 ]; then
    if [ "$1" = stack ]; then echo "[fd77:40::10]:5001"; else echo "[fd77:40::1]:5001"; fi
  elif [ "$1" = stack ]; then echo 10.77.40.10:5001; else echo 10.77.40.1:5001; fi
}
# run IMPL MODE CLIENTMODE [flags]: one measurement; prints the client's
# line, or ends the script when the client failed or printed nothing.
run() {
  serve "$1" "$2"
  local out rc=0
  out=$(ip netns exec "$B" timeout 300 "$bin/ipnbench" client --target "$(target "$1")" --mode "$3" "${@:4}" 2>&1) || rc=$?
  stop
  if [ "$rc" != 0 ] || [ -z "$out" ]; then
    echo "bench-links.sh: the client ($1 $3 ${*:4}) failed with rc $rc: ${out:-no output}" >&2
    exit 1
  fi
  echo "$out"
}
figure() { awk '{for (i=1;i<=NF;i++) if ($i ~ /Gbit\/s|\/s$/) {print $(i-1)} }' | sed 's/[^0-9.]//g' | tail -1; }
ratio() { awk -v s="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", s / k; else print "n/a" }'; }

echo "date: $(date -u +%FT%TZ)  kernel: $(uname -r)  cpus: $(nproc)  go: $(go version | awk '{print $3}')  IPv$family"
dls="" uls="" shorts=""
for r in $(seq "$rounds"); do
  kd=$(run kernel source dl --reps "$reps" | tee -a /dev/stderr | figure)
  sd=$(run stack source dl --reps "$reps" | tee -a /dev/stderr | figure)
  ku=$(run kernel sink ul --bytes "$bytes" --reps "$reps" | tee -a /dev/stderr | figure)
  su=$(run stack sink ul --bytes "$bytes" --reps "$reps" | tee -a /dev/stderr | figure)
  ks=$(run kernel short short --conns 10000 --c 8 | tee -a /dev/stderr | sed 's/.*: //; s/\/s//')
  ss=$(run stack short short --conns 10000 --c 8 | tee -a /dev/stderr | sed 's/.*: //; s/\/s//')
  echo "ROUND $r  DL kernel $kd stack $sd Gbit/s ratio $(ratio "$sd" "$kd")  UL kernel $ku stack $su Gbit/s ratio $(ratio "$su" "$ku")  SHORT kernel $ks stack $ss /s ratio $(ratio "$ss" "$ks")"
  dls+=" $(ratio "$sd" "$kd")"; uls+=" $(ratio "$su" "$ku")"; shorts+=" $(ratio "$ss" "$ks")"
done

# Memory per idle connection held by the stack.
serve stack idle
before=$(awk '/READY/ {print $3}' "$bin/server.out")
ip netns exec "$B" "$bin/ipnbench" client --target "$(target stack)" --mode idle --conns 10000 --hold 30s > "$bin/client.out" &
client=$!
for _ in $(seq 600); do grep -q OPEN "$bin/client.out" 2>/dev/null && break; sleep 0.1; done
sleep 1
kill -USR1 "$server"; sleep 2
after=$(awk '/CONNS/ {print $4}' "$bin/server.out" | tail -1)
conns=$(awk '/CONNS/ {print $2}' "$bin/server.out" | tail -1)
kill "$client" 2>/dev/null || true
stop
kib=$(awk -v a="$after" -v b="$before" -v n="$conns" 'BEGIN { printf "%.2f", (a - b) / n / 1024 }')
echo "IDLE $conns connections: RSS $before -> $after bytes: $kib KiB per connection"
echo "RATIOS (stack / kernel, by round)  DL$dls  UL$uls  SHORT$shorts  IDLE $kib KiB a connection"
