# retr-steps.awk: the server's side of each step of a PASV RETR, from the
# packets of a capture on the client's side (tshark -T fields -e
# frame.time_relative -e ip.src -e tcp.flags.syn -e tcp.flags.ack -e
# ftp.request.command -e ftp.response.code). Prints the median time, in
# microseconds, from what the client sent to the server's answer:
#   PASV>227   the PASV command to the 227 reply
#   SYN>SYNACK the data connection's SYN to the SYN-ACK
#   RETR>150   the RETR command to the 150 reply
#   150>226    the 150 reply to the 226 (the 4 KiB sent and the data
#              connection closed between them)
# and the time of a whole transfer (one PASV to the next).
# Usage: awk -v client=10.77.58.2 -f retr-steps.awk
BEGIN { FS = "\t" }
function med(a, n,   i, j, t) {
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n ? a[int((n + 1) / 2)] : 0
}
{
  t = $1 * 1e6; fromClient = ($2 == client)
  if (fromClient) {
    if ($5 == "PASV") { if (lastPasv) cyc[++nc] = t - lastPasv; pasv = t; lastPasv = t }
    else if ($5 == "RETR") retr = t
    else if ($3 == "1" && $4 == "0") syn = t
  } else {
    if ($6 == "227" && pasv) { p[++np] = t - pasv; pasv = 0 }
    else if ($6 == "150" && retr) { r[++nr] = t - retr; retr = 0; s150 = t }
    else if ($6 == "226" && s150) { d[++nd] = t - s150; s150 = 0 }
    else if ($3 == "1" && $4 == "1" && syn) { s[++ns] = t - syn; syn = 0 }
  }
}
END {
  printf "PASV>227 %.0f  SYN>SYNACK %.0f  RETR>150 %.0f  150>226 %.0f  transfer %.0f us (medians of %d transfers)\n",
    med(p, np), med(s, ns), med(r, nr), med(d, nd), med(cyc, nc), nc
}
