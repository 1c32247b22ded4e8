package ftpd

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"ipnstack/ftptype"
	"ipnstack/msgcat"
)

func (s *session) cmdACCT(string) end    { s.reply(rAcct); return goOn }
func (s *session) cmdALLO(string) end    { s.reply(rAllo); return goOn }
func (s *session) cmdNOOP(string) end    { s.reply(rNoop); return goOn }
func (s *session) cmdSYST(string) end    { s.reply(rSyst); return goOn }
func (s *session) cmdNotImpl(string) end { s.reply(rNotImpl, s.verb); return goOn }

func (s *session) cmdQUIT(string) end {
	s.reply(rQuit)
	return endWith(msgcat.IPN403IQuit)
}

// cmdABOR runs only when no transfer is in flight (dispatch handles the
// other case): it drops the data setup.
func (s *session) cmdABOR(string) end {
	s.closeData()
	s.reply(rAborNone)
	return goOn
}

func (s *session) cmdTYPE(arg string) end {
	f := strings.Fields(strings.ToUpper(arg))
	if len(f) == 0 {
		s.reply(rBadArg, "TYPE")
		return goOn
	}
	switch f[0] {
	case "A", "E":
		switch {
		case len(f) == 1 || len(f) == 2 && f[1] == "N":
			s.typ = typeA
			if f[0] == "E" {
				s.typ = typeE
			}
			s.reply(rTypeOK, f[0])
		case len(f) == 2 && (f[1] == "T" || f[1] == "C"):
			s.reply(rTypeBad, f[0]+" "+f[1])
		default:
			s.reply(rBadArg, "TYPE")
		}
	case "I":
		if len(f) != 1 {
			s.reply(rBadArg, "TYPE")
			return goOn
		}
		s.typ = typeI
		s.reply(rTypeOK, "I")
	case "L":
		if len(f) != 2 {
			s.reply(rBadArg, "TYPE")
			return goOn
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			s.reply(rBadArg, "TYPE")
		} else if f[1] != "8" {
			s.reply(rTypeBad, "L "+f[1])
		} else {
			s.typ = typeI
			s.reply(rTypeOK, "L 8")
		}
	default:
		if len(f[0]) == 1 && len(f) == 1 {
			s.reply(rTypeBad, f[0])
		} else {
			s.reply(rBadArg, "TYPE")
		}
	}
	return goOn
}

func (s *session) cmdMODE(arg string) end {
	switch m := strings.ToUpper(arg); m {
	case "S":
		s.reply(rModeOK)
	case "B", "C", "Z":
		s.reply(rModeBad, m)
	default:
		s.reply(rBadArg, "MODE")
	}
	return goOn
}

func (s *session) cmdSTRU(arg string) end {
	switch st := strings.ToUpper(arg); st {
	case "F":
		s.reply(rStruOK)
	case "R", "P":
		s.reply(rStruBad, st)
	default:
		s.reply(rBadArg, "STRU")
	}
	return goOn
}

func (s *session) cmdREST(arg string) end {
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n < 0 {
		s.reply(rBadArg, "REST")
		return goOn
	}
	s.rest = n
	s.reply(rRest, n)
	return goOn
}

func (s *session) cmdPWD(string) end {
	s.reply(rPwd, quotePath(s.cwd))
	return goOn
}

func (s *session) changeDir(arg string, ok replyID) {
	l, err := s.resolve(arg)
	if err != nil {
		s.replyErr(err)
		return
	}
	dir, err := isDirLoc(l)
	if err != nil {
		s.replyErr(err)
		return
	}
	if !dir {
		s.reply(rNotDir, l.vpath)
		return
	}
	s.cwd = l.vpath
	s.reply(ok, l.vpath)
}

func (s *session) cmdCWD(arg string) end  { s.changeDir(arg, rCwd); return goOn }
func (s *session) cmdCDUP(string) end     { s.changeDir("..", rCdup); return goOn }
func (s *session) cmdMKD(arg string) end  { s.changeTree("MKD", arg); return goOn }
func (s *session) cmdRMD(arg string) end  { s.changeTree("RMD", arg); return goOn }
func (s *session) cmdDELE(arg string) end { s.changeTree("DELE", arg); return goOn }
func (s *session) cmdRNFR(arg string) end { s.changeTree("RNFR", arg); return goOn }

