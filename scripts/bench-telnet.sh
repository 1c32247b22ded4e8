#!/usr/bin/env bash
# Remote console benchmark: stackd built from this tree with a telnet
# listener on a free port of 127.0.0.1 (--telnet) and a deck defining an
# operator; telnetbench runs 50 line-mode telnet consoles at once, each
# logging on and running a 1,000-command deck (queries, PORTRANGE changes,
# HELP, mistakes), checks every reply and its order (the echo IPN237I
# first, then the ids the command says, then the prompt), and prints the
# round trip per command (line sent -> prompt back): p50, p99, totals.
# Then the stack is shut down and everything removed.
#
# Usage: scripts/bench-telnet.sh [consoles] [commands]   (default 50 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
consoles=${1:-50}
commands=${2:-1000}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/stackd" ./cmd/stackd
go build -o "$work/ipnconsole" ./cmd/ipnconsole
go build -o "$work/telnetbench" ./scripts/telnetbench

password="bench-$$-$RANDOM"
port=$("$work/telnetbench" freeport)
# Every console comes from 127.0.0.1: the listener lets one address hold
# more than the default 16 connections.
cat > "$work/bench.deck" <<DECK
PORTRANGE LOW=32768,HIGH=65535
DEFINE USER ID=BENCH,PASSWORD='$password',CONSOLE=YES
DEFINE CONSOLE ID=TELNET,PORT=$port,PERCLIENT=1000
DECK
"$work/stackd" --console off --socket "$work/console.sock" --data "$work/data" --deck "$work/bench.deck" \
  --log-file "$work/stackd.log" < /dev/null > "$work/stackd.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q IPN213I "$work/stackd.out" 2>/dev/null && break; sleep 0.05; done
grep -q "IPN510I Console listener TELNET defined on HOST 127.0.0.1:$port" "$work/stackd.out" || {
  echo "stackd did not start its telnet listener:"; cat "$work/stackd.out"; exit 1; }

echo "date: $(date -u +%FT%TZ)  kernel: $(uname -r)  cpus: $(nproc)  go: $(go version | awk '{print $3}')  load: $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
"$work/telnetbench" run --addr "127.0.0.1:$port" --user BENCH --password "$password" \
  --consoles "$consoles" --commands "$commands" || rc=$?
# The stack's CPU time and memory for the whole run (ticks of 1/100 s).
read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
rss=$(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")
echo "stackd: cpu user $((utime / 100)).$(printf %02d $((utime % 100)))s system $((stime / 100)).$(printf %02d $((stime % 100)))s, peak RSS $rss"

echo SHUTDOWN | "$work/ipnconsole" --socket "$work/console.sock" > /dev/null || true
wait "$pid" || true
pid=""
exit "$rc"
