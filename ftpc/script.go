package ftpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path"
	"strings"
	"time"

	"ipnstack/ftptype"
	"ipnstack/internal/xferlog"
	"ipnstack/msgcat"

	"golang.org/x/time/rate"
)

// Subcommand is one subcommand of a script (the FTP command's CMD=): its
// name, how many arguments it takes, whether it needs the second server,
// and its line of HELP. Subcommands is the one list: the command table's
// check, HELP and the runner read it.
type Subcommand struct {
	Name     string
	Min, Max int    // arguments
	Second   bool   // needs the second server (HOST2=)
	Args     string // the arguments as HELP shows them
	Help     string
}

// Subcommands are the script's subcommands, in HELP's order.
var Subcommands = []Subcommand{
	{"CD", 1, 1, false, "dir", "change the server's directory"},
	{"TYPE", 1, 1, false, "A|I|E", "ASCII, image (binary) or EBCDIC from here on (on both servers with HOST2=)"},
	{"PASSIVE", 0, 0, false, "", "data connections from here on: the client opens them (PASV)"},
	{"ACTIVE", 0, 0, false, "", "data connections from here on: the server opens them (PORT)"},
	{"GET", 1, 2, false, "remote [local]", "a server file to a local file (default: its name, under LOCAL=)"},
	{"PUT", 1, 2, false, "local [remote]", "a local file (under LOCAL=) to the server (default: its name)"},
	{"MGET", 1, 1, false, "pattern", "every server file the pattern matches (NLST of its directory), under LOCAL="},
	{"MPUT", 1, 1, false, "pattern", "every local file under LOCAL= that matches, to the server"},
	{"DIR", 0, 1, false, "[path]", "the server's listing, one message a line"},
	{"DELETE", 1, 1, false, "name", "delete a server file"},
	{"QUIT", 0, 0, false, "", "end the session (it ends after the last item anyway)"},
	{"CD2", 1, 1, true, "dir", "change the second server's directory"},
	{"COPY", 1, 2, true, "file [file2]", "a file from HOST= to HOST2=, server to server"},
	{"COPYBACK", 1, 2, true, "file2 [file]", "a file from HOST2= to HOST=, server to server"},
}

// HelpLines are the subcommands as HELP lists them, one a line.
func HelpLines() []string {
	out := make([]string, len(Subcommands))
	for i, s := range Subcommands {
		out[i] = fmt.Sprintf("%-22s %s", strings.TrimSpace(s.Name+" "+s.Args), s.Help)
	}
	return out
}

// Names lists the subcommands' names for a message: "CD, TYPE, ... and COPYBACK".
func Names() string {
	n := make([]string, len(Subcommands))
	for i, s := range Subcommands {
		n[i] = s.Name
	}
	return strings.Join(n[:len(n)-1], ", ") + " and " + n[len(n)-1]
}

// Step is one parsed item of a script.
type Step struct {
	Sub  *Subcommand
	Args []string
	Text string // as typed
}

// StepError is an item of a script that is no subcommand.
type StepError struct {
	Item   string
	Reason string
}

func (e *StepError) Error() string { return fmt.Sprintf("%q: %s", e.Item, e.Reason) }

// Types are the representation types TYPE takes.
var Types = map[string]ftptype.Type{"A": ftptype.A, "I": ftptype.I, "E": ftptype.E}

// ParseStep reads one item of a script. second says whether a second
// server is given.
func ParseStep(text string, second bool) (Step, error) {
	f := strings.Fields(text)
	if len(f) == 0 {
		return Step{}, &StepError{text, "it is empty"}
	}
	verb := strings.ToUpper(f[0])
	var sub *Subcommand
	for i := range Subcommands {
		if Subcommands[i].Name == verb {
			sub = &Subcommands[i]
		}
	}
	if sub == nil {
		return Step{}, &StepError{text, "the subcommands are " + Names()}
	}
	if n := len(f) - 1; n < sub.Min || n > sub.Max {
		return Step{}, &StepError{text, fmt.Sprintf("%s takes %d to %d arguments", verb, sub.Min, sub.Max)}
	}
	if sub.Second && !second {
		return Step{}, &StepError{text, verb + " needs a second server: give HOST2="}
	}
	if verb == "TYPE" {
		if _, ok := Types[strings.ToUpper(f[1])]; !ok {
			return Step{}, &StepError{text, "TYPE is A, I or E"}
		}
	}
	return Step{Sub: sub, Args: f[1:], Text: text}, nil
}

