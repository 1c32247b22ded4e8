package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"ipnstack/internal/testnet"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPReopensLogs: after logrotate's rename, SIGHUP makes the daemon
// write its log and its hardcopy under their names again, says so
// (IPN221I), and goes on answering.
func TestSIGHUPReopensLogs(t *testing.T) {
	dir := t.TempDir()
	logPath, hcPath := filepath.Join(dir, "stackd.log"), filepath.Join(dir, "hardcopy.log")
	d := startDaemon(t, "--log-file", logPath, "--hardcopy", hcPath)
	mustConsole(t, d.socket, "QUERY PORTRANGE\n")
	for _, p := range []string{logPath, hcPath} {
		if err := os.Rename(p, p+".1"); err != nil {
			t.Fatal(err)
		}
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	if !waitFor(10*time.Second, func() bool { return strings.Contains(d.stdout.String(), "IPN221I Logs reopened (SIGHUP)") }) {
		t.Fatalf("no IPN221I after SIGHUP:\n%s", d.stdout)
	}
	if out := mustConsole(t, d.socket, "QUERY STATISTICS\n"); !strings.Contains(out, "IPN150I") {
		t.Fatalf("the stack does not answer after SIGHUP:\n%s", out)
	}
	for _, p := range []string{logPath, hcPath} {
		if !waitFor(5*time.Second, func() bool {
			b, _ := os.ReadFile(p)
			return strings.Contains(string(b), "QUERY STATISTICS") || strings.Contains(string(b), "IPN221I")
		}) {
			b, _ := os.ReadFile(p)
			t.Errorf("%s after SIGHUP:\n%s", p, b)
		}
		if old, _ := os.ReadFile(p + ".1"); !strings.Contains(string(old), "QUERY PORTRANGE") && !strings.Contains(string(old), "IPN213I") {
			t.Errorf("the renamed %s lost what was written before:\n%s", p, old)
		}
	}
	select {
	case <-d.done:
		t.Fatal("SIGHUP ended the stack")
	default:
	}
}

// TestVersionAndHelp: --version prints the build's revision on stdout;
// --help prints the usage on stdout and exits 0, for both programs.
func TestVersionAndHelp(t *testing.T) {
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	for _, bin := range []string{stackdBin, ipnconsoleBin} {
		out, verr := exec.Command(bin, "--version").Output()
		if verr != nil || !strings.HasPrefix(string(out), filepath.Base(bin)+" ") {
			t.Errorf("%s --version: %v %q", bin, verr, out)
		}
		if err == nil && !strings.Contains(string(out), "revision "+strings.TrimSpace(string(rev))) {
			t.Errorf("%s --version does not name the revision %s: %q", bin, rev, out)
		}
		cmd := exec.Command(bin, "--help")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), "usage: ") || stderr.Len() != 0 {
			t.Errorf("%s --help: %v, stdout %q, stderr %q", bin, err, stdout.String(), stderr.String())
		}
	}
}

// TestLeavingAConsole: LOGOFF and the words operators type (EXIT, QUIT,
// END) end ipnconsole's session with IPN543I and leave the stack running;
// in the initialization deck LOGOFF has no session to leave (IPN542I).
func TestLeavingAConsole(t *testing.T) {
	dir := t.TempDir()
	deck := filepath.Join(dir, "d.deck")
	os.WriteFile(deck, []byte("PORTRANGE LOW=32768,HIGH=65535\nLOGOFF\n"), 0o644)
	d := startDaemon(t, "--deck", deck)
	if !strings.Contains(d.stdout.String(), "IPN542I Console IPINIT has no session to leave") {
		t.Fatalf("LOGOFF in the deck:\n%s", d.stdout)
	}
	for _, word := range []string{"LOGOFF", "exit", "Quit", "END"} {
		out, rc := runConsole(t, d.socket, word+"\nQUERY PORTRANGE\n")
		if !strings.Contains(out, "IPN543I Console L") || !strings.Contains(out, "logged off; the stack goes on") || strings.Contains(out, "IPN122I") {
			t.Errorf("%s: rc %d\n%s", word, rc, out)
		}
	}
	if out, rc := runConsole(t, d.socket, "QUERY STATISTICS\n"); rc != 0 {
		t.Fatalf("the stack after the consoles left: rc %d\n%s", rc, out)
	}
}

