package ftpd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/msgcat"
	"ipnstack/portrange"
	"ipnstack/users"

	"go.uber.org/zap"
)

// testEnv is a daemon on 127.0.0.1 over the host transport, with a user
// USER1/secret and a published directory PUB (writable) and RO (read-only).
type testEnv struct {
	t     *testing.T
	d     *Daemon
	pool  *portrange.Pool
	users *users.Registry
	files *Files
	pub   string // host directory of /PUB
	ro    string // host directory of /RO
	addr  string

	mu   sync.Mutex
	msgs []msgcat.Msg
}

func (e *testEnv) messages() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, m := range e.msgs {
		out = append(out, m.String())
	}
	return out
}

func (e *testEnv) countMsgs(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, m := range e.msgs {
		if m.ID == id {
			n++
		}
	}
	return n
}

// fastTempDir is a temporary directory in memory (/dev/shm) when there is
// one: the tests that move thousands of files measure the daemon, not the
// machine's disk, whose journal can stall for seconds.
func fastTempDir(t testing.TB) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "ftpd-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// dataRange picks a range of n ports unlikely to be in use: a random spot
// below the host's ephemeral range.
func dataRange(t testing.TB, n int) (uint16, uint16) {
	for tries := 0; tries < 50; tries++ {
		low := uint16(20000 + (time.Now().UnixNano()/1000+int64(tries)*7919)%10000)
		ok := true
		for p := low; p < low+uint16(n); p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(int(p)))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return low, low + uint16(n) - 1
		}
	}
	t.Fatal("no free data range")
	return 0, 0
}

func newEnv(t testing.TB, mod func(*Config)) *testEnv { return newEnvLog(t, mod, zap.NewNop()) }

// newEnvLog is newEnv with the daemon logging to log.
func newEnvLog(t testing.TB, mod func(*Config), log *zap.Logger) *testEnv {
	tt, _ := t.(*testing.T)
	e := &testEnv{t: tt}
	base := fastTempDir(t)
	e.pub, e.ro = filepath.Join(base, "pub"), filepath.Join(base, "ro")
	os.Mkdir(e.pub, 0o755)
	os.Mkdir(e.ro, 0o755)
	os.WriteFile(filepath.Join(e.ro, "readme.txt"), []byte("read me\n"), 0o644)
	e.users = users.New()
	if err := e.users.Define(users.User{ID: "user1", Password: "secret", FTP: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.users.Define(users.User{ID: "reader", Password: "secret", ReadOnly: true, FTP: true}); err != nil {
		t.Fatal(err)
	}
	e.files = NewFiles(nil)
	if _, err := e.files.Define(File{Public: "PUB", Dir: e.pub}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.files.Define(File{Public: "RO", Dir: e.ro, ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	// One pick below the ephemeral range: 20 data ports, then the port
	// active transfers connect from (control port - 1), then the control
	// port. An ephemeral control port would leave port - 1 to the kernel,
	// which may have handed it to any other connection on the host.
	low, high := dataRange(t, 22)
	pool, err := portrange.New(low, low+19)
	if err != nil {
		t.Fatal(err)
	}
	e.pool = pool
	cfg := Config{
		ID: "FTP01", Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), high),
		DataPorts: pool, Active: true, LoginDelay: -1, PasvTimeout: 5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	d, err := New(cfg, &HostTransport{}, e.users, e.files, func(m msgcat.Msg) {
		e.mu.Lock()
		e.msgs = append(e.msgs, m)
		e.mu.Unlock()
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	e.d = d
	e.addr = d.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	})
	return e
}

// client is a minimal FTP client for the tests: it sends lines and reads
// replies, and knows PASV/EPSV.
type client struct {
	t  testing.TB
	c  net.Conn
	r  *bufio.Reader
	to time.Duration
}

func dial(t testing.TB, addr string) *client {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{t: t, c: c, r: bufio.NewReader(c), to: 10 * time.Second}
	t.Cleanup(func() { c.Close() })
	return cl
}

// read reads one reply; it gives the code and the whole text.
func (c *client) read() (int, string) {
	c.c.SetReadDeadline(time.Now().Add(c.to))
	var all []string
	code := ""
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply: %v (so far %q)", err, all)
		}
		line = strings.TrimRight(line, "\r\n")
		all = append(all, line)
		if len(line) < 4 {
			continue
		}
		if code == "" {
			code = line[:3]
		}
		if line[:3] == code && line[3] == ' ' {
			break
		}
		if len(all) == 1 && line[3] != '-' {
			break
		}
	}
	n, _ := strconv.Atoi(code)
	return n, strings.Join(all, "\n")
}

func (c *client) send(line string) {
	c.c.SetWriteDeadline(time.Now().Add(c.to))
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
}

// cmd sends a line and reads its reply.
func (c *client) cmd(line string) (int, string) {
	c.send(line)
	return c.read()
}

// expect sends a line and checks the reply code.
func (c *client) expect(line string, code int) string {
	c.t.Helper()
	got, text := c.cmd(line)
	if got != code {
		c.t.Fatalf("%s: got %q, want %d", line, text, code)
	}
	return text
}

func (c *client) login(user, pass string) {
	c.t.Helper()
	c.expect("USER "+user, 331)
	c.expect("PASS "+pass, 230)
}

// epsv opens an EPSV data connection.
func (c *client) epsv() net.Conn {
	c.t.Helper()
	text := c.expect("EPSV", 229)
	i := strings.Index(text, "|||")
	port, err := strconv.Atoi(strings.TrimSuffix(text[i+3:], "|)"))
	if err != nil {
		c.t.Fatalf("EPSV reply %q", text)
	}
	host, _, _ := net.SplitHostPort(c.c.RemoteAddr().String())
	d, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		c.t.Fatal(err)
	}
	return d
}

// retr downloads a file over EPSV.
func (c *client) retr(name string) []byte {
	c.t.Helper()
	d := c.epsv()
	defer d.Close()
	c.expect("RETR "+name, 150)
	b, err := io.ReadAll(d)
	if err != nil {
		c.t.Fatal(err)
	}
	if code, text := c.read(); code != 226 {
		c.t.Fatalf("RETR %s: %s", name, text)
	}
	return b
}

// stor uploads data over EPSV.
func (c *client) stor(verb, name string, data []byte) string {
	c.t.Helper()
	d := c.epsv()
	c.expect(strings.TrimSpace(verb+" "+name), 150)
	d.Write(data)
	d.Close()
	code, text := c.read()
	if code != 226 {
		c.t.Fatalf("%s %s: %s", verb, name, text)
	}
	return text
}

// list runs a listing command over EPSV.
func (c *client) list(cmd string) string {
	c.t.Helper()
	d := c.epsv()
	defer d.Close()
	c.expect(cmd, 150)
	b, _ := io.ReadAll(d)
	if code, text := c.read(); code != 226 {
		c.t.Fatalf("%s: %s", cmd, text)
	}
	return string(b)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprintf

// eventually waits up to 3 s for cond: the daemon's console messages and
// counters are updated by the session's goroutine, which may still be on
// its way when the client has read its reply.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// mustDefine publishes a directory or fails the test.
func mustDefine(t testing.TB, files *Files, def File) {
	t.Helper()
	if _, err := files.Define(def); err != nil {
		t.Fatal(err)
	}
}

// syncBuf is a buffer safe for a daemon writing and a test reading.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
