package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// The trust tests: the built-in path (a USER link, an FTP daemon behind
// it) as an attacker on the same host would try it. A second loopback
// address (127.0.0.2, 127.0.0.3) plays a second client.

// ftpCtl is a raw FTP control connection from a chosen local address.
type ftpCtl struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialFTPFrom(t *testing.T, from string, port int) *ftpCtl {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &ftpCtl{t: t, c: c, r: bufio.NewReader(c)}
}

// reply reads one reply (a multi-line one whole) and gives its last line.
func (f *ftpCtl) reply() string {
	f.t.Helper()
	f.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		line, err := f.r.ReadString('\n')
		if err != nil {
			f.t.Fatalf("reading a reply: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) >= 4 && line[3] == ' ' {
			return line
		}
	}
}

func (f *ftpCtl) cmd(line string) string {
	f.t.Helper()
	f.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(f.c, line+"\r\n"); err != nil {
		f.t.Fatal(err)
	}
	return f.reply()
}

func (f *ftpCtl) expect(line, code string) string {
	f.t.Helper()
	r := f.cmd(line)
	if !strings.HasPrefix(r, code) {
		f.t.Fatalf("%s: %s (want %s)", line, r, code)
	}
	return r
}

func (f *ftpCtl) login() {
	f.t.Helper()
	if r := f.reply(); !strings.HasPrefix(r, "220") {
		f.t.Fatalf("greeting: %s", r)
	}
	f.expect("USER "+ftpUser, "331")
	f.expect("PASS "+ftpPass, "230")
	f.expect("TYPE I", "200")
}

var epsvPort = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)

func (f *ftpCtl) epsv() int {
	f.t.Helper()
	m := epsvPort.FindStringSubmatch(f.expect("EPSV", "229"))
	p, _ := strconv.Atoi(m[1])
	return p
}

// dataConn asks for a passive data port (EPSV) and connects to it from
// 127.0.0.1.
func (f *ftpCtl) dataConn() net.Conn {
	f.t.Helper()
	c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", f.epsv()))
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// trustSite is stackd on a deck of its own: a USER link whose forwarded
// data ports have the same numbers in the stack, and an FTP daemon.
func trustSite(t *testing.T, ftpdExtra string) (*daemon, int, string) {
	t.Helper()
	pub := t.TempDir()
	base := testnet.HostPorts(t, 11)
	deck := fmt.Sprintf(`DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1%s
`, base, base+1, base+10, pub, ftpUser, ftpPass, base+1, base+10, ftpdExtra)
	return startDeck(t, deck), base, pub
}

// TestTrustIdentity: clients keep their address through the USER link, in
// QUERY CONNECTIONS, IPN402I and the checks: a second address can neither
// take a victim's passive download nor feed its upload.
func TestTrustIdentity(t *testing.T) {
	d, port, pub := trustSite(t, "")
	secret := bytes.Repeat([]byte("victim's data "), 5000)
	if err := os.WriteFile(filepath.Join(pub, "secret.bin"), secret, 0o644); err != nil {
		t.Fatal(err)
	}
	// Python's ftplib from 127.0.0.2: the stack sees 127.0.0.2.
	py := testnet.RequireTool(t, "python3")
	script := fmt.Sprintf(`import ftplib,time
f=ftplib.FTP(); f.connect("127.0.0.1",%d,timeout=10,source_address=("127.0.0.2",0))
f.login(%q,%q); print(f.sock.getsockname()[1]); import sys; sys.stdout.flush(); time.sleep(1.5); f.quit()`, port, ftpUser, ftpPass)
	cmd := exec.Command(py, "-c", script)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	cport := strings.TrimSpace(line)
	rows := connections(t, d.socket, ",PORT=21")
	if !contains(rows, fmt.Sprintf("ESTABLISHED 10.0.2.15:21 127.0.0.2:%s FTP01", cport)) {
		t.Errorf("QUERY CONNECTIONS lacks the client's own address 127.0.0.2:%s: %q", cport, rows)
	}
	cmd.Wait()
	if !waitFor(5*time.Second, func() bool {
		return strings.Contains(d.stdout.String(), "IPN402I FTP FTP01: user '"+ftpUser+"' logged in from 127.0.0.2:"+cport)
	}) {
		t.Errorf("IPN402I does not name 127.0.0.2:%s:\n%s", cport, d.stdout)
	}

	// Passive theft: the victim (127.0.0.1) asks for a data port, the
	// thief (127.0.0.2) connects to it first.
	victim := dialFTPFrom(t, "127.0.0.1", port)
	victim.login()
	dport := victim.epsv()
	thief, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}).Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", dport))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	victim.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(victim.c, "RETR /PUB/secret.bin\r\n")
	first := victim.reply()
	last := first
	if strings.HasPrefix(first, "150") {
		last = victim.reply()
	}
	thief.SetReadDeadline(time.Now().Add(5 * time.Second))
	stolen, _ := io.ReadAll(thief)
	thief.Close()
	if len(stolen) != 0 || !strings.HasPrefix(last, "425") {
		t.Fatalf("the thief got %d bytes; the victim's reply %q", len(stolen), last)
	}
	// Injection: the thief connects first and sends; the victim's STOR
	// takes nothing of it.
	dport = victim.epsv()
	thief, err = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}).Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", dport))
	if err != nil {
		t.Fatal(err)
	}
	thief.Write([]byte("injected by the thief"))
	thief.Close()
	time.Sleep(100 * time.Millisecond)
	io.WriteString(victim.c, "STOR /PUB/upload.bin\r\n")
	if r := victim.reply(); strings.HasPrefix(r, "150") {
		if r2 := victim.reply(); !strings.HasPrefix(r2, "425") {
			t.Fatalf("STOR after an injection: %s", r2)
		}
	} else if !strings.HasPrefix(r, "425") {
		t.Fatalf("STOR after an injection: %s", r)
	}
	if b, err := os.ReadFile(filepath.Join(pub, "upload.bin")); err == nil {
		t.Fatalf("the injected upload was stored: %q", b)
	}
	if n := sayField(mustConsole(t, d.socket, "QUERY FTPDS\n"), "IPN450I", "logins"); n < 2 {
		t.Errorf("logins %d", n)
	}
	// PORT to the gateway (which once led to the host's loopback) and to
	// the other client are foreign addresses.
	victim.expect("PORT 10,0,2,2,117,48", "501")
	victim.expect("EPRT |1|127.0.0.2|30000|", "501")
	victim.expect("QUIT", "221")
}

