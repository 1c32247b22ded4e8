package ftpd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ipnstack/ftptype"
	"ipnstack/internal/guard"
	"ipnstack/internal/testnet"
	"ipnstack/msgcat"
	"ipnstack/users"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/text/encoding/charmap"
)

// leftovers lists temporary upload files left in a directory.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	return m
}

func TestCountRefusal(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Count = 2 })
	a, b := dial(t, e.addr), dial(t, e.addr)
	a.read()
	b.read()
	c := dial(t, e.addr)
	if code, text := c.read(); code != 421 || !strings.Contains(text, "COUNT=2") {
		t.Fatalf("third session: %s", text)
	}
	if !eventually(func() bool { return e.countMsgs("IPN412W") == 1 && e.d.Stats().Refused == 1 }) {
		t.Fatalf("%v", e.messages())
	}
	a.expect("QUIT", 221)
	if !eventually(func() bool { return len(e.d.Sessions()) == 1 }) { // the daemon has let a go
		t.Fatalf("sessions after QUIT: %+v", e.d.Sessions())
	}
	d := dial(t, e.addr)
	if code, _ := d.read(); code != 220 {
		t.Fatal("a session ended but no new one is admitted")
	}
}

func TestIdleTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	c := dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
	if code, text := c.read(); code != 421 || !strings.Contains(text, "Idle") {
		t.Fatalf("%s", text)
	}
	if !eventually(func() bool {
		return e.countMsgs("IPN403I") == 1 && strings.Contains(strings.Join(e.messages(), "\n"), "(idle timeout)")
	}) {
		t.Fatalf("%v", e.messages())
	}
}

func TestFailedLogins(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginDelay = time.Second })
	bad := dial(t, e.addr)
	bad.read()
	good := dial(t, e.addr)
	good.read()
	bad.expect("USER user1", 331)
	bad.send("PASS wrong")
	// While the bad session waits out its delay, another logs in at once.
	start := time.Now()
	good.login("USER1", "secret")
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Fatalf("a failed login delayed another session by %v", d)
	}
	if code, _ := bad.read(); code != 530 {
		t.Fatal("first failure")
	}
	bad.expect("USER nosuch", 331) // unknown users get 331 too: no probing
	bad.expect("PASS x", 530)
	bad.expect("USER user1", 331)
	bad.expect("PASS y", 421)
	if _, err := bad.r.ReadByte(); err == nil {
		t.Fatal("connection still open")
	}
	if !eventually(func() bool {
		return e.countMsgs("IPN413W") == 1 && e.d.Stats().FailedLogins == 3 && e.d.Stats().Lockouts == 1
	}) {
		t.Fatalf("%v %+v", e.messages(), e.d.Stats())
	}
}

func TestShutdownDuringUpload(t *testing.T) {
	e := newEnv(t, nil)
	must(t, os.WriteFile(filepath.Join(e.pub, "keep.txt"), []byte("previous"), 0o644))
	idle := dial(t, e.addr)
	idle.read()
	c := dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
	d := c.epsv()
	defer d.Close()
	c.expect("STOR /PUB/keep.txt", 150)
	d.Write([]byte("half of the new cont"))
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, e.d.Shutdown(ctx))
	if code, text := c.read(); code != 421 {
		t.Fatalf("uploading session: %s", text)
	}
	if code, text := idle.read(); code != 421 {
		t.Fatalf("idle session: %s", text)
	}
	if b, _ := os.ReadFile(filepath.Join(e.pub, "keep.txt")); string(b) != "previous" {
		t.Fatalf("previous file changed: %q", b)
	}
	if l := leftovers(t, e.pub); len(l) != 0 {
		t.Fatalf("left behind: %v", l)
	}
	if e.countMsgs("IPN401I") != 1 || e.countMsgs("IPN400I") != 1 {
		t.Fatalf("%v", e.messages())
	}
	if st := e.d.Stats(); st.DataPorts.InUse != 0 || st.Sessions != 0 {
		t.Fatalf("after shutdown: %+v", st)
	}
}