// ParseScript reads a whole script before anything is sent.
func ParseScript(items []string, second bool) ([]Step, error) {
	steps := make([]Step, 0, len(items))
	for _, it := range items {
		st, err := ParseStep(it, second)
		if err != nil {
			return nil, err
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// Local holds a script's local files: paths under a public name.
type Local interface {
	// Create makes a local file that appears whole at Commit, or not at
	// all after Abort.
	Create(p string) (Incoming, error)
	Open(p string) (io.ReadCloser, error)
	// Glob lists the local files a pattern matches.
	Glob(pattern string) ([]string, error)
}

// Incoming is a local file being written.
type Incoming interface {
	io.Writer
	Commit() error
	Abort()
}

// Login is one server of a script: where, and who.
type Login struct {
	Server     netip.AddrPort
	User, Pass string
}

// Script is one FTP command's session: log in to Host (and Host2, for the
// subcommands between servers), then the steps in order; every event is
// said through Say as a catalogued message.
type Script struct {
	Net      Net
	Local    Local
	LocalIn  string // the directory local names start from, "PUB/dir"
	Say      func(msgcat.Msg)
	Host     Login
	Host2    *Login // nil without a second server
	Type     ftptype.Type
	CodePage *ftptype.CodePage // TYPE E's (nil: 037)
	Rate     int64             // bytes a second each GET and PUT moves at most (0: no bound)
	Passive  bool
	Steps    []Step
	// Transfers hears each file GET, PUT, MGET or MPUT moved, whole or
	// not (the transfer log); nil: none. A COPY moves nothing through the
	// stack and is not heard.
	Transfers func(xferlog.Record)
}

// run is a Script's state while it runs.
type run struct {
	*Script
	c, c2 *Client
	files int
	bytes int64
}

// Run runs the script. It says each reply and transfer, the first failure
// (and stops there), and last the session's totals; it gives whether every
// step succeeded.
func (s *Script) Run(ctx context.Context) bool {
	r := &run{Script: s}
	c := r.open(ctx, s.Host)
	if c == nil {
		return false
	}
	defer c.Close()
	r.c = c
	c.Passive = s.Passive
	if s.Host2 != nil {
		c2 := r.open(ctx, *s.Host2)
		if c2 == nil {
			c.Quit(ctx)
			return false
		}
		defer c2.Close()
		r.c2 = c2
	}
	ok, quit := true, true
	for _, st := range s.Steps {
		if st.Sub.Name == "QUIT" {
			break
		}
		if err := r.step(ctx, st); err != nil {
			r.fail(st.Text, err)
			ok, quit = false, ctx.Err() == nil
			break
		}
	}
	if quit {
		for _, cl := range []*Client{c, r.c2} {
			if cl == nil {
				continue
			}
			if rep, err := cl.Quit(ctx); err == nil {
				s.Say(msgcat.IPN651I("QUIT "+cl.Server().String(), rep.String()))
			}
		}
	}
	s.Say(msgcat.IPN657I(s.Host.Server.String(), r.files, r.bytes))
	return ok
}

// open connects to a server, logs in and sets the type; it has said why
// when it gives nil.
func (r *run) open(ctx context.Context, l Login) *Client {
	c, greet, err := Dial(ctx, r.Net, l.Server)
	if err != nil {
		r.fail("OPEN "+l.Server.String(), err)
		return nil
	}
	c.CodePage = r.CodePage
	r.Say(msgcat.IPN650I(l.Server.String(), c.Local().String(), greet.String()))
	rep, err := c.Login(ctx, l.User, l.Pass)
	if err != nil {
		r.fail("USER "+l.User, err)
		c.Quit(ctx)
		c.Close()
		return nil
	}
	r.Say(msgcat.IPN651I("USER "+l.User, rep.String()))
	if rep, err = c.SetType(ctx, r.Type); err != nil {
		r.fail("TYPE "+r.Type.String(), err)
		c.Quit(ctx)
		c.Close()
		return nil
	}
	r.Say(msgcat.IPN651I("TYPE "+r.Type.String(), rep.String()))
	return c
}

// fail says why a subcommand failed: the server's reply, or the reason.
func (r *run) fail(cmd string, err error) {
	var re *ReplyError
	if errors.As(err, &re) {
		r.Say(msgcat.IPN654E(cmd, re.Reply.String()))
		return
	}
	r.Say(msgcat.IPN655E(cmd, err.Error()))
}

func (r *run) step(ctx context.Context, st Step) error {
	c := r.c
	second := func(a []string) string {
		if len(a) == 2 {
			return a[1]
		}
		return path.Base(a[0])
	}
	switch st.Sub.Name {
	case "CD":
		return r.reply(st.Text, func() (Reply, error) { return c.Cwd(ctx, st.Args[0]) })
	case "TYPE":
		t := Types[strings.ToUpper(st.Args[0])]
		if err := r.reply(st.Text, func() (Reply, error) { return c.SetType(ctx, t) }); err != nil || r.c2 == nil {
			return err
		}
		// A copy between the servers needs the same type on both.
		return r.reply(st.Text+" (HOST2)", func() (Reply, error) { return r.c2.SetType(ctx, t) })
	case "CD2":
		return r.reply(st.Text, func() (Reply, error) { return r.c2.Cwd(ctx, st.Args[0]) })
	case "COPY":
		return r.copy(ctx, "COPY", c, st.Args[0], r.c2, second(st.Args))
	case "COPYBACK":
		return r.copy(ctx, "COPYBACK", r.c2, st.Args[0], c, second(st.Args))
	case "DELETE":
		return r.reply(st.Text, func() (Reply, error) { return c.Delete(ctx, st.Args[0]) })
	case "PASSIVE", "ACTIVE":
		c.Passive = st.Sub.Name == "PASSIVE"
		how := "the client connects (PASV)"
		if !c.Passive {
			how = "the server connects (PORT)"
		}
		r.Say(msgcat.IPN651I(st.Text, "data connections from now on: "+how))
		return nil
	case "GET":
		return r.get(ctx, "GET", st.Args[0], r.LocalIn+"/"+second(st.Args))
	case "PUT":
		return r.put(ctx, "PUT", r.LocalIn+"/"+st.Args[0], second(st.Args))
	case "MGET":
		names, err := r.match(ctx, st.Args[0])
		if err != nil {
			return err
		}
		if len(names) == 0 {
			r.Say(msgcat.IPN651I(st.Text, "no server file matches"))
		}
		for _, n := range names {
			if err := r.get(ctx, "MGET", n, r.LocalIn+"/"+path.Base(n)); err != nil {
				return err
			}
		}
		return nil
	case "MPUT":
		paths, err := r.Local.Glob(r.LocalIn + "/" + st.Args[0])
		if err != nil {
			return err
		}
		if len(paths) == 0 {
			r.Say(msgcat.IPN651I(st.Text, "no local file matches"))
		}
		for _, p := range paths {
			if err := r.put(ctx, "MPUT", p, path.Base(p)); err != nil {
				return err
			}
		}
		return nil
	case "DIR":
		p := ""
		if len(st.Args) == 1 {
			p = st.Args[0]
		}
		var b bytes.Buffer
		rep, err := c.List(ctx, p, false, &b)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			if l != "" {
				r.Say(msgcat.IPN653I(l))
			}
		}
		r.Say(msgcat.IPN651I(st.Text, rep.String()))
		return nil
	}
	return fmt.Errorf("no subcommand %s", st.Sub.Name)
}

// match gives the server files a pattern names: NLST of the pattern, as
// servers that take wildcards answer it (vsftpd, the stack's own), else
// NLST of its directory; either way matched here too (servers differ in
// what NLST does with a pattern, and some ignore it).
func (r *run) match(ctx context.Context, pattern string) ([]string, error) {
	dir, pat := path.Split(pattern)
	if _, err := path.Match(pat, ""); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	names, _, err := r.c.NameList(ctx, pattern)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		names, _, err = r.c.NameList(ctx, strings.TrimSuffix(dir, "/"))
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(pat, path.Base(n)); !ok {
			continue
		}
		if dir != "" && !strings.Contains(n, "/") {
			n = dir + n
		}
		out = append(out, n)
	}
	return out, nil
}

func (r *run) reply(text string, do func() (Reply, error)) error {
	rep, err := do()
	if err != nil {
		return err
	}
	r.Say(msgcat.IPN651I(text, rep.String()))
	return nil
}

// get moves a server file into a local one, whole or not at all.
func (r *run) get(ctx context.Context, verb, remote, local string) error {
	in, err := r.Local.Create(local)
	if err != nil {
		return fmt.Errorf("local file %s: %w", local, err)
	}
	start := time.Now()
	n, _, err := r.c.Retrieve(ctx, remote, r.pacedWriter(ctx, in))
	r.logged(remote, n, true, err == nil, start)
	if err != nil {
		in.Abort()
		return err
	}
	if err := in.Commit(); err != nil {
		return fmt.Errorf("local file %s: %w", local, err)
	}
	r.moved(verb, remote, local, n, time.Since(start))
	return nil
}

// put moves a local file to the server.
func (r *run) put(ctx context.Context, verb, local, remote string) error {
	f, err := r.Local.Open(local)
	if err != nil {
		return fmt.Errorf("local file %s: %w", local, err)
	}
	defer f.Close()
	start := time.Now()
	n, _, err := r.c.Store(ctx, remote, r.pacedReader(ctx, f))
	r.logged(remote, n, false, err == nil, start)
	if err != nil {
		return err
	}
	r.moved(verb, local, remote, n, time.Since(start))
	return nil
}

// logged gives the transfer log a line for a file moved to or from the
// server (in: into the stack).
func (r *run) logged(remote string, n int64, in, ok bool, start time.Time) {
	if r.Transfers == nil {
		return
	}
	r.Transfers(xferlog.Record{End: time.Now(), Duration: time.Since(start), Service: "FTPC", Client: r.c.Server(),
		User: r.Host.User, File: remote, Bytes: n, Upload: in, ASCII: r.c.Type() != ftptype.I, Complete: ok})
}

func (r *run) moved(verb, from, to string, n int64, d time.Duration) {
	r.files++
	r.bytes += n
	secs := max(d.Seconds(), 1e-6)
	r.Say(msgcat.IPN652I(verb, from, to, n, fmt.Sprintf("%.3f", d.Seconds()), Rate(float64(n)/secs)))
}

// copy moves a file from one server to the other, server to server; the
// size comes from the target's SIZE afterwards, where it answers.
func (r *run) copy(ctx context.Context, verb string, src *Client, from string, dst *Client, to string) error {
	start := time.Now()
	if _, err := Proxy(ctx, src, from, dst, to); err != nil {
		return err
	}
	d := time.Since(start)
	size, speed := "?", "?"
	if n, _, err := dst.Size(ctx, to); err == nil {
		size, speed = msgcat.FormatNum(n), Rate(float64(n)/max(d.Seconds(), 1e-6))
		r.bytes += n
	}
	r.files++
	r.Say(msgcat.IPN658I(verb, src.Server().String()+" "+from, dst.Server().String()+" "+to, size, fmt.Sprintf("%.3f", d.Seconds()), speed))
	return nil
}

// Rate writes bytes a second in the largest unit under 1,000.
func Rate(bps float64) string {
	for _, u := range []string{"B/s", "KB/s", "MB/s"} {
		if bps < 1000 {
			return fmt.Sprintf("%.1f %s", bps, u)
		}
		bps /= 1000
	}
	return fmt.Sprintf("%.1f GB/s", bps)
}

// paceChunk is the most a paced read or write moves at once, and the
// limiter's burst.
const paceChunk = 16 << 10

// pacedWriter holds writes to w to the script's rate (RATE=); without one
// it is w.
func (r *run) pacedWriter(ctx context.Context, w io.Writer) io.Writer {
	if r.Rate <= 0 {
		return w
	}
	return &paced{ctx: ctx, w: w, l: rate.NewLimiter(rate.Limit(r.Rate), paceChunk)}
}

// pacedReader holds reads of rd to the script's rate.
func (r *run) pacedReader(ctx context.Context, rd io.Reader) io.Reader {
	if r.Rate <= 0 {
		return rd
	}
	return &paced{ctx: ctx, r: rd, l: rate.NewLimiter(rate.Limit(r.Rate), paceChunk)}
}

type paced struct {
	ctx context.Context
	r   io.Reader
	w   io.Writer
	l   *rate.Limiter
}

func (p *paced) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		k := min(len(b), paceChunk)
		if err := p.l.WaitN(p.ctx, k); err != nil {
			return n, err
		}
		m, err := p.w.Write(b[:k])
		n += m
		if err != nil {
			return n, err
		}
		b = b[k:]
	}
	return n, nil
}

func (p *paced) Read(b []byte) (int, error) {
	if len(b) > paceChunk {
		b = b[:paceChunk]
	}
	n, err := p.r.Read(b)
	if n > 0 {
		if werr := p.l.WaitN(p.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}
