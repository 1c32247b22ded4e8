// Command ftpbench is the load client of scripts/bench-ftp.sh: a small FTP
// client that measures one server at a time (the stack's FTP daemon or
// vsftpd) with the same loops, so the script can print their ratios.
//
//	ftpbench retr   -addr A -user U -pass P -path F -n 20000   PASV RETR loop in one session
//	ftpbench logins -addr A -user U -pass P -c 300             concurrent connect + login
//	ftpbench idle   -addr A -user U -pass P -c 300             hold logged-in sessions until SIGTERM
//	ftpbench bulk   -addr A -user U -pass P -path F -reps 5    big PASV RETRs: the median and spread
//	ftpbench stor   -addr A -user U -pass P -path F -n N -size S  PASV STOR loop in one session
//	ftpbench bulkstor -addr A -user U -pass P -path F -size S -reps 5  big PASV STORs, as bulk
//
// With -tls every session protects its login and data (AUTH TLS, PBSZ 0,
// PROT P), each data connection resuming the session's TLS session, as
// FileZilla, lftp and curl do.
//
// Every loop is bounded by -limit; each prints one line the script parses.
package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ipnstack/scripts/benchfig"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "", "server control address host:port")
	user := fs.String("user", "anonymous", "login")
	pass := fs.String("pass", "bench@example.org", "password")
	path := fs.String("path", "", "retr, bulk: the file to download; stor, bulkstor: the file to upload to")
	size := fs.Int64("size", 4096, "stor, bulkstor: the bytes of each upload")
	n := fs.Int("n", 20000, "retr: transfers")
	reps := fs.Int("reps", 5, "bulk, bulkstor: transfers, for a median and a spread")
	c := fs.Int("c", 300, "logins, idle: sessions")
	timeout := fs.Duration("timeout", 10*time.Second, "logins, idle: time a session may take to log in")
	limit := fs.Duration("limit", 120*time.Second, "the most the whole run may take")
	secure := fs.Bool("tls", false, "AUTH TLS, PBSZ 0, PROT P on every session")
	fs.Parse(os.Args[2:])
	useTLS = *secure
	if *addr == "" {
		usage()
	}
	// A hard bound on the whole run, whatever hangs.
	time.AfterFunc(*limit, func() {
		fmt.Fprintf(os.Stderr, "ftpbench %s: time limit %v reached\n", os.Args[1], *limit)
		os.Exit(3)
	})
	var err error
	switch os.Args[1] {
	case "retr":
		err = retr(*addr, *user, *pass, *path, *n)
	case "logins":
		err = logins(*addr, *user, *pass, *c, *timeout)
	case "idle":
		err = idle(*addr, *user, *pass, *c, *timeout)
	case "bulk":
		err = bulk(*addr, *user, *pass, *path, *reps)
	case "stor":
		err = stor(*addr, *user, *pass, *path, *n, *size)
	case "bulkstor":
		err = bulkStor(*addr, *user, *pass, *path, *size, *reps)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ftpbench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ftpbench retr|logins|idle|bulk|stor|bulkstor -addr host:port [-user U -pass P] [-path F] [-n N] [-c N] [-size S] [-reps N]")
	os.Exit(2)
}

// useTLS is -tls.
var useTLS bool

// ctrl is a control connection.
type ctrl struct {
	c   net.Conn
	r   *bufio.Reader
	tls *tls.Config // this session's, with its own session cache; nil in clear
}