func TestAbortAndResetUpload(t *testing.T) {
	e := newEnv(t, nil)
	must(t, os.WriteFile(filepath.Join(e.pub, "keep.txt"), []byte("previous"), 0o644))
	c := dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
	c.expect("CWD /PUB", 250)

	// ABOR in the middle of a STOR.
	d := c.epsv()
	c.expect("STOR keep.txt", 150)
	d.Write([]byte("partial"))
	time.Sleep(50 * time.Millisecond)
	c.send("\xff\xf4\xff\xf2ABOR")
	if code, text := c.read(); code != 426 {
		t.Fatalf("ABOR: %s", text)
	}
	if code, text := c.read(); code != 226 {
		t.Fatalf("ABOR: %s", text)
	}
	d.Close()

	// A reset data connection.
	d = c.epsv()
	c.expect("STOR keep.txt", 150)
	d.Write([]byte("partial"))
	d.(*net.TCPConn).SetLinger(0)
	d.Close()
	if code, text := c.read(); code != 426 {
		t.Fatalf("reset: %s", text)
	}
	if b, _ := os.ReadFile(filepath.Join(e.pub, "keep.txt")); string(b) != "previous" {
		t.Fatalf("previous file changed: %q", b)
	}
	if l := leftovers(t, e.pub); len(l) != 0 {
		t.Fatalf("left behind: %v", l)
	}
	// ABOR during a download of a big file, then the session goes on.
	must(t, os.WriteFile(filepath.Join(e.pub, "big"), make([]byte, 32<<20), 0o644))
	c.expect("TYPE I", 200)
	d = c.epsv()
	c.expect("RETR big", 150)
	io.ReadFull(d, make([]byte, 1000))
	c.send("ABOR")
	if code, _ := c.read(); code != 426 {
		t.Fatal("426")
	}
	if code, _ := c.read(); code != 226 {
		t.Fatal("226")
	}
	d.Close()
	c.expect("NOOP", 200)
	if st := e.d.Stats(); st.Aborts != 2 {
		t.Fatalf("aborts %d", st.Aborts)
	}
}

func TestDataConnectionChecks(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PasvTimeout = 300 * time.Millisecond })
	must(t, os.WriteFile(filepath.Join(e.pub, "f"), []byte("data"), 0o644))
	c := dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
	c.expect("CWD /PUB", 250)

	// One outstanding PASV per session.
	c.expect("EPSV", 229)
	c.expect("PASV", 227)
	if in := e.pool.Stats(time.Now()).InUse; in != 1 {
		t.Fatalf("two passive requests hold %d ports", in)
	}
	// A PASV not used in time gives its port back.
	for i := 0; i < 100 && e.pool.Stats(time.Now()).InUse != 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if in := e.pool.Stats(time.Now()).InUse; in != 0 {
		t.Fatalf("expired PASV still holds %d ports", in)
	}
	c.expect("RETR f", 150)
	if code, text := c.read(); code != 425 {
		t.Fatalf("%s", text)
	}

	// A data connection from another address is refused.
	text := c.expect("EPSV", 229)
	port, _ := strconv.Atoi(strings.TrimSuffix(text[strings.Index(text, "|||")+3:], "|)"))
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	thief, err := dl.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("cannot dial from 127.0.0.2: %v", err)
	}
	defer thief.Close()
	c.expect("RETR f", 150)
	if code, text := c.read(); code != 425 || !strings.Contains(text, "127.0.0.2") {
		t.Fatalf("%s", text)
	}
	if st := e.d.Stats(); st.ForeignData != 1 || st.DataPorts.InUse != 0 {
		t.Fatalf("%+v", st)
	}
	// NAT: PASVADDR is what 227 advertises.
	c.expect("QUIT", 221)
}