// TestStartupHonesty: a deck that ends above return code 4 leaves the
// stack running with a W as the start-up's last word (IPN224W, after
// IPN213I); with --deck-rc=4 the stack does not start (IPN225E, exit 12).
func TestStartupHonesty(t *testing.T) {
	dir := t.TempDir()
	deck := filepath.Join(dir, "d.deck")
	os.WriteFile(deck, []byte("PORTRANGE LOW=32768,HIGH=65535\nDEFINE LINK ID=X,TYPE=RAW,DEV=ipnnosuchdev9\nDEFINE FTPD ID=FTP01,PORT=21\n"), 0o644)
	d := startDaemon(t, "--deck", deck)
	out := d.stdout.String()
	i, j := strings.Index(out, "IPN213I"), strings.Index(out, "IPN224W The stack started, but its deck d.deck did not run as written: 1 statement failed, return code 8")
	if i < 0 || j < i {
		t.Fatalf("no IPN224W after IPN213I:\n%s", out)
	}
	cmd := exec.Command(stackdBin, "--socket", filepath.Join(dir, "s"), "--data", filepath.Join(dir, "data"), "--deck", deck, "--deck-rc=4")
	b, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 12 || !strings.Contains(string(b), "IPN225E The stack does not start: its deck d.deck ended with return code 8, above --deck-rc=4") {
		t.Fatalf("--deck-rc=4: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "s")); err == nil {
		t.Fatal("the console socket is left behind")
	}
}

// TestConsoleStreams: a PING's lines reach ipnconsole (a deck on a pipe)
// one by one as the stack says them, a second apart, not all at the end.
func TestConsoleStreams(t *testing.T) {
	d := startDaemon(t)
	cmd := exec.Command(ipnconsoleBin, "--socket", d.socket)
	cmd.Stdin = strings.NewReader("PING 127.0.0.1,COUNT=3\n")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var arrived []time.Time
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "IPN130I") {
			arrived = append(arrived, time.Now())
		}
	}
	cmd.Wait()
	if len(arrived) != 3 {
		t.Fatalf("%d replies", len(arrived))
	}
	for i := 1; i < 3; i++ {
		if gap := arrived[i].Sub(arrived[i-1]); gap < 500*time.Millisecond {
			t.Fatalf("reply %d came %v after the one before: the replies were held back", i+1, gap)
		}
	}
}

// TestPrintDeck: --print-deck writes the built-in deck, which --check
// passes and which runs as the stack's deck with a changed login.
func TestPrintDeck(t *testing.T) {
	out, err := exec.Command(stackdBin, "--print-deck").Output()
	if err != nil || string(out) != defaultDeck {
		t.Fatalf("--print-deck: %v\n%s", err, out)
	}
	check := exec.Command(ipnconsoleBin, "--check")
	check.Stdin = strings.NewReader(string(out))
	if b, err := check.CombinedOutput(); err != nil {
		t.Fatalf("--check of the printed deck: %v\n%s", err, b)
	}
}

