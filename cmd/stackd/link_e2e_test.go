package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// writeDeck writes a deck file in the test's directory.
func writeDeck(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "site.deck")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ftpDeck defines a file, a user and an FTP daemon on port 21: a server in
// the stack for real TCP clients to reach.
func ftpDeck(dir string) []string {
	return []string{
		"DEFINE FILE PUBLIC=PUB,DLBL=" + dir + ",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		"DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(30100,30119)",
	}
}

// helloDir is a directory to publish holding hello.txt with text in it.
func helloDir(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// requireDeckOK fails the test when a statement of the daemon's
// initialization deck failed.
func requireDeckOK(t *testing.T, d *daemon) {
	t.Helper()
	if strings.Contains(d.stdout.String(), "IPN204E") {
		t.Fatalf("deck failed:\n%s", d.stdout)
	}
}

// mustConsole runs a deck and fails the test unless every statement
// succeeded.
func mustConsole(t *testing.T, socket, deck string) string {
	t.Helper()
	out, rc := runConsole(t, socket, deck)
	if rc != 0 {
		t.Fatalf("deck failed with rc %d:\n%s", rc, out)
	}
	return out
}

var tupleLine = regexp.MustCompile(`IPN141I (\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)`)

// connections parses QUERY CONNECTIONS into lines of "STATE LOCAL FOREIGN OWNER".
func connections(t *testing.T, socket, filter string) []string {
	t.Helper()
	out := mustConsole(t, socket, "QUERY CONNECTIONS"+filter+",MAX=100000\n") // every match, not the first 50
	var rows []string
	for _, m := range tupleLine.FindAllStringSubmatch(out, -1) {
		rows = append(rows, strings.Join(m[2:], " "))
	}
	return rows
}

// holdControl opens an FTP control connection from namespace ns (or the
// host if ns is empty) and keeps it open until the returned function is
// called, which sends QUIT (the server closes first). It returns the
// client's local port.
func holdControl(t *testing.T, ns, host string, port int) (int, func()) {
	t.Helper()
	script := fmt.Sprintf(`import socket,sys
s=socket.create_connection(("%s",%d),timeout=10)
f=s.makefile("rwb")
f.readline()
print(s.getsockname()[1],flush=True)
sys.stdin.readline()
f.write(b"QUIT\r\n");f.flush();f.readline()
s.close()
`, host, port)
	args := []string{"python3", "-c", script}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var line string
	if _, err := fmt.Fscanln(stdout, &line); err != nil {
		t.Fatalf("control connection: %v", err)
	}
	p, _ := strconv.Atoi(line)
	return p, func() {
		stdin.Write([]byte("\n"))
		cmd.Wait()
	}
}

// checkTuple checks QUERY CONNECTIONS: the control connection with its
// 4-tuple while it is open, then its closing state after QUIT (the daemon
// closes first, so the stack's end goes to TIME_WAIT).
//
// The client dials dialAddr:dialPort from namespace ns; in the stack the
// connection is stackAddr:21 with clientAddr and the client's own port,
// through a USER link as much as on a RAW link.
func checkTuple(t *testing.T, socket, ns, dialAddr string, dialPort int, stackAddr, clientAddr string) {
	t.Helper()
	cport, quit := holdControl(t, ns, dialAddr, dialPort)
	rows := connections(t, socket, ",PORT=21")
	want := fmt.Sprintf("ESTABLISHED %s:21 %s:%d FTP01", stackAddr, clientAddr, cport)
	if !contains(rows, want) || !contains(rows, "LISTEN [::]:21 * FTP01") {
		t.Fatalf("QUERY CONNECTIONS %q lacks %q", rows, want)
	}
	quit()
	closing := fmt.Sprintf("%s:21 %s:%d FTP01", stackAddr, clientAddr, cport)
	var last []string
	ok := waitFor(5*time.Second, func() bool {
		last = connections(t, socket, fmt.Sprintf(",PORT=%d", cport))
		return contains(last, "TIME_WAIT "+closing)
	})
	if !ok {
		t.Fatalf("after QUIT the connection is not in TIME_WAIT: %q", last)
	}
}

func contains(rows []string, want string) bool {
	for _, r := range rows {
		if r == want {
			return true
		}
	}
	return false
}

// traced runs what between TRACE ON and TRACE OFF on a link and checks
// with tshark that the pcap file holds the handshake of a connection from
// client to server:port.
func traced(t *testing.T, socket, link, client, server string, port int, what func()) {
	t.Helper()
	testnet.RequireTool(t, "tshark")
	pcap := filepath.Join(t.TempDir(), strings.ToLower(link)+".pcap")
	mustConsole(t, socket, "TRACE ON,LINKID="+link+",FILE="+pcap+"\n")
	what()
	off := mustConsole(t, socket, "TRACE OFF,LINKID="+link+"\n")
	if !strings.Contains(off, "IPN117I Trace of link "+link+" ended") {
		t.Fatalf("TRACE OFF: %s", off)
	}
	fields, err := exec.Command("tshark", "-r", pcap, "-Y", fmt.Sprintf("tcp.port==%d && tcp.flags.syn==1", port),
		"-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.flags.ack").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(fields)), "\n")
	syn := func(l, src, dst string) bool { return l == src+"\t"+dst+"\tFalse" || l == src+"\t"+dst+"\t0" }
	synack := func(l, src, dst string) bool { return l == src+"\t"+dst+"\tTrue" || l == src+"\t"+dst+"\t1" }
	if len(lines) < 2 || !syn(lines[0], client, server) || !synack(lines[1], server, client) {
		t.Fatalf("no handshake %s -> %s:%d in the trace:\n%s", client, server, port, fields)
	}
}

