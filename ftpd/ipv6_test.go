package ftpd

import (
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestIPv6Session: a session over IPv6 (the host's ::1): EPSV and EPRT |2|
// move data; PASV and PORT, which cannot name an IPv6 address, are refused
// with 501; EPSV 1 and EPRT |1| name the other family: 522 and the
// protocol this connection can use (RFC 2428).
func TestIPv6Session(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Addr = netip.AddrPortFrom(netip.IPv6Unspecified(), c.Addr.Port()) })
	os.WriteFile(filepath.Join(e.pub, "six.txt"), []byte("over IPv6\n"), 0o644)
	_, port, _ := net.SplitHostPort(e.addr)
	c := dial(t, net.JoinHostPort("::1", port))
	c.read()
	c.login("user1", "secret")
	c.expect("TYPE I", 200)
	if got := string(c.retr("/PUB/six.txt")); got != "over IPv6\n" {
		t.Fatalf("EPSV RETR %q", got)
	}
	for _, x := range []struct {
		cmd  string
		code int
		text string
	}{
		{"PASV", 501, "use EPSV"},
		{"PORT 127,0,0,1,200,10", 501, "use EPRT"},
		{"EPSV 1", 522, "(2)"},
		{"EPRT |1|127.0.0.1|51000|", 522, "(2)"},
		{"EPRT |2|::2|51000|", 501, "only ::1 is allowed"},
	} {
		if text := c.expect(x.cmd, x.code); !strings.Contains(text, x.text) {
			t.Fatalf("%s: %s", x.cmd, text)
		}
	}
	// Active mode over IPv6: the daemon connects to the client's port.
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c.expect("EPRT |2|::1|"+strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)+"|", 200)
	c.expect("RETR /PUB/six.txt", 150)
	d, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(d)
	d.Close()
	if code, text := c.read(); code != 226 || string(got) != "over IPv6\n" {
		t.Fatalf("EPRT RETR: %s %q", text, got)
	}
	// The same daemon serves IPv4 on its one listener.
	c4 := dial(t, net.JoinHostPort("127.0.0.1", port))
	c4.read()
	c4.login("user1", "secret")
	c4.expect("EPSV 2", 522)
}
