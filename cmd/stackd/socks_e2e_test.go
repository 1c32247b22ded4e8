package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
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

// TestSocksDoor: curl through a SOCKS door reaches a kernel HTTP server in
// a namespace over a RAW link, and the stack's own FTP daemon (control and
// passive data both through the door); each connection leaves from the next
// port of PORTRANGE and shows in QUERY CONNECTIONS with the door as owner
// and the host client beside it, and in QUERY SOCKSDS.
func TestSocksDoor(t *testing.T) {
	testnet.RequireRoot(t)
	curl := testnet.RequireTool(t, "curl")
	py := testnet.RequireTool(t, "python3")
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.71.2/24")
	web := t.TempDir()
	big := strings.Repeat("0123456789abcdef", 64*1024) // 1 MiB
	os.WriteFile(filepath.Join(web, "hello.txt"), []byte("hello through the door\n"), 0o644)
	os.WriteFile(filepath.Join(web, "big.bin"), []byte(big), 0o644)
	srv := exec.Command("ip", "netns", "exec", ns, py, "-m", "http.server", "8080", "--bind", "10.77.71.2", "--directory", web)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })

	door := testnet.HostPorts(t, 1)
	pub := helloDir(t, "hello from the stack's own daemon\n")
	deck := writeDeck(t, append([]string{
		"PORTRANGE LOW=50000,HIGH=51100",
		"DEFINE LINK ID=OSA1,TYPE=OSAX,DEV=" + dev + ",IPADDR=10.77.71.10,MASK=255.255.255.0",
		"DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.71.1,MASK=255.255.255.0",
		fmt.Sprintf("DEFINE SOCKSD ID=SOCKS1,PORT=%d", door),
	}, ftpDeck(pub)...)...)
	d := startDaemon(t, "--deck", deck)
	requireDeckOK(t, d)
	proxy := fmt.Sprintf("socks5://127.0.0.1:%d", door)
	if !waitFor(10*time.Second, func() bool {
		out, err := exec.Command(curl, "-sS", "--max-time", "5", "-x", proxy, "http://10.77.71.2:8080/hello.txt").CombinedOutput()
		return err == nil && string(out) == "hello through the door\n"
	}) {
		out, err := exec.Command(curl, "-sS", "--max-time", "5", "-x", proxy, "http://10.77.71.2:8080/hello.txt").CombinedOutput()
		t.Fatalf("curl through the door to the namespace: %v\n%s", err, out)
	}

	// A connection through the door that sends nothing yet: the HTTP
	// server waits for its request, and the displays are read meanwhile.
	held, rep, err := socksConnect(door, netip.MustParseAddrPort("10.77.71.2:8080"))
	if err != nil || rep != 0 {
		t.Fatalf("a held connection through the door: %v, reply %#x", err, rep)
	}
	defer held.Close()
	client := held.LocalAddr().String()
	var cs, sd string
	if !waitFor(10*time.Second, func() bool {
		cs = mustConsole(t, d.socket, "QUERY CONNECTIONS OWNER=SOCKS1\n")
		sd = mustConsole(t, d.socket, "QUERY SOCKSDS\n")
		return strings.Contains(cs, "IPN148I          for host client "+client) && strings.Contains(sd, "IPN648I")
	}) {
		t.Fatalf("no connection of SOCKS1 shown with its host client %s:\n%s\n%s", client, cs, sd)
	}
	m := regexp.MustCompile(`IPN141I \S+\s+ESTABLISHED\s+10\.77\.71\.10:(\d+)\s+10\.77\.71\.2:8080\s+SOCKS1`).FindStringSubmatch(cs)
	if m == nil {
		t.Fatalf("QUERY CONNECTIONS:\n%s", cs)
	}
	if p, _ := strconv.Atoi(m[1]); p < 50000 || p > 51100 {
		t.Fatalf("the door's connection left from port %d, outside PORTRANGE", p)
	}
	if !regexp.MustCompile(`IPN648I +connection \d+: ` + regexp.QuoteMeta(client) + ` - to 10\.77\.71\.2:8080 from 10\.77\.71\.10:` + m[1]).MatchString(sd) {
		t.Fatalf("QUERY SOCKSDS:\n%s", sd)
	}
	// The request, and the whole answer, through the held connection.
	held.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(held, "GET /big.bin HTTP/1.0\r\n\r\n")
	body, err := io.ReadAll(held)
	if err != nil || !strings.HasSuffix(string(body), big) {
		t.Fatalf("1 MiB through the held connection: %v, %d bytes", err, len(body))
	}

	// The stack's own daemon, control and passive data through the door.
	out, err := exec.Command(curl, "-sS", "--max-time", "20", "-x", proxy, "ftp://TESTER:T3ster@10.99.71.1/PUB/hello.txt").CombinedOutput()
	if err != nil || string(out) != "hello from the stack's own daemon\n" {
		t.Fatalf("curl ftp through the door: %v\n%s", err, out)
	}
	sd = mustConsole(t, d.socket, "QUERY SOCKSDS\nQUERY PORTRANGE\n")
	if g := sayField(sd, "IPN645I", "granted"); g < 4 {
		t.Fatalf("granted %d (want the HTTP, the slow download, and FTP's control and data):\n%s", g, sd)
	}
	if a := sayField(sd, "IPN601I TCP", "allocations"); a < 4 {
		t.Fatalf("the TCP pool lent %d ports:\n%s", a, sd)
	}
}