func TestPasvAddrAndActiveOff(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PasvAddr = netip.MustParseAddr("203.0.113.7"); c.Active = false })
	c := dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
	text := c.expect("PASV", 227)
	if !strings.Contains(text, "(203,0,113,7,") {
		t.Fatalf("%s", text)
	}
	c.expect("PORT 127,0,0,1,100,100", 502)
	c.expect("EPRT |1|127.0.0.1|25700|", 502)
	if l := c.list("LIST /"); !strings.Contains(l, " PUB\r\n") || !strings.Contains(l, "dr-xr-xr-x") {
		t.Fatalf("root listing %q", l)
	}
}

func TestAnonymousAndUserRoot(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Anonymous = AnonWrite })
	must(t, os.MkdirAll(filepath.Join(e.pub, "home", "joe"), 0o755))
	must(t, os.WriteFile(filepath.Join(e.pub, "exists"), []byte("x"), 0o644))
	must(t, e.users.Define(users.User{ID: "joe", Password: "pw", Root: "/PUB/home/joe", FTP: true}))

	a := dial(t, e.addr)
	a.read()
	a.expect("USER ftp", 331)
	a.expect("PASS me@example.org", 230)
	a.stor("STOR", "/PUB/new.txt", []byte("anon"))
	a.expect("STOR /PUB/exists", 550)
	a.expect("APPE /PUB/new.txt", 550)
	a.expect("DELE /PUB/new.txt", 550)
	a.expect("RNFR /PUB/new.txt", 550)
	a.expect("MKD /PUB/anondir", 257)

	j := dial(t, e.addr)
	j.read()
	j.login("joe", "pw")
	j.expect("PWD", 257)
	j.stor("STOR", "mine.txt", []byte("joe"))
	if _, err := os.Stat(filepath.Join(e.pub, "home", "joe", "mine.txt")); err != nil {
		t.Fatal(err)
	}
	j.expect("CWD ../..", 250)
	if text := j.expect("PWD", 257); !strings.HasPrefix(text, `257 "/"`) {
		t.Fatalf("%s", text)
	}
	j.expect("RETR /exists", 550) // /PUB/exists is outside joe's root
	if l := j.list("NLST"); l != "mine.txt\r\n" {
		t.Fatalf("%q", l)
	}
	if s := e.d.Sessions(); len(s) != 2 || s[0].User != "ANONYMOUS" || s[1].User != "JOE" || s[1].BytesIn != 3 {
		t.Fatalf("%+v", s)
	}
}