// TestRawLinkE2E drives a veth end through a RAW link of the real stackd:
// the kernel's ping and curl in another namespace reach the stack, the
// stack's PING reaches them, QUERY CONNECTIONS shows the connection's
// 4-tuple and its closing state, the TRACE file opens in tshark and shows
// the handshake, and the link fails and comes back with its interface.
func TestRawLinkE2E(t *testing.T) {
	testnet.RequireRoot(t)
	for _, tool := range []string{"ping", "curl", "tshark", "python3"} {
		testnet.RequireTool(t, tool)
	}
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.70.2/24")
	pub := helloDir(t, "hello over the raw link\n")
	deck := writeDeck(t, append([]string{
		"DEFINE LINK ID=OSA1,TYPE=OSAX,DEV=" + dev + ",IPADDR=10.77.70.10,MASK=255.255.255.0",
	}, ftpDeck(pub)...)...)
	d := startDaemon(t, "--deck", deck)
	requireDeckOK(t, d)
	testnet.Must(t, ns, "ping", "-c", "2", "-W", "2", "10.77.70.10")

	traced(t, d.socket, "OSA1", "10.77.70.2", "10.77.70.10", 21, func() {
		out := testnet.Must(t, ns, "curl", "-sS", "--max-time", "20", "ftp://TESTER:T3ster@10.77.70.10/PUB/hello.txt")
		if out != "hello over the raw link\n" {
			t.Fatalf("curl: %q", out)
		}
	})

	ping := mustConsole(t, d.socket, "PING 10.77.70.2,COUNT=2\n")
	if !strings.Contains(ping, "IPN132I Ping 10.77.70.2: 2 sent, 2 received, 0% loss") {
		t.Fatalf("PING:\n%s", ping)
	}
	if arp := mustConsole(t, d.socket, "QUERY ARP\n"); !strings.Contains(arp, "10.77.70.2") {
		t.Fatalf("QUERY ARP:\n%s", arp)
	}
	checkTuple(t, d.socket, ns, "10.77.70.10", 21, "10.77.70.10", "10.77.70.2")

	// The interface goes down and comes back: the link fails and recovers.
	testnet.Must(t, "", "ip", "link", "set", dev, "down")
	if !waitFor(10*time.Second, func() bool { return strings.Contains(d.stdout.String(), "IPN164W Link OSA1 on "+dev+" failed") }) {
		t.Fatalf("no IPN164W:\n%s", d.stdout)
	}
	testnet.Must(t, "", "ip", "link", "set", dev, "up")
	if !waitFor(10*time.Second, func() bool { return strings.Contains(d.stdout.String(), "IPN165I Link OSA1 on "+dev+" recovered") }) {
		t.Fatalf("no IPN165I:\n%s", d.stdout)
	}
	testnet.Must(t, ns, "ping", "-c", "1", "-W", "2", "10.77.70.10")
}

