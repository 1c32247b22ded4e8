package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// TestUserLinkServesOtherMachines: a client on another machine (a network
// namespace behind a veth) reaches an FTP daemon through a USER link's
// forwards on every host address, IPv4 and IPv6, passive and active, curl
// and lftp with TLS, with no route defined: the replies go back through
// the link's gateway (the return routes QUERY ROUTES shows as *RETURN),
// the client keeping its own address.
func TestUserLinkServesOtherMachines(t *testing.T) {
	testnet.RequireRoot(t)
	curl := testnet.RequireTool(t, "curl")
	ns := testnet.Netns(t)
	host, peer := testnet.Veth(t, ns, "10.77.93.2/24")
	testnet.Must(t, "", "ip", "addr", "add", "10.77.93.1/24", "dev", host)
	testnet.Must(t, "", "ip", "addr", "add", "fd77:93::1/64", "dev", host, "nodad")
	testnet.Must(t, ns, "ip", "addr", "add", "fd77:93::2/64", "dev", peer, "nodad")
	base := testnet.HostPorts(t, 22)
	ctl, lo, hi, ctl6 := base, base+1, base+20, base+21
	pub := helloDir(t, "hello from the stack, for another machine\n")
	d := startDaemon(t, "--deck", writeDeck(t,
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,IP6ADDR=(fd77:93:1::15/64),"+
			"FORWARD=(0.0.0.0:%d:21,0.0.0.0:%d-%d,[::]:%d:21,[::]:%d-%d)", ctl, lo, hi, ctl6, lo, hi),
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		fmt.Sprintf("DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=10.77.93.1,TLS=ALLOWED", lo, hi)))
	requireDeckOK(t, d)
	q := mustConsole(t, d.socket, "QUERY ROUTES\n")
	if !strings.Contains(q, "*RETURN  0.0.0.0/0") || !strings.Contains(q, "10.0.2.2") || !strings.Contains(q, "*RETURN  ::/0") {
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
	// IPv6 from another machine, passive (EPSV) and active (EPRT).
	url6 := fmt.Sprintf("ftp://TESTER:T3ster@[fd77:93::1]:%d/PUB/hello.txt", ctl6)
	for _, mode := range [][]string{{}, {"-P", "fd77:93::2"}} {
		args := append([]string{"netns", "exec", ns, curl, "-g", "-sS", "--max-time", "15"}, mode...)
		out, err := exec.Command("ip", append(args, url6)...).CombinedOutput()
		if err != nil || string(out) != "hello from the stack, for another machine\n" {
			t.Fatalf("curl %v over IPv6 from another machine: %v\n%s", mode, err, out)
		}
	}
	// lftp with TLS on the control and data connections, passive.
	lftp := testnet.RequireTool(t, "lftp")
	out, err := exec.Command("ip", "netns", "exec", ns, lftp, "-e",
		"set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; set net:max-retries 1; set net:timeout 15; cat /PUB/hello.txt; bye",
		"-u", "TESTER,T3ster", "-p", fmt.Sprint(ctl), "10.77.93.1").CombinedOutput()
	if err != nil || string(out) != "hello from the stack, for another machine\n" {
		t.Fatalf("lftp with TLS from another machine: %v\n%s", err, out)
	}
	q = mustConsole(t, d.socket, "QUERY FTPDS ID=FTP01\n")
	if !strings.Contains(q, "transfers 6,") {
		t.Fatalf("QUERY FTPDS after six downloads:\n%s", q)
	}
	// An operator's own default route takes the place of the return route.
	q = mustConsole(t, d.socket, "DEFINE ROUTE ID=DEF,LINKID=USER1,IPADDR=0.0.0.0,GATEWAY=10.0.2.2\nQUERY ROUTES\nDELETE ROUTE ID=DEF\nQUERY ROUTES\n")
	if strings.Count(q, "*RETURN  0.0.0.0/0") != 1 || !strings.Contains(q, "DEF      0.0.0.0/0") {
		t.Fatalf("the return route beside an operator's default route:\n%s", q)
	}
}

