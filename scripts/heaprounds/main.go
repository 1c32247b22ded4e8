// Command heaprounds makes rounds of connections through a SOCKS door of a
// running stackd to a server in the stack, each read to its greeting and
// closed by the client, and prints the stack's heap (its metrics'
// go_memstats_heap_inuse_bytes) after each round, then every few seconds
// while idle: whether the heap that connections leave behind stops
// growing, and whether it comes back.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	door := flag.String("door", "127.0.0.1:1080", "the SOCKS door")
	target := flag.String("target", "10.99.90.1:21", "the server in the stack (it greets first)")
	metrics := flag.String("metrics", "http://127.0.0.1:9464/metrics", "the stack's metrics")
	rounds := flag.Int("rounds", 20, "rounds")
	n := flag.Int("n", 1400, "connections a round")
	idle := flag.Duration("idle", 90*time.Second, "how long to watch afterwards")
	flag.Parse()
	to := netip.MustParseAddrPort(*target)
	fmt.Printf("round 0 heap %.1f MB\n", heap(*metrics))
	for r := 1; r <= *rounds; r++ {
		start := time.Now()
		failed := 0
		for range *n {
			if err := once(*door, to); err != nil {
				failed++
			}
		}
		fmt.Printf("round %d heap %.1f MB (%d connections in %v, %d failed)\n", r, heap(*metrics), *n, time.Since(start).Round(time.Millisecond), failed)
	}
	for t := 10 * time.Second; t <= *idle; t += 10 * time.Second {
		time.Sleep(10 * time.Second)
		fmt.Printf("idle %v heap %.1f MB\n", t, heap(*metrics))
	}
}

// once makes one connection through the door and closes it after the greeting.
func once(door string, to netip.AddrPort) error {
	c, err := net.DialTimeout("tcp", door, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	a := to.Addr().As4()
	c.Write([]byte{5, 1, 0, 5, 1, 0, 1, a[0], a[1], a[2], a[3], byte(to.Port() >> 8), byte(to.Port())})
	var rep [12]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		return err
	}
	if rep[3] != 0 {
		return fmt.Errorf("reply %#x", rep[3])
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err
}

func heap(url string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f / (1 << 20)
		}
	}
	return -1
}