// TestDiskFull fills a small tmpfs: STOR gets 452, the previous file stays,
// no temporary file is left, and the session goes on.
func TestDiskFull(t *testing.T) {
	testnet.RequireRoot(t) // to mount a tmpfs
	e := newEnv(t, nil)
	dir := filepath.Join(t.TempDir(), "small")
	must(t, os.Mkdir(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount: %v %s", err, out)
	}
	defer exec.Command("umount", dir).Run()
	must(t, os.WriteFile(filepath.Join(dir, "keep"), []byte("previous"), 0o644))
	mustDefine(t, e.files, File{Public: "SMALL", Dir: dir})
	c := dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
	d := c.epsv()
	c.expect("STOR /SMALL/keep", 150)
	go func() { d.Write(make([]byte, 1<<20)); d.Close() }()
	if code, text := c.read(); code != 452 {
		t.Fatalf("%s", text)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep")); string(b) != "previous" {
		t.Fatalf("%q", b)
	}
	if l := leftovers(t, dir); len(l) != 0 {
		t.Fatalf("%v", l)
	}
	c.expect("NOOP", 200)
}

// TestUploadNeverCommittedWhenClientDies: a STOR over a file whose data
// connection is reset, or whose control connection ends before (or just
// after) the data connection's clean end, leaves the old file as it was and
// no temporary file behind.
func TestUploadNeverCommittedWhenClientDies(t *testing.T) {
	e := newEnv(t, nil)
	old := []byte("the previous content\n")
	for _, c := range []struct {
		name string
		end  func(ctrl, data net.Conn)
	}{
		{"data reset", func(ctrl, data net.Conn) { data.(*net.TCPConn).SetLinger(0); data.Close() }},
		{"control first", func(ctrl, data net.Conn) { ctrl.Close(); data.Close() }},
		{"data first", func(ctrl, data net.Conn) { data.Close(); ctrl.Close() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := filepath.Join(e.pub, "keep.txt")
			must(t, os.WriteFile(target, old, 0o644))
			cl := dial(t, e.addr)
			cl.read()
			cl.login("USER1", "secret")
			cl.expect("TYPE I", 200)
			d := cl.epsv()
			cl.expect("STOR /PUB/keep.txt", 150)
			if _, err := d.Write([]byte("a truncated upl")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond) // let the daemon write what came
			c.end(cl.c, d)
			if c.name == "data reset" {
				if code, text := cl.read(); code != 426 {
					t.Fatalf("after the reset: %s", text)
				}
				cl.c.Close()
			}
			ok := eventually(func() bool { return len(e.d.Sessions()) == 0 })
			if !ok {
				t.Fatal("the session did not end")
			}
			if b, _ := os.ReadFile(target); !bytes.Equal(b, old) {
				t.Fatalf("the old file was replaced: %q", b)
			}
			if l := leftovers(t, e.pub); len(l) != 0 {
				t.Fatalf("temporary files left: %v", l)
			}
		})
	}
}

// TestRMDIgnoresStaleUploads: a directory that holds only the temporary
// file of an upload a crash cut short lists empty, and RMD removes it.
func TestRMDIgnoresStaleUploads(t *testing.T) {
	e := newEnv(t, nil)
	dir := filepath.Join(e.pub, "gone")
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, tempPrefix+"deadbeef"), []byte("x"), 0o644))
	c := dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
	c.expect("RMD /PUB/gone", 250)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the directory is still there: %v", err)
	}
}

// TestPerClientLimit: one address holding PERCLIENT= sessions gets 421 for
// the next, whoever else connects; a session that ends frees its slot.
func TestPerClientLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Guard = guard.Policy{PerAddr: 3, LoginTime: time.Minute} })
	var held []*client
	for i := 0; i < 3; i++ {
		c := dial(t, e.addr)
		if code, text := c.read(); code != 220 {
			t.Fatalf("session %d: %s", i+1, text)
		}
		held = append(held, c)
	}
	c := dial(t, e.addr)
	if code, text := c.read(); code != 421 || !strings.Contains(text, "from your address (3)") {
		t.Fatalf("a fourth session: %s", text)
	}
	// Another address is served (127.0.0.2 is this host's loopback too).
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	oc, err := d.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	other := &client{t: t, c: oc, r: bufio.NewReader(oc), to: 10 * time.Second}
	defer oc.Close()
	if code, text := other.read(); code != 220 {
		t.Fatalf("another address: %s", text)
	}
	held[0].expect("QUIT", 221)
	held[0].c.Close()
	if !eventually(func() bool { return len(e.d.Sessions()) == 3 }) {
		t.Fatal("the session did not end")
	}
	c = dial(t, e.addr)
	if code, text := c.read(); code != 220 {
		t.Fatalf("after a QUIT: %s", text)
	}
	if st := e.d.Stats(); st.GuardStats.Refused != 1 {
		t.Fatalf("%+v", st.GuardStats)
	}
}

// TestLoginTime: a session that does not log in within LOGINTIME= gets 421,
// however busy it keeps itself with other commands.
func TestLoginTime(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Guard = guard.Policy{PerAddr: 16, LoginTime: 400 * time.Millisecond} })
	c := dial(t, e.addr)
	c.read()
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond {
		c.expect("NOOP", 200)
		c.expect("USER nobody", 331)
		time.Sleep(50 * time.Millisecond)
	}
	if code, text := c.read(); code != 421 || !strings.Contains(text, "Not logged in within") {
		t.Fatalf("%d %s", code, text)
	}
	if st := e.d.Stats(); st.LoginTimeouts != 1 {
		t.Fatalf("login timeouts %d", st.LoginTimeouts)
	}
	// A session that logs in in time stays.
	ok := dial(t, e.addr)
	ok.read()
	ok.login("USER1", "secret")
	time.Sleep(500 * time.Millisecond)
	ok.expect("NOOP", 200)
}