// writable resolves a path that a command will change and checks the
// session may; it replies itself on refusal.
func (s *session) writable(arg string, create bool) (loc, bool) {
	if vp, top := s.inTop(arg); top {
		s.reply(rRootRO, vp)
		return loc{}, false
	}
	l, err := s.resolve(arg)
	if err != nil {
		s.replyErr(err)
		return l, false
	}
	if l.top || l.atPublic(s.root) {
		s.reply(rRootRO, l.vpath)
		return l, false
	}
	rt := s.rightsAt(l)
	switch {
	case rt.write, rt.createNew && create:
		return l, true
	case rt.createNew:
		s.reply(rDenied, l.vpath)
	default:
		s.reply(rReadOnly, l.vpath)
	}
	return l, false
}

// changeTree runs MKD, RMD, DELE and RNFR.
func (s *session) changeTree(verb, arg string) {
	l, ok := s.writable(arg, verb == "MKD")
	if !ok {
		return
	}
	r, err := l.openBase()
	if err != nil {
		s.replyErr(err)
		return
	}
	defer r.Close()
	if verb == "MKD" {
		if err := r.Mkdir(l.rel, 0o755); err != nil {
			s.replyErr(l.fail(err))
			return
		}
		s.reply(rMkd, quotePath(l.vpath))
		return
	}
	fi, err := r.Lstat(l.rel)
	if err != nil {
		s.replyErr(l.fail(err))
		return
	}
	switch verb {
	case "RMD":
		if !fi.IsDir() {
			s.reply(rNotDir, l.vpath)
			return
		}
		err := r.Remove(l.rel)
		if errors.Is(err, fs.ErrExist) {
			// Uploads a crash cut short do not keep a directory that
			// lists empty; a running upload does.
			s.d.files.clearStale(r, l.rel, l.hostPath(l.rel))
			err = r.Remove(l.rel)
		}
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				s.reply(rNotEmpty, l.vpath)
			} else {
				s.replyErr(l.fail(err))
			}
			return
		}
		s.reply(rRmd, l.vpath)
	case "DELE":
		if fi.IsDir() {
			s.reply(rNotFile, l.vpath)
			return
		}
		if err := r.Remove(l.rel); err != nil {
			s.replyErr(l.fail(err))
			return
		}
		s.reply(rDele, l.vpath)
	case "RNFR":
		s.rnfr = &l
		s.reply(rRnfr, l.vpath)
	}
}

func (s *session) cmdRNTO(arg string) end {
	from := s.lastRnfr
	if from == nil {
		s.reply(rNeedRnfr)
		return goOn
	}
	to, ok := s.writable(arg, false)
	if !ok {
		return goOn
	}
	if to.file.Public != from.file.Public || to.base != from.base {
		s.reply(rCrossRename, to.vpath)
		return goOn
	}
	r, err := to.openBase()
	if err != nil {
		s.replyErr(err)
		return goOn
	}
	defer r.Close()
	if err := r.Rename(from.rel, to.rel); err != nil {
		s.replyErr(to.fail(err))
		return goOn
	}
	s.reply(rRnto, to.vpath)
	return goOn
}

// statArg resolves arg and stats what it names.
func (s *session) statArg(arg string) (loc, entry, error) {
	l, err := s.resolve(arg)
	if err != nil {
		return l, entry{}, err
	}
	e, err := statLoc(s.d.files, l)
	return l, e, err
}

// statFile resolves a plain file for SIZE and MDTM.
func (s *session) statFile(arg string) (entry, bool) {
	l, e, err := s.statArg(arg)
	if err != nil {
		s.replyErr(err)
		return entry{}, false
	}
	if e.dir {
		s.reply(rNotFile, l.vpath)
		return entry{}, false
	}
	return e, true
}

func (s *session) cmdSIZE(arg string) end {
	if s.typ != typeI {
		s.reply(rSizeType, s.typ.String())
		return goOn
	}
	if e, ok := s.statFile(arg); ok {
		s.reply(rSize, e.size)
	}
	return goOn
}

func (s *session) cmdMDTM(arg string) end {
	if e, ok := s.statFile(arg); ok {
		s.reply(rMdtm, e.mtime.UTC().Format("20060102150405"))
	}
	return goOn
}

// listArg drops ls options (-l, -la...) from a LIST or NLST argument.
func listArg(arg string) string {
	for strings.HasPrefix(arg, "-") {
		_, rest, _ := strings.Cut(arg, " ")
		arg = strings.TrimLeft(rest, " ")
	}
	if arg == "" {
		return "."
	}
	return arg
}