// TestTapLinkE2E runs stackd inside a namespace of its own, where it
// creates a TAP device; the host's side of the TAP, in the same namespace,
// reaches the stack.
func TestTapLinkE2E(t *testing.T) {
	testnet.RequireRoot(t)
	for _, tool := range []string{"ping", "curl"} {
		testnet.RequireTool(t, tool)
	}
	ns := testnet.Netns(t)
	tap := testnet.Name("ipntap")
	pub := helloDir(t, "hello over the tap\n")
	deck := writeDeck(t, append([]string{
		"DEFINE LINK ID=TAP1,TYPE=TAP,DEV=" + tap + ",IPADDR=10.77.71.10,MASK=255.255.255.0,HOSTADDR=10.77.71.1",
	}, ftpDeck(pub)...)...)
	d := startDaemonIn(t, ns, "--deck", deck)
	requireDeckOK(t, d)
	testnet.Must(t, ns, "ping", "-c", "2", "-W", "2", "10.77.71.10")
	traced(t, d.socket, "TAP1", "10.77.71.1", "10.77.71.10", 21, func() {
		out := testnet.Must(t, ns, "curl", "-sS", "--max-time", "20", "ftp://TESTER:T3ster@10.77.71.10/PUB/hello.txt")
		if out != "hello over the tap\n" {
			t.Fatalf("curl: %q", out)
		}
	})
	ping := mustConsole(t, d.socket, "PING 10.77.71.1,COUNT=1\n")
	if !strings.Contains(ping, "IPN132I Ping 10.77.71.1: 1 sent, 1 received") {
		t.Fatalf("PING:\n%s", ping)
	}
	links := mustConsole(t, d.socket, "QUERY LINKS ID=TAP1\n")
	if !strings.Contains(links, "TAP1     TAP      ACTIVE   "+tap) {
		t.Fatalf("QUERY LINKS:\n%s", links)
	}
	checkTuple(t, d.socket, ns, "10.77.71.10", 21, "10.77.71.10", "10.77.71.1")
}

// TestUserLinkE2E needs no privileges: host ports on 127.0.0.1 reach the
// stack with each client's own address and port (in the trace, in QUERY
// CONNECTIONS), an active-mode FTP data connection reaches the client on
// the host, and PORT to the gateway is a foreign address like any other.
func TestUserLinkE2E(t *testing.T) {
	testnet.RequireTool(t, "curl")
	testnet.RequireTool(t, "python3")
	ctl, data := freePort(t), freePort(t)
	pub := helloDir(t, "hello through the gateway\n")
	deck := writeDeck(t,
		// The passive data port has the same number on the host and in the
		// stack, since the 227 reply names the stack's port.
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d)", ctl, data),
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		fmt.Sprintf("DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1", data, data),
	)
	d := startDaemon(t, "--deck", deck)
	requireDeckOK(t, d)
	// In: a stock client on the host, passive mode through the forwards;
	// in the stack it is a connection from the client's own address.
	traced(t, d.socket, "USER1", "127.0.0.1", "10.0.2.15", 21, func() {
		out, err := exec.Command("curl", "-sS", "--max-time", "20", "--disable-epsv",
			fmt.Sprintf("ftp://TESTER:T3ster@127.0.0.1:%d/PUB/hello.txt", ctl)).CombinedOutput()
		if err != nil || string(out) != "hello through the gateway\n" {
			t.Fatalf("curl: %v %q", err, out)
		}
	})
	checkTuple(t, d.socket, "", "127.0.0.1", ctl, "10.0.2.15", "127.0.0.1")
	// Out: PORT to the client's own address reaches it; PORT to the
	// gateway's address is a foreign address like any other.
	script := fmt.Sprintf(`import socket
ln=socket.socket(); ln.bind(("127.0.0.1",0)); ln.listen(1); p=ln.getsockname()[1]
c=socket.create_connection(("127.0.0.1",%d),timeout=10); f=c.makefile("rwb")
def cmd(s):
    f.write((s+"\r\n").encode()); f.flush(); return f.readline().decode().strip()
f.readline(); cmd("USER TESTER"); cmd("PASS T3ster"); cmd("TYPE I")
print(cmd("PORT 10,0,2,2,%%d,%%d" %% (p//256,p%%256)))
print(cmd("PORT 127,0,0,1,%%d,%%d" %% (p//256,p%%256)))
print(cmd("RETR /PUB/hello.txt"))
d,_=ln.accept(); print(d.recv(100).decode().strip()); d.close()
print(f.readline().decode().strip()); cmd("QUIT")
`, ctl)
	out, err := exec.Command("python3", "-c", script).CombinedOutput()
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(got) != 5 || got[0] != "501 Data connection to 10.0.2.2 refused: only 127.0.0.1 is allowed" ||
		!strings.HasPrefix(got[1], "200") || !strings.HasPrefix(got[2], "150") ||
		got[3] != "hello through the gateway" || !strings.HasPrefix(got[4], "226") {
		t.Fatalf("active mode through the gateway: %v\n%s", err, out)
	}
	links := mustConsole(t, d.socket, "QUERY LINKS ID=USER1\n")
	if !strings.Contains(links, fmt.Sprintf("forwards 127.0.0.1:%d to port 21; gateway 10.0.2.2", ctl)) {
		t.Fatalf("QUERY LINKS:\n%s", links)
	}
	ping := mustConsole(t, d.socket, "PING 10.0.2.2,COUNT=1\n")
	if !strings.Contains(ping, "1 received") {
		t.Fatalf("PING of the gateway:\n%s", ping)
	}
}