// TestLockoutAcrossConnections: failed logins count per address over many
// connections; the one that reaches the limit locks the address out
// (IPN414W once), new connections and PASS on open sessions get 421 until
// the operator lifts it.
func TestLockoutAcrossConnections(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.LoginDelay = -1
		c.Guard = guard.Policy{PerAddr: 16, LoginTime: time.Minute, Failures: 4, Window: time.Minute, LockTime: time.Hour}
	})
	waiting := dial(t, e.addr) // a session of the same address, not logged in yet
	waiting.read()
	waiting.expect("USER USER1", 331)
	for i := 0; i < 2; i++ { // two connections, two failures each
		c := dial(t, e.addr)
		c.read()
		c.expect("USER USER1", 331)
		c.expect("PASS wrong", 530)
		if i == 1 {
			c.send("PASS wrong")
			if code, text := c.read(); code != 421 || !strings.Contains(text, "locked out") {
				t.Fatalf("the fourth failure: %s", text)
			}
			continue
		}
		c.expect("PASS wrong", 530)
	}
	if n := e.countMsgs("IPN414W"); n != 1 {
		t.Fatalf("IPN414W said %d times: %v", n, e.messages())
	}
	c := dial(t, e.addr)
	if code, text := c.read(); code != 421 || !strings.Contains(text, "locked out") {
		t.Fatalf("a new connection: %s", text)
	}
	// The right password does not get in while locked out.
	waiting.send("PASS secret")
	if code, text := waiting.read(); code != 421 {
		t.Fatalf("PASS on an open session: %s", text)
	}
	l := e.d.Lockouts()
	if len(l) != 1 || l[0].Client.String() != "127.0.0.1" || l[0].Failures != 4 {
		t.Fatalf("%+v", l)
	}
	if !e.d.Unlock(l[0].Client.Addr) {
		t.Fatal("Unlock")
	}
	c = dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
}

// TestConsoleOnlyUserIsNoFTPUser: a user without FTP access (an operator
// of the consoles only) cannot log in to FTP, and the reply is the same as
// for a wrong password.
func TestConsoleOnlyUserIsNoFTPUser(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginDelay = -1 })
	must(t, e.users.Define(users.User{ID: "viewer", Password: "look", Console: users.Query}))
	c := dial(t, e.addr)
	c.read()
	c.expect("USER viewer", 331)
	text := c.expect("PASS look", 530)
	c.expect("USER user1", 331)
	if wrong := c.expect("PASS nope", 530); wrong != text {
		t.Fatalf("the replies differ: %q and %q", text, wrong)
	}
}

// flakyTransport's control listener fails Accept with EMFILE a number of
// times before each connection it hands out.
type flakyTransport struct {
	HostTransport
	fails *atomic.Int32
}

func (f *flakyTransport) Listen(addr netip.AddrPort) (net.Listener, error) {
	ln, err := f.HostTransport.Listen(addr)
	if err != nil {
		return nil, err
	}
	return flakyListener{ln, f.fails}, nil
}

type flakyListener struct {
	net.Listener
	fails *atomic.Int32
}

