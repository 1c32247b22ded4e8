package ftpd

import "sort"

// argRule says whether a command takes an argument.
type argRule int

const (
	argOptional argRule = iota
	argRequired
	argNone
)

// command is one row of the command table: what HELP, FEAT and the
// compliance table of docs/ftp.md show, and the handler. A handler says
// whether the session ends after it, and why (goOn, or endWith a reason).
type command struct {
	name   string
	rfc    string
	syntax string
	notes  string
	login  bool // needs a logged-in user (530 before)
	arg    argRule
	run    func(*session, string) end
}

// commandList is the command table, in the order of docs/ftp.md.
func commandList() []command {
	return []command{
		{name: "USER", rfc: "959", syntax: "USER <user-id>", notes: "Ids match in any case. `anonymous` and `ftp` only with ANONYMOUS=READ or WRITE.",
			login: false, arg: argRequired, run: (*session).cmdUSER},
		{name: "PASS", rfc: "959", syntax: "PASS <password>", notes: "Argon2id-hashed passwords; a failure waits 1 s (only that session); the 3rd closes with 421 and IPN413W.",
			login: false, arg: argOptional, run: (*session).cmdPASS},
		{name: "ACCT", rfc: "959", syntax: "ACCT <account>", notes: "Accepted with 202: no accounts.",
			login: true, arg: argRequired, run: (*session).cmdACCT},
		{name: "CWD", rfc: "959", syntax: "CWD <path>", notes: "Confined to the user's root.",
			login: true, arg: argRequired, run: (*session).cmdCWD},
		{name: "XCWD", rfc: "775", syntax: "XCWD <path>", notes: "Same as CWD.",
			login: true, arg: argRequired, run: (*session).cmdCWD},
		{name: "CDUP", rfc: "959", syntax: "CDUP", notes: "Replies 200 as RFC 959 lists it; stops at the user's root.",
			login: true, arg: argNone, run: (*session).cmdCDUP},
		{name: "XCUP", rfc: "775", syntax: "XCUP", notes: "Same as CDUP.",
			login: true, arg: argNone, run: (*session).cmdCDUP},
		{name: "SMNT", rfc: "959", syntax: "SMNT <path>", notes: "Not implemented (502).",
			login: true, arg: argRequired, run: (*session).cmdNotImpl},
		{name: "REIN", rfc: "959", syntax: "REIN", notes: "Not implemented (502); use USER to log in again.",
			login: false, arg: argNone, run: (*session).cmdNotImpl},
		{name: "QUIT", rfc: "959", syntax: "QUIT", notes: "Waits for a transfer in flight, then 221.",
			login: false, arg: argNone, run: (*session).cmdQUIT},
		{name: "PORT", rfc: "959", syntax: "PORT <h1,h2,h3,h4,p1,p2>", notes: "Only to the client's own address and ports >= 1024 (RFC 2577); connects from the control port - 1; ACTIVE=NO refuses it (502).",
			login: true, arg: argRequired, run: (*session).cmdPORT},
		{name: "PASV", rfc: "959", syntax: "PASV", notes: "Port from the pool only (425 when dry, never outside it); address from PASVADDR= (NAT) or the control connection.",
			login: true, arg: argNone, run: (*session).cmdPASV},
		{name: "TYPE", rfc: "959", syntax: "TYPE <A [N] | E [N] | I | L 8>", notes: "A: CRLF on the wire, LF on disk. E: EBCDIC code page 037 on the wire. I and L 8: bytes as they are.",
			login: true, arg: argRequired, run: (*session).cmdTYPE},
		{name: "STRU", rfc: "959", syntax: "STRU F", notes: "F only; R and P give 504.",
			login: true, arg: argRequired, run: (*session).cmdSTRU},
		{name: "MODE", rfc: "959", syntax: "MODE S", notes: "S only; B, C and Z give 504.",
			login: true, arg: argRequired, run: (*session).cmdMODE},
		{name: "RETR", rfc: "959", syntax: "RETR <path>", notes: "Honours REST; sendfile for TYPE I on the host transport.",
			login: true, arg: argRequired, run: (*session).cmdRETR},
		{name: "STOR", rfc: "959", syntax: "STOR <path>", notes: "Written to a temporary file and renamed into place when complete; honours REST (resume).",
			login: true, arg: argRequired, run: (*session).cmdSTOR},
		{name: "STOU", rfc: "959", syntax: "STOU [<name>]", notes: "150 FILE: <name> (RFC 1123); never replaces a file.",
			login: true, arg: argOptional, run: (*session).cmdSTOU},
		{name: "APPE", rfc: "959", syntax: "APPE <path>", notes: "The whole new file is renamed into place, so a failed APPE keeps the old one.",
			login: true, arg: argRequired, run: (*session).cmdAPPE},
		{name: "ALLO", rfc: "959", syntax: "ALLO <n>", notes: "Accepted with 202.",
			login: true, arg: argOptional, run: (*session).cmdALLO},
		{name: "REST", rfc: "959,3659", syntax: "REST <offset>", notes: "Stream mode restart (REST STREAM); the offset counts bytes on disk in every TYPE.",
			login: true, arg: argRequired, run: (*session).cmdREST},
		{name: "RNFR", rfc: "959", syntax: "RNFR <path>", notes: "Must be followed at once by RNTO.",
			login: true, arg: argRequired, run: (*session).cmdRNFR},
		{name: "RNTO", rfc: "959", syntax: "RNTO <path>", notes: "Within one published directory.",
			login: true, arg: argRequired, run: (*session).cmdRNTO},
		{name: "ABOR", rfc: "959", syntax: "ABOR", notes: "Works during a transfer (426 then 226); Telnet IP and Synch before it are understood.",
			login: true, arg: argNone, run: (*session).cmdABOR},
		{name: "DELE", rfc: "959", syntax: "DELE <path>", notes: "",
			login: true, arg: argRequired, run: (*session).cmdDELE},
		{name: "RMD", rfc: "959", syntax: "RMD <path>", notes: "Empty directories only.",
			login: true, arg: argRequired, run: (*session).cmdRMD},
		{name: "XRMD", rfc: "775", syntax: "XRMD <path>", notes: "Same as RMD.",
			login: true, arg: argRequired, run: (*session).cmdRMD},
		{name: "MKD", rfc: "959", syntax: "MKD <path>", notes: "",
			login: true, arg: argRequired, run: (*session).cmdMKD},
		{name: "XMKD", rfc: "775", syntax: "XMKD <path>", notes: "Same as MKD.",
			login: true, arg: argRequired, run: (*session).cmdMKD},
		{name: "PWD", rfc: "959", syntax: "PWD", notes: "",
			login: true, arg: argNone, run: (*session).cmdPWD},
		{name: "XPWD", rfc: "775", syntax: "XPWD", notes: "Same as PWD.",
			login: true, arg: argNone, run: (*session).cmdPWD},
		{name: "LIST", rfc: "959", syntax: "LIST [<path>]", notes: "ls -l form; options such as -la are ignored; wildcards (*, ?, [...]) in the last path element list what they match, as vsftpd; TYPE E sends it in EBCDIC.",
			login: true, arg: argOptional, run: (*session).cmdLIST},
		{name: "NLST", rfc: "959", syntax: "NLST [<path>]", notes: "Names only; wildcards (*, ?, [...]) in the last path element, as vsftpd (mget of tnftp, ncftp and others).",
			login: true, arg: argOptional, run: (*session).cmdNLST},
		{name: "SITE", rfc: "959", syntax: "SITE <HELP | IDLE [seconds] | UTIME ... | CHMOD mode path>", notes: "SITE HELP, SITE IDLE; SITE UTIME `YYYYMMDDHHMMSS path` or `path atime mtime ctime UTC` (as lftp and FileZilla send it) sets the modification time; SITE CHMOD sets permission bits (000-777) within the user's rights.",
			login: true, arg: argRequired, run: (*session).cmdSITE},
		{name: "SYST", rfc: "959", syntax: "SYST", notes: "215 UNIX Type: L8, so clients parse LIST as ls -l.",
			login: false, arg: argNone, run: (*session).cmdSYST},
		{name: "STAT", rfc: "959", syntax: "STAT [<path>]", notes: "Works during a transfer (progress).",
			login: true, arg: argOptional, run: (*session).cmdSTAT},
		{name: "HELP", rfc: "959", syntax: "HELP [<command>]", notes: "",
			login: false, arg: argOptional, run: (*session).cmdHELP},
		{name: "NOOP", rfc: "959", syntax: "NOOP", notes: "",
			login: false, arg: argNone, run: (*session).cmdNOOP},
		{name: "FEAT", rfc: "2389", syntax: "FEAT", notes: "",
			login: false, arg: argNone, run: (*session).cmdFEAT},
		{name: "OPTS", rfc: "2389", syntax: "OPTS <UTF8 ON | MLST facts>", notes: "OPTS UTF8 ON/OFF (RFC 2640), OPTS MLST (RFC 3659).",
			login: false, arg: argRequired, run: (*session).cmdOPTS},
		{name: "EPRT", rfc: "2428", syntax: "EPRT |<proto>|<addr>|<port>|", notes: "Same checks as PORT; 522 for an unknown network protocol.",
			login: true, arg: argRequired, run: (*session).cmdEPRT},
		{name: "EPSV", rfc: "2428", syntax: "EPSV [1 | 2 | ALL]", notes: "EPSV ALL refuses PORT, EPRT and PASV afterwards (501); 522 for the other family.",
			login: true, arg: argOptional, run: (*session).cmdEPSV},
		{name: "SIZE", rfc: "3659", syntax: "SIZE <path>", notes: "TYPE I and L 8 only (550 in A and E, where the wire size differs).",
			login: true, arg: argRequired, run: (*session).cmdSIZE},
		{name: "MDTM", rfc: "3659", syntax: "MDTM <path>", notes: "UTC, YYYYMMDDHHMMSS.",
			login: true, arg: argRequired, run: (*session).cmdMDTM},
		{name: "MFMT", rfc: "draft-somers-ftp-mfxx", syntax: "MFMT <YYYYMMDDHHMMSS> <path>", notes: "Sets a file's modification time (UTC) within the user's rights; 213 Modify=...; path.",
			login: true, arg: argRequired, run: (*session).cmdMFMT},
		{name: "MLST", rfc: "3659", syntax: "MLST [<path>]", notes: "Facts type, size, modify, perm, unique.",
			login: true, arg: argOptional, run: (*session).cmdMLST},
		{name: "AUTH", rfc: "2228, 4217", syntax: "AUTH <TLS | TLS-C | SSL | TLS-P>", notes: "TLS 1.2 and 1.3 only. SSL and TLS-P, their historical names, also set PBSZ 0 and PROT P. Bytes the client sent in clear behind AUTH end the session (no command injection). 534 at TLS=NO; 503 once protected or after the login.",
			login: false, arg: argRequired, run: (*session).cmdAUTH},
		{name: "PBSZ", rfc: "2228, 4217", syntax: "PBSZ <size>", notes: "Only on a protected session (503 before AUTH); answered PBSZ=0 whatever the size.",
			login: false, arg: argRequired, run: (*session).cmdPBSZ},
		{name: "PROT", rfc: "2228, 4217", syntax: "PROT <C | P>", notes: "After PBSZ (503 before). P protects every data connection with TLS, whose session must resume the control connection's (TLSREUSE=YES, the default; 522 and IPN420W otherwise). S and E: 536. C after the login at TLS=REQUIRED: 534; a transfer with PROT C there: 521.",
			login: false, arg: argRequired, run: (*session).cmdPROT},
		{name: "CCC", rfc: "2228, 4217", syntax: "CCC", notes: "Refused (534) unless CCC=YES, and always at TLS=REQUIRED or IMPLICIT; 533 in clear. When allowed, both ends close TLS on the control connection after the 200; data connections keep their PROT.",
			login: true, arg: argNone, run: (*session).cmdCCC},
		{name: "MLSD", rfc: "3659", syntax: "MLSD [<path>]", notes: "Facts type, size, modify, perm, unique; 501 for a file.",
			login: true, arg: argOptional, run: (*session).cmdMLSD},
	}
}

