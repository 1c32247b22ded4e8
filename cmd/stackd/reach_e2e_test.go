package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"ipnstack/internal/testnet"
)

// TestUserLinkServesOtherMachines: a client on another machine (a network
// namespace behind a veth) reaches an FTP daemon through a USER link's
// forwards on every host address, passive and active, with no route
// defined: the replies go back through the link's gateway (the return
// route QUERY ROUTES shows as *RETURN), the client keeping its own address.
func TestUserLinkServesOtherMachines(t *testing.T) {
	testnet.RequireRoot(t)
	curl := testnet.RequireTool(t, "curl")
	ns := testnet.Netns(t)
	host, _ := testnet.Veth(t, ns, "10.77.93.2/24")
	testnet.Must(t, "", "ip", "addr", "add", "10.77.93.1/24", "dev", host)
	base := testnet.HostPorts(t, 21)
	ctl, lo, hi := base, base+1, base+20
	pub := helloDir(t, "hello from the stack, for another machine\n")
	d := startDaemon(t, "--deck", writeDeck(t,
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(0.0.0.0:%d:21,0.0.0.0:%d-%d)", ctl, lo, hi),
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		fmt.Sprintf("DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=10.77.93.1", lo, hi)))
	requireDeckOK(t, d)
	q := mustConsole(t, d.socket, "QUERY ROUTES\n")
	if !strings.Contains(q, "*RETURN  0.0.0.0/0") || !strings.Contains(q, "10.0.2.2") {
		t.Fatalf("QUERY ROUTES shows no return route through the USER link:\n%s", q)
	}
	url := fmt.Sprintf("ftp://TESTER:T3ster@10.77.93.1:%d/PUB/hello.txt", ctl)
	for _, mode := range [][]string{{}, {"--disable-epsv"}, {"-P", "10.77.93.2"}} {
		args := append([]string{"netns", "exec", ns, curl, "-sS", "--max-time", "15"}, mode...)
		out, err := exec.Command("ip", append(args, url)...).CombinedOutput()
		if err != nil || string(out) != "hello from the stack, for another machine\n" {
			t.Fatalf("curl %v from another machine: %v\n%s\n%s", mode, err, out, mustConsole(t, d.socket, "QUERY CONNECTIONS\n"))
		}
	}
	q = mustConsole(t, d.socket, "QUERY FTPDS ID=FTP01\n")
	if !strings.Contains(q, "transfers 3,") {
		t.Fatalf("QUERY FTPDS after three downloads:\n%s", q)
	}
	// An operator's own default route takes the place of the return route.
	q = mustConsole(t, d.socket, "DEFINE ROUTE ID=DEF,LINKID=USER1,IPADDR=0.0.0.0,GATEWAY=10.0.2.2\nQUERY ROUTES\nDELETE ROUTE ID=DEF\nQUERY ROUTES\n")
	if strings.Count(q, "*RETURN") != 1 || !strings.Contains(q, "DEF      0.0.0.0/0") {
		t.Fatalf("the return route beside an operator's default route:\n%s", q)
	}
}
