package ops

import (
	"context"
	"crypto/tls"
	"ipnstack/tlscert"
	"net"
	"net/netip"
	"sort"
	"strings"
	"time"

	"ipnstack/command"
	"ipnstack/internal/guard"
	"ipnstack/msgcat"
	"ipnstack/nic"
)

var consoleHandlers = map[string]Handler{
	"DEFINE CONSOLE": (*System).defineConsole,
	"DELETE CONSOLE": (*System).deleteConsole,
	"QUERY CONSOLES": (*System).queryConsoles,
	"MESSAGES":       (*System).messages,
	"LOOK":           (*System).look,
	"STOP":           (*System).stop,
	"LOGOFF":         (*System).logoff,
	"EXIT":           (*System).logoff,
	"QUIT":           (*System).logoff,
	"END":            (*System).logoff,
}

// logoff ends the console that asks, after this command; never the stack.
func (s *System) logoff(_ context.Context, req *command.Request, out command.Out) {
	if !req.Consoles.End(req.Console.ID, command.EndLogoff, req.Console.ID) {
		out.Say(msgcat.IPN542I(req.Console.ID)) // a deck: no console to leave
		return
	}
}

// consoleListener is a telnet listener of DEFINE CONSOLE.
type consoleListener struct {
	id      string
	where   string // HOST or STACK
	addr    netip.AddrPort
	timeout time.Duration
	server  command.ConsoleServer
	guard   *guard.Guard
	cert    *tlscert.Cert // TLS=YES; nil in clear
}

// sayConsoleTLS tells a TLS listener's certificate (IPN536I).
func sayConsoleTLS(id string, cert *tlscert.Cert, out command.Out) {
	if cert != nil {
		subject, source, expires, fp := certLine(cert)
		out.Say(msgcat.IPN536I(id, subject, source, expires, fp))
	}
}

func (s *System) defineConsole(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	id, where := a.Str("ID"), a.Str("WHERE")
	if _, ok := s.listeners[id]; ok {
		out.Say(msgcat.IPN512E(id))
		return
	}
	ip := a.Addr("IPADDR")
	if !ip.IsValid() {
		ip = netip.MustParseAddr("127.0.0.1")
		if where == "STACK" {
			ip = netip.IPv6Unspecified() // both families
		}
	}
	addr := netip.AddrPortFrom(ip, uint16(a.Int("PORT")))
	secure := a.Bool("TLS")
	if !secure && !a.Bool("CLEARTEXT") && !(where == "HOST" && ip.IsLoopback()) {
		out.Say(msgcat.IPN537E(id, where, addr.String()))
		return
	}
	var cert *tlscert.Cert
	if secure || a.Has("CERT") || a.Has("KEY") {
		c, ok := s.certFor(a, out)
		if !ok {
			return
		}
		cert = c
	}
	var ln net.Listener
	var err error
	if where == "STACK" {
		ln, err = s.Conns.Listen("CONSOLE", addr)
	} else {
		ln, err = net.Listen("tcp", addr.String())
	}
	if err != nil {
		out.Say(msgcat.IPN514E(addr.String(), listenErr(err)))
		return
	}
	if secure {
		// The handshake runs at the console's first read, within its
		// LOGINTIME like the logon.
		ln = tls.NewListener(ln, tlscert.ServerConfig(cert))
	} else {
		cert = nil
	}
	timeout := time.Duration(a.Int("TIMEOUT")) * time.Second
	g := guard.New(guardPolicy(a), s.Clock)
	door, err := req.Consoles.ServeTelnet(command.TelnetConfig{Name: id, Listener: ln, Logon: s.Users, IdleTimeout: timeout, Guard: g,
		Owner: nic.HostConnOwner})
	if err != nil {
		ln.Close()
		out.Say(msgcat.IPN514E(addr.String(), listenErr(err)))
		return
	}
	s.listeners[id] = &consoleListener{id: id, where: where, addr: addr, timeout: timeout, server: door, guard: g, cert: cert}
	out.Say(msgcat.IPN510I(id, where, addr.String()))
	sayConsoleTLS(id, cert, out)
}

