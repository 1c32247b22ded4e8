package ftpd

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/tlscert"
)

var testCert = sync.OnceValue(func() *tlscert.Cert {
	c, _, err := tlscert.SelfSigned("", []string{"localhost"}, nil, time.Now())
	if err != nil {
		panic(err)
	}
	return c
})

// tlsEnv is a test daemon with TLS policy m and the test certificate.
func tlsEnv(t testing.TB, m TLSMode, mod func(*Config)) *testEnv {
	return newEnv(t, func(c *Config) {
		c.TLS, c.Cert = m, testCert()
		if mod != nil {
			mod(c)
		}
	})
}

// clientTLS is a client's TLS configuration: it trusts the test
// certificate and keeps sessions, so data connections can resume the
// control connection's.
func clientTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(8), ServerName: "localhost"}
}

// startTLS sends AUTH TLS and protects the control connection.
func (c *client) startTLS(conf *tls.Config) {
	c.t.Helper()
	c.expect("AUTH TLS", 234)
	tc := tls.Client(c.c, conf)
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
}

// epsvTLS opens an EPSV data connection and protects it with conf.
func (c *client) epsvTLS(conf *tls.Config) net.Conn {
	c.t.Helper()
	return tls.Client(c.epsv(), conf)
}

func TestExplicitTLS(t *testing.T) {
	e := tlsEnv(t, TLSAllowed, nil)
	os.WriteFile(filepath.Join(e.pub, "f.txt"), []byte("secret data\n"), 0o644)
	c := dial(t, e.addr)
	c.read()
	if _, feat := c.cmd("FEAT"); !strings.Contains(feat, "\n AUTH TLS\n") || !strings.Contains(feat, "\n PROT\n") {
		t.Fatalf("FEAT: %q", feat)
	}
	conf := clientTLS()
	c.startTLS(conf)
	c.login("user1", "secret")
	c.expect("PBSZ 1024", 200)
	c.expect("PROT P", 200)
	c.expect("CWD /PUB", 250)
	c.expect("TYPE I", 200)
	// A protected download and upload, each resuming the control's session.
	d := c.epsvTLS(conf)
	c.expect("RETR f.txt", 150)
	got, err := io.ReadAll(d)
	if err != nil || string(got) != "secret data\n" {
		t.Fatalf("RETR: %q %v", got, err)
	}
	if !d.(*tls.Conn).ConnectionState().DidResume {
		t.Fatal("the data connection did not resume")
	}
	d.Close()
	if code, text := c.read(); code != 226 {
		t.Fatal(text)
	}
	d = c.epsvTLS(conf)
	c.expect("STOR up.bin", 150)
	d.Write(bytes.Repeat([]byte("x"), 100000))
	d.Close()
	if code, text := c.read(); code != 226 {
		t.Fatal(text)
	}
	if b, _ := os.ReadFile(filepath.Join(e.pub, "up.bin")); len(b) != 100000 {
		t.Fatalf("uploaded %d bytes", len(b))
	}
	// PROT C: the next transfer in clear.
	c.expect("PROT C", 200)
	if got := string(c.retr("f.txt")); got != "secret data\n" {
		t.Fatalf("clear RETR %q", got)
	}
	c.expect("QUIT", 221)
	if !eventually(func() bool { return e.countMsgs("IPN403I") == 1 }) {
		t.Fatal("no session end")
	}
	if m := strings.Join(e.messages(), "\n"); !strings.Contains(m, "; TLSv1.3 TLS_") {
		t.Fatalf("session end without its protocol: %s", m)
	}
	if st := e.d.Stats(); st.TLSSessions != 1 || st.ReuseRefused != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestDataMustResume: a protected data connection whose TLS session is not
// one the control connection gave is refused (522, IPN420W) unless
// TLSREUSE=NO.
func TestDataMustResume(t *testing.T) {
	for _, optional := range []bool{false, true} {
		t.Run("optional="+strconv.FormatBool(optional), func(t *testing.T) {
			e := tlsEnv(t, TLSAllowed, func(c *Config) { c.ReuseOptional = optional })
			c := dial(t, e.addr)
			c.read()
			c.startTLS(clientTLS())
			c.login("user1", "secret")
			c.expect("PBSZ 0", 200)
			c.expect("PROT P", 200)
			// A thief's handshake: no session to resume.
			d := c.epsvTLS(&tls.Config{InsecureSkipVerify: true})
			c.expect("LIST /", 150)
			io.ReadAll(d)
			d.Close()
			code, text := c.read()
			if optional {
				if code != 226 {
					t.Fatalf("with TLSREUSE=NO: %s", text)
				}
				return
			}
			if code != 522 {
				t.Fatalf("got %s, want 522", text)
			}
			if !eventually(func() bool { return e.countMsgs("IPN420W") == 1 }) || e.d.Stats().ReuseRefused != 1 {
				t.Fatalf("messages %q", e.messages())
			}
			c.expect("NOOP", 200) // the session goes on
		})
	}
}

// TestRequiredPolicy: TLS=REQUIRED refuses clear logins and clear data.
func TestRequiredPolicy(t *testing.T) {
	e := tlsEnv(t, TLSRequired, func(c *Config) { c.Anonymous, c.AnonClear = AnonRead, true })
	c := dial(t, e.addr)
	c.read()
	c.expect("USER user1", 530)
	c.expect("PASS secret", 503)
	// The anonymous user is exempt (ANONCLEAR=YES), data in clear too.
	c.expect("USER anonymous", 331)
	c.expect("PASS me@example", 230)
	c.list("LIST /")

	c = dial(t, e.addr)
	c.read()
	c.startTLS(clientTLS())
	c.login("user1", "secret")
	c.expect("PBSZ 0", 200)
	c.expect("PROT C", 534)
	c.expect("EPSV", 229)
	c.expect("LIST /", 521)
	c.expect("CCC", 534)
}

// TestTLSCommandOrder: the replies RFC 2228 and 4217 give out of order.
func TestTLSCommandOrder(t *testing.T) {
	e := tlsEnv(t, TLSAllowed, nil)
	c := dial(t, e.addr)
	c.read()
	for _, x := range []struct {
		cmd  string
		code int
	}{
		{"PBSZ 0", 503}, {"PROT P", 503}, {"CCC", 530}, {"AUTH KERBEROS_V4", 504}, {"AUTH", 501},
	} {
		c.expect(x.cmd, x.code)
	}
	c.startTLS(clientTLS())
	for _, x := range []struct {
		cmd  string
		code int
	}{
		{"AUTH TLS", 503}, {"PROT P", 503}, {"PBSZ x", 501}, {"PBSZ 0", 200}, {"PROT S", 536}, {"PROT E", 536},
		{"PROT Q", 504}, {"PROT P", 200},
	} {
		c.expect(x.cmd, x.code)
	}
	c.login("user1", "secret")
	c.expect("CCC", 534) // CCC=NO
	c.expect("AUTH TLS", 503)

	off := newEnv(t, nil) // TLS=NO
	c = dial(t, off.addr)
	c.read()
	c.expect("AUTH TLS", 534)
	if _, feat := c.cmd("FEAT"); strings.Contains(feat, "AUTH") || strings.Contains(feat, "PROT") {
		t.Fatalf("FEAT at TLS=NO: %q", feat)
	}
	c.login("user1", "secret")
	c.expect("CCC", 533)
}

// TestAuthInjection: commands sent in clear right behind AUTH are not run
// as protected ones: the session ends.
func TestAuthInjection(t *testing.T) {
	e := tlsEnv(t, TLSAllowed, nil)
	c := dial(t, e.addr)
	c.read()
	c.send("AUTH TLS\r\nUSER user1")
	if code, _ := c.read(); code != 234 {
		t.Fatal(code)
	}
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.r.ReadByte(); err == nil {
		t.Fatal("the session went on")
	}
	if !eventually(func() bool { return e.d.Stats().TLSFailed == 1 }) {
		t.Fatal("not counted")
	}
}

// TestOldProtocolsRefused: TLS 1.0 and 1.1 are refused, 1.2 and 1.3 taken.
func TestOldProtocolsRefused(t *testing.T) {
	e := tlsEnv(t, TLSAllowed, nil)
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		c := dial(t, e.addr)
		c.read()
		c.expect("AUTH TLS", 234)
		tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		err := tc.Handshake()
		if ok := v >= tls.VersionTLS12; ok != (err == nil) {
			t.Fatalf("version %s: %v", tls.VersionName(v), err)
		}
	}
}

