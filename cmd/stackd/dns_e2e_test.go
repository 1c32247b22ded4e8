package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// TestDNSNames: the stack asks a real DNS server (dnsmasq in a namespace,
// reached over a RAW link, over the stack's own UDP) for the names PING
// is given, with the default domain for a short name; the answer is
// cached; a name nobody knows is refused.
func TestDNSNames(t *testing.T) {
	testnet.RequireRoot(t)
	dnsmasq := testnet.RequireTool(t, "dnsmasq")
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.86.2/24")
	log := filepath.Join(t.TempDir(), "dnsmasq.log")
	srv := exec.Command("ip", "netns", "exec", ns, dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--listen-address=10.77.86.2", "--bind-interfaces", "--pid-file=", "--log-queries", "--log-facility="+log,
		"--host-record=peer.site.example,10.77.86.2", "--local-ttl=300", "--local=/site.example/")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	t.Cleanup(func() { b, _ := exec.Command("cat", log).Output(); t.Logf("dnsmasq log:\n%s", b) })
	d := startDaemon(t, "--deck", writeDeck(t,
		"DEFINE LINK ID=OSAD,TYPE=RAW,DEV="+dev+",IPADDR=10.77.86.10,MASK=255.255.255.0",
		"SET DNS1=10.77.86.2,DEFAULT_DOMAIN=site.example"))
	requireDeckOK(t, d)
	var out string
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ = runConsole(t, d.socket, "PING peer,COUNT=1\n")
		if strings.Contains(out, "IPN132I") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // dnsmasq still starting
	}
	if !strings.Contains(out, "IPN670I Host peer is 10.77.86.2") || !strings.Contains(out, "IPN132I Ping 10.77.86.2: 1 sent, 1 received") {
		t.Fatalf("PING by name:\n%s", out)
	}
	// Every operand that takes an address takes a name: a route's
	// gateway, the filters of QUERY ROUTES and QUERY ARP.
	out = mustConsole(t, d.socket, "DEFINE ROUTE ID=VIAPEER,LINKID=OSAD,IPADDR=10.99.0.0,MASK=255.255.0.0,GATEWAY=peer\n"+
		"QUERY ROUTES,IP=peer\nQUERY ARP,IP=peer.site.example\nDELETE ROUTE ID=VIAPEER\n")
	if !strings.Contains(out, "IPN100I Route VIAPEER defined: 10.99.0.0/16 via 10.77.86.2 on link OSAD") ||
		!regexp.MustCompile(`IPN113I OSAD +10\.77\.86\.2 `).MatchString(out) || !strings.Contains(out, "IPN104I 1 route displayed") {
		t.Fatalf("names in address operands:\n%s", out)
	}
	out = mustConsole(t, d.socket, "PING peer.site.example,COUNT=1\nQUERY NAMES\n")
	if !strings.Contains(out, "IPN132I Ping 10.77.86.2") {
		t.Fatalf("PING by full name:\n%s", out)
	}
	m := regexp.MustCompile(`IPN677I DNS servers 10\.77\.86\.2, default domain site\.example: queries (\d+), answers (\d+), failures \d+, answered from the cache ([1-9]\d*)`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Fatalf("QUERY NAMES after two lookups (the second from the cache):\n%s", out)
	}
	out, _ = runConsole(t, d.socket, "PING nosuch,COUNT=1\n")
	if !strings.Contains(out, "IPN134E Cannot resolve host 'nosuch': no such host") {
		t.Fatalf("an unknown name:\n%s", out)
	}
	if b, _ := exec.Command("cat", log).Output(); !strings.Contains(string(b), "query[A] peer.site.example from 10.77.86.10") {
		t.Fatalf("dnsmasq's log does not show the stack's question:\n%s", b)
	}
}

