// Command ipnbench is the load tool of scripts/bench-links.sh: a server that
// runs either on the stack (a RAW link on a veth end, through package conn)
// or on the kernel, and a client that measures bulk throughput both ways,
// short connections per second, and holds idle connections. The script runs
// both servers on the same veth, in interleaved rounds, and prints ratios.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ipnstack/command/ops"
	"ipnstack/nic"
	"ipnstack/scripts/benchfig"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ipnbench server|client [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		server(os.Args[2:])
	case "client":
		client(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: ipnbench server|client [flags]")
		os.Exit(2)
	}
}

// server modes: sink reads each connection to EOF (UL); source writes
// --bytes to each connection and closes (DL); short reads to EOF and closes
// (connection rate); idle keeps every connection open (memory).
func server(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	impl := fs.String("impl", "stack", "stack or kernel")
	dev := fs.String("dev", "", "stack: the veth end for the RAW link")
	addr := fs.String("addr", "", "address/prefix to serve on (stack: the stack's; kernel: one the kernel has); IPv4 or IPv6")
	addr4 := fs.String("addr4", "10.77.40.10/24", "stack with an IPv6 --addr: the link's IPv4 address, which every link has")
	port := fs.Int("port", 5001, "port")
	mode := fs.String("mode", "sink", "sink, source, short or idle")
	size := fs.Int64("bytes", 1<<30, "source: bytes per connection")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the server's run to `file` (ended by SIGTERM or SIGINT)")
	fs.Parse(args)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		end := make(chan os.Signal, 1)
		signal.Notify(end, syscall.SIGTERM, syscall.SIGINT)
		go func() {
			<-end
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}
	prefix := netip.MustParsePrefix(*addr)
	var ln net.Listener
	if *impl == "stack" {
		sys, err := ops.New(ops.Config{})
		if err != nil {
			fail(err)
		}
		defer sys.Close()
		cfg := nic.LinkConfig{ID: "BENCH", Type: nic.TypeRaw, Dev: *dev, Addr: prefix}
		if prefix.Addr().Is6() {
			cfg.Addr, cfg.Addr6 = netip.MustParsePrefix(*addr4), []netip.Prefix{prefix}
		}
		if err := sys.Stack.DefineLink(cfg); err != nil {
			fail(err)
		}
		l, err := sys.Conns.Listen("BENCH", netip.AddrPortFrom(prefix.Addr(), uint16(*port)))
		if err != nil {
			fail(err)
		}
		ln = l
	} else {
		l, err := net.Listen("tcp", netip.AddrPortFrom(prefix.Addr(), uint16(*port)).String())
		if err != nil {
			fail(err)
		}
		ln = l
	}
	var open atomic.Int64
	var held sync.Mutex
	var keep []net.Conn
	usr := make(chan os.Signal, 1)
	signal.Notify(usr, syscall.SIGUSR1)
	go func() {
		for range usr {
			runtime.GC()
			debug.FreeOSMemory()
			fmt.Printf("CONNS %d RSS %d\n", open.Load(), rss())
		}
	}()
	fmt.Printf("READY RSS %d\n", rss())
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		open.Add(1)
		switch *mode {
		case "idle":
			held.Lock()
			keep = append(keep, c)
			held.Unlock()
		case "source":
			go func() {
				b := make([]byte, 1<<20)
				for left := *size; left > 0; {
					n := int64(len(b))
					if left < n {
						n = left
					}
					w, err := c.Write(b[:n])
					if err != nil {
						break
					}
					left -= int64(w)
				}
				c.Close()
				open.Add(-1)
			}()
		default: // sink, short
			go func() {
				size := 1 << 20
				if *mode == "short" {
					size = 4096 // a short connection brings 1 KiB
				}
				b := make([]byte, size)
				for {
					if _, err := c.Read(b); err != nil {
						break
					}
				}
				c.Close()
				open.Add(-1)
			}()
		}
	}
}

