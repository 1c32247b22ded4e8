package ops

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// TestFTPClientAgainstOwnDaemon: the FTP command against the stack's own
// daemon over a loopback link, passive and active: PUT, GET, MPUT, MGET,
// DIR, DELETE, CD, the three types; the files arrive as they were; every
// transfer is a message with its bytes; the control connection left from
// the ephemeral range; a refusal carries the server's reply and ends the
// session with return code 8; a bad subcommand sends nothing.
func TestFTPClientAgainstOwnDaemon(t *testing.T) {
	sys := newTestSystem(t)
	srv, loc := t.TempDir(), t.TempDir()
	os.Mkdir(filepath.Join(loc, "in"), 0o755)
	os.WriteFile(filepath.Join(loc, "text.txt"), []byte("line one\nline two\n"), 0o644)
	for i := range 5 {
		os.WriteFile(filepath.Join(loc, fmt.Sprintf("m%d.dat", i)), []byte(strings.Repeat("x", 1000*i)), 0o644)
	}
	for _, line := range []string{
		"PORTRANGE LOW=50000,HIGH=51100",
		"DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.40.1,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=SRV,DLBL=" + srv + ",READONLY=NO",
		"DEFINE FILE PUBLIC=LOC,DLBL=" + loc + ",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		"DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(30100,30119)",
	} {
		do(t, sys, line)
	}
	for _, mode := range []string{"PASSIVE", "ACTIVE"} {
		got := strings.Join(do(t, sys, "FTP HOST=10.99.40.1,USER=TESTER,PASSWORD=T3ster,LOCAL=LOC,MODE="+mode+","+
			"CMD=('"+mode+"','MGET none*','CD /SRV','PUT text.txt t-i.txt','TYPE A','PUT text.txt t-a.txt','TYPE E','PUT text.txt t-e.txt',"+
			"'GET t-e.txt in/t-e.txt','TYPE I','MPUT m*.dat','MGET m*.dat','DIR','DELETE t-i.txt','QUIT')"), "\n")
		for _, want := range []string{
			`IPN650I FTP client: connected to 10.99.40.1:21 from 10.99.40.1:5\d{4}: 220 `,
			`IPN651I FTP client: USER TESTER: 230 `,
			`IPN652I FTP client: PUT LOC/text.txt to t-i.txt: 18 bytes in `,
			`IPN652I FTP client: GET t-e.txt to LOC/in/t-e.txt: 18 bytes in `,
			`IPN652I FTP client: MPUT LOC/m4.dat to m4.dat: 4,000 bytes`,
			`IPN652I FTP client: MGET m4.dat to LOC/m4.dat: 4,000 bytes`,
			`IPN653I FTP client:   .*t-a.txt`,
			`IPN651I FTP client: DELETE t-i.txt: 250 `,
			`IPN651I FTP client: (PASSIVE|ACTIVE): data connections from now on: `,
			`IPN651I FTP client: MGET none\*: no server file matches`,
			`IPN651I FTP client: QUIT 10.99.40.1:21: 221 `,
			`IPN657I FTP client: session with 10.99.40.1:21 ended: 14 files, `,
		} {
			if !regexp.MustCompile(want).MatchString(got) {
				t.Fatalf("%s: no %q in\n%s", mode, want, got)
			}
		}
		if strings.Contains(got, "T3ster") {
			t.Fatalf("the password is shown:\n%s", got)
		}
		for _, n := range []string{"t-a.txt", "t-e.txt"} {
			if b, _ := os.ReadFile(filepath.Join(srv, n)); string(b) != "line one\nline two\n" {
				t.Fatalf("%s: the server keeps %q", n, b)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(loc, "in", "t-e.txt")); string(b) != "line one\nline two\n" {
			t.Fatalf("TYPE E back: %q", b)
		}
		if _, err := os.Stat(filepath.Join(srv, "t-i.txt")); err == nil {
			t.Fatal("DELETE left the file")
		}
	}

	// A refusal: the server's reply, return code 8, the local file untouched.
	os.WriteFile(filepath.Join(loc, "keep.txt"), []byte("keep"), 0o644)
	got := do(t, sys, "FTP HOST=10.99.40.1,USER=TESTER,PASSWORD=T3ster,LOCAL=LOC,CMD=('GET /SRV/nosuch keep.txt','DIR')")
	all := strings.Join(got, "\n")
	if !strings.Contains(all, "IPN654E FTP client: GET /SRV/nosuch keep.txt refused by the server: 550 ") || strings.Contains(all, "IPN653I") {
		t.Fatalf("a refused GET:\n%s", all)
	}
	if b, _ := os.ReadFile(filepath.Join(loc, "keep.txt")); string(b) != "keep" {
		t.Fatalf("the local file after a refused GET: %q", b)
	}
	// A wrong password, a bad subcommand.
	if all := strings.Join(do(t, sys, "FTP HOST=10.99.40.1,USER=TESTER,PASSWORD=nope,LOCAL=LOC,CMD=('DIR')"), "\n"); !strings.Contains(all, "IPN654E FTP client: USER TESTER refused by the server: 530") {
		t.Fatalf("a wrong password:\n%s", all)
	}
	if all := strings.Join(do(t, sys, "FTP HOST=10.99.40.1,USER=TESTER,PASSWORD=T3ster,LOCAL=LOC,CMD=('DIR','RENAME a b')"), "\n"); !strings.Contains(all, "IPN656E FTP client: 'RENAME a b' is not a subcommand") || strings.Contains(all, "IPN650I") {
		t.Fatalf("a bad subcommand:\n%s", all)
	}
	// The connections were the client's, from the ephemeral range.
	q := strings.Join(do(t, sys, "QUERY PORTRANGE"), "\n")
	if !regexp.MustCompile(`IPN601I TCP .* allocations [1-9]`).MatchString(q) {
		t.Fatalf("QUERY PORTRANGE:\n%s", q)
	}
}

// TestFTPClientTwoDaemons: COPY and COPYBACK between two daemons of this
// stack, byte for byte, the data never through the client; both daemons
// on one address, so the client's address is each one's (PROXYPEERS= is
// ftpc's TestProxy's).
func TestFTPClientTwoDaemons(t *testing.T) {
	sys := newTestSystem(t)
	a, b, loc := t.TempDir(), t.TempDir(), t.TempDir()
	data := strings.Repeat("third party\n", 10000)
	os.WriteFile(filepath.Join(a, "src.txt"), []byte(data), 0o644)
	for _, line := range []string{
		"DEFINE LINK ID=LOOPA,TYPE=LOOPBACK,IPADDR=10.99.42.1,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=A,DLBL=" + a + ",READONLY=NO",
		"DEFINE FILE PUBLIC=B,DLBL=" + b + ",READONLY=NO",
		"DEFINE FILE PUBLIC=LOC,DLBL=" + loc + ",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		"DEFINE FTPD ID=FTPA,PORT=21,DATAPORTS=(30200,30209)",
		"DEFINE FTPD ID=FTPB,PORT=2121,DATAPORTS=(30210,30219)",
	} {
		do(t, sys, line)
	}
	got := strings.Join(do(t, sys, "FTP HOST=10.99.42.1,HOST2=10.99.42.1,PORT2=2121,USER=TESTER,PASSWORD=T3ster,LOCAL=LOC,"+
		"CMD=('CD /A','CD2 /B','COPY src.txt dst.txt','TYPE A','COPYBACK dst.txt back.txt')"), "\n")
	for _, want := range []string{
		`IPN651I FTP client: CD2 /B: 250 `,
		`IPN658I FTP client: COPY 10.99.42.1:21 src.txt to 10.99.42.1:2121 dst.txt: 120,000 bytes in .* server to server`,
		`IPN651I FTP client: TYPE A \(HOST2\): 200 `,
		// The daemon answers SIZE in TYPE I only, as RFC 3659 allows.
		`IPN658I FTP client: COPYBACK 10.99.42.1:2121 dst.txt to 10.99.42.1:21 back.txt: \? bytes in .*, \?, server to server`,
		`IPN657I FTP client: session with 10.99.42.1:21 ended: 2 files, 120,000 bytes`,
	} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Fatalf("no %q in\n%s", want, got)
		}
	}
	for _, p := range []string{filepath.Join(b, "dst.txt"), filepath.Join(a, "back.txt")} {
		if g, _ := os.ReadFile(p); string(g) != data {
			t.Fatalf("%s: %d bytes, want %d", p, len(g), len(data))
		}
	}
	if all := strings.Join(do(t, sys, "FTP HOST=10.99.42.1,USER=TESTER,PASSWORD=T3ster,LOCAL=LOC,CMD=('COPY a b')"), "\n"); !strings.Contains(all, "COPY needs a second server: give HOST2=") {
		t.Fatalf("COPY without HOST2:\n%s", all)
	}
}