// dial connects and reads the greeting, both before deadline.
func dial(addr string, deadline time.Time) (*ctrl, error) {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	k := &ctrl{c: c, r: bufio.NewReader(c)}
	c.SetDeadline(deadline)
	code, text, err := k.read()
	c.SetDeadline(time.Time{})
	if err != nil {
		c.Close()
		return nil, err
	}
	if code != 220 {
		c.Close()
		return nil, fmt.Errorf("greeting: %s", text)
	}
	if useTLS {
		c.SetDeadline(deadline)
		err := k.expect("AUTH TLS", 234)
		if err == nil {
			k.tls = &tls.Config{InsecureSkipVerify: true, ServerName: "bench", ClientSessionCache: tls.NewLRUClientSessionCache(2)}
			tc := tls.Client(c, k.tls)
			if err = tc.Handshake(); err == nil {
				k.c, k.r = tc, bufio.NewReader(tc)
			}
		}
		c.SetDeadline(time.Time{})
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	return k, nil
}

// read reads one reply, multi-line ones too (RFC 959: "123-" ... "123 ").
func (k *ctrl) read() (int, string, error) {
	line, err := k.r.ReadString('\n')
	if err != nil {
		return 0, "", err
	}
	if len(line) < 4 {
		return 0, "", fmt.Errorf("short reply %q", line)
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil {
		return 0, "", fmt.Errorf("bad reply %q", line)
	}
	text := line
	if line[3] == '-' {
		end := line[:3] + " "
		for {
			l, err := k.r.ReadString('\n')
			if err != nil {
				return 0, "", err
			}
			text += l
			if strings.HasPrefix(l, end) {
				break
			}
		}
	}
	return code, strings.TrimRight(text, "\r\n"), nil
}

func (k *ctrl) cmd(line string) (int, string, error) {
	if _, err := io.WriteString(k.c, line+"\r\n"); err != nil {
		return 0, "", err
	}
	return k.read()
}

func (k *ctrl) expect(line string, want int) error {
	code, text, err := k.cmd(line)
	if err != nil {
		return err
	}
	if code != want {
		return fmt.Errorf("%s: %s", strings.Fields(line)[0], text)
	}
	return nil
}

func (k *ctrl) login(user, pass string) error {
	code, text, err := k.cmd("USER " + user)
	if err != nil {
		return err
	}
	switch code {
	case 230:
	case 331:
		if err := k.expect("PASS "+pass, 230); err != nil {
			return err
		}
	default:
		return fmt.Errorf("USER: %s", text)
	}
	if k.tls != nil {
		if err := k.expect("PBSZ 0", 200); err != nil {
			return err
		}
		return k.expect("PROT P", 200)
	}
	return nil
}

// pasv asks PASV and gives the address of the 227 reply.
func (k *ctrl) pasv() (string, int, error) {
	code, text, err := k.cmd("PASV")
	if err != nil {
		return "", code, err
	}
	if code != 227 {
		return "", code, fmt.Errorf("PASV: %s", text)
	}
	i, j := strings.IndexByte(text, '('), strings.IndexByte(text, ')')
	if i < 0 || j < i {
		return "", code, fmt.Errorf("PASV: %s", text)
	}
	f := strings.Split(text[i+1:j], ",")
	if len(f) != 6 {
		return "", code, fmt.Errorf("PASV: %s", text)
	}
	p1, _ := strconv.Atoi(f[4])
	p2, _ := strconv.Atoi(f[5])
	return net.JoinHostPort(strings.Join(f[:4], "."), strconv.Itoa(p1*256+p2)), code, nil
}

// get downloads path over PASV into w and gives the bytes read.
func (k *ctrl) get(path string, buf []byte) (int64, error) {
	daddr, _, err := k.pasv()
	if err != nil {
		return 0, err
	}
	d, err := net.DialTimeout("tcp", daddr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	if k.tls != nil {
		d = tls.Client(d, k.tls) // the handshake runs at the first read, after RETR
	}
	code, text, err := k.cmd("RETR " + path)
	if err != nil || (code != 150 && code != 125) {
		d.Close()
		if err == nil {
			err = fmt.Errorf("RETR: %s", text)
		}
		return 0, err
	}
	var n int64
	for {
		m, err := d.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			d.Close()
			return n, err
		}
	}
	d.Close()
	code, text, err = k.read()
	if err != nil {
		return n, err
	}
	if code != 226 {
		return n, fmt.Errorf("after RETR: %s", text)
	}
	return n, nil
}

// put uploads size bytes of data (repeated) to path over PASV.
func (k *ctrl) put(path string, data []byte, size int64) error {
	daddr, _, err := k.pasv()
	if err != nil {
		return err
	}
	d, err := net.DialTimeout("tcp", daddr, 10*time.Second)
	if err != nil {
		return err
	}
	if k.tls != nil {
		d = tls.Client(d, k.tls)
	}
	code, text, err := k.cmd("STOR " + path)
	if err != nil || (code != 150 && code != 125) {
		d.Close()
		if err == nil {
			err = fmt.Errorf("STOR: %s", text)
		}
		return err
	}
	for left := size; left > 0; {
		m := int64(len(data))
		if left < m {
			m = left
		}
		w, err := d.Write(data[:m])
		if err != nil {
			d.Close()
			return err
		}
		left -= int64(w)
	}
	if err := d.Close(); err != nil {
		return err
	}
	code, text, err = k.read()
	if err != nil {
		return err
	}
	if code != 226 {
		return fmt.Errorf("after STOR: %s", text)
	}
	return nil
}

func session(addr, user, pass string) (*ctrl, error) {
	k, err := dial(addr, time.Now().Add(10*time.Second))
	if err != nil {
		return nil, err
	}
	if err := k.login(user, pass); err != nil {
		k.c.Close()
		return nil, err
	}
	if err := k.expect("TYPE I", 200); err != nil {
		k.c.Close()
		return nil, err
	}
	return k, nil
}

// retr: n PASV RETRs of one small file in one session. A failed transfer
// (a 425, say) is counted and the loop goes on while the session lives.
func retr(addr, user, pass, path string, n int) error {
	k, err := session(addr, user, pass)
	if err != nil {
		return err
	}
	defer k.c.Close()
	buf := make([]byte, 64<<10)
	failures := 0
	var first error
	var bytes int64
	start := time.Now()
	for i := 0; i < n; i++ {
		m, err := k.get(path, buf)
		bytes += m
		if err != nil {
			failures++
			if first == nil {
				first = err
			}
			var ne net.Error
			if errors.As(err, &ne) || errors.Is(err, io.EOF) {
				// The control connection is gone: count the rest as failed.
				failures += n - i - 1
				break
			}
		}
	}
	el := time.Since(start)
	k.cmd("QUIT")
	ok := n - failures
	fmt.Printf("RETR %d transfers of %s in %.2f s: %.0f/s, %d failures, %d bytes\n", n, path, el.Seconds(), float64(ok)/el.Seconds(), failures, bytes)
	if first != nil {
		fmt.Printf("first failure: %v\n", first)
	}
	return nil
}

// logins: c clients connect and log in at once. Each has timeout to be
// logged in; the figure is the time until the last one ended.
func logins(addr, user, pass string, c int, timeout time.Duration) error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	type res struct {
		d   time.Duration
		err error
	}
	out := make([]res, c)
	conns := make([]*ctrl, c)
	t0 := time.Now()
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			deadline := t0.Add(timeout)
			k, err := dial(addr, deadline)
			if err == nil {
				k.c.SetDeadline(deadline)
				if err = k.login(user, pass); err != nil {
					k.c.Close()
					k = nil
				}
			}
			out[i] = res{time.Since(t0), err}
			conns[i] = k
		}(i)
	}
	t0 = time.Now()
	close(start)
	wg.Wait()
	var ok, failed int
	var last time.Duration
	var ds []time.Duration
	errs := map[string]int{}
	for _, r := range out {
		if r.d > last {
			last = r.d
		}
		if r.err != nil {
			failed++
			errs[errKind(r.err)]++
			continue
		}
		ok++
		ds = append(ds, r.d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	med := time.Duration(0)
	if len(ds) > 0 {
		med = ds[len(ds)/2]
	}
	fmt.Printf("LOGINS %d sessions: %d logged in, %d failed, all ended in %.2f s (median login %.3f s)\n",
		c, ok, failed, last.Seconds(), med.Seconds())
	for e, n := range errs {
		fmt.Printf("  %d × %s\n", n, e)
	}
	for _, k := range conns {
		if k != nil {
			k.c.SetDeadline(time.Now().Add(2 * time.Second))
			k.cmd("QUIT")
			k.c.Close()
		}
	}
	return nil
}

// errKind names an error without its addresses, so that alike ones count
// together.
func errKind(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}

// idle: c logged-in sessions, opened 20 at a time, held until SIGTERM or
// SIGINT, then ended with QUIT.
func idle(addr, user, pass string, c int, timeout time.Duration) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	conns := make([]*ctrl, c)
	var failed int
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 20)
	for i := 0; i < c; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			deadline := time.Now().Add(timeout)
			k, err := dial(addr, deadline)
			if err == nil {
				k.c.SetDeadline(deadline)
				err = k.login(user, pass)
				k.c.SetDeadline(time.Time{})
				if err != nil {
					k.c.Close()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			conns[i] = k
		}(i)
	}
	wg.Wait()
	fmt.Printf("OPEN %d logged in, %d failed\n", c-failed, failed)
	<-sig
	for _, k := range conns {
		if k != nil {
			k.c.SetDeadline(time.Now().Add(2 * time.Second))
			k.cmd("QUIT")
			k.c.Close()
		}
	}
	return nil
}

