#!/usr/bin/env bash
# FTP benchmarks (needs root; Debian packages vsftpd and iproute2): the
# stack's FTP daemon against Debian's vsftpd over the same path, in
# interleaved rounds (stack, vsftpd, stack, vsftpd...), ratios per round.
#
#   ns A: veth end A. The stack (stackd run in ns A, a RAW link on end A) at
#         10.77.58.10, FTP on port 21; vsftpd on the kernel's address
#         10.77.58.1, port 2121. Both have the passive range 40000-40001
#         (2 ports) and a COUNT / max_clients of 1,000.
#   ns B: veth end B, the client (scripts/ftpbench) at 10.77.58.2.
#
# vsftpd runs as Debian ships it plus what a benchmark needs: listen=YES,
# background=NO, seccomp_sandbox=NO, its own empty secure_chroot_dir, no
# logging, and anonymous read-only access (anon_root = the directory the
# stack publishes as /PUB; no_anon_password=YES). Anonymous, because a local
# user would need a system account; so vsftpd checks no password, while the
# stack's LOGINS figure uses a user with an argon2id password (its anonymous
# figure is printed too). Each measurement starts a fresh server.
#
# RETR4K: one session, 20,000 × (PASV, connect, RETR of 4 KiB, 226).
# LOGINS: 300 clients connect and log in at once; each has 10 s.
# IDLE:   300 logged-in idle sessions: stackd's RSS growth; vsftpd's total
#         RSS (and PSS, which counts shared pages once) of all its processes.
# BULK:   REPS (5) PASV RETRs of BULK_MB (4 GiB) in one session: the median
#         rate, the slowest and the fastest.
# STOR4K: one session, N4K × (PASV, connect, STOR of 4 KiB to a new name,
#         226): the stack writes each upload beside its name, syncs it and
#         renames it into place; vsftpd writes in place.
# BULKSTOR: REPS PASV STORs of BULK_MB, each to a new name (deleted after
#         it is measured), as BULK.
#
# Uploads go to a tmpfs for both servers (UPLOADS=tmpfs, the default): the
# figures are the servers' and the path's. UPLOADS=disk writes them to the
# disk the script runs on, where the stack's sync of each upload (its
# guarantee that a crash never leaves a short file in a good one's place)
# is measured too; vsftpd syncs nothing.
#
# A measurement whose client failed, printed no figure, or had a transfer
# fail (RETR4K, STOR4K) ends the script with its output (no round is
# printed with a hole in it); the last line has every round's ratios.
#
# TLS=1: every session protected (AUTH TLS, PBSZ 0, PROT P; data
# connections resuming the control's TLS session) on both servers, with the
# same ECDSA P-256 certificate: the stack's CERT=/KEY=; vsftpd's
# ssl_enable=YES with Debian's defaults otherwise (require_ssl_reuse=YES)
# and force_anon_logins_ssl / force_anon_data_ssl, so both refuse clear.
#
# Usage: scripts/bench-ftp.sh [rounds]   (default 3)
# Smaller runs (a smoke test): N4K=500 SESSIONS=30 BULK_MB=64 REPS=3 scripts/bench-ftp.sh 1
# Some of the measurements only: TESTS="retr logins" scripts/bench-ftp.sh 1
# MEMPROFILE=path: each stackd writes a heap profile when it is stopped,
# its sessions still open (path.1, path.2, ... in the order they ran);
# CPUPROFILE=path: a CPU profile of its whole run (path.1, ...).
# PCAP=dir: the packets of each RETR4K run as the client's side of the veth
# sees them (tshark; dir/retr-stack-ROUND.pcap, dir/retr-vsftpd-ROUND.pcap),
# and the server's median time for each step of a transfer read from them
# (scripts/lib/retr-steps.awk).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
n4k=${N4K:-20000} sessions=${SESSIONS:-300} bulk_mb=${BULK_MB:-4096} reps=${REPS:-5} uploads=${UPLOADS:-tmpfs} tests=" ${TESTS:-retr stor logins idle bulk bulkstor} " tls=${TLS:-0}
command -v vsftpd >/dev/null || { echo "vsftpd is not installed (apt-get install vsftpd)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, a RAW link)" >&2; exit 1; }
A=ipnfA$$ B=ipnfB$$ VA=ipnfva$$ VB=ipnfvb$$
. scripts/lib/nspair.sh
tmp=$(mktemp -d)
chmod 755 "$tmp"
server="" idler="" capture="" profn=0  # the processes running now; MEMPROFILE files written
if [ -n "${PCAP:-}" ]; then
  command -v tshark >/dev/null || { echo "PCAP= needs tshark (apt-get install tshark)" >&2; exit 1; }
  mkdir -p "$PCAP"
