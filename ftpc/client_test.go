package ftpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"ipnstack/ftpd"
	"ipnstack/ftptype"
	"ipnstack/internal/testnet"
	"ipnstack/msgcat"
	"ipnstack/portrange"
	"ipnstack/users"

	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hostNet is the client's Net on the host's loopback.
type hostNet struct{ listens int }

func (h *hostNet) Dial(ctx context.Context, remote netip.AddrPort) (net.Conn, error) {
	// From the same loopback address: a server on 127.0.0.2 sees its
	// client as 127.0.0.2, not as the kernel's default 127.0.0.1.
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(remote.Addr(), 0))}
	return d.DialContext(ctx, "tcp4", remote.String())
}

func (h *hostNet) Listen(local, _ netip.Addr) (net.Listener, error) {
	h.listens++
	return net.Listen("tcp4", netip.AddrPortFrom(local, 0).String())
}

// server is the stack's own FTP daemon on host ports, with /PUB.
func server(t *testing.T) (netip.AddrPort, string) {
	t.Helper()
	d, dir := serverOn(t, "127.0.0.1")
	return d.Addr(), dir
}

// serverOn is a daemon on a host address of 127/8.
func serverOn(t *testing.T, addr string) (*ftpd.Daemon, string) {
	t.Helper()
	dir := t.TempDir()
	reg := users.New()
	if err := reg.Define(users.User{ID: "tester", Password: "T3ster", FTP: true}); err != nil {
		t.Fatal(err)
	}
	files := ftpd.NewFiles(nil)
	if _, err := files.Define(ftpd.File{Public: "PUB", Dir: dir}); err != nil {
		t.Fatal(err)
	}
	ports := testnet.HostPorts(t, 22)
	pool, _ := portrange.New(uint16(ports), uint16(ports+19))
	d, err := ftpd.New(ftpd.Config{ID: "FTP01", Addr: netip.AddrPortFrom(netip.MustParseAddr(addr), uint16(ports+21)),
		DataPorts: pool, Active: true, LoginDelay: -1}, &ftpd.HostTransport{}, reg, files, func(msgcat.Msg) {}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	})
	return d, dir
}

