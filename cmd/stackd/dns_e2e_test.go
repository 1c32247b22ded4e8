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