// TestSIGTERMDrains: SIGTERM during a 200 MB download lets it finish
// (curl rc 0, every byte) within the grace period while the daemon takes
// no new session, then the stack ends; a second SIGTERM during a drain
// ends the stack at once.
func TestSIGTERMDrains(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	pub := t.TempDir()
	const size = 200 << 20
	if err := os.Truncate(filepath.Join(pub, "big.bin"), 0); err != nil {
		f, _ := os.Create(filepath.Join(pub, "big.bin"))
		f.Close()
	}
	os.Truncate(filepath.Join(pub, "big.bin"), size)
	base := testnet.HostPorts(t, 21)
	deck := writeDeck(t,
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)", base, base+1, base+20),
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub,
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		fmt.Sprintf("DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1", base+1, base+20))
	download := func(limit string) *exec.Cmd {
		return exec.Command(curl, "-sS", "--max-time", "120", "--limit-rate", limit, "-o", "/dev/null", "-w", "%{size_download}",
			fmt.Sprintf("ftp://TESTER:T3ster@127.0.0.1:%d/PUB/big.bin", base))
	}
	d := startDaemon(t, "--deck", deck, "--grace", "90s")
	requireDeckOK(t, d)
	big := download("40M")
	var got strings.Builder
	big.Stdout = &got
	if err := big.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitFor(20*time.Second, func() bool { return strings.Contains(mustConsole(t, d.socket, "QUERY FTPDS ID=FTP01\n"), "RETR") }) {
		t.Fatal("the download did not start")
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if !waitFor(10*time.Second, func() bool { return strings.Contains(d.stdout.String(), "IPN226I Draining") }) {
		t.Fatalf("no IPN226I after SIGTERM:\n%s", d.stdout)
	}
	if out, err := exec.Command(curl, "-sS", "--max-time", "10", fmt.Sprintf("ftp://TESTER:T3ster@127.0.0.1:%d/PUB/", base)).CombinedOutput(); err == nil {
		t.Errorf("a new session was served while draining:\n%s", out)
	}
	if err := big.Wait(); err != nil || got.String() != fmt.Sprint(size) {
		t.Fatalf("the download during the drain: %v, %s bytes", err, got.String())
	}
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the stack did not end after the drain")
	}
	if out := d.stdout.String(); !strings.Contains(out, "IPN228I Drained: every FTP transfer has finished") || !strings.Contains(out, "IPN212I") {
		t.Fatalf("the drain's end:\n%s", out)
	}

	// A second SIGTERM ends the drain at once, and says what was cut.
	d = startDaemon(t, "--deck", deck, "--grace", "90s")
	requireDeckOK(t, d)
	slow := download("2M")
	if err := slow.Start(); err != nil {
		t.Fatal(err)
	}
	defer slow.Wait()
	if !waitFor(20*time.Second, func() bool { return strings.Contains(mustConsole(t, d.socket, "QUERY FTPDS ID=FTP01\n"), "RETR") }) {
		t.Fatal("the slow download did not start")
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if !waitFor(10*time.Second, func() bool { return strings.Contains(d.stdout.String(), "IPN226I Draining") }) {
		t.Fatalf("no IPN226I after SIGTERM:\n%s", d.stdout)
	}
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatal("a second SIGTERM did not end the stack")
	}
	if took := time.Since(start); took > 15*time.Second || !strings.Contains(d.stdout.String(), "IPN227W 1 transfer was cut") {
		t.Fatalf("the second SIGTERM took %v:\n%s", took, d.stdout)
	}
}