// bulk: reps RETRs of a big file in one session; the median rate and the
// spread.
func bulk(addr, user, pass, path string, reps int) error {
	k, err := session(addr, user, pass)
	if err != nil {
		return err
	}
	defer k.c.Close()
	buf := make([]byte, 1<<20)
	var n int64
	times, err := repeat(reps, func(int) error {
		var err error
		n, err = k.get(path, buf)
		return err
	})
	if err != nil {
		return err
	}
	k.cmd("QUIT")
	report("BULK", n, times)
	return nil
}

// stor: n PASV STORs of size bytes in one session, each to a name of its
// own (path.1, path.2, ...): new files, as a mirror or a batch uploads.
func stor(addr, user, pass, path string, n int, size int64) error {
	k, err := session(addr, user, pass)
	if err != nil {
		return err
	}
	defer k.c.Close()
	data := uploadData(min(size, 1<<20))
	failures := 0
	var first error
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := k.put(fmt.Sprintf("%s.%d", path, i), data, size); err != nil {
			failures++
			if first == nil {
				first = err
			}
			var ne net.Error
			if errors.As(err, &ne) || errors.Is(err, io.EOF) {
				failures += n - i - 1
				break
			}
		}
	}
	el := time.Since(start)
	k.cmd("QUIT")
	ok := n - failures
	fmt.Printf("STOR %d transfers of %d bytes in %.2f s: %.0f/s, %d failures\n", n, size, el.Seconds(), float64(ok)/el.Seconds(), failures)
	if first != nil {
		fmt.Printf("first failure: %v\n", first)
	}
	return nil
}