func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	target := fs.String("target", "", "ip:port")
	mode := fs.String("mode", "dl", "dl, ul, short or idle")
	size := fs.Int64("bytes", 1<<30, "ul: bytes to send")
	reps := fs.Int("reps", 5, "dl, ul: transfers, for a median and a spread")
	conns := fs.Int("conns", 10000, "short, idle: connections")
	conc := fs.Int("c", 8, "short: concurrent connections")
	hold := fs.Duration("hold", 10*time.Second, "idle: how long to hold the connections")
	via := fs.String("socks", "", "connect through this SOCKS 5 door (ip:port) instead of directly")
	fs.Parse(args)
	dial := func() (net.Conn, error) { return net.DialTimeout("tcp", *target, 10*time.Second) }
	if *via != "" {
		dial = func() (net.Conn, error) { return socksDial(*via, *target) }
	}
	switch *mode {
	case "dl", "ul":
		// Several transfers, each on a connection of its own; the
		// median, the slowest and the fastest (one sub-second transfer
		// is not a figure).
		var times []time.Duration
		var n int64
		for i := 0; i < max(*reps, 1); i++ {
			c, err := dial()
			if err != nil {
				fail(err)
			}
			var d time.Duration
			if *mode == "dl" {
				n, d = download(c)
			} else {
				n, d = upload(c, *size)
			}
			c.Close()
			times = append(times, d)
		}
		fmt.Println(spread(strings.ToUpper(*mode), n, times))
	case "short":
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		payload := make([]byte, 1024)
		t0 := time.Now()
		for w := 0; w < *conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(*conns) {
					c, err := dial()
					if err != nil {
						failed.Add(1)
						continue
					}
					c.Write(payload)
					c.Close()
				}
			}()
		}
		wg.Wait()
		d := time.Since(t0)
		fmt.Printf("SHORT %d connections (%d failed) in %.3f s: %.0f/s\n", *conns, failed.Load(), d.Seconds(), float64(*conns)/d.Seconds())
		if failed.Load() > 0 {
			fail(fmt.Errorf("%d of %d connections failed: the figure is not whole", failed.Load(), *conns))
		}
	case "idle":
		var keep []net.Conn
		for i := 0; i < *conns; i++ {
			c, err := dial()
			if err != nil {
				fail(err)
			}
			keep = append(keep, c)
		}
		fmt.Printf("OPEN %d\n", len(keep))
		ctx, cancel := context.WithTimeout(context.Background(), *hold)
		defer cancel()
		<-ctx.Done()
	}
}

// download reads c to its end, 1 MiB a read, as in the netstack reference:
// io.Copy into io.Discard would read 8 KiB at a time and cap the kernel's
// figure.
func download(c net.Conn) (int64, time.Duration) {
	b := make([]byte, 1<<20)
	var n int64
	t0 := time.Now()
	for {
		k, err := c.Read(b)
		n += int64(k)
		if err == io.EOF {
			return n, time.Since(t0)
		}
		if err != nil {
			fail(err)
		}
	}
}

// upload sends size bytes, ends its side and waits for the server's close
// (the server closes after reading everything).
func upload(c net.Conn, size int64) (int64, time.Duration) {
	b := make([]byte, 1<<20)
	t0 := time.Now()
	for left := size; left > 0; {
		w, err := c.Write(b[:min(left, int64(len(b)))])
		if err != nil {
			fail(err)
		}
		left -= int64(w)
	}
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	io.Copy(io.Discard, c)
	return size, time.Since(t0)
}

// spread is the line the scripts read: the spread first, the median last
// (their figure is the last number before Gbit/s).
func spread(what string, n int64, times []time.Duration) string {
	r := benchfig.Of(n, times)
	return fmt.Sprintf("%s %d bytes x %d transfers (each %s s): spread %.2f-%.2f, median %.2f Gbit/s",
		what, n, len(times), r.Each(), r.Gbit(r.Slowest), r.Gbit(r.Fastest), r.Gbit(r.Median))
}

// socksDial connects to target through a SOCKS 5 door with no login, as
// curl does: the greeting, its answer, then the request (a server may read
// the request only after it answered the greeting: microsocks does).
func socksDial(door, target string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(target)
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp4", door, 10*time.Second)
	if err != nil {
		return nil, err
	}
	a := ap.Addr().As4()
	var method [2]byte
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := io.ReadFull(c, method[:]); err != nil || method != [2]byte{5, 0} {
		c.Close()
		return nil, fmt.Errorf("SOCKS greeting answered %#x: %v", method, err)
	}
	if _, err := c.Write([]byte{5, 1, 0, 1, a[0], a[1], a[2], a[3], byte(ap.Port() >> 8), byte(ap.Port())}); err != nil {
		c.Close()
		return nil, err
	}
	// VER REP RSV ATYP, then the bound address (by ATYP) and port.
	var rep [4]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		c.Close()
		return nil, err
	}
	if rep[0] != 5 || rep[1] != 0 {
		c.Close()
		return nil, fmt.Errorf("SOCKS reply %#x", rep[1])
	}
	bound := map[byte]int{1: 4 + 2, 4: 16 + 2}[rep[3]]
	if bound == 0 {
		c.Close()
		return nil, fmt.Errorf("SOCKS reply with address type %d", rep[3])
	}
	if _, err := io.ReadFull(c, make([]byte, bound)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ipnbench:", err)
	os.Exit(1)
}