// TestStackReachesItself: every address of the stack, on every link type
// and both families, answers the stack's own PING; the stack's TCP
// reaches its own servers at a link's address (the SOCKS door to the FTP
// daemon at the USER and RAW links' addresses, the FTP client at the RAW
// link's), and a USER link still drops a loopback source from outside.
func TestStackReachesItself(t *testing.T) {
	testnet.RequireRoot(t)
	curl := testnet.RequireTool(t, "curl")
	ns := testnet.Netns(t)
	raw, _ := testnet.Veth(t, ns, "10.77.95.2/24")
	ports := testnet.HostPorts(t, 2)
	fwd, door := ports, ports+1
	pub := helloDir(t, "hello from myself\n")
	d := startDaemon(t, "--deck", writeDeck(t, append([]string{
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,IP6ADDR=(fd77:95:1::15/64),FORWARD=(%d:21)", fwd),
		"DEFINE LINK ID=OSA1,TYPE=RAW,DEV=" + raw + ",IPADDR=10.77.95.10,MASK=255.255.255.0,IP6ADDR=(fd77:95::10/64)",
		"DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.95.1,MASK=255.255.255.0,IP6ADDR=(fd77:95:2::1/64)",
		fmt.Sprintf("DEFINE SOCKSD ID=SOCKS1,PORT=%d", door),
	}, ftpDeck(pub)...)...))
	requireDeckOK(t, d)
	for _, own := range []string{"10.0.2.15", "fd77:95:1::15", "10.77.95.10", "fd77:95::10", "10.99.95.1", "fd77:95:2::1", "127.0.0.1", "::1"} {
		out := mustConsole(t, d.socket, "PING "+own+",COUNT=1\n")
		if !strings.Contains(out, "IPN132I Ping "+own+": 1 sent, 1 received") {
			t.Errorf("PING of the stack's own %s:\n%s", own, out)
		}
	}
	for _, own := range []string{"10.77.95.10", "fd77:95::10"} {
		if out := mustConsole(t, d.socket, "TRACERT "+own+"\n"); !strings.Contains(out, "IPN662I Trace of "+own+" complete: reached in 1 hop") {
			t.Errorf("TRACERT of the stack's own %s:\n%s", own, out)
		}
	}
	for _, own := range []string{"10.0.2.15", "10.77.95.10"} {
		out, err := exec.Command(curl, "-sS", "--max-time", "15", "-x", fmt.Sprintf("socks5://127.0.0.1:%d", door),
			"ftp://TESTER:T3ster@"+own+"/PUB/hello.txt").CombinedOutput()
		if err != nil || string(out) != "hello from myself\n" {
			t.Errorf("curl through the door to the stack's own %s: %v\n%s", own, err, out)
		}
	}
	// Names at every door: the door resolves a client's name (socks5h://)
	// from the host table; FTP HOST=localhost is the stack's loopback;
	// PASVADDR= takes a name, resolved as the daemon is altered.
	mustConsole(t, d.socket, "DEFINE NAME,NAME=myself.site.example,IPADDR=10.77.95.10\n")
	named, err := exec.Command(curl, "-sS", "--max-time", "15", "-x", fmt.Sprintf("socks5h://127.0.0.1:%d", door),
		"ftp://TESTER:T3ster@myself.site.example/PUB/hello.txt").CombinedOutput()
	if err != nil || string(named) != "hello from myself\n" {
		t.Errorf("curl socks5h:// with a host-table name: %v\n%s", err, named)
	}
	if q := mustConsole(t, d.socket, "ALTER FTPD ID=FTP01,PASVADDR=myself.site.example\nQUERY FTPDS ID=FTP01\n"); !strings.Contains(q, "IPN670I Host myself.site.example is 10.77.95.10") ||
		!strings.Contains(q, "PASVADDR 10.77.95.10") {
		t.Errorf("PASVADDR= by name:\n%s", q)
	}
	mustConsole(t, d.socket, "ALTER FTPD ID=FTP01,PASVADDR=0.0.0.0\n")
	in := t.TempDir()
	out, rc := runConsole(t, d.socket, "DEFINE FILE PUBLIC=IN,DLBL="+in+",READONLY=NO\n"+
		"FTP HOST=10.77.95.10,USER=TESTER,PASSWORD=T3ster,LOCAL=IN,CMD=('CD /PUB','GET hello.txt')\n"+
		"FTP HOST=localhost,USER=TESTER,PASSWORD=T3ster,LOCAL=IN,CMD=('CD /PUB','GET hello.txt local.txt')\n")
	if got, _ := os.ReadFile(filepath.Join(in, "hello.txt")); rc != 0 || string(got) != "hello from myself\n" ||
		!strings.Contains(out, "IPN650I FTP client: connected to 10.77.95.10:21 from 10.77.95.10:") {
		t.Errorf("the FTP client to the stack's own RAW address: rc %d, %q\n%s", rc, got, out)
	}
	if got, _ := os.ReadFile(filepath.Join(in, "local.txt")); string(got) != "hello from myself\n" ||
		!strings.Contains(out, "IPN670I Host localhost is 127.0.0.1") {
		t.Errorf("FTP HOST=localhost: %q\n%s", got, out)
	}
	// Reaching itself gives up nothing of the USER link's identity work: a
	// client from the host's loopback is still itself in the stack.
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", fwd), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if greet, err := bufio.NewReader(c).ReadString('\n'); !strings.HasPrefix(greet, "220") {
		t.Fatalf("a host client through the forward: %q %v", greet, err)
	}
	q := mustConsole(t, d.socket, "QUERY CONNECTIONS OWNER=FTP01\n")
	if !strings.Contains(q, c.LocalAddr().String()) {
		t.Fatalf("the host client is not itself in the stack (%s):\n%s", c.LocalAddr(), q)
	}
}

// TestTapLinkReachesItself: a TAP link's own addresses answer the stack's
// PING (the stack runs in a namespace of its own, where it makes the TAP).
func TestTapLinkReachesItself(t *testing.T) {
	testnet.RequireRoot(t)
	ns := testnet.Netns(t)
	tap := testnet.Name("ipntap")
	d := startDaemonIn(t, ns, "--deck", writeDeck(t,
		"DEFINE LINK ID=TAP1,TYPE=TAP,DEV="+tap+",IPADDR=10.77.96.10,MASK=255.255.255.0,HOSTADDR=10.77.96.1,IP6ADDR=(fd77:96::10/64)"))
	requireDeckOK(t, d)
	for _, own := range []string{"10.77.96.10", "fd77:96::10"} {
		out := mustConsole(t, d.socket, "PING "+own+",COUNT=1\n")
		if !strings.Contains(out, "IPN132I Ping "+own+": 1 sent, 1 received") {
			t.Errorf("PING of the TAP link's own %s:\n%s", own, out)
		}
	}
}