func TestImplicitTLS(t *testing.T) {
	e := tlsEnv(t, TLSImplicit, nil)
	os.WriteFile(filepath.Join(e.pub, "f.txt"), []byte("implicit\n"), 0o644)
	conf := clientTLS()
	tc, err := tls.Dial("tcp", e.addr, conf)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, c: tc, r: bufio.NewReader(tc), to: 10 * time.Second}
	t.Cleanup(func() { tc.Close() })
	if code, text := c.read(); code != 220 {
		t.Fatal(text)
	}
	c.expect("AUTH TLS", 503)
	c.login("user1", "secret")
	c.expect("PROT C", 534)
	c.expect("TYPE I", 200)
	// Data is protected without PBSZ and PROT.
	d := c.epsvTLS(conf)
	c.expect("RETR /PUB/f.txt", 150)
	got, _ := io.ReadAll(d)
	d.Close()
	if code, text := c.read(); code != 226 || string(got) != "implicit\n" {
		t.Fatalf("%s %q", text, got)
	}
	// A client speaking clear gets nothing.
	raw := dial(t, e.addr)
	raw.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	raw.send("USER user1")
	if _, err := raw.r.ReadByte(); err == nil {
		t.Fatal("a clear client was answered at an implicit daemon")
	}
}

// TestCCC: with CCC=YES, the control connection goes on in clear after
// both ends closed TLS; the data connections stay protected.
func TestCCC(t *testing.T) {
	e := tlsEnv(t, TLSAllowed, func(c *Config) { c.CCC = true })
	conf := clientTLS()
	c := dial(t, e.addr)
	raw := c.c
	c.read()
	c.startTLS(conf)
	c.login("user1", "secret")
	c.expect("PBSZ 0", 200)
	c.expect("PROT P", 200)
	c.expect("CCC", 200)
	tc := c.c.(*tls.Conn)
	if err := tc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the daemon's close_notify: %v", err)
	}
	c.c, c.r = raw, bufio.NewReader(raw)
	c.expect("NOOP", 200)
	d := c.epsvTLS(conf)
	c.expect("LIST /", 150)
	io.ReadAll(d)
	d.Close()
	if code, text := c.read(); code != 226 {
		t.Fatal(text)
	}
	c.expect("QUIT", 221)
	if !eventually(func() bool { return e.countMsgs("IPN403I") == 1 }) || !strings.Contains(strings.Join(e.messages(), "\n"), "control in clear after CCC") {
		t.Fatalf("%q", e.messages())
	}
}

