package main

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// cpuSeconds is the user and system CPU a process has used so far.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command's name in parentheses: utime and stime
	// are the 12th and 13th, in clock ticks of 1/100 s.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return float64(ut+st) / 100
}

// portLease is one use of a port as the client saw it: when the stack
// granted it and when the client closed (the stack's own close comes
// after: every connection of these tests is closed by the client first,
// or judged from a moment before the stack's close).
type portLease struct {
	asked, granted, closed time.Time
}

// refusal is one refused request: sent, and its reply read.
type refusal struct{ sent, replied time.Time }

// reuseCheck records each use of each port and says when a port came
// back sooner than hold after its last use ended.
type reuseCheck struct {
	mu       sync.Mutex
	hold     time.Duration
	last     map[int]portLease
	all      map[int][]portLease
	refusals []refusal
	uses     int
	worst    time.Duration // the shortest rest seen
	bad      []string
}

func newReuseCheck(hold time.Duration) *reuseCheck {
	return &reuseCheck{hold: hold, last: map[int]portLease{}, all: map[int][]portLease{}, worst: time.Hour}
}

func (c *reuseCheck) refused(r refusal) {
	c.mu.Lock()
	c.refusals = append(c.refusals, r)
	c.mu.Unlock()
}

// falseRefusals lists requests refused while a port was free for certain:
// the whole request, from sent to replied, lies after the port's rest
// ended (its last close + hold + slack, for the stack's close follows the
// client's) and before the request that got it next was sent (or the
// end). Ports are free from start.
func (c *reuseCheck) falseRefusals(ports []int, start, end time.Time, slack time.Duration) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, p := range ports {
		uses := c.all[p]
		free := start
		for i := 0; i <= len(uses); i++ {
			until := end
			if i < len(uses) {
				until = uses[i].asked
			}
			for _, r := range c.refusals {
				if r.sent.After(free) && r.replied.Before(until) && len(out) < 10 {
					out = append(out, fmt.Sprintf("a request sent at %s was refused at %s while port %d was free from %s to %s",
						r.sent.Format("15:04:05.000"), r.replied.Format("15:04:05.000"), p, free.Format("15:04:05.000"), until.Format("15:04:05.000")))
				}
			}
			if i < len(uses) {
				free = uses[i].closed.Add(c.hold + slack)
			}
		}
	}
	return out
}

func (c *reuseCheck) use(port int, l portLease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.uses++
	if prev, ok := c.last[port]; ok {
		rest := l.granted.Sub(prev.closed)
		c.worst = min(c.worst, rest)
		if rest < c.hold && len(c.bad) < 10 {
			c.bad = append(c.bad, fmt.Sprintf("port %d lent again %v after its connection closed (2×MSL = %v)", port, rest.Round(time.Millisecond), c.hold))
		}
	}
	c.last[port] = l
	c.all[port] = append(c.all[port], l)
}