// commandTable indexes the command list by verb.
func commandTable() map[string]*command {
	list := commandList()
	m := make(map[string]*command, len(list))
	for i := range list {
		m[list[i].name] = &list[i]
	}
	return m
}

// features are the lines of FEAT (RFC 2389), besides MLST which carries
// the session's selected facts and the TLS lines (tlsFeatures).
var features = []string{"EPRT", "EPSV", "MDTM", "MFMT", "PASV", "REST STREAM", "SIZE", "TVFS", "UTF8"}

// tlsFeatures are the FEAT lines of a daemon's TLS policy (RFC 4217): AUTH
// where it may be asked for, PBSZ and PROT wherever TLS is.
func tlsFeatures(m TLSMode) []string {
	switch m {
	case TLSNo:
		return nil
	case TLSImplicit:
		return []string{"PBSZ", "PROT"}
	}
	return []string{"AUTH TLS", "AUTH SSL", "PBSZ", "PROT"}
}

// featLines are the lines of FEAT at a daemon with TLS policy m, for a
// session showing the MLST facts f, sorted.
func featLines(m TLSMode, f int) []string {
	lines := append(append([]string{}, features...), tlsFeatures(m)...)
	lines = append(lines, "MLST "+factList(f, true))
	sortStrings(lines)
	return lines
}

// featureRows are the compliance rows of features that are not commands.
var featureRows = []struct{ name, rfc, notes string }{
	{"REST STREAM", "3659", "Announced in FEAT."},
	{"TVFS", "3659", "One tree of /-separated paths: the root lists the public names."},
	{"UTF8", "2640", "Paths are UTF-8; OPTS UTF8 ON is accepted."},
	{"MLST facts", "3659", "`type*;size*;modify*;perm*;unique*;` (all shown by default)."},
	{"Telnet IP/Synch", "959, 854", "IAC IP, IAC DM and option negotiation are removed from commands; ABOR sent as urgent data works."},
}

// verbs lists the commands in alphabetical order (HELP).
func verbs(m map[string]*command) []string {
	out := make([]string, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func sortStrings(s []string) { sort.Strings(s) }

// usesData says whether a command is a transfer command, which takes the
// session's data setup.
func usesData(verb string) bool {
	switch verb {
	case "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD":
		return true
	}
	return false
}