// socksConnect makes one connection through a door with no login to
// target and gives it, or the SOCKS reply that refused it.
func socksConnect(door int, target netip.AddrPort) (net.Conn, byte, error) {
	c, rep, _, err := socksConnectBound(door, target)
	return c, rep, err
}

// socksConnectBound is socksConnect that also gives the reply's bound
// address: the stack's end of the connection.
func socksConnectBound(door int, target netip.AddrPort) (net.Conn, byte, netip.AddrPort, error) {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", door), 5*time.Second)
	if err != nil {
		return nil, 0, netip.AddrPort{}, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	a := target.Addr().As4()
	req := []byte{5, 1, 0, 5, 1, 0, 1, a[0], a[1], a[2], a[3], byte(target.Port() >> 8), byte(target.Port())}
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, 0, netip.AddrPort{}, err
	}
	var rep [2 + 10]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		c.Close()
		return nil, 0, netip.AddrPort{}, err
	}
	if rep[3] != 0 {
		c.Close()
		return nil, rep[3], netip.AddrPort{}, nil
	}
	c.SetDeadline(time.Time{})
	bound := netip.AddrPortFrom(netip.AddrFrom4([4]byte(rep[6:10])), uint16(rep[10])<<8|uint16(rep[11]))
	return c, 0, bound, nil
}

// TestSocksDoorRunsOutOfPorts: the client side of the PORTRANGE page's
// arithmetic. With the narrowest range the rules allow and the strict
// model, connections through the door succeed exactly as many times as the
// range has ports; the next is refused with a SOCKS failure at once
// (counted, and IPN606W raised); no port frees before 2×MSL after its
// connection closed, and one does after.
func TestSocksDoorRunsOutOfPorts(t *testing.T) {
	door := testnet.HostPorts(t, 1)
	pub := helloDir(t, "x\n")
	deck := writeDeck(t, append([]string{
		"PORTRANGE LOW=64511,HIGH=65535",
		"SET TIMEWAIT=STRICT,MSL=10S",
		"DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.72.1,MASK=255.255.255.0",
		fmt.Sprintf("DEFINE SOCKSD ID=SOCKS1,PORT=%d,PERCLIENT=10000", door),
	}, ftpDeck(pub)...)...)
	d := startDaemon(t, "--deck", deck)
	requireDeckOK(t, d)
	target := netip.MustParseAddrPort("10.99.72.1:21")
	size := poolLine(t, mustConsole(t, d.socket, "QUERY PORTRANGE\n"), "TCP")["size"]

	var first time.Time
	ok, refusal := 0, byte(0)
	for i := 0; i <= size; i++ {
		c, rep, err := socksConnect(door, target)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if rep != 0 {
			refusal = rep
			break
		}
		// Read the daemon's greeting, then close first: this side holds
		// the TIME_WAIT, which the strict model makes the port's.
		bufio.NewReader(c).ReadString('\n')
		c.Close()
		if first.IsZero() {
			first = time.Now()
		}
		ok++
	}
	spent := time.Since(first)
	if spent > 18*time.Second {
		t.Fatalf("spending %d ports took %v, near 2×MSL: the machine is too slow for this test's MSL", ok, spent)
	}
	if ok != size || refusal != 0x01 {
		t.Fatalf("%d connections before a refusal (reply %#x); the range has %d ports", ok, refusal, size)
	}
	q, rc := runConsole(t, d.socket, "QUERY PORTRANGE\nQUERY SOCKSDS\n")
	if rc != 4 { // IPN602W: the pool is dry
		t.Fatalf("rc %d:\n%s", rc, q)
	}
	if f := poolLine(t, q, "TCP"); f["exhaustions"] < 1 || f["free"] != 0 || f["held"]+f["in use"] != size {
		t.Fatalf("QUERY PORTRANGE after %d connections:\n%s", ok, q)
	}
	if !strings.Contains(q, "IPN602W Pool TCP is dry: the TIME_WAIT model frees its next port at") {
		t.Fatalf("no IPN602W:\n%s", q)
	}
	if n := sayField(q, "IPN647I", "no port"); n != 1 {
		t.Fatalf("the door counts %d refusals for want of a port:\n%s", n, q)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(d.stdout.String(), "IPN606W Port pool TCP is exhausted") }) {
		t.Fatalf("no IPN606W:\n%s", d.stdout)
	}
	// Recovery: nothing before 2×MSL after the first close, a port after.
	for {
		c, rep, err := socksConnect(door, target)
		if err != nil {
			t.Fatal(err)
		}
		if rep == 0 {
			c.Close()
			break
		}
		if time.Since(first) > 2*10*time.Second+15*time.Second {
			t.Fatalf("no port freed %v after the first close (2×MSL = 20 s)", time.Since(first))
		}
		time.Sleep(250 * time.Millisecond)
	}
	if since := time.Since(first); since < 2*10*time.Second {
		t.Fatalf("a port was lent again %v after the first close, before 2×MSL", since)
	}
	t.Logf("%d ports spent in %v; the first freed %v after its close", ok, spent.Round(time.Millisecond), time.Since(first).Round(100*time.Millisecond))
}
