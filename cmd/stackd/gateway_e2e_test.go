package main

import (
	"os/exec"
	"strings"
	"testing"

	"ipnstack/internal/testnet"
)

// TestGateway: SET GATEWAY=ON makes the stack a router between two RAW
// links (IPv4 and IPv6): a host of one namespace pings a host of the other
// through it; with OFF (the default, and again after ON) it cannot.
func TestGateway(t *testing.T) {
	testnet.RequireRoot(t)
	testnet.RequireTool(t, "ping")
	ns1, ns2 := testnet.Netns(t), testnet.Netns(t)
	dev1, peer1 := testnet.Veth(t, ns1, "10.77.82.2/24")
	dev2, peer2 := testnet.Veth(t, ns2, "10.77.83.2/24")
	testnet.Must(t, ns1, "ip", "addr", "add", "fd77:82::2/64", "dev", peer1, "nodad")
	testnet.Must(t, ns2, "ip", "addr", "add", "fd77:83::2/64", "dev", peer2, "nodad")
	testnet.Must(t, ns1, "ip", "route", "add", "10.77.83.0/24", "via", "10.77.82.10")
	testnet.Must(t, ns2, "ip", "route", "add", "10.77.82.0/24", "via", "10.77.83.10")
	testnet.Must(t, ns1, "ip", "-6", "route", "add", "fd77:83::/64", "via", "fd77:82::10")
	testnet.Must(t, ns2, "ip", "-6", "route", "add", "fd77:82::/64", "via", "fd77:83::10")
	d := startDaemon(t, "--deck", writeDeck(t,
		"DEFINE LINK ID=NET1,TYPE=RAW,DEV="+dev1+",IPADDR=10.77.82.10,MASK=255.255.255.0,IP6ADDR=(fd77:82::10/64)",
		"DEFINE LINK ID=NET2,TYPE=RAW,DEV="+dev2+",IPADDR=10.77.83.10,MASK=255.255.255.0,IP6ADDR=(fd77:83::10/64)"))
	requireDeckOK(t, d)
	reaches := func() (v4, v6 bool) {
		v4 = exec.Command("ip", "netns", "exec", ns1, "ping", "-c", "1", "-W", "1", "10.77.83.2").Run() == nil
		v6 = exec.Command("ip", "netns", "exec", ns1, "ping", "-6", "-c", "1", "-W", "1", "fd77:83::2").Run() == nil
		return
	}
	if v4, v6 := reaches(); v4 || v6 {
		t.Fatalf("forwarded before SET GATEWAY=ON (IPv4 %v, IPv6 %v)", v4, v6)
	}
	out := mustConsole(t, d.socket, "SET GATEWAY=ON\nQUERY STATISTICS\n")
	if !strings.Contains(out, "IPN149I IP forwarding between the stack's links: YES") || !strings.Contains(out, "IP forwarding between links (GATEWAY): YES") {
		t.Fatalf("SET GATEWAY=ON:\n%s", out)
	}
	if v4, v6 := reaches(); !v4 || !v6 {
		t.Fatalf("not forwarded with GATEWAY=ON (IPv4 %v, IPv6 %v)", v4, v6)
	}
	mustConsole(t, d.socket, "SET GATEWAY=OFF\n")
	if v4, v6 := reaches(); v4 || v6 {
		t.Fatalf("forwarded after SET GATEWAY=OFF (IPv4 %v, IPv6 %v)", v4, v6)
	}
}