// clientHello is the first flight of a real TLS client, a seed of the fuzz
// test below.
func clientHello(t testing.TB) []byte {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go tls.Client(a, &tls.Config{InsecureSkipVerify: true}).Handshake()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := b.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// FuzzAfterAUTH feeds whatever bytes to a daemon after AUTH TLS: the
// session must end cleanly (no panic, no hang), and the daemon go on.
func FuzzAfterAUTH(f *testing.F) {
	hello := clientHello(f)
	for _, s := range [][]byte{hello, hello[:5], hello[:len(hello)/2], []byte("USER user1\r\nPASS secret\r\n"),
		[]byte("\x16\x03\x01\xff\xff"), []byte("\x15\x03\x03\x00\x02\x02\x28"), []byte("\x17\x03\x03\x00\x10AAAAAAAAAAAAAAAA"),
		append(append([]byte{}, hello...), "\x17\x03\x03\x00\x01X"...), {}} {
		f.Add(s)
	}
	e := tlsEnv(f, TLSAllowed, nil)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r.ReadString('\n')
		io.WriteString(c, "AUTH TLS\r\n")
		if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "234 ") {
			t.Fatalf("AUTH: %q", l)
		}
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
		// The daemon closes: EOF, or a reset when it left bytes unread.
		if _, err := io.Copy(io.Discard, r); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the session did not end: %v", err)
		}
	})
	if !eventually(func() bool { return e.d.Stats().Sessions == 0 }) {
		f.Fatal("sessions left")
	}
}