// TestTrustResetKeepsFile: an upload over a file whose client resets, or
// whose client is killed, leaves the old file byte for byte.
func TestTrustResetKeepsFile(t *testing.T) {
	d, port, pub := trustSite(t, "")
	old := bytes.Repeat([]byte("the good old content\n"), 3000)
	target := filepath.Join(pub, "keep.bin")
	if err := os.WriteFile(target, old, 0o644); err != nil {
		t.Fatal(err)
	}
	// A client that resets its data connection and then its control
	// connection mid-STOR.
	c := dialFTPFrom(t, "127.0.0.1", port)
	c.login()
	data := c.dataConn()
	c.expect("STOR /PUB/keep.bin", "150")
	data.Write(bytes.Repeat([]byte("partial!"), 20000))
	time.Sleep(200 * time.Millisecond)
	data.(*net.TCPConn).SetLinger(0)
	data.Close()
	c.c.(*net.TCPConn).SetLinger(0)
	c.c.Close()
	// A client killed mid-STOR (its sockets closed by the kernel).
	py := testnet.RequireTool(t, "python3")
	script := fmt.Sprintf(`import ftplib,sys,time
f=ftplib.FTP(); f.connect("127.0.0.1",%d,timeout=10); f.login(%q,%q)
c=f.transfercmd("STOR /PUB/keep.bin")
c.sendall(b"killed!!"*20000); print("sent"); sys.stdout.flush(); time.sleep(60)`, port, ftpUser, ftpPass)
	cmd := exec.Command(py, "-c", script)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if l, _ := bufio.NewReader(stdout).ReadString('\n'); l != "sent\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the client did not start its upload: %q", l)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// Both sessions end; the file is what it was, and no temporary file
	// is left.
	if !waitFor(10*time.Second, func() bool {
		return sayField(mustConsole(t, d.socket, "QUERY FTPDS\n"), "IPN447I", "sessions") == 0
	}) {
		t.Fatalf("sessions did not end:\n%s", mustConsole(t, d.socket, "QUERY FTPDS\n"))
	}
	if b, _ := os.ReadFile(target); !bytes.Equal(b, old) {
		t.Fatalf("the old file changed: %d bytes, starts %q", len(b), b[:min(len(b), 20)])
	}
	if m, _ := filepath.Glob(filepath.Join(pub, ".ipn-upload-*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

// TestTrustHoarding: one local user holding its PERCLIENT= sessions (never
// logging in) does not keep another out; the login time ends them.
func TestTrustHoarding(t *testing.T) {
	d, port, _ := trustSite(t, ",PERCLIENT=4,LOGINTIME=5")
	var hoard []*ftpCtl
	for i := 0; i < 4; i++ {
		h := dialFTPFrom(t, "127.0.0.2", port)
		if r := h.reply(); !strings.HasPrefix(r, "220") {
			t.Fatalf("hoarder %d: %s", i, r)
		}
		hoard = append(hoard, h)
	}
	extra := dialFTPFrom(t, "127.0.0.2", port)
	if r := extra.reply(); r != "421 Too many sessions from your address (4): try again later" {
		t.Fatalf("a fifth session: %s", r)
	}
	// A NOOP now and then does not keep a hoarded slot. Another local
	// user (the hoarder is root, whatever loopback address it uses) logs
	// in meanwhile.
	hoard[0].expect("NOOP", "200")
	if err := nobodyFTP(t, port, ftpUser, ftpPass); err != nil {
		t.Fatalf("another local user while root hoards: %v", err)
	}
	start := time.Now()
	for _, h := range hoard {
		if r := h.reply(); r != "421 Not logged in within 5 seconds: closing control connection" {
			t.Fatalf("a hoarder: %s", r)
		}
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the login time ended the hoarders after %v", d)
	}
	q := mustConsole(t, d.socket, "QUERY FTPDS\n")
	if !strings.Contains(q, "per client: at most 4 sessions, login within 00:00:05") || !strings.Contains(q, "login timeouts 4") {
		t.Errorf("QUERY FTPDS:\n%s", q)
	}
}

// TestFTPLockout: failed logins of one local user (root, at 127.0.0.3)
// over many connections lock it out (IPN414W once), for every session of
// it, while another local user logs in; QUERY LOCKOUTS lists it (as the
// host's loopback and its uid), DELETE LOCKOUT lifts it (by the address it
// used), and a lockout ends by itself.
func TestFTPLockout(t *testing.T) {
	d, port, _ := trustSite(t, ",LOCKOUT=(4,60,3)")
	for i := 0; i < 2; i++ {
		c := dialFTPFrom(t, "127.0.0.3", port)
		c.reply()
		c.expect("USER "+ftpUser, "331")
		c.expect("PASS wrong", "530")
		if i == 0 {
			c.expect("PASS wrong", "530")
			continue
		}
		c.expect("PASS wrong", "421")
	}
	if !waitFor(5*time.Second, func() bool {
		return strings.Contains(d.stdout.String(), "IPN414W FTP FTP01: address 127.0.0.1 uid 0 locked out after 4 failed logins")
	}) {
		t.Fatalf("no IPN414W:\n%s", d.stdout)
	}
	c := dialFTPFrom(t, "127.0.0.3", port)
	if r := c.reply(); !strings.HasPrefix(r, "421 Your address is locked out") {
		t.Fatalf("a locked-out address connects: %s", r)
	}
	if err := nobodyFTP(t, port, ftpUser, ftpPass); err != nil {
		t.Fatalf("another local user while root is locked out: %v", err)
	}
	q := mustConsole(t, d.socket, "QUERY LOCKOUTS\n")
	if !regexp.MustCompile(`IPN415I FTP01\s+127\.0\.0\.1 uid 0\s+locked out until .* after 4 failed logins`).MatchString(q) {
		t.Fatalf("QUERY LOCKOUTS:\n%s", q)
	}
	if out := mustConsole(t, d.socket, "DELETE LOCKOUT,IPADDR=127.0.0.3\n"); !strings.Contains(out, "IPN417I Lockout of 127.0.0.3 lifted at FTP01") {
		t.Fatalf("DELETE LOCKOUT:\n%s", out)
	}
	c = dialFTPFrom(t, "127.0.0.3", port)
	c.login()
	c.expect("QUIT", "221")
	// Locked again, it ends by itself after 3 s.
	for i := 0; i < 2; i++ {
		c := dialFTPFrom(t, "127.0.0.3", port)
		c.reply()
		c.expect("USER "+ftpUser, "331")
		c.cmd("PASS wrong")
		c.cmd("PASS wrong")
	}
	if r := dialFTPFrom(t, "127.0.0.3", port).reply(); !strings.HasPrefix(r, "421 Your address is locked out") {
		t.Fatalf("locked again: %s", r)
	}
	time.Sleep(3200 * time.Millisecond)
	c = dialFTPFrom(t, "127.0.0.3", port)
	c.login()
}

// TestTrustDescriptorExhaustion: stackd under a hard limit of 96
// descriptors, with 150 host connections held on a USER link's forward:
// the carried connections stop at their budget (the limit less a reserve,
// a quarter of it for one client) and the rest are reset at once, so the
// console still answers; once the held ones go, it serves again. (When
// descriptors do run out otherwise, the forward's accept backs off and
// recovers: nic.TestAcceptBackoff.)
func TestTrustDescriptorExhaustion(t *testing.T) {
	testnet.RequireTool(t, "curl")
	pub := t.TempDir()
	os.WriteFile(filepath.Join(pub, "hello.txt"), []byte("still here\n"), 0o644)
	base := testnet.HostPorts(t, 3)
	deckPath := writeDeck(t,
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)", base, base+1, base+2),
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=YES",
		fmt.Sprintf("DEFINE USER ID=%s,PASSWORD='%s'", ftpUser, ftpPass),
		fmt.Sprintf("DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1,PERCLIENT=1000", base+1, base+2))
	dir := t.TempDir()
	sock := filepath.Join(dir, "console.sock")
	out := &syncBuffer{}
	// A hard limit of 96 descriptors: Go cannot raise it.
	cmd := exec.Command("sh", "-c", `ulimit -n 96 && exec "$0" "$@"`, stackdBin, "--socket", sock, "--data", filepath.Join(dir, "data"), "--deck", deckPath)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if !waitFor(10*time.Second, func() bool { return strings.Contains(out.String(), "IPN213I") }) {
		t.Fatalf("stackd did not start:\n%s", out)
	}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := 0; i < 150; i++ {
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", base), 2*time.Second)
		if err != nil {
			break
		}
		held = append(held, c)
		time.Sleep(2 * time.Millisecond)
	}
	q, rc := runConsole(t, sock, "QUERY LINKS,ID=USER1\n")
	if rc != 0 || sayField(q, "IPN199I", "reset when full") < 1 {
		t.Fatalf("with %d connections held, the console: rc %d\n%s\n%s", len(held), rc, q, out)
	}
	if strings.Contains(out.String(), "IPN186W") {
		t.Errorf("the forward ran out of descriptors:\n%s", out)
	}
	for _, c := range held {
		c.Close()
	}
	held = nil
	var got []byte
	ok := waitFor(20*time.Second, func() bool {
		var err error
		got, err = exec.Command("curl", "-sS", "--max-time", "5", fmt.Sprintf("ftp://%s:%s@127.0.0.1:%d/PUB/hello.txt", ftpUser, ftpPass, base)).CombinedOutput()
		return err == nil && string(got) == "still here\n"
	})
	if !ok {
		t.Fatalf("no download after the held connections went: %q\n%s", got, out)
	}
}

// TestUploadDebrisAfterKill: stackd killed with SIGKILL while uploads run
// leaves temporary files; started again on the same deck, DEFINE FILE
// removes them (IPN471I) and the old files are as they were.
func TestUploadDebrisAfterKill(t *testing.T) {
	pub := t.TempDir()
	old := []byte("before the crash\n")
	os.WriteFile(filepath.Join(pub, "a.bin"), old, 0o644)
	base := testnet.HostPorts(t, 5)
	deckPath := writeDeck(t,
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)", base, base+1, base+4),
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO",
		fmt.Sprintf("DEFINE USER ID=%s,PASSWORD='%s'", ftpUser, ftpPass),
		fmt.Sprintf("DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1", base+1, base+4))
	d := startDaemon(t, "--deck", deckPath)
	for i := 0; i < 3; i++ {
		c := dialFTPFrom(t, "127.0.0.1", base)
		c.login()
		data := c.dataConn()
		defer data.Close()
		name := "a.bin"
		if i > 0 {
			name = fmt.Sprintf("new%d.bin", i)
		}
		c.expect("STOR /PUB/"+name, "150")
		data.Write(bytes.Repeat([]byte("x"), 100000))
	}
	if !waitFor(5*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(pub, ".ipn-upload-*"))
		return len(m) == 3
	}) {
		t.Fatal("the uploads did not start")
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
	d2 := startDaemon(t, "--deck", deckPath)
	if !strings.Contains(d2.stdout.String(), "IPN471I File PUB: 3 unfinished uploads removed") {
		t.Fatalf("no IPN471I:\n%s", d2.stdout)
	}
	if m, _ := filepath.Glob(filepath.Join(pub, ".ipn-upload-*")); len(m) != 0 {
		t.Fatalf("left: %v", m)
	}
	if b, _ := os.ReadFile(filepath.Join(pub, "a.bin")); !bytes.Equal(b, old) {
		t.Fatalf("a.bin: %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(pub, "new*")); len(m) != 0 {
		t.Fatalf("partial new files: %v", m)
	}
}

// TestTrustClientPortReused: a host client that comes back from the same
// address and port (the host's loopback reuses a 4-tuple in TIME_WAIT after
// a second) is carried in again with that same address and port.
func TestTrustClientPortReused(t *testing.T) {
	_, port, _ := trustSite(t, "")
	lport := testnet.HostPorts(t, 1)
	for i := 0; i < 2; i++ {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: lport},
			Control: func(_, _ string, c syscall.RawConn) error {
				var serr error
				c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1) })
				return serr
			}}
		var c net.Conn
		var err error
		if !waitFor(5*time.Second, func() bool { c, err = d.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port)); return err == nil }) {
			t.Fatalf("connection %d from port %d: %v", i+1, lport, err)
		}
		f := &ftpCtl{t: t, c: c, r: bufio.NewReader(c)}
		f.login()
		// The client closes first: its 4-tuple goes to TIME_WAIT on the host.
		c.Close()
		time.Sleep(1100 * time.Millisecond)
	}
}

