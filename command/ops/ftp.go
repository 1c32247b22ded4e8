package ops

import (
	"context"
	"errors"
	"io/fs"
	"ipnstack/conn"
	"ipnstack/ftptype"
	"ipnstack/tlscert"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"ipnstack/command"
	"ipnstack/ftpd"
	"ipnstack/internal/guard"
	"ipnstack/internal/tcpstate"
	"ipnstack/msgcat"
	"ipnstack/portrange"
	"ipnstack/users"
)

var ftpHandlers = map[string]Handler{
	"DEFINE FTPD":    (*System).defineFTPD,
	"DELETE FTPD":    (*System).deleteFTPD,
	"ALTER FTPD":     (*System).alterFTPD,
	"QUERY FTPDS":    (*System).queryFTPDs,
	"DEFINE USER":    (*System).defineUser,
	"ALTER USER":     (*System).alterUser,
	"DELETE USER":    (*System).deleteUser,
	"QUERY USERS":    (*System).queryUsers,
	"DEFINE FILE":    (*System).defineFile,
	"DELETE FILE":    (*System).deleteFile,
	"QUERY FILES":    (*System).queryFiles,
	"QUERY LOCKOUTS": (*System).queryLockouts,
	"DELETE LOCKOUT": (*System).deleteLockout,
}

// lockoutHolder is what keeps lockouts of client addresses: an FTP
// daemon, a console listener's guard, a SOCKS door.
type lockoutHolder interface {
	Lockouts() []guard.Lockout
	LockedAt(netip.Addr) bool
	Unlock(netip.Addr) bool
}

// guardsByOwner lists the holders of lockouts by owner (each FTP daemon,
// console listener and SOCKS door), and their ids in name order.
func (s *System) guardsByOwner() (owners []string, holders map[string]lockoutHolder) {
	holders = map[string]lockoutHolder{}
	for id, f := range s.ftpds {
		holders[id] = f.d
	}
	for id, l := range s.listeners {
		holders[id] = l.guard
	}
	for id, d := range s.socksds {
		holders[id] = d
	}
	for id := range holders {
		owners = append(owners, id)
	}
	sort.Strings(owners)
	return owners, holders
}

func (s *System) queryLockouts(_ context.Context, _ *command.Request, out command.Out) {
	owners, holders := s.guardsByOwner()
	n := 0
	for _, o := range owners {
		for _, l := range holders[o].Lockouts() {
			out.Say(msgcat.IPN415I(o, l.Client.String(), l.Until, l.Failures))
			n++
		}
	}
	for _, l := range s.Users.AccountLockouts() {
		out.Say(msgcat.IPN539I(l.ID, l.Until, l.Failures, l.Addresses))
		n++
	}
	out.Say(msgcat.IPN416I(n))
}

func (s *System) deleteLockout(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	// Everything is checked before anything is lifted: with USER= and
	// IPADDR= both, either both lockouts go or neither.
	user := strings.ToUpper(a.Str("USER"))
	if a.Has("USER") {
		if locked, _ := s.Users.AccountLocked(user); !locked {
			out.Say(msgcat.IPN541E(user))
			return
		}
	}
	var lift []string // the owners whose lockout of the address goes
	addr := a.Addr("IPADDR")
	if a.Has("IPADDR") {
		owners, guards := s.guardsByOwner()
		where := ""
		if a.Has("ID") {
			id := a.Str("ID")
			if guards[id] == nil {
				out.Say(msgcat.IPN419E(id))
				return
			}
			owners, where = []string{id}, id
		}
		for _, o := range owners {
			if guards[o].LockedAt(addr) {
				lift = append(lift, o)
			}
		}
		if len(lift) == 0 {
			if where == "" {
				out.Say(msgcat.IPN418E(addr.String()))
			} else {
				out.Say(msgcat.IPN464E(addr.String(), where))
			}
			return
		}
		for _, o := range lift {
			guards[o].Unlock(addr)
		}
	}
	if a.Has("USER") {
		s.Users.UnlockAccount(user)
		out.Say(msgcat.IPN540I(user))
	}
	if len(lift) > 0 {
		out.Say(msgcat.IPN417I(addr.String(), strings.Join(lift, ", ")))
	}
}