fi

# tree PID: the process and all its descendants.
tree() {
  local c
  echo "$1"
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done
}
# stop_tree PID: ends the process and its descendants, by their ids.
stop_tree() {
  local ps p
  ps=$(tree "$1")
  for p in $ps; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for p in $ps; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in $ps; do kill -9 "$p" 2>/dev/null || true; done
  wait "$1" 2>/dev/null || true
}
cleanup() {
  [ -n "$capture" ] && kill "$capture" 2>/dev/null
  [ -n "$idler" ] && stop_tree "$idler"
  [ -n "$server" ] && stop_tree "$server"
  nspair_down
  umount "$tmp/pub/in" "$tmp/stin" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/stackd" ./cmd/stackd
go build -o "$tmp/ftpbench" ./scripts/ftpbench
go build -o "$tmp/ipnconsole" ./cmd/ipnconsole

nspair_up 58

mkdir -p "$tmp/pub" "$tmp/empty" "$tmp/pub/in" "$tmp/stin"  # the uploads: vsftpd's, the stack's
if [ "$uploads" = tmpfs ]; then
  # Uploads into memory for both servers: the figures are the servers'
  # and the path's, not the disk's (the stack's sync of each upload costs
  # nothing on tmpfs; UPLOADS=disk measures it).
  mount -t tmpfs -o size=$(( bulk_mb + 256 ))m ipnbench "$tmp/pub/in"
  mount -t tmpfs -o size=$(( bulk_mb + 256 ))m ipnbench "$tmp/stin"
fi
chown ftp:ftp "$tmp/pub/in" 2>/dev/null || chmod 777 "$tmp/pub/in"  # vsftpd's anonymous uploads are the ftp user's
head -c 4096 /dev/urandom > "$tmp/pub/4k.bin"
head -c $((bulk_mb << 20)) /dev/urandom > "$tmp/pub/big.bin"
chmod 755 "$tmp/pub"
find "$tmp/pub" -type f -exec chmod 644 {} +

tlsdeck="" tlsflag=""
if [ "$tls" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=bench \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
  chmod 600 "$tmp/key.pem"
  tlsdeck=",TLS=REQUIRED,CERT=$tmp/cert.pem,KEY=$tmp/key.pem" tlsflag="-tls"
fi
maxs=$(( sessions > 1000 ? sessions : 1000 ))  # the daemon's COUNT= and PERCLIENT=
ulimit -n 65536 2>/dev/null || true            # the idle client holds a socket per session
cat > "$tmp/stack.deck" <<EOF
DEFINE LINK ID=OSA1,TYPE=RAW,DEV=$VA,IPADDR=10.77.58.10,MASK=255.255.255.0
DEFINE FILE PUBLIC=PUB,DLBL=$tmp/pub,READONLY=YES
DEFINE FILE PUBLIC=IN,DLBL=$tmp/stin,READONLY=NO
DEFINE USER ID=BENCH,PASSWORD='bench-Pw1'
DEFINE FTPD ID=FTPB,PORT=21,COUNT=$maxs,PERCLIENT=$maxs,DATAPORTS=(40000,40001),ANONYMOUS=READ$tlsdeck
EOF
cat > "$tmp/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=10.77.58.1
listen_port=2121
background=NO
seccomp_sandbox=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=$tmp/pub
local_enable=NO
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
anon_umask=022
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=40001
max_clients=1000
max_per_ip=1000
idle_session_timeout=600
xferlog_enable=NO
dirmessage_enable=NO
connect_from_port_20=NO
secure_chroot_dir=$tmp/empty
EOF
if [ "$tls" = 1 ]; then
  cat >> "$tmp/vsftpd.conf" <<EOF
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
rsa_cert_file=$tmp/cert.pem
rsa_private_key_file=$tmp/key.pem
EOF
fi

# serve stack|vsftpd: starts a fresh server in ns A and waits until it serves.
serve() {
  if [ "$1" = stack ]; then
    rm -rf "$tmp/st"; mkdir -p "$tmp/st"; profn=$((profn + 1))
    ip netns exec "$A" "$tmp/stackd" --socket "$tmp/st/console.sock" --data "$tmp/st" --deck "$tmp/stack.deck" \
      --hardcopy none --console off --log-file "$tmp/st/stackd.log" ${MEMPROFILE:+--memprofile "$MEMPROFILE.$profn"} ${CPUPROFILE:+--cpuprofile "$CPUPROFILE.$profn"} < /dev/null > "$tmp/st/out" 2>&1 &
    server=$!
    for _ in $(seq 100); do grep -q IPN213I "$tmp/st/out" 2>/dev/null && break; sleep 0.05; done
    grep -q "IPN201I" "$tmp/st/out" || { echo "stackd did not start:"; cat "$tmp/st/out"; exit 1; }
  else
    ip netns exec "$A" vsftpd "$tmp/vsftpd.conf" > "$tmp/vsftpd.out" 2>&1 &
    server=$!
    for _ in $(seq 100); do
      [ -n "$(ip netns exec "$A" ss -Htln 'sport = :2121')" ] && break; sleep 0.05
    done
    [ -n "$(ip netns exec "$A" ss -Htln 'sport = :2121')" ] || { echo "vsftpd did not start:"; cat "$tmp/vsftpd.out"; exit 1; }
  fi
}
stop() { stop_tree "$server"; server=""; }
# args stack|stack-anon|vsftpd: the client's flags for that server.
args() {
  case $1 in
    stack) echo "-addr 10.77.58.10:21 -user BENCH -pass bench-Pw1" ;;
    stack-anon) echo "-addr 10.77.58.10:21 -user anonymous -pass bench@example.org" ;;
    vsftpd) echo "-addr 10.77.58.1:2121 -user anonymous -pass bench@example.org" ;;
  esac
}
path() { if [ "$1" = vsftpd ]; then echo "/$2"; else echo "/PUB/$2"; fi; }
client() { ip netns exec "$B" "$tmp/ftpbench" "$@" $tlsflag -limit 300s; }
# measured WHAT WHO RC LINE: ends the script when the client failed or its
# line has no figure (fig is empty), rather than print a round with a hole.
measured() {
  if [ "$3" != 0 ] || [ -z "$fig" ]; then
    echo "bench-ftp.sh: $1 against $2: the client failed (rc $3) or printed no figure: ${4:-nothing}" >&2
    exit 1
  fi
}
ratio() { awk -v s="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", s / k; else print "n/a" }'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
sum_tree() { local f=$1 t=0 p; for p in $(tree "$2"); do t=$((t + $($f "$p"))); done; echo "$t"; }
signed() { case $1 in -*) echo "$1" ;; *) echo "+$1" ;; esac; }  # a growth: +2.3, or -0.9
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# capture_start FILE / capture_stop: tshark on the client's end of the veth.
capture_start() {
  ip netns exec "$B" tshark -q -i "$VB" -w "$1" > "$tmp/tshark.out" 2>&1 &
  capture=$!
  for _ in $(seq 100); do grep -q Capturing "$tmp/tshark.out" 2>/dev/null && return; sleep 0.05; done
}
# steps FILE: the server's side of each step of the transfers captured.
steps() {
  tshark -r "$1" -d tcp.port==2121,ftp -T fields -e frame.time_relative -e ip.src \
    -e tcp.flags.syn -e tcp.flags.ack -e ftp.request.command -e ftp.response.code 2>/dev/null |
    awk -v client=10.77.58.2 -f scripts/lib/retr-steps.awk
}
capture_stop() { sleep 0.2; kill "$capture" 2>/dev/null || true; wait "$capture" 2>/dev/null || true; capture=""; }
# retr SERVER: prints the line, sets fig to transfers a second.
retr() {
  local who=$1 srv=${1%-anon} line
  serve "$srv"
  [ -n "${PCAP:-}" ] && capture_start "$PCAP/retr-$who-$r.pcap"
  rc=0; line=$(client retr $(args "$who") -path "$(path "$srv" 4k.bin)" -n "$n4k" 2>&1) || rc=$?
  [ -n "${PCAP:-}" ] && capture_stop
  stop
  echo "  RETR4K $who: $line"
  [ -n "${PCAP:-}" ] && echo "  RETR4K $who steps: $(steps "$PCAP/retr-$who-$r.pcap")"
  fig=$(echo "$line" | sed -n 's/.*: \([0-9.]*\)\/s.*/\1/p' | head -1)
  echo "$line" | grep -q ' 0 failures' || fig=""  # a transfer failed: no whole figure
  measured RETR4K "$who" "$rc" "$line"
}
logins() {
  local who=$1 srv=${1%-anon} line
  serve "$srv"
  rc=0; line=$(client logins $(args "$who") -c "$sessions" -timeout 10s 2>&1) || rc=$?
  stop
  echo "  LOGINS $who: $(echo "$line" | tr '\n' ' ')"
  fig=$(echo "$line" | sed -n 's/.*all ended in \([0-9.]*\) s.*/\1/p')
  fails=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p' | head -1)
  measured LOGINS "$who" "$rc" "$line"
}
bulk() {
  local who=$1 srv=${1%-anon} line
  # Both servers read the file from the page cache: whoever reads it first
  # after the idle test's memory churn would otherwise pay the disk.
  cat "$tmp/pub/big.bin" > /dev/null
  serve "$srv"
  rc=0; line=$(client bulk $(args "$who") -path "$(path "$srv" big.bin)" -reps "$reps" 2>&1) || rc=$?
  stop
  echo "  BULK $who: $line"
  fig=$(echo "$line" | sed -n 's/.*(\([0-9.]*\) Gbit\/s).*/\1/p')
  measured BULK "$who" "$rc" "$line"
}
# stor SERVER / bulkstor SERVER: uploads; set fig to transfers a second,
# or Gbit/s.
upath() { if [ "$1" = vsftpd ]; then echo "/in/$2"; else echo "/IN/$2"; fi; }
stor() {
  local who=$1 srv=${1%-anon} line
  find "$tmp/stin" "$tmp/pub/in" -type f -delete  # new names each run: no upload replaces a file
  serve "$srv"
  rc=0; line=$(client stor $(args "$who") -path "$(upath "$srv" up4k.bin)" -n "$n4k" -size 4096 2>&1) || rc=$?
  stop
  echo "  STOR4K $who: $line"
  fig=$(echo "$line" | sed -n 's/.*: \([0-9.]*\)\/s.*/\1/p' | head -1)
  echo "$line" | grep -q ' 0 failures' || fig=""  # an upload failed: no whole figure
  measured STOR4K "$who" "$rc" "$line"
}
bulkstor() {
  local who=$1 srv=${1%-anon} line
  find "$tmp/stin" "$tmp/pub/in" -type f -delete  # new names each run: no upload replaces a file
  serve "$srv"
  rc=0; line=$(client bulkstor $(args "$who") -path "$(upath "$srv" upbig.bin)" -size $((bulk_mb << 20)) -reps "$reps" 2>&1) || rc=$?
  stop
  echo "  BULKSTOR $who: $line"
  fig=$(echo "$line" | sed -n 's/.*(\([0-9.]*\) Gbit\/s).*/\1/p')
  measured BULKSTOR "$who" "$rc" "$line"
}
idle() {
  local who=$1 srv=${1%-anon} before after pss
  serve "$srv"
  sleep 1
  if [ "$srv" = stack ]; then before=$(rss_kb "$server"); else before=$(sum_tree rss_kb "$server"); fi
  client idle $(args "$who") -c "$sessions" > "$tmp/idle.out" 2>&1 &
  idler=$!
  for _ in $(seq 1200); do
    grep -q OPEN "$tmp/idle.out" 2>/dev/null && break
    kill -0 "$idler" 2>/dev/null || break  # the client ended without holding its sessions
    sleep 0.1
  done
  if ! grep -q OPEN "$tmp/idle.out" 2>/dev/null; then
    fig=""
    measured IDLE "$who" "client ended or timed out" "$(cat "$tmp/idle.out" 2>/dev/null)"
  fi
  sleep 1
  if [ "$srv" = stack ]; then
    after=$(rss_kb "$server")
    fig=$(mb $((after - before)))
    echo "  IDLE $who: $(cat "$tmp/idle.out"); stackd RSS $(mb "$before") -> $(mb "$after") MB: $(signed "$fig") MB for $sessions sessions, $(awk -v a="$after" -v b="$before" -v n="$sessions" 'BEGIN { printf "%.1f", (a - b) / n }') KiB each"
    echo "    $(echo 'QUERY STATISTICS' | "$tmp/ipnconsole" --socket "$tmp/st/console.sock" | grep -o 'IPN158I.*')"
  else
    after=$(sum_tree rss_kb "$server")
    pss=$(sum_tree pss_kb "$server")
    fig=$(mb "$after")
    echo "  IDLE vsftpd: $(cat "$tmp/idle.out"); $(tree "$server" | wc -l) processes, RSS total $fig MB (PSS $(mb "$pss") MB; $(mb "$before") MB before)"
  fi
  stop_tree "$idler"; idler=""
  stop
}