// TestCertReload: a new certificate (ALTER FTPD CERT=, KEY=) is presented
// by new negotiations; a session already protected goes on with its own,
// data connections included.
func TestCertReload(t *testing.T) {
	e := tlsEnv(t, TLSAllowed, nil)
	conf := clientTLS()
	c := dial(t, e.addr)
	c.read()
	c.startTLS(conf)
	c.login("user1", "secret")
	c.expect("PBSZ 0", 200)
	c.expect("PROT P", 200)
	old := c.c.(*tls.Conn).ConnectionState().PeerCertificates[0].Raw

	renewed, _, err := tlscert.SelfSigned("", []string{"renewed"}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.d.Alter(Alteration{Cert: renewed}); err != nil {
		t.Fatal(err)
	}
	// The old session: a protected listing still resumes its own session.
	d := c.epsvTLS(conf)
	c.expect("LIST /", 150)
	io.ReadAll(d)
	d.Close()
	if code, text := c.read(); code != 226 {
		t.Fatalf("a protected session after the reload: %s", text)
	}
	// A new session sees the new certificate.
	c2 := dial(t, e.addr)
	c2.read()
	c2.startTLS(clientTLS())
	now := c2.c.(*tls.Conn).ConnectionState().PeerCertificates[0].Raw
	if bytes.Equal(now, old) || !bytes.Equal(now, renewed.TLS.Certificate[0]) {
		t.Fatal("a new session was not given the new certificate")
	}
}

// TestThievesDoNotStopTheTransfer: under PROT P, two others reach the
// passive port first from the client's own address — one with a TLS
// handshake that resumes nothing, one that sends nothing — and are
// dropped (the first at once, the second after the handshake's bound);
// the rightful client, which resumes the control connection's session,
// gets its listing.
func TestThievesDoNotStopTheTransfer(t *testing.T) {
	e := tlsEnv(t, TLSAllowed, func(c *Config) { c.PasvTimeout = 30 * time.Second })
	c := dial(t, e.addr)
	c.read()
	conf := clientTLS()
	c.startTLS(conf)
	c.login("user1", "secret")
	c.expect("PBSZ 0", 200)
	c.expect("PROT P", 200)
	text := c.expect("EPSV", 229)
	port := strings.TrimSuffix(text[strings.Index(text, "|||")+3:], "|)")
	host, _, _ := net.SplitHostPort(c.c.RemoteAddr().String())
	at := net.JoinHostPort(host, port)
	thief, err := net.Dial("tcp", at)
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()
	go tls.Client(thief, &tls.Config{InsecureSkipVerify: true}).Handshake()
	// Each dial returns once its connection waits in the listener's queue:
	// the thieves are ahead of the rightful client there.
	silent, err := net.Dial("tcp", at)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	c.send("LIST /")
	if code, text := c.read(); code != 150 {
		t.Fatalf("LIST: %s", text)
	}
	raw, err := net.Dial("tcp", at)
	if err != nil {
		t.Fatal(err)
	}
	d := tls.Client(raw, conf)
	b, err := io.ReadAll(d)
	d.Close()
	if code, text := c.read(); code != 226 || err != nil || len(b) == 0 {
		t.Fatalf("the rightful client: %s, %d bytes, %v", text, len(b), err)
	}
	if took := time.Since(start); took > dataHandshakeTime+5*time.Second {
		t.Errorf("the listing took %v with two thieves ahead", took)
	}
	if e.d.Stats().ReuseRefused != 1 {
		t.Errorf("refused without reuse: %d, want the thief's 1", e.d.Stats().ReuseRefused)
	}
}
