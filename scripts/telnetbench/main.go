// Command telnetbench is the load tool of scripts/bench-telnet.sh: many
// remote operator consoles at once, each a telnet client in line mode (it
// refuses WILL ECHO and WILL SGA, as a plain NVT would), each logging on and
// running a deck of commands. Every reply is checked: the echo IPN237I of
// the line first, then the message ids the command must say, in order,
// then the prompt. The round trip of each command (line sent → prompt
// back) is measured; p50, p99 and totals are printed.
//
//	telnetbench freeport
//	telnetbench run --addr 127.0.0.1:2323 --user BENCH --password pw [--consoles 50] [--commands 1000]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "freeport":
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "telnetbench:", err)
			os.Exit(1)
		}
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	case "run":
		os.Exit(run(os.Args[2:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: telnetbench freeport | run --addr HOST:PORT --user ID --password PW [--consoles N] [--commands N]")
	os.Exit(2)
}

// A step of the deck: the line typed and the ids the stack must answer
// with after the echo, in order.
type step struct {
	line string
	ids  []string
}

// mix is one round of the deck: a console operator's day, mostly looking,
// sometimes changing, sometimes asking for help, sometimes mistyping. The
// PORTRANGE changes give both operands, so that they are valid whatever
// another console set before; their ids do not depend on the order the
// consoles run in. The ids are those of a stack with only its loopback
// link (the script's deck defines no other), HELP wrapped at 80 columns (the
// clients report no window size).
var mix = []step{
	{"QUERY PORTRANGE", ids("IPN122I IPN601I IPN601I IPN608I")},
	{"q portr", ids("IPN122I IPN601I IPN601I IPN608I")},
	{"PORTRANGE LOW=40000,HIGH=60000", ids("IPN127I")},
	{"Q STAT", ids("IPN150I IPN151I IPN152I IPN153I IPN155I IPN156I IPN157I IPN154I IPN158I")},
	{"QUERY PORTRANGE", ids("IPN122I IPN601I IPN601I IPN608I")},
	{"HELP PORTRANGE", ids("IPN232I IPN233I IPN233I IPN233I IPN233I IPN233I IPN233I IPN234I IPN234I IPN234I IPN234I IPN234I IPN234I IPN234I IPN234I IPN234I IPN229I")},
	{"portrange low=80", ids("IPN314E")},
	{"PORTRANGE LOW=32768,HIGH=65535", ids("IPN127I")},
	{"q portr", ids("IPN122I IPN601I IPN601I IPN608I")},
	{"HELP IPN127I", ids("IPN235I IPN236I IPN233I IPN238I IPN233I IPN233I IPN239I")},
	{"QUERY NOSUCH", ids("IPN307E")},
	{"Q STAT", ids("IPN150I IPN151I IPN152I IPN153I IPN155I IPN156I IPN157I IPN154I IPN158I")},
	{"QUERY PORTRANGE", ids("IPN122I IPN601I IPN601I IPN608I")},
	{"PORTR LOW=40000,HIGH=60000", ids("IPN127I")},
	{"NOSUCH", ids("IPN303E")},
	{"q portr", ids("IPN122I IPN601I IPN601I IPN608I")},
	{"PORTRANGE LOW=32768,HIGH=65535", ids("IPN127I")},
	{"HELP PORTRANGE", ids("IPN232I IPN233I IPN233I IPN233I IPN233I IPN233I IPN233I IPN234I IPN234I IPN234I IPN234I IPN234I IPN234I IPN234I IPN234I IPN234I IPN229I")},
	{"Q STAT", ids("IPN150I IPN151I IPN152I IPN153I IPN155I IPN156I IPN157I IPN154I IPN158I")},
	{"QUERY PORTRANGE", ids("IPN122I IPN601I IPN601I IPN608I")},
}

func ids(s string) []string { return strings.Fields(s) }

const prompt = "==> "

func run(args []string) int {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	addr := fs.String("addr", "", "the console listener, host:port")
	user := fs.String("user", "", "operator id (CONSOLE=YES)")
	pw := fs.String("password", "", "its password")
	consoles := fs.Int("consoles", 50, "consoles at once")
	commands := fs.Int("commands", 1000, "commands per console")
	timeout := fs.Duration("timeout", 60*time.Second, "longest wait for one reply")
	fs.Parse(args)
	if *addr == "" || *user == "" {
		usage()
	}

	type result struct {
		logon time.Duration
		rtts  []time.Duration
		err   error
		done  int
	}
	results := make([]result, *consoles)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := &results[i]
			c, err := dial(*addr, *timeout)
			if err != nil {
				r.err = err
				return
			}
			defer c.nc.Close()
			t0 := time.Now()
			if err := c.logon(*user, *pw); err != nil {
				r.err = fmt.Errorf("logon: %w", err)
				return
			}
			r.logon = time.Since(t0)
			// Each console runs the mix from its own place in it.
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			off := rng.IntN(len(mix))
			r.rtts = make([]time.Duration, 0, *commands)
			for n := 0; n < *commands; n++ {
				s := mix[(off+n)%len(mix)]
				d, err := c.command(s)
				if err != nil {
					r.err = fmt.Errorf("command %d %q: %w", n+1, s.line, err)
					return
				}
				r.rtts = append(r.rtts, d)
				r.done++
			}
		}(i)
	}
	wg.Wait()
	wall := time.Since(start)

	var all, logons []time.Duration
	failed, done := 0, 0
	for i, r := range results {
		done += r.done
		all = append(all, r.rtts...)
		if r.logon > 0 {
			logons = append(logons, r.logon)
		}
		if r.err != nil {
			failed++
			if failed <= 5 {
				fmt.Fprintf(os.Stderr, "console %d: %v\n", i+1, r.err)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	sort.Slice(logons, func(i, j int) bool { return logons[i] < logons[j] })
	var sum time.Duration
	for _, d := range all {
		sum += d
	}
	fmt.Printf("consoles %d (line mode), commands %d each, mix of %d kinds\n", *consoles, *commands, len(mix))
	fmt.Printf("commands done %d of %d, every reply checked; consoles failed %d\n", done, *consoles**commands, failed)
	fmt.Printf("wall %.2fs, %.0f commands/s\n", wall.Seconds(), float64(done)/wall.Seconds())
	if len(all) > 0 {
		fmt.Printf("round trip (line sent -> prompt back): p50 %s  p90 %s  p99 %s  max %s  mean %s\n",
			ms(pct(all, 50)), ms(pct(all, 90)), ms(pct(all, 99)), ms(all[len(all)-1]), ms(sum/time.Duration(len(all))))
	}
	if len(logons) > 0 {
		fmt.Printf("logon (connect -> first prompt): p50 %s  p99 %s  max %s\n",
			ms(pct(logons, 50)), ms(pct(logons, 99)), ms(logons[len(logons)-1]))
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }

// client is a telnet client in line mode.
type client struct {
	nc      net.Conn
	timeout time.Duration
	buf     []byte
	raw     []byte
	state   int // telnet parser: 0 data, 1 after IAC, 2 verb, 3 in SB, 4 IAC in SB
	verb    byte
	cr      bool
	lines   []string // complete lines not yet taken
	partial []byte   // the line being received
}

const (
	iac  = 255
	dont = 254
	do   = 253
	wont = 252
	will = 251
	sb   = 250
	se   = 240
)

func dial(addr string, timeout time.Duration) (*client, error) {
	nc, err := net.DialTimeout("tcp4", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &client{nc: nc, timeout: timeout, raw: make([]byte, 16<<10)}, nil
}

// fill reads once, answers negotiation (no to everything) and splits the
// data into lines.
func (c *client) fill() error {
	c.nc.SetReadDeadline(time.Now().Add(c.timeout))
	n, err := c.nc.Read(c.raw)
	var reply []byte
	for _, b := range c.raw[:n] {
		switch c.state {
		case 0:
			switch {
			case b == iac:
				c.state = 1
			case b == '\n':
				c.lines = append(c.lines, strings.TrimSuffix(string(c.partial), "\r"))
				c.partial = c.partial[:0]
			case b == 0 && len(c.partial) > 0 && c.partial[len(c.partial)-1] == '\r':
				// CR NUL: a bare CR
			default:
				c.partial = append(c.partial, b)
			}
		case 1:
			switch b {
			case iac:
				c.partial = append(c.partial, b)
				c.state = 0
			case will, wont, do, dont:
				c.verb, c.state = b, 2
			case sb:
				c.state = 3
			default:
				c.state = 0
			}
		case 2:
			switch c.verb {
			case will:
				reply = append(reply, iac, dont, b)
			case do:
				reply = append(reply, iac, wont, b)
			}
			c.state = 0
		case 3:
			if b == iac {
				c.state = 4
			}
		case 4:
			if b == se {
				c.state = 0
			} else {
				c.state = 3
			}
		}
	}
	if len(reply) > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
		if _, werr := c.nc.Write(reply); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil && n > 0 && errors.Is(err, io.EOF) {
		return nil // what came with the end is taken; the next read says EOF
	}
	return err
}

// until reads until the line being received is want (a prompt), and
// returns the complete lines before it.
func (c *client) until(want string) ([]string, error) {
	for string(c.partial) != want {
		if err := c.fill(); err != nil {
			return c.lines, fmt.Errorf("%w waiting for %q after %q", err, want, c.lines)
		}
	}
	lines := c.lines
	c.lines, c.partial = nil, c.partial[:0]
	return lines, nil
}

func (c *client) send(line string) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.nc.Write([]byte(line + "\r\n"))
	return err
}

func (c *client) logon(user, pw string) error {
	if _, err := c.until("Operator id: "); err != nil {
		return err
	}
	if err := c.send(user); err != nil {
		return err
	}
	if _, err := c.until("Password: "); err != nil {
		return err
	}
	if err := c.send(pw); err != nil {
		return err
	}
	lines, err := c.until(prompt)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "IPN506I ") {
			return nil
		}
	}
	return fmt.Errorf("not logged on: %q", lines)
}

// command runs one step and checks its replies; it returns the round trip.
func (c *client) command(s step) (time.Duration, error) {
	t0 := time.Now()
	if err := c.send(s.line); err != nil {
		return 0, err
	}
	lines, err := c.until(prompt)
	d := time.Since(t0)
	if err != nil {
		return d, err
	}
	var got []string
	for _, l := range lines {
		if l != "" {
			got = append(got, l)
		}
	}
	if len(got) == 0 || got[0] != "IPN237I "+s.line {
		return d, fmt.Errorf("the first reply is not the echo: %q", got)
	}
	if len(got)-1 != len(s.ids) {
		return d, fmt.Errorf("%d replies, want %d (%s): %q", len(got)-1, len(s.ids), strings.Join(s.ids, " "), got)
	}
	for i, id := range s.ids {
		if !strings.HasPrefix(got[i+1], id+" ") {
			return d, fmt.Errorf("reply %d is not %s: %q", i+1, id, got)
		}
	}
	return d, nil
}