func (l flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// TestAcceptFailuresRetried: the control listener survives failing
// Accepts: one IPN405W when they start, one IPN406I when a client gets in,
// and QUERY FTPDS's state in between.
func TestAcceptFailuresRetried(t *testing.T) {
	e := newEnv(t, nil)
	port := e.d.Addr().Port()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	e.d.Shutdown(ctx)
	cancel()
	var fails atomic.Int32
	fails.Store(1 << 20)
	var mu sync.Mutex
	var said []string
	d, err := New(Config{ID: "FLAKY", Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), DataPorts: e.pool},
		&flakyTransport{fails: &fails}, e.users, e.files, func(m msgcat.Msg) {
			mu.Lock()
			said = append(said, m.String())
			mu.Unlock()
		}, zap.NewNop())
	must(t, err)
	must(t, d.Start())
	defer d.Shutdown(context.Background())
	if !eventually(func() bool { return d.Stats().Fault == "too many open files" }) {
		t.Fatalf("fault while failing: %q", d.Stats().Fault)
	}
	time.Sleep(50 * time.Millisecond)
	fails.Store(0)
	c := dial(t, d.Addr().String())
	if code, text := c.read(); code != 220 {
		t.Fatalf("%s", text)
	}
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(said, "\n")
	if strings.Count(all, "IPN405W FTP daemon FLAKY: accepting clients fails: too many open files; retrying") != 1 ||
		!strings.Contains(all, "IPN406I FTP daemon FLAKY: accepting clients again after ") {
		t.Fatalf("%s", all)
	}
	if st := d.Stats(); st.Fault != "" {
		t.Fatalf("fault after recovery: %q", st.Fault)
	}
}

// TestSetTimesAndModes: MFMT, SITE UTIME (both forms) and SITE CHMOD set
// what they say within the user's rights; bad times and modes get 501, a
// read-only user or tree 550/553.
func TestSetTimesAndModes(t *testing.T) {
	e := newEnv(t, nil)
	p := filepath.Join(e.pub, "a file.txt")
	must(t, os.WriteFile(p, []byte("x"), 0o644))
	c := dial(t, e.addr)
	c.read()
	c.login("USER1", "secret")
	if got := c.expect("FEAT", 211); !strings.Contains(got, " MFMT") {
		t.Fatalf("FEAT lacks MFMT:\n%s", got)
	}
	want := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	mtime := func() time.Time { st, _ := os.Stat(p); return st.ModTime().UTC() }
	if got := c.expect("MFMT 20010203040506 /PUB/a file.txt", 213); got != "213 Modify=20010203040506; /PUB/a file.txt" || !mtime().Equal(want) {
		t.Fatalf("MFMT: %q, mtime %v", got, mtime())
	}
	c.expect("SITE UTIME 20020304050607 /PUB/a file.txt", 200)
	if !mtime().Equal(time.Date(2002, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Fatalf("SITE UTIME (2 arguments): %v", mtime())
	}
	c.expect("SITE UTIME /PUB/a file.txt 20030405060708 20030405060708 20030405060708 UTC", 200)
	if !mtime().Equal(time.Date(2003, 4, 5, 6, 7, 8, 0, time.UTC)) {
		t.Fatalf("SITE UTIME (5 arguments): %v", mtime())
	}
	c.expect("MDTM /PUB/a file.txt", 213)
	c.expect("SITE CHMOD 600 /PUB/a file.txt", 200)
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("SITE CHMOD: %v", st.Mode())
	}
	for _, bad := range []string{"MFMT 2001 /PUB/a file.txt", "MFMT 20011303040506 /PUB/a file.txt", "SITE UTIME yesterday /PUB/a file.txt",
		"SITE CHMOD 4755 /PUB/a file.txt", "SITE CHMOD rwx /PUB/a file.txt", "SITE CHMOD 644"} {
		c.expect(bad, 501)
	}
	c.expect("MFMT 20010203040506 /RO/readme.txt", 550)
	c.expect("MFMT 20010203040506 /PUB/nosuch", 550)
	r := dial(t, e.addr)
	r.read()
	r.login("reader", "secret")
	r.expect("SITE CHMOD 777 /PUB/a file.txt", 550)
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("a read-only user changed the mode: %v", st.Mode())
	}
}

