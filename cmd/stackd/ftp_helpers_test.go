package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
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

// The login of the custom decks of the FTP end-to-end tests.
const (
	ftpUser = "TESTER"
	ftpPass = "e2e-Secret"
)

// The host ports the built-in deck forwards, as cmd/stackd/default.deck
// has them.
const (
	builtinFTPPort  = 2121
	builtinDataLow  = 30000
	builtinDataHigh = 30019
)

// builtinDeckOn is the built-in deck's text with its host ports moved to
// free ones (ftp, and data to data+19, the same in the stack, as its
// passive replies name them): a test must not need the ports that the
// README's stackd, running on the same machine, holds. It fails the test
// if the deck no longer has the ports where this expects them.
func builtinDeckOn(t *testing.T, ftp, data int) string {
	t.Helper()
	deck := defaultDeck
	for _, r := range []struct{ old, new string }{
		{fmt.Sprintf("FORWARD=(%d:21,%d-%d)", builtinFTPPort, builtinDataLow, builtinDataHigh), fmt.Sprintf("FORWARD=(%d:21,%d-%d)", ftp, data, data+19)},
		{fmt.Sprintf("DATAPORTS=(%d,%d)", builtinDataLow, builtinDataHigh), fmt.Sprintf("DATAPORTS=(%d,%d)", data, data+19)},
	} {
		if strings.Count(deck, r.old) != 1 {
			t.Fatalf("the built-in deck has not one %s:\n%s", r.old, defaultDeck)
		}
		deck = strings.Replace(deck, r.old, r.new, 1)
	}
	return deck
}