// TestFTPClientOwnAddress: the stack reaches its own address on a link
// that is not a loopback link, as a host does: with no daemon there, the
// session is refused at once (a reset from the stack itself), not timed
// out on the link.
func TestFTPClientOwnAddress(t *testing.T) {
	sys := newTestSystem(t)
	loc := t.TempDir()
	do(t, sys, "DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0")
	do(t, sys, "DEFINE FILE PUBLIC=LOC,DLBL="+loc+",READONLY=NO")
	got := strings.Join(do(t, sys, "FTP HOST=10.0.2.15,USER=TESTER,PASSWORD=T3ster,LOCAL=LOC,CMD=('DIR')"), "\n")
	if !strings.Contains(got, "IPN655E FTP client: OPEN 10.0.2.15:21 failed: dial tcp 10.0.2.15:21: connection was refused") {
		t.Fatalf("%s", got)
	}
}

// TestFTPClientEndsWithSystem: a session waiting on a server that never
// greets ends when the system closes, and Close waits for it.
func TestFTPClientEndsWithSystem(t *testing.T) {
	sys, err := New(Config{Clock: testClock})
	if err != nil {
		t.Fatal(err)
	}
	loc := t.TempDir()
	do(t, sys, "DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.44.1,MASK=255.255.255.0")
	do(t, sys, "DEFINE FILE PUBLIC=LOC,DLBL="+loc+",READONLY=NO")
	ln, err := sys.Conns.Listen("SILENT", netip.MustParseAddrPort("10.99.44.1:2121"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { // accepts and says nothing
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	var mu sync.Mutex
	var said []string
	s := &command.Session{Table: command.Commands, Exec: sys, Console: command.ConsoleInfo{ID: "T", Auth: users.Full},
		Out: command.OutFunc(func(m msgcat.Msg) { mu.Lock(); said = append(said, m.String()); mu.Unlock() })}
	done := make(chan struct{})
	go func() {
		s.Do(context.Background(), "FTP HOST=10.99.44.1,PORT=2121,USER=X,PASSWORD=Y,LOCAL=LOC,CMD=('DIR')")
		close(done)
	}()
	// Wait until the client is connected and waiting for the greeting.
	for !strings.Contains(strings.Join(do(t, sys, "QUERY CONNECTIONS OWNER=FTPC"), "\n"), "ESTABLISHED") {
		time.Sleep(10 * time.Millisecond)
	}
	ln.Close()
	sys.Close()
	// Close returned: the session has said its last line already.
	mu.Lock()
	got := strings.Join(said, "\n")
	mu.Unlock()
	if !strings.Contains(got, "IPN655E FTP client: OPEN 10.99.44.1:2121 failed") {
		t.Fatalf("after Close: %s", got)
	}
	<-done
}

// TestFTPClientCodePage: the FTP client with TYPE=E,CODEPAGE=1047 and the
// stack's own daemon at CODEPAGE=1047: a file of the characters 037 and
// 1047 place differently goes up and comes back byte for byte, and travels
// in 1047 (the daemon's file is the same UTF-8 text).
func TestFTPClientCodePage(t *testing.T) {
	sys := newTestSystem(t)
	pub, loc := t.TempDir(), t.TempDir()
	const text = "[brackets] {braces} |bar| !bang ¬not ^caret\n"
	os.WriteFile(filepath.Join(loc, "up.txt"), []byte(text), 0o644)
	for _, line := range []string{
		"DEFINE LINK ID=LOOPA,TYPE=LOOPBACK,IPADDR=10.99.43.1,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=PUB,DLBL=" + pub + ",READONLY=NO",
		"DEFINE FILE PUBLIC=LOC,DLBL=" + loc + ",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		"DEFINE FTPD ID=FTPE,PORT=21,DATAPORTS=(30220,30229),CODEPAGE=1047",
	} {
		do(t, sys, line)
	}
	got := strings.Join(do(t, sys, "FTP HOST=10.99.43.1,USER=TESTER,PASSWORD=T3ster,LOCAL=LOC,TYPE=E,CODEPAGE=IBM-1047,"+
		"CMD=('CD /PUB','PUT up.txt','GET up.txt down.txt')"), "\n")
	if !strings.Contains(got, "IPN657I FTP client: session with 10.99.43.1:21 ended: 2 files") {
		t.Fatalf("%s", got)
	}
	for _, p := range []string{filepath.Join(pub, "up.txt"), filepath.Join(loc, "down.txt")} {
		if b, _ := os.ReadFile(p); string(b) != text {
			t.Fatalf("%s: %q, want %q", p, b, text)
		}
	}
	// In 037 on one side and 1047 on the other, the brackets do not survive.
	got = strings.Join(do(t, sys, "FTP HOST=10.99.43.1,USER=TESTER,PASSWORD=T3ster,LOCAL=LOC,TYPE=E,"+
		"CMD=('CD /PUB','GET up.txt mixed.txt')"), "\n")
	if b, _ := os.ReadFile(filepath.Join(loc, "mixed.txt")); string(b) == text {
		t.Fatalf("037 against 1047 kept the brackets: %q\n%s", b, got)
	}
	if q := strings.Join(do(t, sys, "QUERY FTPDS ID=FTPE"), "\n"); !strings.Contains(q, "CODEPAGE 1047") {
		t.Fatalf("QUERY FTPDS:\n%s", q)
	}
}