// uploadData is n bytes for the uploads to send (over and over).
func uploadData(n int64) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return data
}

// bulkStor: reps STORs of size bytes in one session, each to a name of its
// own (path.0, path.1, ...), each deleted after it is measured; the median
// rate and the spread.
func bulkStor(addr, user, pass, path string, size int64, reps int) error {
	k, err := session(addr, user, pass)
	if err != nil {
		return err
	}
	defer k.c.Close()
	data := uploadData(1 << 20)
	var times []time.Duration
	for i := 0; i < max(reps, 1); i++ {
		name := fmt.Sprintf("%s.%d", path, i)
		start := time.Now()
		if err := k.put(name, data, size); err != nil {
			return fmt.Errorf("transfer %d of %d: %w", i+1, reps, err)
		}
		times = append(times, time.Since(start))
		// Untimed: the upload goes, so that a run never holds more than
		// one file's room.
		if err := k.expect("DELE "+name, 250); err != nil {
			return err
		}
	}
	k.cmd("QUIT")
	report("BULKSTOR", size, times)
	return nil
}

// repeat runs one transfer reps times and gives each one's duration.
func repeat(reps int, one func(i int) error) ([]time.Duration, error) {
	var times []time.Duration
	for i := 0; i < max(reps, 1); i++ {
		start := time.Now()
		if err := one(i); err != nil {
			return nil, fmt.Errorf("transfer %d of %d: %w", i+1, reps, err)
		}
		times = append(times, time.Since(start))
	}
	return times, nil
}

// report prints the line the script reads: the median rate in parentheses,
// then the slowest and fastest and every transfer's time.
func report(what string, n int64, times []time.Duration) {
	r := benchfig.Of(n, times)
	fmt.Printf("%s %d bytes, %d transfers, median %.2f s: %.1f MB/s (%.2f Gbit/s); spread %.2f-%.2f Gbit/s; each %s s\n",
		what, n, len(times), r.Median.Seconds(), float64(n)/r.Median.Seconds()/1e6, r.Gbit(r.Median),
		r.Gbit(r.Slowest), r.Gbit(r.Fastest), r.Each())
}
