package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path"
	"strings"
	"time"

	"ipnstack/command"
	"ipnstack/ftpc"
	"ipnstack/ftptype"
	"ipnstack/msgcat"
)

var ftpcHandlers = map[string]Handler{
	"FTP": (*System).ftpClient,
}

// ftpcOwner is the owner of the client's connections in QUERY CONNECTIONS.
const ftpcOwner = "FTPC"

// ftpcNet is the client's doorway: the connection table, dials from the
// ephemeral range, active listeners from the pool the selection order
// gives a port bound to port 0 (the explicit-bind range, else the
// ephemeral range).
type ftpcNet struct{ s *System }

func (n ftpcNet) Dial(ctx context.Context, remote netip.AddrPort) (net.Conn, error) {
	c, err := n.s.Conns.Dial(ctx, ftpcOwner, netip.Addr{}, remote)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (n ftpcNet) Listen(local, peer netip.Addr) (net.Listener, error) {
	pool := n.s.Ports.Explicit()
	if pool == nil {
		pool = n.s.Ports.TCP()
	}
	l, err := n.s.Conns.ListenPool(ftpcOwner, local, pool, peer, false)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ftpcStep is one subcommand of CMD=.
type ftpcStep struct {
	verb string
	args []string
	text string
}

// ftpcArity is each subcommand's least and most arguments.
var ftpcArity = map[string][2]int{
	"CD": {1, 1}, "TYPE": {1, 1}, "PASSIVE": {0, 0}, "ACTIVE": {0, 0},
	"GET": {1, 2}, "PUT": {1, 2}, "MGET": {1, 1}, "MPUT": {1, 1},
	"DIR": {0, 1}, "DELETE": {1, 1}, "QUIT": {0, 0},
	"CD2": {1, 1}, "COPY": {1, 2}, "COPYBACK": {1, 2},
}

// ftpcSecond are the subcommands that need HOST2=.
var ftpcSecond = map[string]bool{"CD2": true, "COPY": true, "COPYBACK": true}

// parseSteps reads CMD= whole before anything is sent.
func parseSteps(items []any, second bool) ([]ftpcStep, *msgcat.Msg) {
	var steps []ftpcStep
	for _, it := range items {
		text := it.(string)
		f := strings.Fields(text)
		if len(f) == 0 {
			m := msgcat.IPN656E(text, "it is empty")
			return nil, &m
		}
		verb := strings.ToUpper(f[0])
		ar, ok := ftpcArity[verb]
		if !ok {
			m := msgcat.IPN656E(text, "the subcommands are CD, TYPE, PASSIVE, ACTIVE, GET, PUT, MGET, MPUT, DIR, DELETE and QUIT")
			return nil, &m
		}
		if n := len(f) - 1; n < ar[0] || n > ar[1] {
			m := msgcat.IPN656E(text, fmt.Sprintf("%s takes %d to %d arguments", verb, ar[0], ar[1]))
			return nil, &m
		}
		if ftpcSecond[verb] && !second {
			m := msgcat.IPN656E(text, verb+" needs a second server: give HOST2=")
			return nil, &m
		}
		if verb == "TYPE" {
			if _, ok := ftpTypes[strings.ToUpper(f[1])]; !ok {
				m := msgcat.IPN656E(text, "TYPE is A, I or E")
				return nil, &m
			}
		}
		steps = append(steps, ftpcStep{verb: verb, args: f[1:], text: text})
	}
	return steps, nil
}

var ftpTypes = map[string]ftptype.Type{"A": ftptype.A, "I": ftptype.I, "E": ftptype.E}

// ftpcRun is one FTP command's session.
type ftpcRun struct {
	s     *System
	out   command.Out
	c     *ftpc.Client
	c2    *ftpc.Client // HOST2=, or nil
	local string       // LOCAL=, "PUB/dir"
	files int
	bytes int64
}

func (s *System) ftpClient(ctx context.Context, req *command.Request, out command.Out) {
	a := req.Args
	steps, msg := parseSteps(a.List("CMD"), a.Has("HOST2"))
	if msg != nil {
		out.Say(*msg)
		return
	}
	local := strings.Trim(a.Str("LOCAL"), "/")
	if !s.Files.IsLocalDir(local) {
		out.Say(msgcat.IPN655E("LOCAL="+local, "not a directory under a DEFINE FILE public name"))
		return
	}
	for _, k := range []string{"HOST", "HOST2"} {
		if ip := a.Addr(k); ip.IsValid() && !ip.Is4() {
			out.Say(msgcat.IPN655E(k+"="+ip.String(), "the FTP client speaks PASV and PORT: its servers are IPv4"))
			return
		}
	}
	r := &ftpcRun{s: s, out: out, local: local}
	t := ftpTypes[a.Str("TYPE")]
	server := netip.AddrPortFrom(a.Addr("HOST"), uint16(a.Int("PORT")))
	c := r.open(ctx, server, a.Str("USER"), a.Str("PASSWORD"), t)
	if c == nil {
		return
	}
	defer c.Close()
	r.c = c
	c.Passive = a.Str("MODE") == "PASSIVE"
	if a.Has("HOST2") {
		user, pass := a.Str("USER"), a.Str("PASSWORD")
		if a.Has("USER2") {
			user = a.Str("USER2")
		}
		if a.Has("PASSWORD2") {
			pass = a.Str("PASSWORD2")
		}
		c2 := r.open(ctx, netip.AddrPortFrom(a.Addr("HOST2"), uint16(a.Int("PORT2"))), user, pass, t)
		if c2 == nil {
			c.Quit(ctx)
			return
		}
		defer c2.Close()
		r.c2 = c2
	}
	quit := true
	for _, st := range steps {
		if st.verb == "QUIT" {
			break
		}
		if err := r.step(ctx, st); err != nil {
			s.ftpcFail(out, st.text, err)
			quit = ctx.Err() == nil
			break
		}
	}
	if quit {
		for _, cl := range []*ftpc.Client{c, r.c2} {
			if cl == nil {
				continue
			}
			if rep, err := cl.Quit(ctx); err == nil {
				out.Say(msgcat.IPN651I("QUIT "+cl.Server().String(), rep.String()))
			}
		}
	}
	out.Say(msgcat.IPN657I(server.String(), r.files, r.bytes))
}

// open connects to a server, logs in and sets the type; it has said why
// when it gives nil.
func (r *ftpcRun) open(ctx context.Context, server netip.AddrPort, user, pass string, t ftptype.Type) *ftpc.Client {
	c, greet, err := ftpc.Dial(ctx, ftpcNet{r.s}, server)
	if err != nil {
		r.s.ftpcFail(r.out, "OPEN "+server.String(), err)
		return nil
	}
	r.out.Say(msgcat.IPN650I(server.String(), c.Local().String(), greet.String()))
	rep, err := c.Login(ctx, user, pass)
	if err != nil {
		r.s.ftpcFail(r.out, "USER "+user, err)
		c.Quit(ctx)
		c.Close()
		return nil
	}
	r.out.Say(msgcat.IPN651I("USER "+user, rep.String()))
	if rep, err = c.SetType(ctx, t); err != nil {
		r.s.ftpcFail(r.out, "TYPE "+t.String(), err)
		c.Quit(ctx)
		c.Close()
		return nil
	}
	r.out.Say(msgcat.IPN651I("TYPE "+t.String(), rep.String()))
	return c
}

// ftpcFail says why a subcommand failed: the server's reply, or the reason.
func (s *System) ftpcFail(out command.Out, cmd string, err error) {
	var re *ftpc.ReplyError
	if errors.As(err, &re) {
		out.Say(msgcat.IPN654E(cmd, re.Reply.String()))
		return
	}
	out.Say(msgcat.IPN655E(cmd, err.Error()))
}

func (r *ftpcRun) step(ctx context.Context, st ftpcStep) error {
	c := r.c
	switch st.verb {
	case "CD":
		return r.reply(st, func() (ftpc.Reply, error) { return c.Cwd(ctx, st.args[0]) })
	case "TYPE":
		t := ftpTypes[strings.ToUpper(st.args[0])]
		if err := r.reply(st, func() (ftpc.Reply, error) { return c.SetType(ctx, t) }); err != nil || r.c2 == nil {
			return err
		}
		// A copy between the servers needs the same type on both.
		return r.reply(ftpcStep{text: st.text + " (HOST2)"}, func() (ftpc.Reply, error) { return r.c2.SetType(ctx, t) })
	case "CD2":
		return r.reply(st, func() (ftpc.Reply, error) { return r.c2.Cwd(ctx, st.args[0]) })
	case "COPY", "COPYBACK":
		src, dst := c, r.c2
		if st.verb == "COPYBACK" {
			src, dst = r.c2, c
		}
		to := path.Base(st.args[0])
		if len(st.args) == 2 {
			to = st.args[1]
		}
		return r.copy(ctx, st.verb, src, st.args[0], dst, to)
	case "DELETE":
		return r.reply(st, func() (ftpc.Reply, error) { return c.Delete(ctx, st.args[0]) })
	case "PASSIVE", "ACTIVE":
		c.Passive = st.verb == "PASSIVE"
		how := "the client connects (PASV)"
		if !c.Passive {
			how = "the server connects (PORT)"
		}
		r.out.Say(msgcat.IPN651I(st.text, "data connections from now on: "+how))
		return nil
	case "GET":
		to := path.Base(st.args[0])
		if len(st.args) == 2 {
			to = st.args[1]
		}
		return r.get(ctx, "GET", st.args[0], r.local+"/"+to)
	case "PUT":
		to := path.Base(st.args[0])
		if len(st.args) == 2 {
			to = st.args[1]
		}
		return r.put(ctx, "PUT", r.local+"/"+st.args[0], to)
	case "MGET":
		names, err := r.match(ctx, st.args[0])
		if err != nil {
			return err
		}
		if len(names) == 0 {
			r.out.Say(msgcat.IPN651I(st.text, "no server file matches"))
		}
		for _, n := range names {
			if err := r.get(ctx, "MGET", n, r.local+"/"+path.Base(n)); err != nil {
				return err
			}
		}
		return nil
	case "MPUT":
		paths, err := r.s.Files.GlobLocal(r.local + "/" + st.args[0])
		if err != nil {
			return err
		}
		if len(paths) == 0 {
			r.out.Say(msgcat.IPN651I(st.text, "no local file matches"))
		}
		for _, p := range paths {
			if err := r.put(ctx, "MPUT", p, path.Base(p)); err != nil {
				return err
			}
		}
		return nil
	case "DIR":
		p := ""
		if len(st.args) == 1 {
			p = st.args[0]
		}
		var b bytes.Buffer
		rep, err := c.List(ctx, p, false, &b)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			if l != "" {
				r.out.Say(msgcat.IPN653I(l))
			}
		}
		r.out.Say(msgcat.IPN651I(st.text, rep.String()))
		return nil
	}
	return fmt.Errorf("no subcommand %s", st.verb)
}

// match gives the server files a pattern names: NLST of its directory,
// matched here (servers differ in what NLST does with a pattern, and some
// do nothing).
func (r *ftpcRun) match(ctx context.Context, pattern string) ([]string, error) {
	dir, pat := path.Split(pattern)
	if _, err := path.Match(pat, ""); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	names, _, err := r.c.NameList(ctx, strings.TrimSuffix(dir, "/"))
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

func (r *ftpcRun) reply(st ftpcStep, do func() (ftpc.Reply, error)) error {
	rep, err := do()
	if err != nil {
		return err
	}
	r.out.Say(msgcat.IPN651I(st.text, rep.String()))
	return nil
}

// get moves a server file into a local one, whole or not at all.
func (r *ftpcRun) get(ctx context.Context, verb, remote, local string) error {
	in, err := r.s.Files.CreateLocal(local)
	if err != nil {
		return fmt.Errorf("local file %s: %w", local, err)
	}
	start := time.Now()
	n, _, err := r.c.Retrieve(ctx, remote, in)
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
func (r *ftpcRun) put(ctx context.Context, verb, local, remote string) error {
	f, err := r.s.Files.OpenLocal(local)
	if err != nil {
		return fmt.Errorf("local file %s: %w", local, err)
	}
	defer f.Close()
	start := time.Now()
	n, _, err := r.c.Store(ctx, remote, io.Reader(f))
	if err != nil {
		return err
	}
	r.moved(verb, local, remote, n, time.Since(start))
	return nil
}

func (r *ftpcRun) moved(verb, from, to string, n int64, d time.Duration) {
	r.files++
	r.bytes += n
	secs := max(d.Seconds(), 1e-6)
	r.out.Say(msgcat.IPN652I(verb, from, to, n, fmt.Sprintf("%.3f", d.Seconds()), rate(float64(n)/secs)))
}

// copy moves a file from one server to the other, server to server; the
// size comes from the target's SIZE afterwards, where it answers.
func (r *ftpcRun) copy(ctx context.Context, verb string, src *ftpc.Client, from string, dst *ftpc.Client, to string) error {
	start := time.Now()
	if _, err := ftpc.Proxy(ctx, src, from, dst, to); err != nil {
		return err
	}
	d := time.Since(start)
	size, speed := "?", "?"
	if n, _, err := dst.Size(ctx, to); err == nil {
		size, speed = msgcat.FormatNum(n), rate(float64(n)/max(d.Seconds(), 1e-6))
		r.bytes += n
	}
	r.files++
	r.out.Say(msgcat.IPN658I(verb, src.Server().String()+" "+from, dst.Server().String()+" "+to, size, fmt.Sprintf("%.3f", d.Seconds()), speed))
	return nil
}

// rate writes bytes a second in the largest unit under 1,000.
func rate(bps float64) string {
	for _, u := range []string{"B/s", "KB/s", "MB/s"} {
		if bps < 1000 {
			return fmt.Sprintf("%.1f %s", bps, u)
		}
		bps /= 1000
	}
	return fmt.Sprintf("%.1f GB/s", bps)
}