// TestFTPEndSession: the operator ends one session by its number from
// QUERY FTPDS; its client gets 421, another session goes on.
func TestFTPEndSession(t *testing.T) {
	d, port, _ := trustSite(t, "")
	a := dialFTPFrom(t, "127.0.0.1", port)
	a.login()
	b := dialFTPFrom(t, "127.0.0.2", port)
	b.login()
	q := mustConsole(t, d.socket, "QUERY FTPDS\n")
	m := regexp.MustCompile(`IPN451I +session (\d+): ` + ftpUser + ` from 127\.0\.0\.1:`).FindStringSubmatch(q)
	if m == nil {
		t.Fatalf("QUERY FTPDS:\n%s", q)
	}
	out := mustConsole(t, d.socket, "STOP FTPD=FTP01,SESSION="+m[1]+"\n")
	if !strings.Contains(out, "IPN477I Session "+m[1]+" of FTP daemon FTP01 ended") {
		t.Fatalf("STOP SESSION:\n%s", out)
	}
	if r := a.reply(); r != "421 Session ended by the operator: closing control connection" {
		t.Fatalf("the client: %s", r)
	}
	b.expect("NOOP", "200")
	// A new password, and the user's sessions ended with it.
	out = mustConsole(t, d.socket, "ALTER USER ID="+ftpUser+",PASSWORD='Another-1',ENDSESSIONS=YES\n")
	if !strings.Contains(out, "; 1 session ended") || strings.Contains(out, "Another-1") {
		t.Fatalf("ALTER USER:\n%s", out)
	}
	if r := b.reply(); !strings.HasPrefix(r, "421 Session ended by the operator") {
		t.Fatalf("the user's session: %s", r)
	}
}