// listing gives the entries a LIST, NLST or STAT shows for arg, whether
// arg named a directory, and what NLST writes before each name. A last
// path element with wildcards (*, ? or [...]) that names no file itself
// lists the entries of its directory that it matches, as vsftpd does and
// a shell would (a leading * or ? matches no name that begins with a dot);
// the directory must be the user's to list, as any listing.
func (s *session) listing(arg string) (loc, []entry, bool, string, error) {
	l, e, err := s.statArg(arg)
	if err != nil {
		dir, pat := path.Split(arg)
		if !strings.ContainsAny(pat, "*?[") {
			return l, nil, false, "", err
		}
		if _, perr := path.Match(pat, ""); perr != nil {
			return l, nil, false, "", err
		}
		dl, de, derr := s.statArg(cmp.Or(strings.TrimSuffix(dir, "/"), dir, "."))
		if derr != nil || !de.dir {
			return l, nil, false, "", err
		}
		all, lerr := listDir(s.d.files, dl)
		if lerr != nil {
			return dl, nil, false, "", lerr
		}
		var es []entry
		for _, x := range all {
			if ok, _ := path.Match(pat, x.name); ok && (x.name[0] != '.' || pat[0] == '.') {
				es = append(es, x)
			}
		}
		return dl, es, true, dir, nil
	}
	if !e.dir {
		return l, []entry{e}, false, "", nil
	}
	es, err := listDir(s.d.files, l)
	return l, es, true, "", err
}

func (s *session) listFailed(arg string, err error) {
	var pe *pathError
	reason := "failed"
	if errors.As(err, &pe) {
		reason = strings.TrimPrefix(template(replies[pe.reply].Text), "<path>: ")
	}
	s.reply(rListFailed, visiblePath(s.cwd, arg), reason)
}

// textListing sends lines (LF-separated) as TYPE A, or in EBCDIC in TYPE E.
func (s *session) textListing(verb, what string, text []byte) {
	t := typeA
	if s.typ == typeE {
		t = typeE
	}
	data := ftptype.ConvertAllCP(t, true, text, s.codePage())
	s.startTransfer(&xferJob{verb: verb, what: what, mode: t,
		body: sendBytes(data), finish: func(bool) error { return nil }})
}

func (s *session) cmdLIST(arg string) end {
	arg = listArg(arg)
	_, es, _, _, err := s.listing(arg)
	if err != nil {
		s.listFailed(arg, err)
		return goOn
	}
	now := s.d.config().Clock()
	var b []byte
	for _, e := range es {
		b = appendLIST(b, e, now)
		b = append(b, '\n')
	}
	s.textListing("LIST", "file list", b)
	return goOn
}

func (s *session) cmdNLST(arg string) end {
	arg = listArg(arg)
	_, es, dir, prefix, err := s.listing(arg)
	if err != nil {
		s.listFailed(arg, err)
		return goOn
	}
	var b []byte
	for _, e := range es {
		if dir {
			b = append(b, prefix...) // the pattern's directory, as given
			b = append(b, e.name...)
		} else {
			b = append(b, arg...)
		}
		b = append(b, '\n')
	}
	s.textListing("NLST", "name list", b)
	return goOn
}

func (s *session) cmdMLSD(arg string) end {
	if arg == "" {
		arg = "."
	}
	l, self, err := s.statArg(arg)
	if err != nil {
		s.replyErr(err)
		return goOn
	}
	if !self.dir {
		s.reply(rMlsdNotDir, l.vpath)
		return goOn
	}
	es, err := listDir(s.d.files, l)
	if err != nil {
		s.replyErr(err)
		return goOn
	}
	b := appendFacts(nil, self, "cdir", s.facts, s.rightsAt(l), ".")
	b = append(b, '\r', '\n')
	for _, e := range es {
		el := l
		if l.top {
			el, _ = s.resolve("/" + e.name)
		}
		b = appendFacts(b, e, "", s.facts, s.rightsAt(el), e.name)
		b = append(b, '\r', '\n')
	}
	s.startTransfer(&xferJob{verb: "MLSD", what: "MLSD " + l.vpath, mode: typeA,
		body: sendBytes(b), finish: func(bool) error { return nil }})
	return goOn
}

func (s *session) cmdMLST(arg string) end {
	if arg == "" {
		arg = "."
	}
	l, e, err := s.statArg(arg)
	if err != nil {
		s.replyErr(err)
		return goOn
	}
	line := string(appendFacts(nil, e, "", s.facts, s.rightsAt(l), l.vpath))
	s.replyLines(rMlst, []string{line}, l.vpath)
	return goOn
}