echo "date: $(date -u +%FT%TZ)  kernel: $(uname -r)  cpus: $(nproc)  go: $(go version | awk '{print $3}')  vsftpd: $(dpkg-query -W -f='${Version}' vsftpd 2>/dev/null || echo '?')  TLS: $tls  uploads: $uploads  load: $(cut -d' ' -f1-3 /proc/loadavg)"
want() { [[ $tests == *" $1 "* ]]; }
rr="" br="" ir="" lr="" sr="" ur=""  # the ratios and figures of every round, for the last line
for r in $(seq "$rounds"); do
  echo "ROUND $r"
  rs= rv= ls= lsf= la= laf= lv= lvf= ms= ma= mv= bs= bv= ss= sv= us= uv=
  if want retr; then retr stack; rs=$fig; retr vsftpd; rv=$fig; fi
  if want stor; then stor stack; ss=$fig; stor vsftpd; sv=$fig; fi
  if want logins; then
    logins stack; ls=$fig lsf=$fails; logins stack-anon; la=$fig laf=$fails; logins vsftpd; lv=$fig lvf=$fails
  fi
  if want idle; then
    idle stack; ms=$fig; idle stack-anon; ma=$fig
    # vsftpd runs two processes a session: not at thousands of sessions.
    if [ "$sessions" -le 1000 ]; then idle vsftpd; mv=$fig; else mv="(not run at $sessions sessions)"; fi
  fi
  if want bulk; then bulk stack; bs=$fig; bulk vsftpd; bv=$fig; fi
  if want bulkstor; then bulkstor stack; us=$fig; bulkstor vsftpd; uv=$fig; fi
  sum="ROUND $r"
  want retr && sum+="  RETR4K stack $rs vsftpd $rv /s ratio $(ratio "$rs" "$rv") |"
  want logins && sum+="  LOGINS$sessions stack $ls s ($lsf failed; anonymous $la s, $laf failed) vsftpd $lv s ($lvf failed) |"
  want idle && sum+="  IDLE$sessions stack $(signed "$ms") MB (anonymous $(signed "$ma") MB) vsftpd $mv MB RSS |"
  want stor && sum+="  STOR4K stack $ss vsftpd $sv /s ratio $(ratio "$ss" "$sv") |"
  want bulk && sum+="  BULK stack $bs vsftpd $bv Gbit/s ratio $(ratio "$bs" "$bv") |"
  want bulkstor && sum+="  BULKSTOR stack $us vsftpd $uv Gbit/s ratio $(ratio "$us" "$uv") |"
  echo "${sum% |}"
  want retr && rr+=" $(ratio "$rs" "$rv")"
  want bulk && br+=" $(ratio "$bs" "$bv")"
  want stor && sr+=" $(ratio "$ss" "$sv")"
  want bulkstor && ur+=" $(ratio "$us" "$uv")"
  want idle && ir+=" $(signed "$ms")"
  want logins && lr+=" $ls"
done
echo "RATIOS (stack / vsftpd, by round)  RETR4K${rr:- -}  STOR4K${sr:- -}  BULK${br:- -}  BULKSTOR${ur:- -}  LOGINS s${lr:- -}  IDLE$sessions MB${ir:- -}"
