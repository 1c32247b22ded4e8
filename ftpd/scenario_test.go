package ftpd

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipnstack/portrange"
)

// transferLoop moves n small files in one session over EPSV, half up and
// half down; a 425 on EPSV is counted and the EPSV tried again after a
// pause. It gives the number of 425s.
func transferLoop(t *testing.T, c *client, n int, pause time.Duration) int {
	t.Helper()
	refused := 0
	payload := []byte(strings.Repeat("z", 512))
	host, _, _ := net.SplitHostPort(c.c.RemoteAddr().String())
	for i := 0; i < n; i++ {
		var port int
		for {
			code, text := c.cmd("EPSV")
			if code == 229 {
				j := strings.Index(text, "|||")
				port, _ = strconv.Atoi(strings.TrimSuffix(text[j+3:], "|)"))
				break
			}
			if code != 425 {
				t.Fatalf("transfer %d: EPSV gave %q", i, text)
			}
			refused++
			if refused > 100*n {
				t.Fatal("too many 425s")
			}
			time.Sleep(pause)
		}
		d, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		name := "f" + strconv.Itoa(i/2) + ".dat"
		if i%2 == 0 {
			c.expect("STOR "+name, 150)
			d.Write(payload)
			d.Close()
		} else {
			c.expect("RETR "+name, 150)
			b, _ := io.ReadAll(d)
			d.Close()
			if len(b) != len(payload) {
				t.Fatalf("RETR %s: %d bytes", name, len(b))
			}
		}
		if code, text := c.read(); code != 226 {
			t.Fatalf("transfer %d: %s", i, text)
		}
	}
	return refused
}

// TestPortRangeScenario is the scenario of the PORTRANGE page
// (docs/ports.md): a 20-port passive range and one client moving
// thousands of small files in one session. In the tuple model (what TCP
// stacks do) TIME_WAIT holds 4-tuples, not ports, and no transfer is
// refused; in the strict model every closed port is held for 2×MSL, so the
// range runs dry at 20 / (2×MSL) transfers a second: the 425s the page
// predicts happen, are counted, raise one IPN410W per burst, and the
// session lives through them.
func TestPortRangeScenario(t *testing.T) {
	t.Run("tuple", func(t *testing.T) {
		e := newEnv(t, nil)
		c := dial(t, e.addr)
		c.read()
		c.login("USER1", "secret")
		c.expect("TYPE I", 200)
		c.expect("CWD /PUB", 250)
		n := 5000
		if testing.Short() {
			n = 500
		}
		if refused := transferLoop(t, c, n, time.Millisecond); refused != 0 {
			t.Fatalf("%d transfers: %d refused with 425, want 0", n, refused)
		}
		st := e.d.Stats()
		if st.PasvExhausted != 0 || st.FilesIn+st.FilesOut != uint64(n) {
			t.Fatalf("stats: %+v", st)
		}
		if e.countMsgs("IPN410W") != 0 {
			t.Fatal("IPN410W raised in the tuple model")
		}
		t.Logf("%d transfers over a 20-port range, 0 refused; pool: %+v", n, st.DataPorts)
	})
	t.Run("strict", func(t *testing.T) {
		const msl = 50 * time.Millisecond // TIME_WAIT = 100 ms: at most 200 transfers/s over 20 ports
		e := newEnv(t, nil)
		e.pool.SetModel(time.Time{}, portrange.Strict, msl, 0)
		c := dial(t, e.addr)
		c.read()
		c.login("USER1", "secret")
		c.expect("TYPE I", 200)
		c.expect("CWD /PUB", 250)
		n := 400
		start := time.Now()
		refused := transferLoop(t, c, n, 5*time.Millisecond)
		elapsed := time.Since(start)
		st := e.d.Stats()
		// The page's arithmetic: a port whose connection the daemon closed
		// first (every download; an upload's client closes first) is held
		// for 2×MSL, so 20 ports bound the downloads to 20 at once plus
		// 20 per 2×MSL. The loop runs faster than that, so it was refused.
		bound := float64(20) / (2 * msl).Seconds()
		if downloads := float64(n / 2); downloads > 20+bound*elapsed.Seconds()*1.05 {
			t.Fatalf("%v downloads in %v beat the strict bound of %.0f/s", downloads, elapsed, bound)
		}
		if refused == 0 || st.PasvExhausted != uint64(refused) || st.DataPorts.Exhaustions < uint64(refused) {
			t.Fatalf("refused %d, counted %d, pool exhaustions %d", refused, st.PasvExhausted, st.DataPorts.Exhaustions)
		}
		if w, i := e.countMsgs("IPN410W"), e.countMsgs("IPN411I"); w == 0 || w > refused || i < w-1 || i > w {
			t.Fatalf("IPN410W %d, IPN411I %d for %d refusals", w, i, refused)
		}
		c.expect("NOOP", 200) // the session lived through every 425
		t.Logf("%d transfers in %v (downloads bound to %.0f/s): %d refused with 425, %d bursts", n, elapsed,
			bound, refused, e.countMsgs("IPN410W"))
	})
}
