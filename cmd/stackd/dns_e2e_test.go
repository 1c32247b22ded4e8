package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
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