// ftpDaemon is a daemon of DEFINE FTPD.
type ftpDaemon struct {
	d    *ftpd.Daemon
	pool *portrange.Pool // its own DATAPORTS pool, or nil for the stack's range
}

func (s *System) defineFTPD(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	id := a.Str("ID")
	if _, ok := s.ftpds[id]; ok {
		out.Say(msgcat.IPN442E(id))
		return
	}
	pool := s.Ports.TCP()
	var own *portrange.Pool

	if a.Has("DATAPORTS") {
		// The registry sets the range aside from the ephemeral range while
		// the daemon exists, and keeps it apart from what others hold.
		l := a.List("DATAPORTS")
		lo, hi := uint16(l[0].(int64)), uint16(l[1].(int64))
		p, err := s.Ports.AddData(id, lo, hi)
		var re *portrange.ReservedError
		var rg *portrange.RangeError
		switch {
		case errors.As(err, &rg):
			out.Say(msgcat.IPN446E(lo, hi))
			return
		case errors.As(err, &re) && re.Kind == portrange.KindData:
			out.Say(msgcat.IPN445E(lo, hi, re.Owner))
			return
		case err != nil:
			out.Say(setAsideMsg(err, portrange.TCP, lo, hi, id))
			return
		}
		pool, own = p, p
	}
	started := false
	defer func() {
		if !started {
			s.Ports.RemoveData(id) // all or nothing
		}
	}()
	anon, _ := ftpd.ParseAnonymous(a.Str("ANONYMOUS"))
	mode, _ := ftpd.ParseTLSMode(a.Str("TLS"))
	var cert *tlscert.Cert
	if mode != ftpd.TLSNo || a.Has("CERT") || a.Has("KEY") {
		c, ok := s.certFor(a, out)
		if !ok {
			return
		}
		cert = c
	}
	ip := a.Addr("IPADDR")
	if !ip.IsValid() {
		ip = netip.IPv6Unspecified() // both families
	}
	cfg := ftpd.Config{
		ID: id, Addr: netip.AddrPortFrom(ip, uint16(a.Int("PORT"))),
		Count: int(a.Int("COUNT")), Timeout: time.Duration(a.Int("TIMEOUT")) * time.Second,
		DataPorts: pool, PasvAddr: a.Addr("PASVADDR"), Active: a.Bool("ACTIVE"),
		Anonymous: anon, Banner: a.Str("BANNER"), Clock: s.Clock, Transfers: s.xfer, CodePage: codePage(a),
		Rate: a.Int("RATE"), AnonRate: a.Int("ANONRATE"), TotalRate: a.Int("TOTALRATE"),
		PasvWait: time.Duration(a.Int("PASVWAIT")) * time.Second, ProxyPeers: addrList(a, "PROXYPEERS"),
		Guard: guardPolicy(a),
		TLS:   mode, Cert: cert, ReuseOptional: !a.Bool("TLSREUSE"), AnonClear: a.Bool("ANONCLEAR"), CCC: a.Bool("CCC"),
	}
	d, err := ftpd.New(cfg, ftpTransport{t: s.Conns, stack: s.Stack, owner: id}, s.Users, s.Files, s.Broadcast, s.Log)
	if err != nil {
		out.Say(ftpdErr(id, err))
		return
	}
	if err := d.Start(); err != nil {
		out.Say(ftpdErr(id, err))
		return
	}
	s.ftpds[id] = &ftpDaemon{d: d, pool: own}
	started = true
	if own != nil {
		lo, hi := own.Range()
		out.Say(msgcat.IPN440I(id, cfg.Addr.String(), lo, hi))
	} else {
		lo, hi := s.Ports.TCP().Range()
		out.Say(msgcat.IPN463I(id, cfg.Addr.String(), lo, hi))
	}
	sayTLS(id, mode, cert, out)
}