// TestAlterStopStart: ALTER applies to a running session at its next
// command and to new sessions; STOP (Pause) refuses new clients while the
// open session goes on; START (Resume) serves again; ending one session
// gives its client 421 and leaves the others.
func TestAlterStopStart(t *testing.T) {
	e := newEnv(t, nil)
	a := dial(t, e.addr)
	a.read()
	a.login("USER1", "secret")
	a.expect("PORT 127,0,0,1,200,10", 200)
	off, banner := false, "altered banner"
	must(t, e.d.Alter(Alteration{Active: &off, Banner: &banner}))
	a.expect("PORT 127,0,0,1,200,10", 502) // the running session, at its next command
	if code, text := dial(t, e.addr).read(); code != 220 || !strings.Contains(text, "altered banner") {
		t.Fatalf("a new session: %d %s", code, text)
	}
	bad := -1
	if err := e.d.Alter(Alteration{Count: &bad}); err == nil {
		t.Fatal("COUNT=-1 accepted")
	}
	must(t, e.d.Pause())
	if err := e.d.Pause(); err != ErrPaused {
		t.Fatalf("Pause twice: %v", err)
	}
	if c, err := net.DialTimeout("tcp", e.addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a stopped daemon accepted a connection")
	}
	a.expect("NOOP", 200) // the open session goes on
	if st := e.d.Stats(); !st.Paused || st.Fault != "" {
		t.Fatalf("stats while stopped: %+v", st)
	}
	must(t, e.d.Resume())
	b := dial(t, e.addr)
	b.read()
	b.login("USER1", "secret")
	ids := e.d.Sessions()
	if !e.d.EndSession(ids[0].ID) || e.d.EndSession(1<<40) {
		t.Fatal("EndSession")
	}
	if code, text := a.read(); code != 421 || !strings.Contains(text, "ended by the operator") {
		t.Fatalf("the session ended: %d %s", code, text)
	}
	b.expect("NOOP", 200)
}

// TestPasvWait: with a one-port pool held by one session, PASV of another
// answers 425 at once by default; with PASVWAIT= it waits, and gets the
// port as soon as the first session lets it go.
func TestPasvWait(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		low, _ := c.DataPorts.Range()
		c.DataPorts.SetRange(low, low)
	})
	a, b := dial(t, e.addr), dial(t, e.addr)
	a.read()
	b.read()
	a.login("user1", "secret")
	b.login("user1", "secret")
	a.expect("PASV", 227)
	b.expect("PASV", 425)

	w := 10 * time.Second
	if err := e.d.Alter(Alteration{PasvWait: &w}); err != nil {
		t.Fatal(err)
	}
	before := e.d.Stats().PasvRequests
	b.send("PASV")
	// The daemon has read b's PASV (it counts it as it begins) before a
	// lets the port go: a 227 then means b waited, where without
	// PASVWAIT it was answered 425 at once.
	deadline := time.Now().Add(10 * time.Second)
	for e.d.Stats().PasvRequests == before {
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not read PASV")
		}
		runtime.Gosched()
	}
	a.expect("QUIT", 221) // gives the port back
	if code, text := b.read(); code != 227 {
		t.Fatalf("PASV while the only port was held, then freed, with PASVWAIT=10: %d %s", code, text)
	}
	st := e.d.Stats()
	if st.PasvWaited != 1 || st.PasvExhausted != 1 || st.PasvWait != w {
		t.Fatalf("stats: waited %d, exhausted %d, wait %v", st.PasvWaited, st.PasvExhausted, st.PasvWait)
	}
}

// TestLogKeysOnce: no log line of a session names a key twice (the user
// of a login, then the user again at the session's end).
func TestLogKeysOnce(t *testing.T) {
	var buf syncBuf
	e := newEnvLog(t, nil, zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&buf), zap.DebugLevel)))
	c := dial(t, e.addr)
	c.read()
	c.login("user1", "secret")
	c.expect("QUIT", 221)
	if !eventually(func() bool { return strings.Contains(buf.String(), "session ended") }) {
		t.Fatalf("no session end logged:\n%s", buf.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var keys []string
		dec := json.NewDecoder(strings.NewReader(l))
		dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var v any
			dec.Decode(&v)
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("key %q twice in %s", k, l)
			}
			seen[k] = true
		}
	}
}