// startBuiltinDeck starts stackd on the built-in deck with its host ports
// moved to free ones; it gives the FTP port and the first data port.
func startBuiltinDeck(t *testing.T) (d *daemon, ftp, data int) {
	t.Helper()
	base := testnet.HostPorts(t, 21)
	path := filepath.Join(t.TempDir(), "IPINIT")
	if err := os.WriteFile(path, []byte(builtinDeckOn(t, base, base+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	d = startDaemon(t, "--deck", path)
	return d, base, base + 1
}

// startDeck starts stackd on a deck of its own (written in a temporary
// directory) and fails the test unless every statement succeeded.
func startDeck(t *testing.T, deck string) *daemon {
	t.Helper()
	path := filepath.Join(t.TempDir(), "site.deck")
	if err := os.WriteFile(path, []byte(deck), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--deck", path)
	if !strings.Contains(d.stdout.String(), "IPN201I Deck 'site.deck' processed") {
		t.Fatalf("the deck failed:\n%s\n%s", deck, d.stdout)
	}
	return d
}

// ftpDirs makes the host directories of /PUB (read-write, empty) and /RO
// (read-only, with readme.txt as conformance.py wants).
func ftpDirs(t *testing.T) (pub, ro string) {
	t.Helper()
	dir := t.TempDir()
	pub, ro = filepath.Join(dir, "pub"), filepath.Join(dir, "ro")
	for _, d := range []string{pub, ro} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ro, "readme.txt"), []byte("read me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return pub, ro
}

// ftpSite is an FTP daemon of a running stackd as its clients see it.
type ftpSite struct {
	d          *daemon
	id         string // the FTPD's id
	ns         string // the clients' network namespace ("" for this one)
	host       string // the address the clients connect to
	port       int    // the control port the clients connect to
	user, pass string
	pub, ro    string // host directories of /PUB and /RO
}

func (s *ftpSite) url(path string) string {
	return fmt.Sprintf("ftp://%s:%s@%s%s", s.user, s.pass, net.JoinHostPort(s.host, strconv.Itoa(s.port)), path)
}

// command gives a client command that runs in the site's namespace.
func (s *ftpSite) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if s.ns == "" {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", s.ns, name}, args...)...)
}

// client runs a client to its end, at most limit, and gives its combined
// output and error.
func (s *ftpSite) client(limit time.Duration, name string, args ...string) (string, error) {
	return s.clientInput(limit, "", name, args...)
}

// clientInput is client with input on its standard input.
func (s *ftpSite) clientInput(limit time.Duration, input, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := s.command(ctx, name, args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%v (time limit %v)", err, limit)
	}
	return string(out), err
}

// mustClient is client that fails the test when the client fails.
func (s *ftpSite) mustClient(t *testing.T, limit time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := s.client(limit, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

// console runs a deck on the site's stack and fails the test on a return
// code above 0.
func (s *ftpSite) console(t *testing.T, deck string) string {
	t.Helper()
	out, rc := runConsole(t, s.d.socket, deck)
	if rc != 0 {
		t.Fatalf("console rc %d:\n%s", rc, out)
	}
	return out
}

// pyClient is testdata/ftpclient.py; conformancePy is the ftpd package's
// black-box check.
func pyClient(t *testing.T) (py, script string) {
	t.Helper()
	py = testnet.RequireTool(t, "python3")
	script, err := filepath.Abs("testdata/ftpclient.py")
	if err != nil {
		t.Fatal(err)
	}
	return py, script
}

// heldSession is a logged-in ftplib session kept open by ftpclient.py hold.
type heldSession struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *syncBuffer
	local string // the client's end of the control connection, addr:port
	done  chan struct{}
}

func holdSession(t *testing.T, s *ftpSite) *heldSession {
	t.Helper()
	py, script := pyClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	h := &heldSession{out: &syncBuffer{}, done: make(chan struct{})}
	h.cmd = s.command(ctx, py, script, "hold", s.host, strconv.Itoa(s.port), s.user, s.pass)
	h.cmd.Stdout, h.cmd.Stderr = h.out, h.out
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { h.cmd.Wait(); cancel(); close(h.done) }()
	t.Cleanup(func() {
		h.stdin.Close()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			h.cmd.Process.Kill()
			<-h.done
		}
	})
	re := regexp.MustCompile(`SESSION (\S+)`)
	if !waitFor(20*time.Second, func() bool { return re.MatchString(h.out.String()) }) {
		t.Fatalf("the ftplib session did not log in:\n%s", h.out)
	}
	h.local = re.FindStringSubmatch(h.out.String())[1]
	return h
}

// quit ends the session with QUIT and gives the client's output.
func (h *heldSession) quit(t *testing.T) string {
	t.Helper()
	h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the ftplib session did not end:\n%s", h.out)
	}
	return h.out.String()
}

// testData gives n reproducible bytes that are not all alike.
func testData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 77))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// curlMode is a way curl sets up its data connections.
type curlMode struct {
	name string
	args []string
}

// curlMatrix runs curl in every mode against the site: list, upload,
// download, download resume and upload resume, each file compared byte for
// byte with what was sent.
func curlMatrix(t *testing.T, s *ftpSite, modes []curlMode) {
	curl := testnet.RequireTool(t, "curl")
	dir := t.TempDir()
	data := testData(1_500_000, 1) // more than one piece of a download (1 MiB)
	src := filepath.Join(dir, "src.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			run := func(args ...string) string {
				t.Helper()
				all := append([]string{"-sS", "--max-time", "30"}, m.args...)
				return s.mustClient(t, 40*time.Second, curl, append(all, args...)...)
			}
			same := func(what, path string) {
				t.Helper()
				got, err := os.ReadFile(path)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s: %s differs from what was sent (%d of %d bytes, %v)", what, path, len(got), len(data), err)
				}
			}
			name := "m-" + m.name + ".bin"
			run("-T", src, s.url("/PUB/"+name))
			same("upload", filepath.Join(s.pub, name))
			down := filepath.Join(dir, name)
			run("-o", down, s.url("/PUB/"+name))
			same("download", down)
			if l := run(s.url("/PUB/")); !strings.Contains(l, name) {
				t.Fatalf("the listing lacks %s:\n%s", name, l)
			}
			// Download resume: curl has a prefix and asks for the rest (REST).
			part := filepath.Join(dir, "part-"+name)
			os.WriteFile(part, data[:12345], 0o644)
			run("-C", "-", "-o", part, s.url("/PUB/"+name))
			same("download resume", part)
			// Upload resume: the server has a prefix; curl asks SIZE and appends the rest.
			os.WriteFile(filepath.Join(s.pub, "r-"+name), data[:54321], 0o644)
			run("-C", "-", "-T", src, s.url("/PUB/r-"+name))
			same("upload resume", filepath.Join(s.pub, "r-"+name))
		})
	}
}

// makeTree writes n small files in a tree of directories.
func makeTree(t *testing.T, root string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		d := filepath.Join(root, "d"+string(rune('a'+i%10)), "s"+string(rune('a'+i%7)))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		body := strings.Repeat(strconv.Itoa(i), i%97) + "\n"
		f := filepath.Join(d, fmt.Sprintf("file%04d.txt", i))
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		// Old modification times, each its own: a mirror must keep them.
		mt := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(f, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
}

// sameTimes gives "" when every file of a has the same modification time
// (to the second) in b, else the first that differs.
func sameTimes(t *testing.T, a, b string) string {
	t.Helper()
	diff := ""
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || diff != "" {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		sa, _ := os.Stat(p)
		sb, err := os.Stat(filepath.Join(b, rel))
		if err != nil || !sa.ModTime().Truncate(time.Second).Equal(sb.ModTime().Truncate(time.Second)) {
			diff = fmt.Sprintf("%s: %v here, %v there (%v)", rel, sa.ModTime().UTC(), sb, err)
			if err == nil {
				diff = fmt.Sprintf("%s: %v here, %v there", rel, sa.ModTime().UTC(), sb.ModTime().UTC())
			}
		}
		return nil
	})
	return diff
}