// sayTLS tells a daemon's TLS policy and certificate (IPN421I).
func sayTLS(id string, mode ftpd.TLSMode, cert *tlscert.Cert, out command.Out) {
	if mode == ftpd.TLSNo || cert == nil {
		return
	}
	subject, source, expires, fp := certLine(cert)
	out.Say(msgcat.IPN421I(id, mode.String(), subject, source, expires, fp))
}

// addrList reads a list of addresses (PROXYPEERS=).
func addrList(a command.Args, key string) []netip.Addr {
	var out []netip.Addr
	for _, v := range a.List(key) {
		out = append(out, v.(netip.Addr))
	}
	return out
}

// guardPolicy reads PERCLIENT=, LOGINTIME= and LOCKOUT= (the table gives
// the first two their defaults; LOCKOUT= defaults here).
func guardPolicy(a command.Args) guard.Policy {
	p := guard.Default
	p.PerAddr = int(a.Int("PERCLIENT"))
	p.Prefix6 = int(a.Int("PREFIX6"))
	p.Prefix4 = int(a.Int("PREFIX4"))
	p.LoginTime = time.Duration(a.Int("LOGINTIME")) * time.Second
	setLockout(&p, a)
	return p
}

// setLockout reads LOCKOUT=(failures,within,for) into p, if it was given.
func setLockout(p *guard.Policy, a command.Args) {
	if l := a.List("LOCKOUT"); len(l) == 3 {
		p.Failures = int(l[0].(int64))
		p.Window = time.Duration(l[1].(int64)) * time.Second
		p.LockTime = time.Duration(l[2].(int64)) * time.Second
	}
}

// alterFTPD is ALTER FTPD: the operands given, all or nothing.
func (s *System) alterFTPD(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	id := a.Str("ID")
	f, ok := s.ftpds[id]
	if !ok {
		out.Say(msgcat.IPN443E(id))
		return
	}
	// The table refuses PORT=, IPADDR= and DATAPORTS= (Fixed); whether
	// TLS= may change depends on the daemon's mode now.
	st := f.d.Stats()
	mode := st.TLS
	if a.Has("TLS") {
		mode, _ = ftpd.ParseTLSMode(a.Str("TLS"))
		if (mode == ftpd.TLSImplicit) != (st.TLS == ftpd.TLSImplicit) {
			out.Say(msgcat.IPN473E("TLS", "FTPD", id))
			return
		}
	}
	var alt ftpd.Alteration
	if a.Has("CODEPAGE") {
		alt.CodePage = codePage(a)
	}
	for k, p := range map[string]**int64{"RATE": &alt.Rate, "ANONRATE": &alt.AnonRate, "TOTALRATE": &alt.TotalRate} {
		if a.Has(k) {
			n := a.Int(k)
			*p = &n
		}
	}
	// CERT= and KEY= read the files again (a renewed certificate); TLS
	// turned on without them takes the stack's own.
	if a.Has("CERT") || a.Has("KEY") || mode != ftpd.TLSNo && st.Cert == nil {
		c, ok := s.certFor(a, out)
		if !ok {
			return
		}
		alt.Cert = c
	}
	if a.Has("TLS") {
		alt.TLS = &mode
	}
	if a.Has("TLSREUSE") {
		opt := !a.Bool("TLSREUSE")
		alt.ReuseOptional = &opt
	}
	alt.AnonClear = a.BoolIf("ANONCLEAR")
	alt.CCC = a.BoolIf("CCC")
	if a.Has("COUNT") {
		n := int(a.Int("COUNT"))
		alt.Count = &n
	}
	if a.Has("TIMEOUT") {
		d := time.Duration(a.Int("TIMEOUT")) * time.Second
		alt.Timeout = &d
	}
	if a.Has("PASVADDR") {
		p := a.Addr("PASVADDR")
		if p.IsUnspecified() {
			p = netip.Addr{}
		}
		alt.PasvAddr = &p
	}
	alt.Active = a.BoolIf("ACTIVE")
	if a.Has("ANONYMOUS") {
		an, _ := ftpd.ParseAnonymous(a.Str("ANONYMOUS"))
		alt.Anonymous = &an
	}
	alt.Banner = a.StrIf("BANNER")
	if a.Has("PROXYPEERS") {
		p := addrList(a, "PROXYPEERS")
		alt.ProxyPeers = &p
	}
	if a.Has("PASVWAIT") {
		w := time.Duration(a.Int("PASVWAIT")) * time.Second
		alt.PasvWait = &w
	}
	if a.Has("PERCLIENT") || a.Has("PREFIX6") || a.Has("PREFIX4") || a.Has("LOGINTIME") || a.Has("LOCKOUT") {
		p := f.d.Stats().Guard
		if a.Has("PERCLIENT") {
			p.PerAddr = int(a.Int("PERCLIENT"))
		}
		if a.Has("PREFIX6") {
			p.Prefix6 = int(a.Int("PREFIX6"))
		}
		if a.Has("PREFIX4") {
			p.Prefix4 = int(a.Int("PREFIX4"))
		}
		if a.Has("LOGINTIME") {
			p.LoginTime = time.Duration(a.Int("LOGINTIME")) * time.Second
		}
		setLockout(&p, a)
		alt.Guard = &p
	}
	var changes []string
	for _, o := range req.Spec.Operands {
		if o.Key != "ID" && a.Has(o.Key) {
			changes = append(changes, o.Key)
		}
	}
	if err := f.d.Alter(alt); err != nil {
		out.Say(ftpdErr(id, err))
		return
	}
	out.Say(msgcat.IPN472I(id, strings.Join(changes, ", ")))
	if a.Has("TLS") || alt.Cert != nil {
		st := f.d.Stats()
		sayTLS(id, st.TLS, st.Cert, out)
	}
}

