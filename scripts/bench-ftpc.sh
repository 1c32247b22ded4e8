#!/usr/bin/env bash
# FTP client benchmark (needs root; Debian packages vsftpd and lftp): the
# stack's FTP command against lftp from the host, each fetching the same
# 1,000 small files from vsftpd over the same veth, in interleaved rounds.
#
#   ns ipnbA: veth end A, vsftpd at 10.77.42.1 (anonymous, read only)
#   ns ipnbB: veth end B, the kernel's client at 10.77.42.2 (lftp), and
#             stackd with a RAW link on the same end at 10.77.42.20
#
# MGET: one session, TYPE I, passive, 1,000 files of 1 KiB: MGET f*.dat
# (the stack) and mget f*.dat (lftp, one transfer at a time).
#
# Usage: scripts/bench-ftpc.sh [rounds]   (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
command -v vsftpd >/dev/null || { echo "vsftpd is not installed (apt-get install vsftpd)" >&2; exit 1; }
command -v lftp >/dev/null || { echo "lftp is not installed (apt-get install lftp)" >&2; exit 1; }
A=ipnbA$$ B=ipnbB$$ VA=ipnbva$$ VB=ipnbvb$$
. scripts/lib/nspair.sh
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() {
  pkill -f "$tmp/stackd" 2>/dev/null || true
  pkill -f "vsftpd $tmp" 2>/dev/null || true
  nspair_down
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/stackd" ./cmd/stackd
go build -o "$tmp/ipnconsole" ./cmd/ipnconsole
nspair_up 42

mkdir -p "$tmp/root/pub" "$tmp/empty" "$tmp/loc"
for i in $(seq -w 0 999); do head -c 1024 /dev/urandom > "$tmp/root/pub/f$i.dat"; done
cat > "$tmp/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=10.77.42.1
listen_port=21
background=NO
seccomp_sandbox=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=$tmp/root
local_enable=NO
write_enable=NO
pasv_enable=YES
max_clients=1000
max_per_ip=1000
xferlog_enable=NO
dirmessage_enable=NO
connect_from_port_20=NO
secure_chroot_dir=$tmp/empty
CONF
ip netns exec "$A" vsftpd "$tmp/vsftpd.conf" > "$tmp/vsftpd.out" 2>&1 &
for _ in $(seq 100); do [ -n "$(ip netns exec "$A" ss -Htln 'sport = :21')" ] && break; sleep 0.05; done

cat > "$tmp/deck" <<DECK
DEFINE LINK ID=OSA1,TYPE=OSAX,DEV=$VB,IPADDR=10.77.42.20,MASK=255.255.255.0
DEFINE FILE PUBLIC=LOC,DLBL=$tmp/loc,READONLY=NO
DECK
ip netns exec "$B" "$tmp/stackd" --socket "$tmp/console.sock" --data "$tmp/data" --deck "$tmp/deck" \
  --console off --hardcopy none > "$tmp/stackd.out" 2>&1 &
for _ in $(seq 100); do grep -q IPN213I "$tmp/stackd.out" 2>/dev/null && break; sleep 0.05; done
grep -q IPN213I "$tmp/stackd.out" || { echo "stackd did not start:"; cat "$tmp/stackd.out"; exit 1; }

now() { date +%s.%N; }
rate() { awk -v n=1000 -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", n / (b - a) }'; }
ratio() { awk -v s="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", s / k; else print "n/a" }'; }

echo "date: $(date -u +%FT%TZ)  kernel: $(uname -r)  cpus: $(nproc)  go: $(go version | awk '{print $3}')  vsftpd: $(dpkg-query -W -f='${Version}' vsftpd 2>/dev/null || echo '?')  lftp: $(lftp --version | head -1 | awk '{print $4}')"
mgets=""
for r in $(seq "$rounds"); do
  rm -rf "$tmp/loc"/* && mkdir -p "$tmp/lftp" && rm -rf "$tmp/lftp"/*
  t0=$(now)
  out=$(ip netns exec "$B" "$tmp/ipnconsole" --socket "$tmp/console.sock" <<< "FTP HOST=10.77.42.1,USER=anonymous,PASSWORD=bench@example.org,LOCAL=LOC,CMD=('CD /pub','MGET f*.dat')") || { echo "$out" | tail -5; exit 1; }
  t1=$(now)
  got=$(ls "$tmp/loc" | wc -l)
  ip netns exec "$B" lftp -e "set ftp:passive-mode on; set net:max-retries 1; set xfer:clobber on; cd /pub; mget -O $tmp/lftp f*.dat; quit" -u anonymous,bench@example.org 10.77.42.1 > /dev/null
  t2=$(now)
  gotl=$(ls "$tmp/lftp" | wc -l)
  s=$(rate "$t0" "$t1") l=$(rate "$t1" "$t2")
  echo "ROUND $r  MGET 1,000 x 1 KiB: stack $s files/s ($got files), lftp $l files/s ($gotl files), ratio $(ratio "$s" "$l")"
  mgets+=" $(ratio "$s" "$l")"
done
echo "RATIOS (stack / lftp, by round)  MGET$mgets"