func (s *System) deleteConsole(_ context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("ID")
	l, ok := s.listeners[id]
	if !ok {
		out.Say(msgcat.IPN513E(id))
		return
	}
	delete(s.listeners, id)
	l.server.Close()
	n := req.Consoles.EndFrom(id, command.EndListenerDeleted, id)
	out.Say(msgcat.IPN511I(id, n))
}

func (s *System) queryConsoles(_ context.Context, req *command.Request, out command.Out) {
	cs := req.Consoles.List()
	out.Say(msgcat.IPN515I())
	for _, c := range cs {
		op := c.Info.Operator
		if op == "" {
			op = "-"
		}
		out.Say(msgcat.IPN516I(c.Info.ID, op, c.Info.Auth.Level(), c.Addr, c.Since))
		if len(c.Hears.Names()) == 0 {
			out.Say(msgcat.IPN535I())
		} else {
			out.Say(msgcat.IPN530I(hearsText(c.Hears)))
		}
	}
	ids := make([]string, 0, len(s.listeners))
	for id := range s.listeners {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		l := s.listeners[id]
		out.Say(msgcat.IPN517I(l.id, l.where, l.server.Addr().String(), l.timeout))
		sayConsoleTLS(l.id, l.cert, out)
		if f := l.server.Fault(); f != "" {
			out.Say(msgcat.IPN528W(f))
		}
	}
	out.Say(msgcat.IPN518I(len(cs), len(ids)))
}

// look is LOOK VSE|PLAIN: how the lines of the console that enters it read.
// The answer is said in the look the console had.
func (s *System) look(_ context.Context, req *command.Request, out command.Out) {
	vse := req.Args.Positional(0) == "VSE"
	part := strings.ToUpper(req.Args.Str("PARTITION"))
	if !command.ValidPartition(part) {
		out.Say(msgcat.IPN262E(req.Args.Str("PARTITION")))
		return
	}
	look := "PLAIN"
	if vse {
		look = "VSE, partition " + part
	}
	out.Say(msgcat.IPN261I(req.Console.ID, look))
	req.Consoles.SetLook(req.Console.ID, vse, part)
}

// messages is MESSAGES CLASSES=: what the console that enters it hears.
func (s *System) messages(_ context.Context, req *command.Request, out command.Out) {
	var names []msgcat.Class
	all, none := false, false
	for _, v := range req.Args.List("CLASSES") {
		switch c := v.(string); c {
		case "ALL":
			all = true
		case "NONE":
			none = true
		default:
			names = append(names, msgcat.Class(c))
		}
	}
	if (all || none) && len(req.Args.List("CLASSES")) > 1 {
		out.Say(msgcat.IPN531E())
		return
	}
	m, _ := msgcat.MaskOf(names...)
	if all {
		m = msgcat.AllClasses
	}
	if !req.Consoles.SetHears(req.Console.ID, m) {
		out.Say(msgcat.IPN520E(req.Console.ID))
		return
	}
	if len(m.Names()) == 0 {
		out.Say(msgcat.IPN534I(req.Console.ID))
		return
	}
	out.Say(msgcat.IPN529I(req.Console.ID, hearsText(m)))
}

// hearsText lists the classes a console hears (at least one).
func hearsText(m msgcat.ClassMask) string {
	names := m.Names()
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, ", ")
}

// stop is STOP LINK= or STOP CONSOLE=.
func (s *System) stop(ctx context.Context, req *command.Request, out command.Out) {
	a := req.Args
	n := 0
	for _, k := range []string{"LINK", "CONSOLE", "FTPD"} {
		if a.Has(k) {
			n++
		}
	}
	if n != 1 || a.Has("SESSION") && !a.Has("FTPD") {
		out.Say(msgcat.IPN521E())
		return
	}
	if a.Has("FTPD") {
		s.stopFTPD(req, out)
		return
	}
	if a.Has("LINK") {
		s.stopLink(ctx, req, out)
		return
	}
	id := a.Str("CONSOLE")
	// The console is ended after its running command (this one, if a
	// console stops itself).
	if !req.Consoles.End(id, command.EndStopped, req.Console.ID) {
		out.Say(msgcat.IPN520E(id))
		return
	}
	out.Say(msgcat.IPN519I(id, req.Console.ID))
}

// closeConsoles closes the console listeners (at shutdown).
func (s *System) closeConsoles() {
	for id, l := range s.listeners {
		l.server.Close()
		delete(s.listeners, id)
	}
}