// compareTrees gives "" when a and b hold the same files with the same
// contents, else what differs first.
func compareTrees(t *testing.T, a, b string) string {
	t.Helper()
	files := func(root string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.Type().IsRegular() {
				rel, _ := filepath.Rel(root, p)
				m[rel], err = os.ReadFile(p)
			}
			return err
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) != len(fb) {
		return fmt.Sprintf("%s has %d files, %s has %d", a, len(fa), b, len(fb))
	}
	for k, v := range fa {
		w, ok := fb[k]
		if !ok {
			return fmt.Sprintf("%s lacks %s", b, k)
		}
		if !bytes.Equal(v, w) {
			return fmt.Sprintf("%s differs: %d and %d bytes", k, len(v), len(w))
		}
	}
	return ""
}

// lftpMirror mirrors a tree of 1,000 small files up to /PUB/tree and back
// down with lftp (MLSD listings), and compares the three trees.
func lftpMirror(t *testing.T, s *ftpSite) { lftpMirrorN(t, s, 1000, false) }

// lftpMirrorN mirrors n files; with secure, lftp protects the login and
// every data connection with TLS (ftp:ssl-force, ftp:ssl-protect-data).
func lftpMirrorN(t *testing.T, s *ftpSite, n int, secure bool) {
	lftp := testnet.RequireTool(t, "lftp")
	local := filepath.Join(t.TempDir(), "tree")
	makeTree(t, local, n)
	back := filepath.Join(t.TempDir(), "back")
	tls := "set ftp:ssl-allow no; "
	if secure {
		tls = "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ftp:ssl-protect-list true; set ssl:verify-certificate no; "
	}
	script := "set ftp:use-mlsd on; " + tls + "set net:max-retries 2; set net:timeout 20; " +
		"set cmd:fail-exit yes; mirror -R --no-perms " + local + " /PUB/tree; mirror --no-perms /PUB/tree " + back + "; quit"
	start := time.Now()
	s.mustClient(t, 150*time.Second, lftp, "-u", s.user+","+s.pass, "-p", strconv.Itoa(s.port), "-e", script, s.host)
	if diff := compareTrees(t, local, filepath.Join(s.pub, "tree")); diff != "" {
		t.Fatalf("mirror up: %s", diff)
	}
	// lftp sets each uploaded file's time with MFMT (FEAT lists it).
	if diff := sameTimes(t, local, filepath.Join(s.pub, "tree")); diff != "" {
		t.Fatalf("mirror up kept no modification time: %s", diff)
	}
	if diff := compareTrees(t, local, back); diff != "" {
		t.Fatalf("mirror down: %s", diff)
	}
	t.Logf("lftp mirrored %d files up and down in %v", n, time.Since(start).Round(time.Millisecond))
}

// conformance runs ftpd/testdata/conformance.py against the site.
func conformance(t *testing.T, s *ftpSite, active bool) {
	py := testnet.RequireTool(t, "python3")
	script, err := filepath.Abs("../../ftpd/testdata/conformance.py")
	if err != nil {
		t.Fatal(err)
	}
	act := "no"
	if active {
		act = "yes"
	}
	out, err := s.client(120*time.Second, py, script, s.host, strconv.Itoa(s.port), s.user, s.pass,
		"--rw", "/PUB", "--ro", "/RO", "--active", act)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "PASS ") {
			t.Log(l)
		}
	}
	if err != nil || !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("conformance.py --active %s: %v", act, err)
	}
}

// sayField gives the number after label in the line of out that starts
// with msgid ("held" in "... held 20, ..."), commas removed, or -1.
func sayField(out, msgid, label string) int {
	re := regexp.MustCompile(`(?m)^` + msgid + `\b.*?\b` + regexp.QuoteMeta(label) + ` ([0-9,]+)`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	if err != nil {
		return -1
	}
	return n
}

// bgClient is a client running in the background.
type bgClient struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// background starts a client that is killed after limit, and at the
// latest when the test ends.
func (s *ftpSite) background(t *testing.T, limit time.Duration, name string, args ...string) *bgClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	b := &bgClient{out: &syncBuffer{}, done: make(chan struct{})}
	b.cmd = s.command(ctx, name, args...)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { b.err = b.cmd.Wait(); cancel(); close(b.done) }()
	t.Cleanup(func() { cancel(); <-b.done })
	return b
}

// wait waits for the client's end, at most limit.
func (b *bgClient) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case <-b.done:
		return b.err
	case <-time.After(limit):
		t.Fatalf("the client did not end within %v:\n%s", limit, b.out)
	}
	return nil
}