// stopFTPD is STOP FTPD=id (stop accepting clients) and STOP
// FTPD=id,SESSION=n (end one session).
func (s *System) stopFTPD(req *command.Request, out command.Out) {
	a := req.Args
	id := a.Str("FTPD")
	f, ok := s.ftpds[id]
	if !ok {
		out.Say(msgcat.IPN443E(id))
		return
	}
	if a.Has("SESSION") {
		n := uint64(a.Int("SESSION"))
		if !f.d.EndSession(n) {
			out.Say(msgcat.IPN478E(id, n))
			return
		}
		out.Say(msgcat.IPN477I(n, id))
		return
	}
	if err := f.d.Pause(); err != nil {
		out.Say(msgcat.IPN476E(id))
		return
	}
	out.Say(msgcat.IPN474I(id, f.d.Stats().Sessions))
}

// startFTPD is START FTPD=id after STOP FTPD=id.
func (s *System) startFTPD(req *command.Request, out command.Out) {
	id := req.Args.Str("FTPD")
	f, ok := s.ftpds[id]
	if !ok {
		out.Say(msgcat.IPN443E(id))
		return
	}
	if err := f.d.Resume(); err != nil {
		out.Say(ftpdErr(id, err))
		return
	}
	out.Say(msgcat.IPN475I(id, f.d.Addr().String()))
}

