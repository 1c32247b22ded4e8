#!/usr/bin/env bash
# The project's test command (README). It sets itself up first: as root on
# a Debian machine it installs the programs the tests drive (apt-get);
# otherwise it names the ones missing and how to get them. Then formatting,
# go vet, and every test with the race detector. CI runs exactly this.
#
# Tests that need root (network namespaces, veth, TAP, raw sockets) or a
# missing program are skipped when run as another user, and named at the
# end; with CI set they fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

# program:Debian package, for every program a test runs.
tools=(tmux:tmux curl:curl lftp:lftp tshark:tshark ping:iputils-ping
  inetutils-telnet:inetutils-telnet python3:python3 /usr/bin/python3:python3 ip:iproute2 ss:iproute2 vsftpd:vsftpd
  prlimit:util-linux
  dnsmasq:dnsmasq openssl:openssl promtool:prometheus systemd-analyze:systemd
  tnftp:tnftp ncftp:ncftp etcd:etcd-server)
missing=()
for tp in "${tools[@]}"; do
  command -v "${tp%%:*}" >/dev/null 2>&1 || missing+=("${tp#*:}")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing what the tests need: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ca-certificates "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing programs (their tests are skipped): ${missing[*]}"
    echo "test.sh: to run them too: sudo apt-get install ${missing[*]}"
  fi
fi
command -v go >/dev/null 2>&1 || { echo "test.sh: Go is not installed (https://go.dev/dl/, or apt-get install golang)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || echo "test.sh: not root: the tests that need root are skipped (run as root to run them)"
go version

unformatted=$(gofmt -l $(find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi
go vet ./...

# The tests write the name of each test they skip, and why, here.
IPN_SKIPLOG=$(mktemp)
export IPN_SKIPLOG
trap 'rm -f "$IPN_SKIPLOG"' EXIT
rc=0
go test -race -count=1 -timeout 45m ./... || rc=$?
if [ -s "$IPN_SKIPLOG" ]; then
  echo "test.sh: skipped:"
  sort -u "$IPN_SKIPLOG" | sed 's/^/  /'
fi
exit $rc