// TestTransferLog: with --xferlog, an lftp mirror of 50 files up and down
// leaves one xferlog line per file each way (the uploads "i", the
// downloads "o", the user, complete), an HTTP GET one line of its own,
// and the FTP client's GET one; with --xferlog-format=json the lines are
// JSON.
func TestTransferLog(t *testing.T) {
	pub, _ := ftpDirs(t)
	base := testnet.HostPorts(t, 22)
	log := filepath.Join(t.TempDir(), "xferlog")
	deck := writeDeck(t,
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d,%d:80)", base, base+1, base+20, base+21),
		"DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.98.1,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		fmt.Sprintf("DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1", base+1, base+20),
		"DEFINE HTTPD ID=WEB1,PORT=80")
	d := startDaemon(t, "--deck", deck, "--xferlog", log)
	requireDeckOK(t, d)
	s := &ftpSite{d: d, id: "FTP01", host: "127.0.0.1", port: base, user: "TESTER", pass: "T3ster", pub: pub}
	lftpMirrorN(t, s, 50, false)
	curl := testnet.RequireTool(t, "curl")
	if out, err := exec.Command(curl, "-sS", "--max-time", "10", "-o", "/dev/null", fmt.Sprintf("http://127.0.0.1:%d/PUB/tree/", base+21)).CombinedOutput(); err != nil {
		t.Fatalf("curl a listing: %v %s", err, out)
	}
	var one string
	filepath.WalkDir(filepath.Join(pub, "tree"), func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && one == "" {
			one, _ = filepath.Rel(pub, p)
		}
		return nil
	})
	if out, err := exec.Command(curl, "-sS", "--max-time", "10", "-o", "/dev/null", fmt.Sprintf("http://127.0.0.1:%d/PUB/%s", base+21, one)).CombinedOutput(); err != nil {
		t.Fatalf("curl a file: %v %s", err, out)
	}
	in := t.TempDir()
	mustConsole(t, d.socket, "DEFINE FILE PUBLIC=IN,DLBL="+in+",READONLY=NO\n")
	mustConsole(t, d.socket, "FTP HOST=10.99.98.1,USER=TESTER,PASSWORD=T3ster,LOCAL=IN,CMD=('GET /PUB/"+one+" got.bin')\n")
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, log))), "\n")
	count := func(f func([]string) bool) int {
		n := 0
		for _, l := range lines {
			if f(strings.Fields(l)) {
				n++
			}
		}
		return n
	}
	// Fields: 0-4 time, 5 seconds, 6 host, 7 bytes, 8 file, 9 type,
	// 10 flag, 11 direction, 12 mode, 13 user, 14 service, 15-16, 17 status.
	up := count(func(f []string) bool {
		return len(f) == 18 && f[11] == "i" && f[13] == "TESTER" && f[14] == "ftp" && f[17] == "c"
	})
	down := count(func(f []string) bool {
		return len(f) == 18 && f[11] == "o" && f[13] == "TESTER" && f[14] == "ftp" && f[6] == "127.0.0.1"
	})
	web := count(func(f []string) bool { return len(f) == 18 && f[14] == "http" && f[8] == "/PUB/"+one })
	// The FTP client's GET is two lines: the daemon's RETR to the stack's
	// own address, and the client's file into the stack.
	self := count(func(f []string) bool { return len(f) == 18 && f[11] == "o" && f[6] == "10.99.98.1" && f[14] == "ftp" })
	if up != 51 || down != 50 || web != 1 || self != 1 || len(lines) != 103 {
		t.Fatalf("%d lines: %d in, %d out, %d HTTP, %d to the client:\n%s", len(lines), up, down, web, self, strings.Join(lines, "\n"))
	}

	// JSON lines.
	jlog := filepath.Join(t.TempDir(), "xfer.json")
	d2 := startDaemon(t, "--deck", writeDeck(t, "DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.98.1,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO", "DEFINE USER ID=TESTER,PASSWORD=T3ster", "DEFINE FTPD ID=FTP01,PORT=21"),
		"--xferlog", jlog, "--xferlog-format", "json")
	mustConsole(t, d2.socket, "DEFINE FILE PUBLIC=IN,DLBL="+in+",READONLY=NO\n")
	mustConsole(t, d2.socket, "FTP HOST=10.99.98.1,USER=TESTER,PASSWORD=T3ster,LOCAL=IN,CMD=('GET /PUB/"+one+" got2.bin')\n")
	var rec map[string]any
	jl := strings.Split(strings.TrimSpace(string(mustRead(t, jlog))), "\n")
	if len(jl) != 2 || json.Unmarshal([]byte(jl[0]), &rec) != nil || rec["service"] != "FTPD FTP01" || rec["direction"] != "out" || rec["complete"] != true {
		t.Fatalf("JSON transfer log:\n%s", strings.Join(jl, "\n"))
	}
}