func (s *System) deleteFTPD(ctx context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("ID")
	f, ok := s.ftpds[id]
	if !ok {
		out.Say(msgcat.IPN443E(id))
		return
	}
	n := f.d.Stats().Sessions
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.d.Shutdown(sctx)
	delete(s.ftpds, id)
	s.Ports.RemoveData(id)
	out.Say(msgcat.IPN441I(id, n))
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

func (s *System) queryFTPDs(_ context.Context, req *command.Request, out command.Out) {
	ids := make([]string, 0, len(s.ftpds))
	for id := range s.ftpds {
		if !req.Args.Has("ID") || id == req.Args.Str("ID") {
			ids = append(ids, id)
		}
	}
	if req.Args.Has("ID") && len(ids) == 0 {
		out.Say(msgcat.IPN443E(req.Args.Str("ID")))
		return
	}
	sort.Strings(ids)
	for _, id := range ids {
		s.sayFTPD(s.ftpds[id], out)
	}
	out.Say(msgcat.IPN452I(len(ids)))
}

func (s *System) sayFTPD(f *ftpDaemon, out command.Out) {
	st := f.d.Stats()
	state := "ACTIVE"
	switch {
	case !st.Running:
		state = "ENDED"
	case st.Paused:
		state = "STOPPED"
	case st.FaultDead:
		state = "FAILED"
	case st.Fault != "":
		state = "FAILING"
	}
	out.Say(msgcat.IPN447I(st.ID, state, st.Addr.String(), st.Sessions, st.Count, st.SessionsTotal, st.Refused))
	if st.Fault != "" {
		out.Say(msgcat.IPN454W(st.Fault))
	}
	out.Say(msgcat.IPN448I(st.Transfers, st.TransfersFailed, st.Aborts, st.FilesIn, st.FilesOut, st.BytesIn, st.BytesOut))
	p := st.DataPorts
	pool := "DATAPORTS"
	if f.pool == nil {
		pool = "PORTRANGE"
	}
	out.Say(msgcat.IPN449I(p.Low, p.High, pool, p.Model.String(), p.InUse, p.Blocked, p.TimeWaitTuples,
		st.PasvRequests, st.PasvKept, st.PasvWaited, st.PasvExhausted, int(st.PasvWait/time.Second)))
	pasv := "-"
	if st.PasvAddr.IsValid() {
		pasv = st.PasvAddr.String()
	}
	if len(st.ProxyPeers) > 0 {
		var ps []string
		for _, p := range st.ProxyPeers {
			ps = append(ps, p.String())
		}
		out.Say(msgcat.IPN481I(strings.Join(ps, ", ")))
	}
	out.Say(msgcat.IPN450I(st.Logins, st.FailedLogins, st.Lockouts, st.IdleTimeouts, st.LoginTimeouts, pasv, yesNo(st.Active), st.Anonymous.String(), st.CodePage))
	if st.Rate > 0 || st.AnonRate > 0 || st.TotalRate > 0 {
		out.Say(msgcat.IPN482I(rateText(st.Rate), rateText(st.AnonRate), rateText(st.TotalRate)))
	}
	if st.TLS != ftpd.TLSNo {
		out.Say(msgcat.IPN422I(st.TLS.String(), yesNo(!st.ReuseOptional), yesNo(st.AnonClear), yesNo(st.CCC),
			st.TLSSessions, st.TLSFailed, st.DataTLSFailed, st.ReuseRefused))
		if st.Cert != nil {
			out.Say(msgcat.IPN423I(certLine(st.Cert)))
		}
	}
	g := st.Guard
	out.Say(msgcat.IPN453I(g.PerAddr, g.LoginTime, g.Failures, g.Window, g.LockTime,
		st.GuardStats.Refused, st.GuardStats.Locked, st.GuardStats.Lockouts))
	for _, ss := range f.d.Sessions() {
		user := ss.User
		if user == "" {
			user = "(not logged in)"
		}
		transfer := ""
		if ss.TLS != "" {
			transfer = "; " + ss.TLS
		}
		if ss.Transfer != "" {
			transfer += "; now " + ss.Transfer
		}
		out.Say(msgcat.IPN451I(ss.ID, user, ss.Client.String(), ss.Since, ss.FilesIn, ss.FilesOut, ss.BytesIn, ss.BytesOut, transfer))
	}
}

func (s *System) defineUser(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	console, _ := users.ParseConsole(a.Str("CONSOLE"))
	ftp := console == users.None
	if a.Has("FTP") {
		ftp = a.Bool("FTP")
	}
	u := users.User{ID: a.Str("ID"), Password: a.Str("PASSWORD"), Root: a.Str("ROOT"), ReadOnly: a.Bool("READONLY"), Console: console, FTP: ftp,
		SOCKS: a.Bool("SOCKS")}
	if err := s.Users.Define(u); err != nil {
		out.Say(registryErr(err, "ID", u.ID))
		return
	}
	info, _ := s.Users.Get(u.ID)
	out.Say(msgcat.IPN455I(info.ID, info.Root, yesNo(info.ReadOnly), info.Console.String(), yesNo(info.FTP), yesNo(info.SOCKS)))
	sayNotServices(a, info.ID, out)
}

// sayNotServices warns of DEFINE and ALTER USER's operands for the
// product's services this stack does not have.
func sayNotServices(a command.Args, id string, out command.Out) {
	for _, k := range [][2]string{{"TELNET", "TN3270 service"}, {"WEB", "web logon (its HTTP daemon serves without one)"}, {"LPR", "print service"}} {
		if a.Has(k[0]) {
			out.Say(msgcat.IPN665W(id, k[0], yesNo(a.Bool(k[0])), k[1]))
		}
	}
}

// alterUser is ALTER USER: the operands given, all or nothing; with
// ENDSESSIONS=YES the user's FTP sessions end.
func (s *System) alterUser(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	id := a.Str("ID")
	c := users.Change{Password: a.StrIf("PASSWORD"), Root: a.StrIf("ROOT"), ReadOnly: a.BoolIf("READONLY"), FTP: a.BoolIf("FTP"), SOCKS: a.BoolIf("SOCKS")}
	if a.Has("CONSOLE") {
		con, _ := users.ParseConsole(a.Str("CONSOLE"))
		c.Console = &con
	}
	info, err := s.Users.Alter(id, c)
	if err != nil {
		out.Say(registryErr(err, "ID", id))
		return
	}
	ended := 0
	if a.Bool("ENDSESSIONS") {
		for _, f := range s.ftpds {
			for _, ss := range f.d.Sessions() {
				if strings.EqualFold(ss.User, info.ID) && f.d.EndSession(ss.ID) {
					ended++
				}
			}
		}
	}
	out.Say(msgcat.IPN479I(info.ID, info.Root, yesNo(info.ReadOnly), info.Console.String(), yesNo(info.FTP), yesNo(info.SOCKS), ended))
	sayNotServices(a, info.ID, out)
}

func (s *System) deleteUser(_ context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("ID")
	if err := s.Users.Delete(id); err != nil {
		out.Say(registryErr(err, "ID", id))
		return
	}
	out.Say(msgcat.IPN456I(id))
}

func (s *System) queryUsers(_ context.Context, _ *command.Request, out command.Out) {
	us := s.Users.List()
	out.Say(msgcat.IPN460I())
	for _, u := range us {
		out.Say(msgcat.IPN461I(u.ID, u.Root, yesNo(u.ReadOnly), u.Console.String(), yesNo(u.FTP), yesNo(u.SOCKS)))
	}
	out.Say(msgcat.IPN462I(len(us)))
}

func (s *System) defineFile(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	dir := a.Str("DLBL")
	if !filepath.IsAbs(dir) && s.DataDir != "" {
		dir = filepath.Join(s.DataDir, dir)
	}
	f := ftpd.File{Public: a.Str("PUBLIC"), Dir: dir, ReadOnly: a.Bool("READONLY")}
	removed, err := s.Files.Define(f)
	if err != nil {
		out.Say(registryErr(err, "PUBLIC", f.Public))
		return
	}
	out.Say(msgcat.IPN264I(a.Str("DLBL"))) // the DLBL as given, as the product prints it; QUERY FILES shows the directory
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		out.Say(msgcat.IPN258W(strings.ToUpper(f.Public), filepath.Clean(dir)))
	}
	if removed > 0 {
		out.Say(msgcat.IPN471I(strings.ToUpper(f.Public), removed))
	}
}

