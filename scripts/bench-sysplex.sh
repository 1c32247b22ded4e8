#!/usr/bin/env bash
# The sysplex's figures: a SYSPLEXPORTS lend through etcd (a member on an
# etcd of one and of three members, and three members at once) against a
# local lend, five samples each; and the VIPA's takeover time (the owner
# killed, until a backup serves the client through the VIPA) over ROUNDS
# runs of the end-to-end test (root: namespaces, veth, a bridge), with the
# median and the spread. Needs Debian's etcd-server.
# Figures go to docs/performance.md with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { echo "bench-sysplex.sh: etcd is missing: apt-get install etcd-server" >&2; exit 1; }
go test ./sysplex -run '^$' -bench 'Lend' -benchtime 2s -count 5 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
ROUNDS=${ROUNDS:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
times=()
for i in $(seq "$ROUNDS"); do
  rm -f "$out"
  IPN_SYSPLEX_TAKEOVER=$out CI=1 go test ./cmd/stackd -run '^TestSysplexVIPA$' -count 1 >/dev/null 2>&1 || { echo "round $i: TestSysplexVIPA failed" >&2; exit 1; }
  [ -s "$out" ] || { echo "round $i: no takeover time written" >&2; exit 1; }
  times+=("$(cat "$out")")
done
printf '%s\n' "${times[@]}" | sort -n | awk -v n="$ROUNDS" '
  { t[NR] = $1 }
  END { printf "VIPA takeover, owner killed to the client served through the VIPA (lease 2 s), %d rounds: median %.2f s, min %.2f s, max %.2f s\n", n, t[int((n+1)/2)], t[1], t[n] }'