// TestPortLifeSoak: the client-side limit of the PORTRANGE page under
// sustained load. With the narrowest range and the strict model (MSL=5S),
// six clients offer about 500 connections a second through a SOCKS door,
// five times what the pool sustains (1,025 ports ÷ 10 s), for 25 s,
// alternately to the stack's own FTP daemon and to a kernel server in a
// namespace. From each SOCKS reply's bound port the clients check that no
// port comes back within 2×MSL of its close, and that no request was
// refused while a port was free (a second after its rest ended, for the
// stack's close follows the client's); and QUERY
// PORTRANGE, QUERY SOCKSDS and the metrics give the clients' own counts:
// allocations = connections granted, exhaustions = requests refused. The
// CPU stackd spends is logged.
func TestPortLifeSoak(t *testing.T) {
	testnet.RequireRoot(t)
	curl := testnet.RequireTool(t, "curl")
	py := testnet.RequireTool(t, "python3")
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.74.2/24")
	// A kernel server that greets, reads to the client's end, and closes.
	srv := exec.Command("ip", "netns", "exec", ns, py, "-c", `
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.74.2", 7000)); s.listen(4096)
def serve(c):
    try:
        c.sendall(b"hello\n")
        while c.recv(4096): pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })

	ports := testnet.HostPorts(t, 2)
	door, mport := ports, ports+1
	const msl = 5 * time.Second
	deck := writeDeck(t,
		"PORTRANGE LOW=64511,HIGH=65535",
		"SET TIMEWAIT=STRICT,MSL=5S",
		"DEFINE LINK ID=OSA1,TYPE=OSAX,DEV="+dev+",IPADDR=10.77.74.10,MASK=255.255.255.0",
		"DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.74.1,MASK=255.255.255.0",
		fmt.Sprintf("DEFINE SOCKSD ID=SOCKS1,PORT=%d,COUNT=3000,PERCLIENT=10000", door),
		"DEFINE FILE PUBLIC=PUB,DLBL="+helloDir(t, "x\n")+",READONLY=YES",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		"DEFINE FTPD ID=FTP01,PORT=21,COUNT=3000,PERCLIENT=10000,DATAPORTS=(30100,30119)",
	)
	d := startDaemon(t, "--deck", deck, "--metrics", fmt.Sprintf("127.0.0.1:%d", mport))
	requireDeckOK(t, d)
	targets := []netip.AddrPort{netip.MustParseAddrPort("10.99.74.1:21"), netip.MustParseAddrPort("10.77.74.2:7000")}
	// The namespace answers before the soak starts (its neighbour known).
	if !waitFor(10*time.Second, func() bool {
		c, rep, err := socksConnect(door, targets[1])
		if err == nil && rep == 0 {
			c.Close()
			return true
		}
		return false
	}) {
		t.Fatal("the kernel server in the namespace cannot be reached through the door")
	}
	// Start from a whole pool: the probe's port rests 2×MSL first.
	time.Sleep(2*msl + time.Second)

	check := newReuseCheck(2 * msl)
	var mu sync.Mutex
	var granted, refused, failed int
	const workers, every, soak = 6, 12 * time.Millisecond, 25 * time.Second
	cpu0, start := cpuSeconds(t, d.cmd.Process.Pid), time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for i := 0; time.Since(start) < soak; i++ {
				<-tick.C
				sent := time.Now()
				c, rep, bound, err := socksConnectBound(door, targets[(w+i)%2])
				if err != nil || rep != 0 {
					mu.Lock()
					if err == nil && rep == 0x01 { // general failure: no port
						refused++
						check.refused(refusal{sent, time.Now()})
					} else {
						failed++
					}
					mu.Unlock()
					continue
				}
				at := time.Now()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				bufio.NewReader(c).ReadString('\n')
				c.Close()
				check.use(int(bound.Port()), portLease{asked: sent, granted: at, closed: time.Now()})
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	end := time.Now()
	wall := end.Sub(start)
	cpu := cpuSeconds(t, d.cmd.Process.Pid) - cpu0
	for _, b := range check.bad {
		t.Error(b)
	}
	if failed > 0 {
		t.Errorf("%d requests failed otherwise than for want of a port", failed)
	}

	q := mustConsoleRC(t, d.socket, "QUERY PORTRANGE\nQUERY SOCKSDS\n", 4)
	pl := poolLine(t, q, "TCP")
	metrics, err := exec.Command(curl, "-sS", fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)).CombinedOutput()
	if err != nil {
		t.Fatalf("metrics: %v\n%s", err, metrics)
	}
	met := func(name string) int {
		v, ok := metricValue(string(metrics), name+`{pool="TCP",tier="ephemeral"}`)
		if !ok {
			t.Fatalf("no %s in the metrics:\n%s", name, metrics)
		}
		return int(v)
	}
	// The probe before the soak took one port.
	counts := map[string][]int{
		"granted": {granted + 1, pl["allocations"], sayField(q, "IPN645I", "granted"), met("ipn_port_pool_allocations_total")},
		"refused": {refused, pl["exhaustions"], sayField(q, "IPN647I", "no port"), met("ipn_port_pool_exhaustions_total")},
	}
	for what, v := range counts {
		for _, x := range v[1:] {
			if x != v[0] {
				t.Errorf("%s: the clients counted %d; QUERY PORTRANGE, QUERY SOCKSDS and the metrics say %v", what, v[0], v[1:])
			}
		}
	}
	var all []int
	for p := 64511; p <= 65535; p++ {
		all = append(all, p)
	}
	for _, f := range check.falseRefusals(all, start, end, time.Second) {
		t.Error(f)
	}
	// At most three times the range in 25 s (the first round at once, the
	// second from 10 s on, the third from 20 s on), and some refused.
	if size := pl["size"]; granted > 3*size || refused == 0 {
		t.Errorf("%d connections granted and %d refused in %v; the model lends at most %d (3 × %d) and refuses the rest", granted, refused, wall.Round(time.Millisecond), 3*size, size)
	}
	t.Logf("%d requests in %v: %d granted, %d refused; the shortest rest of a port %v (2×MSL %v); stackd used %.2f s of CPU (%.0f%% of one core, %.1f µs a request)",
		granted+refused, wall.Round(time.Millisecond), granted, refused, check.worst.Round(time.Millisecond), 2*msl, cpu, 100*cpu/wall.Seconds(), 1e6*cpu/float64(granted+refused))
}

// mustConsoleRC runs a deck and fails the test unless it ends with rc.
func mustConsoleRC(t *testing.T, socket, deck string, rc int) string {
	t.Helper()
	out, got := runConsole(t, socket, deck)
	if got != rc {
		t.Fatalf("console rc %d, want %d:\n%s", got, rc, out)
	}
	return out
}

// TestPortLifeFTP: passive downloads and uploads through a daemon's 20
// data ports in the strict model (MSL=1S: 10 transfers a second), offered
// at once by Python's ftplib, lftp and curl, which wait for a port
// (PASVWAIT=) instead of failing. ftplib checks from each 227 reply that
// no data port comes back within 2×MSL of its last transfer (downloads,
// which the server closes first, and uploads, which the client closes
// first and the server's port rests all the same); every file arrives
// whole; QUERY PORTRANGE, QUERY FTPDS and the metrics agree:
// allocations = PASVs served, exhaustions = PASVs refused (none).
func TestPortLifeFTP(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	lftp := testnet.RequireTool(t, "lftp")
	py := testnet.RequireTool(t, "python3")
	pub, ro := ftpDirs(t)
	for i := range 40 {
		os.WriteFile(filepath.Join(ro, fmt.Sprintf("f%02d.bin", i)), testData(2048+i, uint64(i)), 0o644)
	}
	base := testnet.HostPorts(t, 22)
	ctl, lo, mport := base, base+1, base+21
	const msl = time.Second
	deck := fmt.Sprintf(`DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE FILE PUBLIC=RO,DLBL=%s,READONLY=YES
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTPA,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1,PASVWAIT=60
SET TIMEWAIT=STRICT,MSL=1S
`, ctl, lo, lo+19, pub, ro, ftpUser, ftpPass, lo, lo+19)
	path := filepath.Join(t.TempDir(), "site.deck")
	if err := os.WriteFile(path, []byte(deck), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--deck", path, "--metrics", fmt.Sprintf("127.0.0.1:%d", mport))
	requireDeckOK(t, d)
	s := &ftpSite{d: d, id: "FTPA", host: "127.0.0.1", port: ctl, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}

	// ftplib: 30 transfers, downloads and uploads in turn; each line of
	// its output is "port granted-ns closed-ns" (closed: for a download,
	// the moment before RETR, which is before the server's close; for an
	// upload, the client's own close, which comes first).
	script := `
import ftplib, io, sys, time
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
f = ftplib.FTP(); f.connect(host, port, timeout=120); f.login(user, pw); f.voidcmd("TYPE I")
for i in range(30):
    resp = f.sendcmd("PASV")
    granted = time.time_ns()
    h = resp[resp.index("(")+1:resp.index(")")].split(",")
    dport = int(h[4])*256 + int(h[5])
    import socket
    s = socket.create_connection((host, dport), timeout=60)
    if i % 2 == 0:
        before = time.time_ns()
        f.sendcmd("RETR RO/f%02d.bin" % i)
        data = b""
        while True:
            b = s.recv(65536)
            if not b: break
            data += b
        s.close()
        if len(data) != 2048 + i: raise SystemExit("short file %d: %d" % (i, len(data)))
        f.voidresp()
        print(dport, granted, before)
    else:
        f.sendcmd("STOR PUB/up%02d.bin" % i)
        s.sendall(b"u" * (1000 + i))
        s.close()
        closed = time.time_ns()
        f.voidresp()
        print(dport, granted, closed)
f.quit()
`
	type result struct {
		name string
		out  string
		err  error
	}
	results := make(chan result, 3)
	start := time.Now()
	go func() {
		out, err := s.client(3*time.Minute, py, "-c", script, "127.0.0.1", strconv.Itoa(ctl), ftpUser, ftpPass)
		results <- result{"ftplib", out, err}
	}()
	go func() {
		dl := t.TempDir()
		out, err := s.client(3*time.Minute, lftp, "-c", fmt.Sprintf("set ftp:ssl-allow no; set net:max-retries 1; set xfer:clobber on; open -u %s,%s -p %d 127.0.0.1; lcd %s; mget RO/f*.bin", ftpUser, ftpPass, ctl, dl))
		if err == nil {
			for i := range 40 {
				if b, e := os.ReadFile(filepath.Join(dl, fmt.Sprintf("f%02d.bin", i))); e != nil || len(b) != 2048+i {
					err = fmt.Errorf("f%02d.bin: %d bytes, %v", i, len(b), e)
					break
				}
			}
		}
		results <- result{"lftp", out, err}
	}()
	go func() {
		up := filepath.Join(t.TempDir(), "up.bin")
		os.WriteFile(up, testData(5000, 7), 0o644)
		args := []string{"-sS", "--max-time", "170"}
		for i := range 20 {
			args = append(args, "-o", "/dev/null", s.url(fmt.Sprintf("/RO/f%02d.bin", i)))
		}
		out, err := s.client(3*time.Minute, curl, args...)
		if err == nil {
			var up2 string
			up2, err = s.client(3*time.Minute, curl, "-sS", "--max-time", "170", "-T", up, s.url("/PUB/curl1.bin"), "-T", up, s.url("/PUB/curl2.bin"))
			out += up2
		}
		results <- result{"curl", out, err}
	}()
	var ftplibOut string
	for range 3 {
		r := <-results
		if r.err != nil {
			t.Errorf("%s: %v\n%s", r.name, r.err, r.out)
		}
		if r.name == "ftplib" {
			ftplibOut = r.out
		}
	}
	wall := time.Since(start)
	check := newReuseCheck(2 * msl)
	for _, l := range strings.Split(strings.TrimSpace(ftplibOut), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		port, _ := strconv.Atoi(f[0])
		g, _ := strconv.ParseInt(f[1], 10, 64)
		c, _ := strconv.ParseInt(f[2], 10, 64)
		check.use(port, portLease{granted: time.Unix(0, g), closed: time.Unix(0, c)})
	}
	for _, b := range check.bad {
		t.Error(b)
	}
	if check.uses != 30 {
		t.Errorf("ftplib made %d transfers, want 30:\n%s", check.uses, ftplibOut)
	}
	// Both uploads of curl arrived whole.
	for _, n := range []string{"curl1.bin", "curl2.bin"} {
		if b, err := os.ReadFile(filepath.Join(pub, n)); err != nil || len(b) != 5000 {
			t.Errorf("%s: %d bytes, %v", n, len(b), err)
		}
	}

	out := s.console(t, "QUERY PORTRANGE\nQUERY FTPDS ID=FTPA\n")
	pr := poolLine(t, out, "FTPA")
	metrics, err := s.client(10*time.Second, curl, "-sS", fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	label := `{pool="FTPA",tier="dataports"}`
	met := func(name string) int {
		v, ok := metricValue(metrics, name+label)
		if !ok {
			t.Fatalf("no %s in the metrics", name)
		}
		return int(v)
	}
	pasv, kept, exh := sayField(out, "IPN449I", "PASV"), sayField(out, "IPN449I", "kept"), sayField(out, "IPN449I", "exhausted")
	got := map[string][]int{
		"allocations": {pasv - kept - exh, pr["allocations"], met("ipn_port_pool_allocations_total")},
		"exhaustions": {exh, pr["exhaustions"], met("ipn_port_pool_exhaustions_total")},
	}
	for what, v := range got {
		for _, x := range v[1:] {
			if x != v[0] {
				t.Errorf("%s: QUERY FTPDS says %d; QUERY PORTRANGE and the metrics %v:\n%s", what, v[0], v[1:], out)
			}
		}
	}
	// ftplib's 30, lftp's 40 (and a listing), curl's 22: 90 and more,
	// at most 20 every 2 s; all served, some after a wait.
	if pasv < 92 || exh != 0 || kept != 0 || sayField(out, "IPN449I", "waited") < 1 {
		t.Errorf("PASV %d (want 92 or more), exhausted %d, kept %d (want 0: nothing is kept in the strict model), waited %d (want some):\n%s",
			pasv, exh, kept, sayField(out, "IPN449I", "waited"), out)
	}
	if most := 20 * (1 + int(wall/(2*msl))); pasv-exh > most {
		t.Errorf("%d PASVs served in %v, more than the pool's 20 ports resting 2×MSL each allow (%d)", pasv-exh, wall, most)
	}
	t.Logf("%d PASVs in %v (%d waited), the shortest rest of a port ftplib saw %v (2×MSL %v)",
		pasv, wall.Round(time.Millisecond), sayField(out, "IPN449I", "waited"), check.worst.Round(time.Millisecond), 2*msl)
}