func (s *session) cmdSTAT(arg string) end {
	if arg == "" {
		s.replyLines(rStat, s.statusLines(), s.d.config().ID)
		return goOn
	}
	arg = listArg(arg)
	l, es, _, _, err := s.listing(arg)
	if err != nil {
		s.replyErr(err)
		return goOn
	}
	now := s.d.config().Clock()
	lines := make([]string, 0, len(es))
	for _, e := range es {
		lines = append(lines, string(appendLIST(nil, e, now)))
	}
	s.replyLines(rStatPath, lines, l.vpath)
	return goOn
}

func (s *session) statusLines() []string {
	data := "none"
	switch {
	case s.pasv != nil:
		data = "passive, port " + strconv.Itoa(int(s.pasv.port))
	case s.active.IsValid():
		data = "active, to " + s.active.String()
	}
	if s.epsvAll {
		data += " (EPSV ALL)"
	}
	return []string{
		"Connected to " + s.local.String() + " from " + s.peer.String(),
		"Logged in as " + s.userName + ", directory " + s.cwd,
		"TYPE " + s.typ.String() + ", STRU F, MODE S; data connection " + data,
		"Files in " + strconv.FormatInt(s.filesIn.Load(), 10) + " (" + strconv.FormatInt(s.bytesIn.Load(), 10) + " bytes), out " +
			strconv.FormatInt(s.filesOut.Load(), 10) + " (" + strconv.FormatInt(s.bytesOut.Load(), 10) + " bytes)",
		"Idle timeout " + strconv.FormatInt(int64(s.idle/time.Second), 10) + " seconds",
	}
}

func (s *session) cmdHELP(arg string) end {
	if arg == "" {
		vs := verbs(s.d.cmds)
		var lines []string
		for i := 0; i < len(vs); i += 8 {
			lines = append(lines, strings.Join(vs[i:min(i+8, len(vs))], " "))
		}
		s.replyLines(rHelp, lines)
		return goOn
	}
	v := strings.ToUpper(strings.TrimSpace(arg))
	if c, ok := s.d.cmds[v]; ok {
		s.reply(rHelpCmd, c.syntax)
		return goOn
	}
	s.reply(rHelpUnknown, v)
	return goOn
}

func (s *session) cmdFEAT(string) end {
	s.replyLines(rFeat, featLines(s.d.config().TLS, s.facts))
	return goOn
}

func (s *session) cmdOPTS(arg string) end {
	what, rest, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(what) {
	case "UTF8":
		if r := strings.ToUpper(strings.TrimSpace(rest)); r == "ON" || r == "OFF" || r == "" {
			s.reply(rOptsUTF8)
			return goOn
		}
	case "MLST":
		s.facts = parseFacts(strings.TrimSpace(rest))
		s.reply(rOptsMLST, factList(s.facts, false))
		return goOn
	}
	s.reply(rOptsBad, arg)
	return goOn
}

// SITE commands.
const minIdle = 30 * time.Second