func (s *System) deleteFile(_ context.Context, req *command.Request, out command.Out) {
	name := req.Args.Str("PUBLIC")
	if err := s.Files.Delete(name); err != nil {
		out.Say(registryErr(err, "PUBLIC", name))
		return
	}
	out.Say(msgcat.IPN468I(name))
}

func (s *System) queryFiles(_ context.Context, _ *command.Request, out command.Out) {
	fs := s.Files.List()
	out.Say(msgcat.IPN465I())
	for _, f := range fs {
		access := "READ/WRITE"
		if f.ReadOnly {
			access = "READ ONLY"
		}
		out.Say(msgcat.IPN466I(f.Public, access, f.Dir))
	}
	out.Say(msgcat.IPN467I(len(fs)))
}

// setTimeWait applies SET TIMEWAIT= and MSL= to every pool; MSL= also sets
// the stack's own TCP TIME_WAIT to 2×MSL, for the connections that close
// from then on.
func (s *System) setTimeWait(req *command.Request, out command.Out) {
	a := req.Args
	model, msl, _ := s.Ports.Model()
	if a.Has("TIMEWAIT") {
		model = portrange.Tuple
		if a.Str("TIMEWAIT") == "STRICT" {
			model = portrange.Strict
		}
	}
	if a.Has("MSL") {
		msl = a.Get("MSL").(time.Duration)
		if err := s.Stack.SetTimeWait(2 * msl); err != nil {
			out.Say(msgcat.IPN998S(req.Spec.Key(), err.Error()))
			return
		}
	}
	s.Ports.SetModel(s.Clock(), model, msl, s.Stack.TimeWait())
	if model == portrange.Tuple {
		out.Say(msgcat.IPN125I(msl))
	} else {
		out.Say(msgcat.IPN126I(msl))
	}
}