// TestMetricsLint: a scrape of an idle stack passes promtool check metrics,
// shows every TCP state (at 0), the TCP and link counters and the build;
// / links to /metrics.
func TestMetricsLint(t *testing.T) {
	promtool := testnet.RequireTool(t, "promtool")
	port := testnet.HostPorts(t, 1)
	d := startDaemon(t, "--metrics", fmt.Sprintf("127.0.0.1:%d", port))
	mustConsole(t, d.socket, "QUERY STATISTICS\n")
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = bytes.NewReader(body)
	if out, err := check.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	for _, want := range []string{`ipn_connections{state="CLOSE_WAIT"} 0`, `ipn_connections{state="LISTEN"} `,
		`ipn_tcp_segments_total{direction="out"} `, `ipn_link_packets_total{direction="in",link="LOOP"} `, `ipn_build_info{`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %q in the scrape", want)
		}
	}
	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `href="/metrics"`) {
		t.Fatalf("/: %s", page)
	}
}

// TestSystemdUnit: docs/stackd.service passes systemd-analyze verify (with
// ExecStart pointing at the binary under test).
func TestSystemdUnit(t *testing.T) {
	analyze := testnet.RequireTool(t, "systemd-analyze")
	unit, err := os.ReadFile("../../docs/stackd.service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "stackd.service")
	os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/stackd"), []byte(stackdBin)), 0o644)
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestServiceManager: under a service manager the stack says it is ready
// (sd_notify READY=1 on $NOTIFY_SOCKET) once its deck has run and its
// console socket serves, and STOPPING=1 as it ends; with stdout and
// stderr the journal's stream, each line carries its priority and no
// message is written twice.
func TestServiceManager(t *testing.T) {
	dir := t.TempDir()
	nsock := filepath.Join(dir, "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: nsock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	outPath := filepath.Join(dir, "journal")
	out, _ := os.Create(outPath)
	defer out.Close()
	st, _ := out.Stat()
	sys := st.Sys().(*syscall.Stat_t)
	deck := filepath.Join(dir, "d.deck")
	os.WriteFile(deck, []byte("PORTRANGE LOW=32768,HIGH=65535\nDEFINE LINK ID=X,TYPE=RAW,DEV=ipnnosuchdev8\n"), 0o644)
	sock := filepath.Join(dir, "console.sock")
	cmd := exec.Command(stackdBin, "--socket", sock, "--data", filepath.Join(dir, "data"), "--deck", deck, "--hardcopy", "none")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+nsock, fmt.Sprintf("JOURNAL_STREAM=%d:%d", sys.Dev, sys.Ino))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	buf := make([]byte, 512)
	pc.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := pc.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "READY=1") {
		t.Fatalf("no READY=1: %v %q", err, buf[:n])
	}
	if o, rc := runConsole(t, sock, "QUERY STATISTICS\n"); rc != 0 {
		t.Fatalf("not serving when it said ready: %s", o)
	}
	runConsole(t, sock, "SHUTDOWN\n")
	n, err = pc.Read(buf)
	if err != nil || string(buf[:n]) != "STOPPING=1" {
		t.Fatalf("no STOPPING=1: %v %q", err, buf[:n])
	}
	cmd.Wait()
	b, _ := os.ReadFile(outPath)
	j := string(b)
	for _, want := range []string{"<6>IPN213I TCP/IP stack started", "<3>IPN184E", "<4>IPN224W"} {
		if !strings.Contains(j, want) {
			t.Errorf("no %q in the journal's stream:\n%s", want, j)
		}
	}
	if c := strings.Count(j, "IPN213I"); c != 1 {
		t.Errorf("IPN213I %d times in the journal's stream:\n%s", c, j)
	}
	for _, l := range strings.Split(strings.TrimSpace(j), "\n") {
		if !strings.HasPrefix(l, "<") {
			t.Errorf("a line without a priority: %q", l)
		}
	}
}
