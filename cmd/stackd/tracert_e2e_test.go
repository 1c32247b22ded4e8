package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// TestTracert: TRACERT from the stack across a kernel router namespace to a
// host behind it: two hops, the router's address on the first, the host's
// on the second, for IPv4 and IPv6.
func TestTracert(t *testing.T) {
	testnet.RequireRoot(t)
	r, h := testnet.Netns(t), testnet.Netns(t)
	dev, peer := testnet.Veth(t, r, "10.77.84.1/24")
	testnet.Must(t, r, "ip", "addr", "add", "fd77:84::1/64", "dev", peer, "nodad")
	rh, hr := testnet.Name("ipnrh"), testnet.Name("ipnhr")
	testnet.Must(t, r, "ip", "link", "add", rh, "type", "veth", "peer", "name", hr, "netns", h)
	testnet.Must(t, r, "sh", "-c", "ip addr add 10.77.85.1/24 dev "+rh+" && ip addr add fd77:85::1/64 dev "+rh+" nodad && ip link set "+rh+" up"+
		" && sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0")
	testnet.Must(t, h, "sh", "-c", "ip link set lo up && ip addr add 10.77.85.2/24 dev "+hr+" && ip addr add fd77:85::2/64 dev "+hr+" nodad"+
		" && ip link set "+hr+" up && ip route add default via 10.77.85.1 && ip -6 route add default via fd77:85::1")
	d := startDaemon(t, "--deck", writeDeck(t,
		"DEFINE LINK ID=OSAT,TYPE=RAW,DEV="+dev+",IPADDR=10.77.84.10,MASK=255.255.255.0,IP6ADDR=(fd77:84::10/64)",
		"DEFINE ROUTE ID=FAR,LINKID=OSAT,IPADDR=10.77.85.0,MASK=255.255.255.0,GATEWAY=10.77.84.1",
		"DEFINE ROUTE ID=FAR6,LINKID=OSAT,IP6NET=fd77:85::/64,GATEWAY=fd77:84::1"))
	requireDeckOK(t, d)
	// The router's link to the host finishes its IPv6 start-up (the
	// link-local addresses' duplicate detection) before the trace.
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("ip", "netns", "exec", r, "ping", "-6", "-c", "1", "-W", "1", "fd77:85::2").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the router cannot reach the host over IPv6")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []struct{ dst, router string }{{"10.77.85.2", "10.77.84.1"}, {"fd77:85::2", "fd77:84::1"}} {
		out := mustConsole(t, d.socket, "TRACERT "+c.dst+",MAXHOPS=5,TIMEOUT=1\n")
		hop := func(n, addr string) *regexp.Regexp {
			return regexp.MustCompile(`(?m)^IPN661I +` + n + ` +` + regexp.QuoteMeta(addr) + ` +[0-9.]+ ms  [0-9.]+ ms  [0-9.]+ ms$`)
		}
		if !hop("1", c.router).MatchString(out) || !hop("2", c.dst).MatchString(out) ||
			!strings.Contains(out, "IPN662I Trace of "+c.dst+" complete: reached in 2 hops") {
			t.Fatalf("TRACERT %s:\n%s", c.dst, out)
		}
	}
	// A host nobody routes: the hops beyond the router do not answer.
	out, _ := runConsole(t, d.socket, "TRACERT 10.77.86.9,MAXHOPS=2,PROBES=1,TIMEOUT=1\n")
	if !strings.Contains(out, "IPN135E No route to 10.77.86.9") {
		t.Fatalf("TRACERT without a route:\n%s", out)
	}
}