// FTPDStats gives every FTP daemon's figures, by id.
func (s *System) FTPDStats() []ftpd.Stats {
	s.cmdMu.RLock()
	defer s.cmdMu.RUnlock()
	ids := make([]string, 0, len(s.ftpds))
	for id := range s.ftpds {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]ftpd.Stats, len(ids))
	for i, id := range ids {
		out[i] = s.ftpds[id].d.Stats()
	}
	return out
}

// closeFTPDs ends every FTP daemon (at shutdown).
func (s *System) closeFTPDs() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for id, f := range s.ftpds {
		f.d.Shutdown(ctx)
		delete(s.ftpds, id)
	}
}

// Drain lets the FTP daemons' running transfers finish before the stack
// ends: no daemon takes a new client from now on; it returns when no
// transfer runs or when ctx ends (the grace period, or a second signal),
// and says what was cut. The sessions themselves end at Close.
func (s *System) Drain(ctx context.Context, grace time.Duration) {
	s.cmdMu.Lock()
	ds := make([]*ftpd.Daemon, 0, len(s.ftpds))
	for _, f := range s.ftpds {
		ds = append(ds, f.d)
		f.d.Pause()
	}
	s.cmdMu.Unlock()
	// A transfer runs while its session says so, and then while its data
	// connection still sends what the daemon wrote (closed, its last bytes
	// and FIN not yet acknowledged): the stack must not end under it.
	running := func() int {
		n := 0
		for _, d := range ds {
			for _, si := range d.Sessions() {
				if si.Transfer != "" {
					n++
				}
			}
			for _, c := range s.Conns.Snapshot(conn.Filter{Owner: d.ID()}) {
				if c.Kind != conn.KindListener && (c.State == tcpstate.FinWait1 || c.State == tcpstate.Closing || c.State == tcpstate.LastAck) {
					n++
				}
			}
		}
		return n
	}
	n := running()
	if n == 0 {
		return
	}
	s.Broadcast(msgcat.IPN226I(n, grace))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for n > 0 {
		select {
		case <-ctx.Done():
			s.Broadcast(msgcat.IPN227W(n))
			return
		case <-tick.C:
			n = running()
		}
	}
	s.Broadcast(msgcat.IPN228I())
}

// codePage is CODEPAGE= (the table took a known one), or nil for the
// default.
func codePage(a command.Args) *ftptype.CodePage {
	cp, _ := a.Get("CODEPAGE").(*ftptype.CodePage)
	return cp
}

// rateText writes a rate for a display: "none", or bytes a second.
func rateText(n int64) string {
	if n <= 0 {
		return "none"
	}
	return msgcat.FormatNum(n) + " B/s"
}
