package ftpd

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/portrange"
)

// benchEnv is a daemon with a 2-port passive range and a 4 KiB file.
func benchEnv(b *testing.B, ports int) *testEnv {
	e := newEnv(b, func(c *Config) { c.Count, c.Guard.PerAddr, c.Guard.LoginTime = 1000, 1000, time.Minute })
	low, high := dataRange(b, ports)
	p, err := portrange.New(low, high)
	must(b, err)
	e.d.config().DataPorts = p
	e.pool = p
	must(b, os.WriteFile(filepath.Join(e.pub, "4k"), make([]byte, 4096), 0o644))
	return e
}

// BenchmarkPasvRetr4K is the peers' figure: one session, a 2-port passive
// range, PASV → connect → RETR 4 KiB → 226 in a loop (vsftpd: 3,537/s on
// the same kind of machine).
func BenchmarkPasvRetr4K(b *testing.B) {
	e := benchEnv(b, 2)
	c := dial(b, e.addr)
	c.read()
	c.login("USER1", "secret")
	c.expect("TYPE I", 200)
	c.expect("CWD /PUB", 250)
	buf := make([]byte, 8192)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		text := c.expect("PASV", 227)
		f := strings.Split(text[strings.Index(text, "(")+1:strings.Index(text, ")")], ",")
		p1, _ := strconv.Atoi(f[4])
		p2, _ := strconv.Atoi(f[5])
		d, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p1*256+p2))
		if err != nil {
			b.Fatal(err)
		}
		c.expect("RETR 4k", 150)
		n := 0
		for {
			k, err := d.Read(buf)
			n += k
			if err != nil {
				break
			}
		}
		d.Close()
		if code, text := c.read(); code != 226 || n != 4096 {
			b.Fatalf("%s (%d bytes)", text, n)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "transfers/s")
	if st := e.d.Stats(); st.PasvExhausted != 0 {
		b.Fatalf("%d refused", st.PasvExhausted)
	}
}

// BenchmarkConnectLogin300 opens 300 control connections at once and logs
// each in; it fails on any failure.
func BenchmarkConnectLogin300(b *testing.B) {
	e := benchEnv(b, 2)
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		fails := 0
		start := time.Now()
		conns := make([]net.Conn, 300)
		for j := range conns {
			wg.Add(1)
			go func(j int) {
				defer wg.Done()
				ok := false
				defer func() {
					if !ok {
						mu.Lock()
						fails++
						mu.Unlock()
					}
				}()
				c, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
				if err != nil {
					return
				}
				conns[j] = c
				c.SetDeadline(time.Now().Add(20 * time.Second))
				r := bufio.NewReader(c)
				if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "220") {
					return
				}
				io.WriteString(c, "USER USER1\r\nPASS secret\r\n")
				if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "331") {
					return
				}
				if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "230") {
					return
				}
				ok = true
			}(j)
		}
		wg.Wait()
		el := time.Since(start)
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		if fails != 0 {
			b.Fatalf("%d of 300 logins failed", fails)
		}
		b.ReportMetric(el.Seconds(), "s/300logins")
		for k := 0; k < 200 && e.d.Stats().Sessions != 0; k++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestIdleSessionMemory measures what 300 logged-in idle sessions cost the
// process (heap in use plus goroutine stacks), including the 300 client
// connections of the test itself, and fails above maxIdleSession a session:
// a bound well over today's cost (about 7 KiB), so that it catches a
// session that starts holding a buffer of its own, not noise.
// docs/performance.md has the measured figure (scripts/bench-ftp.sh).
// maxIdleSession bounds what TestIdleSessionMemory lets an idle session cost.
const maxIdleSession = 32 << 10

func TestIdleSessionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	e := newEnv(t, func(c *Config) { c.Count, c.Guard.PerAddr, c.Guard.LoginTime = 1000, 1000, time.Minute })
	measure := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse
	}
	before := measure()
	var conns []net.Conn
	for i := 0; i < 300; i++ {
		c, err := net.Dial("tcp", e.addr)
		must(t, err)
		conns = append(conns, c)
		r := bufio.NewReaderSize(c, 16)
		r.ReadString('\n')
		io.WriteString(c, "USER USER1\r\nPASS secret\r\n")
		r.ReadString('\n')
		r.ReadString('\n')
	}
	if !eventually(func() bool { return e.d.Stats().Sessions == 300 }) {
		t.Fatalf("%d sessions, not 300", e.d.Stats().Sessions)
	}
	after := measure()
	per := int64(after-before) / 300
	t.Logf("300 idle sessions: %.2f MB (%d bytes a session, client side included)", float64(after-before)/1e6, per)
	if per > maxIdleSession {
		t.Errorf("an idle session costs %d bytes, more than %d", per, maxIdleSession)
	}
	for _, c := range conns {
		c.Close()
	}
}