// ftpTime reads YYYYMMDDHHMMSS (UTC), with optional fractions of a second.
func ftpTime(v string) (time.Time, bool) {
	whole, frac, _ := strings.Cut(v, ".")
	t, err := time.ParseInLocation("20060102150405", whole, time.UTC)
	if err != nil || len(whole) != 14 {
		return time.Time{}, false
	}
	if frac != "" {
		n, err := strconv.Atoi(frac)
		if err != nil || len(frac) > 9 {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		t = t.Add(time.Duration(n))
	}
	return t, true
}

// cmdMFMT sets a file's modification time (draft-somers-ftp-mfxx).
func (s *session) cmdMFMT(arg string) end {
	ts, path, _ := strings.Cut(arg, " ")
	t, ok := ftpTime(ts)
	if !ok || strings.TrimSpace(path) == "" {
		s.reply(rBadTime, "MFMT")
		return goOn
	}
	if l, ok := s.setTime(strings.TrimSpace(path), t); ok {
		s.reply(rMfmt, t.UTC().Format("20060102150405"), l.vpath)
	}
	return goOn
}

// siteUtime is SITE UTIME in its two forms: "YYYYMMDDHHMMSS path", and
// "path atime mtime ctime UTC" (the path may hold blanks).
func (s *session) siteUtime(rest string) {
	var path string
	var t time.Time
	ok := false
	if f := strings.Fields(rest); len(f) >= 5 && strings.EqualFold(f[len(f)-1], "UTC") {
		t, ok = ftpTime(f[len(f)-3])
		// The path is what stands before the last four fields.
		p := strings.TrimRight(rest, " ")
		for i := 0; i < 4; i++ {
			p = strings.TrimRight(p[:strings.LastIndex(p, " ")], " ")
		}
		path = p
	} else if ts, p, found := strings.Cut(rest, " "); found {
		t, ok = ftpTime(ts)
		path = strings.TrimSpace(p)
	}
	if !ok || path == "" {
		s.reply(rBadTime, "SITE UTIME")
		return
	}
	if l, ok := s.setTime(path, t); ok {
		s.reply(rSiteUtime, l.vpath, t.UTC().Format("20060102150405"))
	}
}

// setTime sets the modification (and access) time of a path the session
// may change; it replies itself on failure.
func (s *session) setTime(path string, t time.Time) (loc, bool) {
	return s.changeAt(path, func(r *os.Root, rel string) error { return r.Chtimes(rel, t, t) })
}

// changeAt runs change on a path the session may change (MFMT, SITE UTIME,
// SITE CHMOD), confined to the user's tree; it replies itself on failure.
func (s *session) changeAt(path string, change func(r *os.Root, rel string) error) (loc, bool) {
	l, ok := s.writable(path, false)
	if !ok {
		return l, false
	}
	r, err := l.openBase()
	if err != nil {
		s.replyErr(err)
		return l, false
	}
	defer r.Close()
	if err := change(r, l.rel); err != nil {
		s.replyErr(l.fail(err))
		return l, false
	}
	return l, true
}

// siteChmod is SITE CHMOD mode path: permission bits only.
func (s *session) siteChmod(rest string) {
	m, path, _ := strings.Cut(rest, " ")
	path = strings.TrimSpace(path)
	mode, err := strconv.ParseUint(m, 8, 32)
	if err != nil || mode > 0o777 || path == "" {
		s.reply(rBadMode)
		return
	}
	l, ok := s.changeAt(path, func(r *os.Root, rel string) error { return r.Chmod(rel, fs.FileMode(mode)) })
	if !ok {
		return
	}
	s.reply(rSiteChmod, l.vpath, fmt.Sprintf("%03o", mode))
}

func (s *session) cmdSITE(arg string) end {
	sub, rest, _ := strings.Cut(arg, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToUpper(sub) {
	case "HELP":
		s.replyLines(rSiteHelp, []string{"HELP            this list", "IDLE [seconds]  show or set this session's idle timeout",
			"UTIME YYYYMMDDHHMMSS path, or UTIME path atime mtime ctime UTC: set a modification time",
			"CHMOD mode path  set permission bits (octal, 000 to 777)",
			"CODEPAGE[=n]    show or set this session's EBCDIC code page of TYPE E (037, 1047, 1140)"})
	case "UTIME":
		s.siteUtime(rest)
	case "CHMOD":
		s.siteChmod(rest)
	case "IDLE":
		if rest == "" {
			s.reply(rSiteIdle, int64(s.idle/time.Second))
			return goOn
		}
		n, err := strconv.Atoi(rest)
		max := int64(s.d.config().Timeout / time.Second)
		if err != nil || n < int(minIdle/time.Second) || int64(n) > max {
			s.reply(rSiteIdleBad, int64(minIdle/time.Second), max)
			return goOn
		}
		s.idle = time.Duration(n) * time.Second
		s.reply(rSiteIdle, n)
	case "CODEPAGE", "CODEPAGE=":
		s.siteCodePage(rest)
	default:
		if k, v, ok := strings.Cut(sub, "="); ok && strings.EqualFold(k, "CODEPAGE") {
			s.siteCodePage(v) // SITE CODEPAGE=1047, as z/OS writes its SITE operands
			return goOn
		}
		if len(sub) > 16 {
			sub = sub[:16]
		}
		s.reply(rSiteUnknown, strings.ToUpper(sub))
	}
	return goOn
}

// siteCodePage shows or sets the session's code page of TYPE E.
func (s *session) siteCodePage(name string) {
	if name == "" {
		s.reply(rSiteCodePage, s.codePage().Name)
		return
	}
	cp, ok := ftptype.LookupCodePage(name)
	if !ok {
		var names []string
		for _, p := range ftptype.CodePages {
			names = append(names, p.Name)
		}
		s.reply(rSiteCodePageBad, strings.Join(names, ", "))
		return
	}
	s.cp = cp
	s.reply(rSiteCodePage, cp.Name)
}

// codePage is the session's code page of TYPE E: its own (SITE CODEPAGE),
// else its daemon's (CODEPAGE=).
func (s *session) codePage() *ftptype.CodePage {
	if s.cp != nil {
		return s.cp
	}
	return s.d.config().CodePage
}
