package main

import (
	"bytes"
	"encoding/json"
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

// The FTP end-to-end tests: the real stackd, its FTP daemons defined by
// decks, and stock clients (curl, lftp, Python's ftplib) on the host through
// a USER link, or in a network namespace through a RAW link.

// TestFTPBuiltinDeck: the stack as it comes, on its built-in deck (its host
// ports moved to free ones, so that the README's stackd may run meanwhile).
func TestFTPBuiltinDeck(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	d, port, _ := startBuiltinDeck(t)
	if !strings.Contains(d.stdout.String(), "IPN201I Deck 'IPINIT' processed") {
		t.Fatalf("the built-in deck failed:\n%s", d.stdout)
	}
	pub := filepath.Join(d.dir, "data", "pub")
	s := &ftpSite{d: d, id: "FTP01", host: "127.0.0.1", port: port, user: "IPNUSER", pass: "IPNUSER", pub: pub}
	run := func(args ...string) string {
		t.Helper()
		return s.mustClient(t, 40*time.Second, curl, append([]string{"-sS", "--max-time", "30"}, args...)...)
	}
	// Download the README the stack put there.
	want, err := os.ReadFile(filepath.Join(pub, "README.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := run(s.url("/PUB/README.txt")); got != string(want) || len(want) == 0 {
		t.Fatalf("README.txt: got %q, want %q", got, want)
	}
	// The same over TLS, as the README shows it: login and data protected,
	// the data connection resuming the control connection's TLS session.
	if got := run("--ssl-reqd", "-k", s.url("/PUB/README.txt")); got != string(want) {
		t.Fatalf("README.txt over TLS: got %q", got)
	}
	// Active mode from a stock client: its PORT names its own address.
	if got := run("-P", "-", "--disable-eprt", s.url("/PUB/README.txt")); got != string(want) {
		t.Fatalf("README.txt in active mode: got %q", got)
	}
	// Upload, then list.
	src := filepath.Join(t.TempDir(), "up.bin")
	data := testData(100_000, 2)
	os.WriteFile(src, data, 0o644)
	run("-T", src, s.url("/PUB/uploaded.bin"))
	if got, _ := os.ReadFile(filepath.Join(pub, "uploaded.bin")); string(got) != string(data) {
		t.Fatalf("uploaded.bin on disk: %d bytes, want %d", len(got), len(data))
	}
	list := run(s.url("/PUB/"))
	if !regexp.MustCompile(`(?m)^-.* 100000 .* uploaded\.bin\r?$`).MatchString(list) || !strings.Contains(list, "README.txt") {
		t.Fatalf("listing:\n%s", list)
	}
	// A session held open shows in QUERY FTPDS with the client's own
	// address and port, through the USER link as anywhere.
	h := holdSession(t, s)
	out := s.console(t, "QUERY FTPDS\n")
	if !regexp.MustCompile(`(?m)^IPN451I +session \d+: IPNUSER from `+regexp.QuoteMeta(h.local)+` since `).MatchString(out) ||
		sayField(out, "IPN447I", "sessions") != 1 {
		t.Fatalf("QUERY FTPDS does not show the session:\n%s", out)
	}
	if q := h.quit(t); !strings.Contains(q, "QUIT 221") {
		t.Fatalf("QUIT: %s", q)
	}
}

// TestFTPUserLink: the matrix of stock clients through a USER link (no
// privileges: it runs as any user). Host ports on 127.0.0.1 are forwarded
// into the stack; the data ports are forwarded to the same port numbers,
// and PASVADDR=127.0.0.1 makes PASV advertise where they are. The stack
// sees each client's own address, so active mode works as on any network.
func TestFTPUserLink(t *testing.T) {
	pub, ro := ftpDirs(t)
	base := testnet.HostPorts(t, 42)
	ctl, ctlNoActive, lo := base, base+1, base+2
	deck := fmt.Sprintf(`* USER link matrix
DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d:2021,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE FILE PUBLIC=RO,DLBL=%s,READONLY=YES
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTPU,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1
DEFINE FTPD ID=FTPC,PORT=2021,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1,ACTIVE=NO
`, ctl, ctlNoActive, lo, lo+39, pub, ro, ftpUser, ftpPass, lo, lo+19, lo+20, lo+39)
	d := startDeck(t, deck)
	s := &ftpSite{d: d, id: "FTPU", host: "127.0.0.1", port: ctl, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}

	t.Run("curl", func(t *testing.T) {
		curlMatrix(t, s, []curlMode{
			{"PASV", []string{"--disable-epsv"}},
			{"EPSV", nil},
		})
	})
	t.Run("curl-active", func(t *testing.T) {
		// A stock client names its own address in PORT and EPRT: the
		// stack sees that same address, so active mode just works.
		curlMatrix(t, s, []curlMode{
			{"PORT", []string{"-P", "-", "--disable-eprt"}},
			{"EPRT", []string{"-P", "-"}},
		})
	})
	t.Run("lftp", func(t *testing.T) { lftpMirror(t, s) })
	t.Run("conformance", func(t *testing.T) {
		c := *s
		c.id, c.port = "FTPC", ctlNoActive
		conformance(t, &c, false)
	})
	t.Run("conformance-active", func(t *testing.T) { conformance(t, s, true) })
	out := s.console(t, "QUERY FTPDS ID=FTPU\n")
	if n := sayField(out, "IPN449I", "exhausted"); n != 0 {
		t.Errorf("the matrix ran the 20 data ports dry %d times:\n%s", n, out)
	}
}

// TestFTPRawLink: the same clients from another network namespace, over a
// veth pair whose end here the stack drives through a RAW link; active mode
// works here, since the stack sees the client's own address.
func TestFTPRawLink(t *testing.T) {
	testnet.RequireRoot(t)
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.51.2/24")
	pub, ro := ftpDirs(t)
	deck := fmt.Sprintf(`* RAW link in a namespace
DEFINE LINK ID=OSA1,TYPE=RAW,DEV=%s,IPADDR=10.77.51.10,MASK=255.255.255.0
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE FILE PUBLIC=RO,DLBL=%s,READONLY=YES
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTPR,PORT=21,DATAPORTS=(40000,40019)
`, dev, pub, ro, ftpUser, ftpPass)
	d := startDeck(t, deck)
	s := &ftpSite{d: d, id: "FTPR", ns: ns, host: "10.77.51.10", port: 21, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}

	t.Run("connections", func(t *testing.T) {
		h := holdSession(t, s)
		if !strings.HasPrefix(h.local, "10.77.51.2:") {
			t.Fatalf("the client's address is %s", h.local)
		}
		out := s.console(t, "QUERY CONNECTIONS OWNER=FTPR\n")
		re := regexp.MustCompile(`(?m)^IPN141I +\d+ +ESTABLISHED +10\.77\.51\.10:21 +` + regexp.QuoteMeta(h.local) + ` +FTPR *$`)
		if !re.MatchString(out) {
			t.Fatalf("QUERY CONNECTIONS lacks the control connection 10.77.51.10:21 - %s:\n%s", h.local, out)
		}
		if !regexp.MustCompile(`(?m)^IPN141I +\d+ +LISTEN +\[::\]:21 +\* +FTPR`).MatchString(out) {
			t.Fatalf("QUERY CONNECTIONS lacks the listener:\n%s", out)
		}
		h.quit(t)
	})
	t.Run("curl", func(t *testing.T) {
		curlMatrix(t, s, []curlMode{
			{"PASV", []string{"--disable-epsv"}},
			{"EPSV", nil},
			{"PORT", []string{"-P", "10.77.51.2", "--disable-eprt"}},
			{"EPRT", []string{"-P", "10.77.51.2"}},
		})
	})
	t.Run("lftp", func(t *testing.T) { lftpMirror(t, s) })
	t.Run("conformance", func(t *testing.T) { conformance(t, s, true) })
}

// seedResult is the last line of ftpclient.py seed.
type seedResult struct {
	Transfers int     `json:"transfers"`
	Refused   int     `json:"refused"`
	Seconds   float64 `json:"seconds"`
	Bytes     int64   `json:"bytes"`
	Error     string  `json:"error"`
}

func parseSeed(t *testing.T, out string) seedResult {
	t.Helper()
	i := strings.LastIndex(out, "RESULT ")
	var r seedResult
	if i < 0 || json.Unmarshal([]byte(strings.TrimSpace(out[i+7:])), &r) != nil || r.Error != "" {
		t.Fatalf("ftpclient.py seed:\n%s", out)
	}
	return r
}

// TestFTPPortRangeScenario is the PORTRANGE page's scenario on the real stack:
// an FTP daemon with a 20-port passive range and one client session that
// moves thousands of small files, here downloads over PASV by Python's
// ftplib, through a USER link. In the TUPLE model (what TCP stacks do, the
// default) the range never runs dry. In the STRICT model of the seeds each
// port whose connection the stack closed first (every download) is held
// for 2×MSL, so the range allows at most ports ÷ 2×MSL downloads a second:
// the client gets 425s, counted, and its session lives through them.
func TestFTPPortRangeScenario(t *testing.T) {
	py, script := pyClient(t)
	pub, _ := ftpDirs(t)
	const ports = 20
	n := 5000
	if testing.Short() {
		n = 500
	}
	seed := filepath.Join(pub, "seed")
	os.Mkdir(seed, 0o755)
	body := []byte(strings.Repeat("z", 512))
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(seed, fmt.Sprintf("f%05d.dat", i)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Host ports: 2 control ports, the 20 data ports of FTPS, and the 1,025
	// ports of the smallest PORTRANGE, which FTPP (no DATAPORTS=) uses.
	base := testnet.HostPorts(t, 2+ports+1025)
	ctl, ctlP, lo, plo := base, base+1, base+2, base+2+ports
	deck := fmt.Sprintf(`* the PORTRANGE page's scenario
PORTRANGE LOW=%d,HIGH=%d
DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d:2021,%d-%d,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=YES
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTPS,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1
DEFINE FTPD ID=FTPP,PORT=2021,PASVADDR=127.0.0.1
`, plo, plo+1024, ctl, ctlP, lo, lo+ports-1, plo, plo+1024, pub, ftpUser, ftpPass, lo, lo+ports-1)
	d := startDeck(t, deck)
	s := &ftpSite{d: d, id: "FTPS", host: "127.0.0.1", port: ctl, user: ftpUser, pass: ftpPass, pub: pub}
	seedArgs := func(port, count int) []string {
		return []string{script, "seed", s.host, strconv.Itoa(port), s.user, s.pass, "/PUB/seed", strconv.Itoa(count), "--limit", "150"}
	}

	// TUPLE: 5,000 downloads in one session, not one 425.
	out := s.mustClient(t, 160*time.Second, py, seedArgs(ctl, n)...)
	r := parseSeed(t, out)
	if r.Refused != 0 || r.Transfers != n || r.Bytes != int64(n*len(body)) {
		t.Fatalf("TUPLE: %+v, want %d downloads and 0 × 425", r, n)
	}
	q := s.console(t, "QUERY FTPDS ID=FTPS\n")
	if sayField(q, "IPN449I", "exhausted") != 0 || sayField(q, "IPN448I", "out") != n {
		t.Fatalf("TUPLE: QUERY FTPDS:\n%s", q)
	}
	t.Logf("TUPLE: %d downloads over %d ports in %.2f s (%.0f/s), 0 × 425", n, ports, r.Seconds, float64(n)/r.Seconds)

	// STRICT, MSL 200 ms: TIME_WAIT lasts 400 ms, so 20 ports serve at most
	// 20 + 50/s × t downloads in t seconds.
	const msl = 200 * time.Millisecond
	if q := s.console(t, "SET TIMEWAIT=STRICT,MSL=200MS\n"); !strings.Contains(q, "IPN126I TIME_WAIT model STRICT, MSL 0.200s") {
		t.Fatalf("SET:\n%s", q)
	}
	const m = 250
	bound := float64(ports) / (2 * msl).Seconds()
	c := s.background(t, 120*time.Second, py, seedArgs(ctl, m)...)
	strict := c.out
	if !waitFor(30*time.Second, func() bool { return strings.Contains(strict.String(), "REFUSED 425 No data port free in") }) {
		t.Fatalf("STRICT: no 425 within 30 s:\n%s", strict)
	}
	// While the range is dry, the consoles show why: the daemon's ports are
	// held, and the stack's connection table has the TIME_WAITs on them (the
	// stack closed each download first), the newest less than a second old.
	// Any of the data ports: which ones served last depends on where the
	// TUPLE downloads left the pool's turn.
	q = s.console(t, "QUERY FTPDS ID=FTPS\nQUERY CONNECTIONS STATE=TIME_WAIT,OWNER=FTPS,MAX=100000\n")
	if held := sayField(q, "IPN449I", "held"); held < 1 || !strings.Contains(q, "TIME_WAIT STRICT") {
		t.Errorf("STRICT: QUERY FTPDS shows no port held:\n%s", q)
	}
	fresh := 0
	for _, m := range regexp.MustCompile(`(?m)^IPN141I +\d+ +(TIME_WAIT) +10\.0\.2\.15:(\d+) +127\.0\.0\.1:\d+ +FTPS *\nIPN146I .* idle 00:00:00\.\d+`).FindAllStringSubmatch(q, -1) {
		if p, _ := strconv.Atoi(m[2]); p >= lo && p < lo+ports {
			fresh++
		}
	}
	if fresh == 0 {
		t.Errorf("STRICT: QUERY CONNECTIONS shows no fresh TIME_WAIT on data ports %d-%d:\n%s", lo, lo+ports-1, q)
	}
	if err := c.wait(t, 90*time.Second); err != nil {
		t.Fatalf("STRICT: ftpclient.py: %v\n%s", err, strict)
	}
	r = parseSeed(t, strict.String())
	rate := float64(m-ports) / r.Seconds // downloads a second beyond the first 20
	t.Logf("STRICT MSL %v: %d downloads over %d ports in %.2f s: %.1f/s after the first %d, bound %.0f/s (ratio %.2f); %d × 425",
		msl, m, ports, r.Seconds, rate, ports, bound, rate/bound, r.Refused)
	if r.Refused == 0 {
		t.Errorf("STRICT: no 425")
	}
	// No port serves twice within 2×MSL: a hard upper bound, whatever the load.
	if float64(m) > float64(ports)+bound*r.Seconds*1.02+1 {
		t.Errorf("STRICT: %d downloads in %.2f s beat the bound of %d + %.0f/s", m, r.Seconds, ports, bound)
	}
	// The client keeps the range busy: the rate reaches the bound, give or
	// take a loaded machine.
	if rate < 0.5*bound {
		t.Errorf("STRICT: %.1f/s is far below the bound of %.0f/s", rate, bound)
	}
	q = s.console(t, "QUERY FTPDS ID=FTPS\n")
	if got := sayField(q, "IPN449I", "exhausted"); got != r.Refused {
		t.Errorf("STRICT: QUERY FTPDS counts %d exhaustions, the client got %d × 425:\n%s", got, r.Refused, q)
	}
	if w, i := strings.Count(d.stdout.String(), "IPN410W FTP FTPS: no data port free"), strings.Count(d.stdout.String(), "IPN411I FTP FTPS"); w == 0 || w > r.Refused || i == 0 {
		t.Errorf("STRICT: IPN410W %d times, IPN411I %d times for %d × 425", w, i, r.Refused)
	}

	// QUERY PORTRANGE shows the stack's range, which FTPP's passive ports
	// come from: with a long MSL, ten downloads hold ten ports.
	s.console(t, "SET TIMEWAIT=STRICT,MSL=10S\n")
	r = parseSeed(t, s.mustClient(t, 60*time.Second, py, seedArgs(ctlP, 10)...))
	q = s.console(t, "QUERY PORTRANGE\nQUERY FTPDS ID=FTPP\n")
	if sayField(q, "IPN601I TCP", "held") != 10 || sayField(q, "IPN601I TCP", "TIME_WAIT") != 10 ||
		sayField(q, "IPN449I", "held") != 10 || !strings.Contains(q, "(PORTRANGE, TIME_WAIT STRICT)") {
		t.Errorf("QUERY PORTRANGE after 10 downloads from FTPP:\n%s", q)
	}
}

// TestFTPDeleteDuringUpload: DELETE FTPD while a client uploads over an
// existing file: the client gets 421, the old file is intact, and the
// temporary file of the upload is gone.
func TestFTPDeleteDuringUpload(t *testing.T) {
	py, script := pyClient(t)
	pub, _ := ftpDirs(t)
	old := []byte("the previous version\n")
	victim := filepath.Join(pub, "victim.bin")
	os.WriteFile(victim, old, 0o644)
	base := testnet.HostPorts(t, 21)
	deck := fmt.Sprintf(`* DELETE FTPD during an upload
DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTPX,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1
`, base, base+1, base+20, pub, ftpUser, ftpPass, base+1, base+20)
	d := startDeck(t, deck)
	s := &ftpSite{d: d, id: "FTPX", host: "127.0.0.1", port: base, user: ftpUser, pass: ftpPass, pub: pub}
	c := s.background(t, 60*time.Second, py, script, "upload", s.host, strconv.Itoa(s.port), s.user, s.pass, "/PUB/victim.bin", "--limit", "30")
	out := c.out
	temps := func() []string { m, _ := filepath.Glob(filepath.Join(pub, ".ipn-upload-*")); return m }
	if !waitFor(20*time.Second, func() bool { return strings.Contains(out.String(), "SENDING") && len(temps()) == 1 }) {
		t.Fatalf("the upload did not start (temporary files %v):\n%s", temps(), out)
	}
	if q := s.console(t, "DELETE FTPD ID=FTPX\n"); !strings.Contains(q, "IPN441I FTP daemon FTPX deleted; 1 session ended") {
		t.Fatalf("DELETE FTPD:\n%s", q)
	}
	c.wait(t, 40*time.Second)
	if !strings.Contains(out.String(), "REPLY 421 Service shutting down") {
		t.Errorf("the client did not get 421:\n%s", out)
	}
	if got, _ := os.ReadFile(victim); string(got) != string(old) {
		t.Errorf("victim.bin is now %d bytes, want the previous version", len(got))
	}
	if left := temps(); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if !waitFor(5*time.Second, func() bool { return strings.Contains(d.stdout.String(), "IPN401I FTP daemon FTPX ended") }) {
		t.Errorf("no IPN401I:\n%s", d.stdout)
	}
	if q, _ := runConsole(t, d.socket, "QUERY FTPDS\n"); !strings.Contains(q, "IPN452I 0 FTP daemons displayed") {
		t.Errorf("QUERY FTPDS after DELETE:\n%s", q)
	}
}

// TestWildcardClients: real clients' wildcards against the daemon: tnftp's
// and ncftp's mget *.txt fetch exactly the matching files; curl's and
// lftp's listings with a pattern show exactly them.
func TestWildcardClients(t *testing.T) {
	tnftp := testnet.RequireTool(t, "tnftp")
	ncftp := testnet.RequireTool(t, "ncftp")
	curl := testnet.RequireTool(t, "curl")
	lftp := testnet.RequireTool(t, "lftp")
	pub, _ := ftpDirs(t)
	for _, f := range []string{"a.txt", "b.txt", "c.csv", "d.log"} {
		os.WriteFile(filepath.Join(pub, f), []byte("content of "+f+"\n"), 0o644)
	}
	base := testnet.HostPorts(t, 21)
	startDeck(t, fmt.Sprintf(`DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE USER ID=TESTER,PASSWORD=T3ster
DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1
`, base, base+1, base+20, pub, base+1, base+20))
	got := func(dir string) []string {
		es, _ := os.ReadDir(dir)
		var n []string
		for _, e := range es {
			n = append(n, e.Name())
		}
		return n
	}
	// tnftp: prompt off, passive, mget.
	dir := t.TempDir()
	cmd := exec.Command(tnftp, "-n", "-p", "127.0.0.1", fmt.Sprint(base))
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("user TESTER T3ster\nprompt\ncd /PUB\nmget *.txt\nquit\n")
	if out, err := cmd.CombinedOutput(); err != nil || strings.Join(got(dir), ",") != "a.txt,b.txt" {
		t.Errorf("tnftp mget *.txt: %v %v\n%s", err, got(dir), out)
	}
	// ncftp.
	dir = t.TempDir()
	cmd = exec.Command(ncftp, "-u", "TESTER", "-p", "T3ster", "-P", fmt.Sprint(base), "127.0.0.1")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("cd /PUB\nmget *.txt\nquit\n")
	if out, err := cmd.CombinedOutput(); err != nil || strings.Join(got(dir), ",") != "a.txt,b.txt" {
		t.Errorf("ncftp mget *.txt: %v %v\n%s", err, got(dir), out)
	}
	// curl's listings of a pattern (its list command given: curl globs
	// nothing itself).
	out, err := exec.Command(curl, "-sS", "--max-time", "10", "-X", "NLST *.txt", fmt.Sprintf("ftp://TESTER:T3ster@127.0.0.1:%d/PUB/", base)).CombinedOutput()
	if err != nil || strings.ReplaceAll(string(out), "\r", "") != "a.txt\nb.txt\n" {
		t.Errorf("curl -X 'NLST *.txt': %v %q", err, out)
	}
	out, err = exec.Command(curl, "-sS", "--max-time", "10", "-X", "LIST *.csv", fmt.Sprintf("ftp://TESTER:T3ster@127.0.0.1:%d/PUB/", base)).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.ReplaceAll(string(out), "\r", ""), " c.csv\n") || strings.Count(string(out), "\n") != 1 {
		t.Errorf("curl -X 'LIST *.csv': %v %q", err, out)
	}
	// lftp's cls of a pattern.
	out, err = exec.Command(lftp, "-u", "TESTER,T3ster", "-p", fmt.Sprint(base), "-e",
		"set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 10; cd /PUB; quote NLST *.csv; cls -1 *.txt; bye", "127.0.0.1").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "a.txt\nb.txt\n") || strings.Contains(string(out), "c.csv\nd.log") {
		t.Errorf("lftp cls *.txt: %v\n%s", err, out)
	}
}

// TestRateLimits: a download from a daemon of RATE=1M runs at 1 MiB/s
// (measured by curl, 0.9 to 1.1); ALTER FTPD RATE=0 lifts the bound for
// the next transfer; QUERY FTPDS shows the rates.
func TestRateLimits(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	pub, _ := ftpDirs(t)
	os.WriteFile(filepath.Join(pub, "four.bin"), bytes.Repeat([]byte("0123456789abcdef"), 4<<16), 0o644) // 4 MiB
	base := testnet.HostPorts(t, 21)
	d := startDeck(t, fmt.Sprintf(`DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE USER ID=TESTER,PASSWORD=T3ster
DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1,RATE=1M,TOTALRATE=50M
`, base, base+1, base+20, pub, base+1, base+20))
	speed := func() float64 {
		out, err := exec.Command(curl, "-sS", "--max-time", "30", "-o", "/dev/null", "-w", "%{speed_download}",
			fmt.Sprintf("ftp://TESTER:T3ster@127.0.0.1:%d/PUB/four.bin", base)).CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v %s", err, out)
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		return v
	}
	if v := speed() / (1 << 20); v < 0.9 || v > 1.1 {
		t.Fatalf("a download at RATE=1M ran at %.2f MiB/s", v)
	}
	q := mustConsole(t, d.socket, "QUERY FTPDS ID=FTP01\n")
	if !strings.Contains(q, "IPN482I          rates: each session 1,048,576 B/s, an anonymous session none, the daemon 52,428,800 B/s") {
		t.Fatalf("QUERY FTPDS:\n%s", q)
	}
	mustConsole(t, d.socket, "ALTER FTPD ID=FTP01,RATE=0,TOTALRATE=0\n")
	if v := speed() / (1 << 20); v < 4 {
		t.Fatalf("after RATE=0 a download ran at %.2f MiB/s", v)
	}
}