// TestListingWildcards: NLST and LIST take wildcards in the last path
// element, as vsftpd does; MLSD stays a directory listing.
func TestListingWildcards(t *testing.T) {
	e := newEnv(t, nil)
	for _, f := range []string{"a.txt", "b.txt", "c.csv", ".hidden.txt", "sub/d.txt", "sub/e.log"} {
		os.MkdirAll(filepath.Join(e.pub, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(e.pub, f), []byte(f), 0o644)
	}
	c := dial(t, e.addr)
	c.read()
	c.login("user1", "secret")
	c.expect("CWD /PUB", 250)
	for _, tc := range []struct{ cmd, want string }{
		{"NLST *.txt", "a.txt\r\nb.txt\r\n"},
		{"NLST ?.csv", "c.csv\r\n"},
		{"NLST [ab].txt", "a.txt\r\nb.txt\r\n"},
		{"NLST .*.txt", ".hidden.txt\r\n"},
		{"NLST sub/*.txt", "sub/d.txt\r\n"},
		{"NLST /PUB/sub/*", "/PUB/sub/d.txt\r\n/PUB/sub/e.log\r\n"},
		{"NLST *.none", ""},
		{"NLST a.txt", "a.txt\r\n"},
	} {
		if got := c.list(tc.cmd); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	if got := c.list("LIST *.csv"); !strings.Contains(got, " c.csv\r\n") || strings.Count(got, "\r\n") != 1 {
		t.Errorf("LIST *.csv: %q", got)
	}
	d := c.epsv()
	c.expect("MLSD *.txt", 550) // a directory listing only
	d.Close()
	if got := c.list("NLST /RO/../../*"); !strings.Contains(got, "PUB\r\n") || strings.Contains(got, "etc") {
		t.Errorf("a pattern above the root lists the root, never the host: %q", got) // never outside the user's root
	}
}

// TestCodePages: TYPE E in code page 1047 (SITE CODEPAGE=1047) round-trips
// the characters 037 and 1047 place differently ([ ] ^ and the others),
// kept as UTF-8 on disk; the daemon's CODEPAGE= is a session's default.
func TestCodePages(t *testing.T) {
	const text = "[]{}|!¬^ ok\n"
	ebc1047, _ := charmap.CodePage1047.NewEncoder().String(strings.ReplaceAll(text, "\n", "\u0085"))
	e := newEnv(t, nil)
	c := dial(t, e.addr)
	c.read()
	c.login("user1", "secret")
	c.expect("CWD /PUB", 250)
	c.expect("TYPE E", 200)
	if got := c.expect("SITE CODEPAGE", 200); !strings.Contains(got, "code page 037") {
		t.Fatalf("the default: %s", got)
	}
	c.expect("SITE CODEPAGE=IBM-1047", 200)
	c.stor("STOR", "cp.txt", []byte(ebc1047))
	if b, _ := os.ReadFile(filepath.Join(e.pub, "cp.txt")); string(b) != text {
		t.Fatalf("on disk: %q, want %q", b, text)
	}
	if got := c.retr("cp.txt"); string(got) != ebc1047 {
		t.Fatalf("back in 1047: % x, want % x", got, ebc1047)
	}
	c.expect("SITE CODEPAGE=500", 501)
	// The daemon's default, for a session that chose none.
	must(t, e.d.Alter(Alteration{CodePage: ftptype.CP1047}))
	c2 := dial(t, e.addr)
	c2.read()
	c2.login("user1", "secret")
	c2.expect("TYPE E", 200)
	if got := c2.retr("/PUB/cp.txt"); string(got) != ebc1047 {
		t.Fatalf("with CODEPAGE=1047 on the daemon: % x", got)
	}
	if st := e.d.Stats(); st.CodePage != "1047" {
		t.Fatalf("stats: %q", st.CodePage)
	}
}
