package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// poolLine reads the figures of one pool's IPN601I line of QUERY PORTRANGE.
func poolLine(t *testing.T, out, pool string) map[string]int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^IPN601I ` + pool + ` .*$`).FindString(out)
	if m == "" {
		t.Fatalf("no IPN601I line for pool %s:\n%s", pool, out)
	}
	f := map[string]int{}
	for _, k := range []string{"size", "in use", "held", "free", "TIME_WAIT", "allocations", "exhaustions"} {
		f[k] = sayField(m, "IPN601I", k)
	}
	return f
}

// metricValue reads one sample of a Prometheus text exposition.
func metricValue(text, name string) (float64, bool) {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestPortDisplaysAgree: while lftp mirrors 1,000 files up and down
// through a daemon's 20 data ports, every sample of QUERY PORTRANGE and
// QUERY FTPDS (taken in that order) agrees on the figures that grow: the
// pool's allocations and connections in TIME_WAIT never exceed what QUERY
// FTPDS says a moment later. (A TIME_WAIT that a client's new connection
// on the same 4-tuple ends early leaves the pool at the table's next
// sweep, which may fall between the two displays: a pair that disagrees on
// TIME_WAIT alone is taken again at once, and must agree then.) Once the
// mirror is done, QUERY
// PORTRANGE, QUERY FTPDS, QUERY CONNECTIONS and the metrics that curl reads
// give the same numbers for the pool.
func TestPortDisplaysAgree(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	testnet.RequireTool(t, "lftp")
	pub, ro := ftpDirs(t)
	base := testnet.HostPorts(t, 22)
	ctl, lo, mport := base, base+1, base+21
	deck := fmt.Sprintf(`* 20 data ports, and a TIME_WAIT longer than the test
DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE FILE PUBLIC=RO,DLBL=%s,READONLY=YES
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTPA,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1
SET MSL=300S
`, ctl, lo, lo+19, pub, ro, ftpUser, ftpPass, lo, lo+19)
	path := filepath.Join(t.TempDir(), "site.deck")
	if err := os.WriteFile(path, []byte(deck), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--deck", path, "--metrics", fmt.Sprintf("127.0.0.1:%d", mport))
	if !strings.Contains(d.stdout.String(), "IPN201I Deck 'site.deck' processed") {
		t.Fatalf("the deck failed:\n%s", d.stdout)
	}
	s := &ftpSite{d: d, id: "FTPA", host: "127.0.0.1", port: ctl, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}

	// Sample while the mirror runs.
	stop, done := make(chan struct{}), make(chan []string)
	go func() {
		var problems []string
		samples, again := 0, 0
		defer func() { done <- append(problems, fmt.Sprintf("%d samples (%d taken again)", samples, again)) }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			var out, m string
			var alloc, tw, pasv, exh, tw2, inUse int
			for try := 0; try < 2; try++ {
				var rc int
				var err error
				out, rc, err = consoleRun(d.socket, "QUERY PORTRANGE\nQUERY FTPDS ID=FTPA\n")
				if rc != 0 || err != nil {
					problems = append(problems, fmt.Sprintf("console rc %d %v", rc, err))
					return
				}
				samples++
				if try > 0 {
					again++
				}
				m = regexp.MustCompile(`(?m)^IPN601I FTPA .*$`).FindString(out)
				alloc, tw = sayField(m, "IPN601I", "allocations"), sayField(m, "IPN601I", "TIME_WAIT")
				// PASVs answered with a kept listener take no allocation.
				pasv, exh = sayField(out, "IPN449I", "PASV")-sayField(out, "IPN449I", "kept"), sayField(out, "IPN449I", "exhausted")
				tw2, inUse = sayField(out, "IPN449I", "TIME_WAIT"), sayField(m, "IPN601I", "in use")
				if tw <= tw2 {
					break
				}
			}
			if alloc < 0 || pasv < 0 || alloc > pasv-exh || tw > tw2 || inUse > 20 {
				problems = append(problems, fmt.Sprintf("allocations %d > PASV %d - exhausted %d, or TIME_WAIT %d > %d, or in use %d:\n%s",
					alloc, pasv, exh, tw, tw2, inUse, out))
			}
		}
	}()
	lftpMirror(t, s)
	close(stop)
	if problems := <-done; len(problems) > 1 {
		t.Fatalf("during the mirror:\n%s", strings.Join(problems, "\n"))
	} else {
		t.Logf("during the mirror: %s, all agreeing", problems[0])
	}

	// Quiet: every display gives the same figures for the pool.
	var out string
	if !waitFor(10*time.Second, func() bool {
		out = s.console(t, "QUERY PORTRANGE\n")
		return poolLine(t, out, "FTPA")["in use"] == 0
	}) {
		t.Fatalf("the data ports stay in use after the mirror:\n%s", out)
	}
	// A connection whose TIME_WAIT a reset ends leaves the table and the
	// pool at the same sweep, which may fall between two displays: the
	// figures must agree at a second look if not at the first.
	var got map[string][]int
	var pr map[string]int
	var fd, metrics string
	agree := func() bool {
		out = s.console(t, "QUERY PORTRANGE\n")
		pr = poolLine(t, out, "FTPA")
		fd = s.console(t, "QUERY FTPDS ID=FTPA\n")
		cs := s.console(t, "QUERY CONNECTIONS OWNER=FTPA,MAX=1000000\n")
		inRange, twInRange := 0, 0
		for _, m := range regexp.MustCompile(`(?m)^IPN141I \S+ +(\S+) +(\S+)`).FindAllStringSubmatch(cs, -1) {
			ap, err := netip.ParseAddrPort(m[2])
			if err != nil || int(ap.Port()) < lo || int(ap.Port()) > lo+19 {
				continue
			}
			if m[1] == "TIME_WAIT" {
				twInRange++
			} else {
				inRange++
			}
		}
		var err error
		metrics, err = s.client(10*time.Second, curl, "-sS", fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
		if err != nil {
			t.Fatalf("curl the metrics: %v\n%s", err, metrics)
		}
		met := func(name string) int {
			v, ok := metricValue(metrics, name)
			if !ok {
				t.Fatalf("no %s in the metrics:\n%s", name, metrics)
			}
			return int(v)
		}
		label := `{pool="FTPA",tier="dataports"}`
		got = map[string][]int{
			"in use":      {pr["in use"], sayField(fd, "IPN449I", "in use"), inRange, met("ipn_port_pool_in_use" + label)},
			"TIME_WAIT":   {pr["TIME_WAIT"], sayField(fd, "IPN449I", "TIME_WAIT"), twInRange, met("ipn_port_pool_time_wait" + label)},
			"allocations": {pr["allocations"], sayField(fd, "IPN449I", "PASV") - sayField(fd, "IPN449I", "kept") - sayField(fd, "IPN449I", "exhausted"), met("ipn_port_pool_allocations_total" + label)},
			"size":        {pr["size"], met("ipn_port_pool_size" + label)},
		}
		for _, v := range got {
			for _, x := range v[1:] {
				if x != v[0] {
					return false
				}
			}
		}
		return true
	}
	if !waitFor(5*time.Second, agree) {
		t.Errorf("QUERY PORTRANGE, QUERY FTPDS, QUERY CONNECTIONS and the metrics disagree: %v\n%s\n%s", got, out, fd)
	}
	// Each file takes a PASV; most are answered with the listener kept
	// from the file before, which takes no allocation.
	if pasv, kept := sayField(fd, "IPN449I", "PASV"), sayField(fd, "IPN449I", "kept"); pr["TIME_WAIT"] < 1000 || pasv < 2000 || kept < 1 || pr["allocations"] < 1 {
		t.Errorf("the mirror left %d connections in TIME_WAIT after %d PASVs, %d of them kept, and %d allocations; want at least 1,000, 2,000, 1 and 1",
			pr["TIME_WAIT"], pasv, kept, pr["allocations"])
	}
	if v, _ := metricValue(metrics, `ipn_ftp_sessions_total{ftpd="FTPA"}`); v < 1 {
		t.Errorf("metrics:\n%s", metrics)
	}
	t.Logf("after the mirror, every display: %v", got)
}

// TestStrictMSLEndsTimeWait: with SET TIMEWAIT=STRICT,MSL=2S, the TIME_WAIT
// connections that ten curl downloads leave on the data ports are gone from
// QUERY CONNECTIONS within 2×MSL + 1 s, and the pool holds the ports for
// just as long.
func TestStrictMSLEndsTimeWait(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	pub, ro := ftpDirs(t)
	base := testnet.HostPorts(t, 21)
	ctl, lo := base, base+1
	d := startDeck(t, fmt.Sprintf(`* the strict model with a short MSL
DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE FILE PUBLIC=RO,DLBL=%s,READONLY=YES
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTPS,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1
SET TIMEWAIT=STRICT,MSL=2S
`, ctl, lo, lo+19, pub, ro, ftpUser, ftpPass, lo, lo+19))
	s := &ftpSite{d: d, id: "FTPS", host: "127.0.0.1", port: ctl, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}
	for range 10 {
		s.mustClient(t, 30*time.Second, curl, "-sS", "--disable-epsv", "-o", "/dev/null", s.url("/RO/readme.txt"))
	}
	closed := time.Now()
	twOnDataPorts := func() int {
		out := s.console(t, "QUERY CONNECTIONS OWNER=FTPS,STATE=TIME_WAIT,MAX=1000\n")
		n := 0
		for _, m := range regexp.MustCompile(`(?m)^IPN141I \S+ +\S+ +(\S+)`).FindAllStringSubmatch(out, -1) {
			if ap, err := netip.ParseAddrPort(m[1]); err == nil && int(ap.Port()) >= lo && int(ap.Port()) <= lo+19 {
				n++
			}
		}
		return n
	}
	if n := twOnDataPorts(); n != 10 {
		t.Fatalf("%d connections in TIME_WAIT on the data ports after 10 downloads, want 10", n)
	}
	if held := poolLine(t, s.console(t, "QUERY PORTRANGE\n"), "FTPS")["held"]; held != 10 {
		t.Fatalf("the strict model holds %d ports, want 10", held)
	}
	if !waitFor(time.Until(closed.Add(2*2*time.Second+time.Second)), func() bool { return twOnDataPorts() == 0 }) {
		t.Fatalf("TIME_WAIT connections still listed %v after the downloads (2×MSL = 4 s)", time.Since(closed))
	}
	t.Logf("TIME_WAIT gone from QUERY CONNECTIONS %v after the last download", time.Since(closed).Round(100*time.Millisecond))
	if f := poolLine(t, s.console(t, "QUERY PORTRANGE\n"), "FTPS"); f["held"] != 0 || f["TIME_WAIT"] != 0 {
		t.Fatalf("the pool still holds ports: %v", f)
	}
}