// TestDNSQueriesUnpredictable: the stack's queries to dnsmasq in a
// namespace, as a sniffer beside dnsmasq sees them, leave from source ports
// drawn at random across the UDP range, each with its own id (RFC 5452):
// a forger who does not see them cannot aim at the next one. QUERY NAMES
// says so.
func TestDNSQueriesUnpredictable(t *testing.T) {
	testnet.RequireRoot(t)
	dnsmasq := testnet.RequireTool(t, "dnsmasq")
	py := testnet.RequireTool(t, "python3")
	ns := testnet.Netns(t)
	dev, peer := testnet.Veth(t, ns, "10.77.87.2/24")
	srv := exec.Command("ip", "netns", "exec", ns, dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--listen-address=10.77.87.2", "--bind-interfaces", "--pid-file=", "--local=/site.example/")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	// The sniffer prints "port id" for each query the stack sends.
	sniff := exec.Command("ip", "netns", "exec", ns, py, "-u", "-c", `
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
while True:
    f = s.recv(2048)
    ip = f[14:]
    if ip[9] != 17 or ip[12:16] != bytes([10, 77, 87, 10]): continue
    h = (ip[0] & 15) * 4
    sport, dport = struct.unpack("!HH", ip[h:h+4])
    if dport != 53: continue
    print(sport, struct.unpack("!H", ip[h+8:h+10])[0], flush=True)
`, peer)
	var got syncBuffer
	sniff.Stdout = &got
	if err := sniff.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sniff.Process.Kill(); sniff.Wait() })
	if !waitFor(10*time.Second, func() bool { return strings.Contains(got.String(), "ready") }) {
		t.Fatal("the sniffer did not start")
	}
	d := startDaemon(t, "--deck", writeDeck(t,
		"DEFINE LINK ID=OSAD,TYPE=RAW,DEV="+dev+",IPADDR=10.77.87.10,MASK=255.255.255.0",
		"SET DNS1=10.77.87.2"))
	requireDeckOK(t, d)
	var deck strings.Builder
	for i := range 30 {
		fmt.Fprintf(&deck, "PING n%02d.site.example,COUNT=1\n", i)
	}
	waitFor(10*time.Second, func() bool { // dnsmasq answering
		out, _ := runConsole(t, d.socket, "PING probe.site.example,COUNT=1\n")
		return strings.Contains(out, "no such host")
	})
	before := len(strings.Fields(got.String()))
	runConsole(t, d.socket, deck.String())
	if !waitFor(5*time.Second, func() bool { return len(strings.Fields(got.String()))-before >= 60 }) {
		t.Fatalf("the sniffer saw %d fields:\n%s", len(strings.Fields(got.String()))-before, got.String())
	}
	f := strings.Fields(got.String())[before:]
	var ports []int
	ids := map[int]bool{}
	for i := 0; i+1 < len(f); i += 2 {
		p, _ := strconv.Atoi(f[i])
		id, _ := strconv.Atoi(f[i+1])
		ports = append(ports, p)
		ids[id] = true
	}
	seq, distinct, lo, hi := 0, map[int]bool{}, 65536, 0
	for i, p := range ports {
		distinct[p] = true
		lo, hi = min(lo, p), max(hi, p)
		if i > 0 && (p == ports[i-1]+1 || p == ports[i-1]) {
			seq++
		}
	}
	if seq > 3 || len(distinct) < len(ports)-2 || hi-lo < 4096 || len(ids) < len(ports)-2 {
		t.Errorf("%d queries from %d ports (%d in sequence, spread %d-%d) with %d ids: predictable\n%v", len(ports), len(distinct), seq, lo, hi, len(ids), ports)
	}
	out := mustConsole(t, d.socket, "QUERY NAMES\n")
	if !strings.Contains(out, "IPN698I          queries leave from random ports of UDP 32768-65535 with random ids") {
		t.Errorf("QUERY NAMES:\n%s", out)
	}
	t.Logf("%d queries from ports %v", len(ports), ports)
}