// TestClient: a session against the daemon, passive and active, in the
// three types: the files arrive as they were, converted where the type
// says, and a refusal carries the server's reply.
func TestClient(t *testing.T) {
	addr, dir := server(t)
	ctx := context.Background()
	for _, passive := range []bool{true, false} {
		n := &hostNet{}
		c, greet, err := Dial(ctx, n, addr)
		if err != nil || greet.Code != 220 {
			t.Fatalf("dial: %v %v", greet, err)
		}
		c.Passive = passive
		if _, err := c.Login(ctx, "tester", "wrong"); err == nil {
			t.Fatal("a wrong password logged in")
		} else if re := (*ReplyError)(nil); !errors.As(err, &re) || re.Reply.Code != 530 || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := c.Login(ctx, "tester", "T3ster"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Cwd(ctx, "/PUB"); err != nil {
			t.Fatal(err)
		}
		text := "line one\nline two\n"
		for _, ty := range []ftptype.Type{ftptype.I, ftptype.A, ftptype.E} {
			if _, err := c.SetType(ctx, ty); err != nil {
				t.Fatal(err)
			}
			name := "f-" + ty.String() + ".txt"
			if n, _, err := c.Store(ctx, name, strings.NewReader(text)); err != nil || n != int64(len(text)) {
				t.Fatalf("STOR %s: %d %v", name, n, err)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != text {
				t.Fatalf("TYPE %s: the server keeps %q", ty, got)
			}
			var b bytes.Buffer
			if n, _, err := c.Retrieve(ctx, name, &b); err != nil || b.String() != text || n != int64(len(text)) {
				t.Fatalf("RETR %s: %q %d %v", name, b.String(), n, err)
			}
		}
		names, _, err := c.NameList(ctx, "")
		sort.Strings(names)
		if err != nil || strings.Join(names, " ") != "f-A.txt f-E.txt f-I.txt" {
			t.Fatalf("NLST: %q %v", names, err)
		}
		var l bytes.Buffer
		if _, err := c.List(ctx, "", false, &l); err != nil || !strings.Contains(l.String(), "f-I.txt") {
			t.Fatalf("LIST: %q %v", l.String(), err)
		}
		for _, name := range names {
			if _, err := c.Delete(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := c.Retrieve(ctx, "nosuch", &l); err == nil {
			t.Fatal("RETR of a missing file succeeded")
		} else if re := (*ReplyError)(nil); !errors.As(err, &re) || re.Reply.Code != 550 {
			t.Fatalf("RETR nosuch: %v", err)
		}
		if _, err := c.Quit(ctx); err != nil {
			t.Fatal(err)
		}
		if (n.listens > 0) == passive {
			t.Fatalf("passive %v but %d listeners", passive, n.listens)
		}
	}
}

// TestContextEnds: a transfer whose context ends stops at once.
func TestContextEnds(t *testing.T) {
	addr, dir := server(t)
	os.WriteFile(filepath.Join(dir, "big"), bytes.Repeat([]byte("x"), 64<<20), 0o644)
	c, _, err := Dial(context.Background(), &hostNet{}, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Login(context.Background(), "tester", "T3ster")
	c.SetType(context.Background(), ftptype.I)
	ctx, cancel := context.WithCancel(context.Background())
	w := &slowWriter{cancel: cancel}
	start := time.Now()
	if _, _, err := c.Retrieve(ctx, "/PUB/big", w); err == nil {
		t.Fatal("a cancelled RETR succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the cancelled RETR took %v", d)
	}
}

type slowWriter struct {
	cancel func()
	n      int
}

func (s *slowWriter) Write(p []byte) (int, error) {
	s.n += len(p)
	if s.n > 1<<20 {
		s.cancel()
		time.Sleep(10 * time.Millisecond)
	}
	return len(p), nil
}

func TestReadReply(t *testing.T) {
	cases := []struct {
		in   string
		code int
		text string
		err  error
	}{
		{"220 ready\r\n", 220, "ready", nil},
		{"230\r\n", 230, "", nil},
		{"211-Features:\r\n MDTM\r\n SIZE\r\n211 End\r\n", 211, "Features:\n MDTM\n SIZE\nEnd", nil},
		{"211-a\r\n211-b\r\n211 c\r\n", 211, "a\n211-b\nc", nil},
		{"abc\r\n", 0, "", ErrBadReply},
		{"600 no\r\n", 0, "", ErrBadReply},
		{"220x\r\n", 0, "", ErrBadReply},
		{"220-never ends\r\n", 0, "", errors.New("EOF")},
		{strings.Repeat("2", 9000) + "\n", 0, "", ErrBadReply},
	}
	for _, c := range cases {
		r, err := ReadReply(bufio.NewReader(strings.NewReader(c.in)))
		switch {
		case c.err == nil && (err != nil || r.Code != c.code || r.Text != c.text):
			t.Errorf("%q: %v %q %v", c.in, r.Code, r.Text, err)
		case c.err != nil && err == nil:
			t.Errorf("%q: no error, %v", c.in, r)
		case errors.Is(c.err, ErrBadReply) && !errors.Is(err, ErrBadReply):
			t.Errorf("%q: %v, want %v", c.in, err, c.err)
		}
	}
}

// FuzzReadReply: any bytes give a reply with a code of 100-599 or an
// error; never a panic, never a line past the limit.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"220 ready\r\n", "211-a\r\n b\r\n211 c\r\n", "227 Entering Passive Mode (127,0,0,1,4,1)\r\n", "5"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			rep, err := ReadReply(r)
			if err != nil {
				return
			}
			if rep.Code < 100 || rep.Code > 599 {
				t.Fatalf("code %d", rep.Code)
			}
			if len(rep.Text) > len(data) {
				t.Fatalf("a reply longer than its input")
			}
			if m := pasvReply.FindStringSubmatch(rep.Text); m != nil && len(m) != 7 {
				t.Fatal("PASV parse")
			}
		}
	})
}

// TestProxy: a file from one daemon to another, the client holding both
// control connections (127.0.0.1 and 127.0.0.2, so each daemon sees the
// other as a third party): refused by default (the target's PORT names
// another server: 501), then done both ways once each lets the other join
// (PROXYPEERS=), byte for byte.
func TestProxy(t *testing.T) {
	da, dirA := serverOn(t, "127.0.0.1")
	db, dirB := serverOn(t, "127.0.0.2")
	data := bytes.Repeat([]byte("0123456789abcdef"), 40000)
	os.WriteFile(filepath.Join(dirA, "src.bin"), data, 0o644)
	ctx := context.Background()
	login := func(addr netip.AddrPort) *Client {
		c, _, err := Dial(ctx, &hostNet{}, addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Login(ctx, "tester", "T3ster"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SetType(ctx, ftptype.I); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Cwd(ctx, "/PUB"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := login(da.Addr()), login(db.Addr())
	var re *ReplyError
	if _, err := Proxy(ctx, a, "src.bin", b, "dst.bin"); !errors.As(err, &re) || re.Reply.Code != 501 {
		t.Fatalf("a proxy transfer without PROXYPEERS: %v", err)
	}
	b.Close()
	b = login(db.Addr())
	pa, pb := []netip.Addr{netip.MustParseAddr("127.0.0.2")}, []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	da.Alter(ftpd.Alteration{ProxyPeers: &pa})
	db.Alter(ftpd.Alteration{ProxyPeers: &pb})
	if _, err := Proxy(ctx, a, "src.bin", b, "dst.bin"); err != nil {
		t.Fatal(err)
	}
	if _, err := Proxy(ctx, b, "dst.bin", a, "back.bin"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dirB, "dst.bin"), filepath.Join(dirA, "back.bin")} {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes, want %d", p, len(got), len(data))
		}
	}
	if n, _, err := b.Size(ctx, "dst.bin"); err != nil || n != int64(len(data)) {
		t.Fatalf("SIZE: %d %v", n, err)
	}
}