// forgerPy watches the stack's DNS queries on the namespace's end of the
// wire and answers each one for a name under slow.example (which dnsmasq
// forwards to a server that never answers) with forged replies first —
// another id, another name, another type, from another port, from another
// address, all saying 10.66.6.6 — and last with the reply that matches in
// every part (10.77.89.21 for an A question, no address for AAAA). It
// prints "answered <qtype>" after each.
const forgerPy = `
import socket, struct, sys
dev = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
s.bind((dev, 0))
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
def frame(eth_dst, eth_src, src, dst, sport, dport, payload):
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return eth_dst + eth_src + b"\x08\x00" + ip + udp
def reply(qid, qname, qtype, addr):
    h = struct.pack("!HHHHHH", qid, 0x8180, 1, 1 if addr else 0, 0, 0)
    q = qname + struct.pack("!HH", qtype, 1)
    a = struct.pack("!HHHIH", 0xc00c, 1, 1, 300, 4) + socket.inet_aton(addr) if addr else b""
    return h + q + a
print("ready", flush=True)
while True:
    f = s.recv(4096)
    ip = f[14:]
    if ip[9] != 17: continue
    h = (ip[0] & 15) * 4
    sport, dport = struct.unpack("!HH", ip[h:h+4])
    if dport != 53: continue
    dns = ip[h+8:]
    qid = struct.unpack("!H", dns[:2])[0]
    i = 12
    while dns[i]: i += dns[i] + 1
    qname = dns[12:i+1]
    qtype = struct.unpack("!H", dns[i+1:i+3])[0]
    if b"\x04slow\x07example\x00" not in qname: continue
    stack, server = ip[12:16], ip[16:20]
    eth_stack, eth_me = f[6:12], f[0:6]
    def send(src, sp, payload):
        s.send(frame(eth_stack, eth_me, src, stack, sp, sport, payload))
    other = server[:3] + bytes([server[3] + 1])
    send(server, 53, reply(qid ^ 0x5a5a, qname, qtype, "10.66.6.6"))
    send(server, 53, reply(qid, b"\x05other" + qname, qtype, "10.66.6.6"))
    send(server, 53, reply(qid, qname, 28 if qtype == 1 else 1, "10.66.6.6"))
    send(server, 5353, reply(qid, qname, qtype, "10.66.6.6"))
    send(other, 53, reply(qid, qname, qtype, "10.66.6.6"))
    send(server, 53, reply(qid, qname, qtype, "10.77.89.21" if qtype == 1 else None))
    print("answered", qtype, flush=True)
`

// TestDNSForgedAnswers: a forger beside dnsmasq, who sees the stack's
// queries, answers each with forged replies ahead of the true one: another
// id, another question name, another type, from another port, from another
// address. The stack takes the one reply that matches its question in
// every part; QUERY NAMES counts the forgeries that reached the query's
// port (the others never reach it). A name dnsmasq answers itself
// resolves as before.
func TestDNSForgedAnswers(t *testing.T) {
	testnet.RequireRoot(t)
	dnsmasq := testnet.RequireTool(t, "dnsmasq")
	py := testnet.RequireTool(t, "python3")
	ns := testnet.Netns(t)
	dev, peer := testnet.Veth(t, ns, "10.77.89.2/24")
	srv := exec.Command("ip", "netns", "exec", ns, dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--listen-address=10.77.89.2", "--bind-interfaces", "--pid-file=",
		"--host-record=real.site.example,10.77.89.2", "--local=/site.example/", "--server=/slow.example/10.77.89.99")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	forger := exec.Command("ip", "netns", "exec", ns, py, "-u", "-c", forgerPy, peer)
	var said syncBuffer
	forger.Stdout, forger.Stderr = &said, &said
	if err := forger.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { forger.Process.Kill(); forger.Wait() })
	if !waitFor(10*time.Second, func() bool { return strings.Contains(said.String(), "ready") }) {
		t.Fatalf("the forger did not start: %s", said.String())
	}
	d := startDaemon(t, "--deck", writeDeck(t,
		"DEFINE LINK ID=OSAD,TYPE=RAW,DEV="+dev+",IPADDR=10.77.89.10,MASK=255.255.255.0",
		"SET DNS1=10.77.89.2"))
	requireDeckOK(t, d)
	var out string
	if !waitFor(10*time.Second, func() bool { // dnsmasq answering
		out, _ = runConsole(t, d.socket, "PING real.site.example,COUNT=1\n")
		return strings.Contains(out, "IPN670I Host real.site.example is 10.77.89.2")
	}) {
		t.Fatalf("a name dnsmasq answers:\n%s", out)
	}
	out, _ = runConsole(t, d.socket, "PING www.slow.example,COUNT=1\n")
	if !strings.Contains(said.String(), "answered") {
		t.Fatalf("the forger saw no query:\n%s\n%s", said.String(), out)
	}
	if strings.Contains(out, "10.66.6.6") || !strings.Contains(out, "IPN670I Host www.slow.example is 10.77.89.21") {
		t.Fatalf("PING a name the forger answers:\n%s\nforger: %s", out, said.String())
	}
	q := mustConsole(t, d.socket, "QUERY NAMES\n")
	n := -1
	if m := regexp.MustCompile(`IPN698I .*: (\d+) others ignored`).FindStringSubmatch(q); m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	if n < 3 {
		t.Fatalf("%d forged answers counted ignored, want at least 3 (id, name, type):\n%s", n, q)
	}
	t.Logf("forger: %s", strings.Join(strings.Fields(said.String()), " "))
}
