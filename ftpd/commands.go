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
	login  bool
	arg    argRule
	run    func(*session, string) end
}

// commandList is the command table, in the order of docs/ftp.md.
func commandList() []command {
	return []command{
		{"USER", "959", "USER <user-id>", "Ids match in any case. `anonymous` and `ftp` only with ANONYMOUS=READ or WRITE.", false, argRequired, (*session).cmdUSER},
		{"PASS", "959", "PASS <password>", "Argon2id-hashed passwords; a failure waits 1 s (only that session); the 3rd closes with 421 and IPN413W.", false, argOptional, (*session).cmdPASS},
		{"ACCT", "959", "ACCT <account>", "Accepted with 202: no accounts.", true, argRequired, (*session).cmdACCT},
		{"CWD", "959", "CWD <path>", "Confined to the user's root.", true, argRequired, (*session).cmdCWD},
		{"XCWD", "775", "XCWD <path>", "Same as CWD.", true, argRequired, (*session).cmdCWD},
		{"CDUP", "959", "CDUP", "Replies 200 as RFC 959 lists it; stops at the user's root.", true, argNone, (*session).cmdCDUP},
		{"XCUP", "775", "XCUP", "Same as CDUP.", true, argNone, (*session).cmdCDUP},
		{"SMNT", "959", "SMNT <path>", "Not implemented (502).", true, argRequired, (*session).cmdNotImpl},
		{"REIN", "959", "REIN", "Not implemented (502); use USER to log in again.", false, argNone, (*session).cmdNotImpl},
		{"QUIT", "959", "QUIT", "Waits for a transfer in flight, then 221.", false, argNone, (*session).cmdQUIT},
		{"PORT", "959", "PORT <h1,h2,h3,h4,p1,p2>", "Only to the client's own address and ports >= 1024 (RFC 2577); connects from the control port - 1; ACTIVE=NO refuses it (502).", true, argRequired, (*session).cmdPORT},
		{"PASV", "959", "PASV", "Port from the pool only (425 when dry, never outside it); address from PASVADDR= (NAT) or the control connection.", true, argNone, (*session).cmdPASV},
		{"TYPE", "959", "TYPE <A [N] | E [N] | I | L 8>", "A: CRLF on the wire, LF on disk. E: EBCDIC code page 037 on the wire. I and L 8: bytes as they are.", true, argRequired, (*session).cmdTYPE},
		{"STRU", "959", "STRU F", "F only; R and P give 504.", true, argRequired, (*session).cmdSTRU},
		{"MODE", "959", "MODE S", "S only; B, C and Z give 504.", true, argRequired, (*session).cmdMODE},
		{"RETR", "959", "RETR <path>", "Honours REST; sendfile for TYPE I on the host transport.", true, argRequired, (*session).cmdRETR},
		{"STOR", "959", "STOR <path>", "Written to a temporary file and renamed into place when complete; honours REST (resume).", true, argRequired, (*session).cmdSTOR},
		{"STOU", "959", "STOU [<name>]", "150 FILE: <name> (RFC 1123); never replaces a file.", true, argOptional, (*session).cmdSTOU},
		{"APPE", "959", "APPE <path>", "The whole new file is renamed into place, so a failed APPE keeps the old one.", true, argRequired, (*session).cmdAPPE},
		{"ALLO", "959", "ALLO <n>", "Accepted with 202.", true, argOptional, (*session).cmdALLO},
		{"REST", "959,3659", "REST <offset>", "Stream mode restart (REST STREAM); the offset counts bytes on disk in every TYPE.", true, argRequired, (*session).cmdREST},
		{"RNFR", "959", "RNFR <path>", "Must be followed at once by RNTO.", true, argRequired, (*session).cmdRNFR},
		{"RNTO", "959", "RNTO <path>", "Within one published directory.", true, argRequired, (*session).cmdRNTO},
		{"ABOR", "959", "ABOR", "Works during a transfer (426 then 226); Telnet IP and Synch before it are understood.", true, argNone, (*session).cmdABOR},
		{"DELE", "959", "DELE <path>", "", true, argRequired, (*session).cmdDELE},
		{"RMD", "959", "RMD <path>", "Empty directories only.", true, argRequired, (*session).cmdRMD},
		{"XRMD", "775", "XRMD <path>", "Same as RMD.", true, argRequired, (*session).cmdRMD},
		{"MKD", "959", "MKD <path>", "", true, argRequired, (*session).cmdMKD},
		{"XMKD", "775", "XMKD <path>", "Same as MKD.", true, argRequired, (*session).cmdMKD},
		{"PWD", "959", "PWD", "", true, argNone, (*session).cmdPWD},
		{"XPWD", "775", "XPWD", "Same as PWD.", true, argNone, (*session).cmdPWD},
		{"LIST", "959", "LIST [<path>]", "ls -l form; options such as -la are ignored; TYPE E sends it in EBCDIC.", true, argOptional, (*session).cmdLIST},
		{"NLST", "959", "NLST [<path>]", "Names only.", true, argOptional, (*session).cmdNLST},
		{"SITE", "959", "SITE <HELP | IDLE [seconds] | UTIME ... | CHMOD mode path>", "SITE HELP, SITE IDLE; SITE UTIME `YYYYMMDDHHMMSS path` or `path atime mtime ctime UTC` (as lftp and FileZilla send it) sets the modification time; SITE CHMOD sets permission bits (000-777) within the user's rights.", true, argRequired, (*session).cmdSITE},
		{"SYST", "959", "SYST", "215 UNIX Type: L8, so clients parse LIST as ls -l.", false, argNone, (*session).cmdSYST},
		{"STAT", "959", "STAT [<path>]", "Works during a transfer (progress).", true, argOptional, (*session).cmdSTAT},
		{"HELP", "959", "HELP [<command>]", "", false, argOptional, (*session).cmdHELP},
		{"NOOP", "959", "NOOP", "", false, argNone, (*session).cmdNOOP},
		{"FEAT", "2389", "FEAT", "", false, argNone, (*session).cmdFEAT},
		{"OPTS", "2389", "OPTS <UTF8 ON | MLST facts>", "OPTS UTF8 ON/OFF (RFC 2640), OPTS MLST (RFC 3659).", false, argRequired, (*session).cmdOPTS},
		{"EPRT", "2428", "EPRT |<proto>|<addr>|<port>|", "Same checks as PORT; 522 for an unknown network protocol.", true, argRequired, (*session).cmdEPRT},
		{"EPSV", "2428", "EPSV [1 | 2 | ALL]", "EPSV ALL refuses PORT, EPRT and PASV afterwards (501); 522 for the other family.", true, argOptional, (*session).cmdEPSV},
		{"SIZE", "3659", "SIZE <path>", "TYPE I and L 8 only (550 in A and E, where the wire size differs).", true, argRequired, (*session).cmdSIZE},
		{"MDTM", "3659", "MDTM <path>", "UTC, YYYYMMDDHHMMSS.", true, argRequired, (*session).cmdMDTM},
		{"MFMT", "draft-somers-ftp-mfxx", "MFMT <YYYYMMDDHHMMSS> <path>", "Sets a file's modification time (UTC) within the user's rights; 213 Modify=...; path.", true, argRequired, (*session).cmdMFMT},
		{"MLST", "3659", "MLST [<path>]", "Facts type, size, modify, perm, unique.", true, argOptional, (*session).cmdMLST},
		{"AUTH", "2228, 4217", "AUTH <TLS | TLS-C | SSL | TLS-P>", "TLS 1.2 and 1.3 only. SSL and TLS-P, their historical names, also set PBSZ 0 and PROT P. Bytes the client sent in clear behind AUTH end the session (no command injection). 534 at TLS=NO; 503 once protected or after the login.", false, argRequired, (*session).cmdAUTH},
		{"PBSZ", "2228, 4217", "PBSZ <size>", "Only on a protected session (503 before AUTH); answered PBSZ=0 whatever the size.", false, argRequired, (*session).cmdPBSZ},
		{"PROT", "2228, 4217", "PROT <C | P>", "After PBSZ (503 before). P protects every data connection with TLS, whose session must resume the control connection's (TLSREUSE=YES, the default; 522 and IPN420W otherwise). S and E: 536. C after the login at TLS=REQUIRED: 534; a transfer with PROT C there: 521.", false, argRequired, (*session).cmdPROT},
		{"CCC", "2228, 4217", "CCC", "Refused (534) unless CCC=YES, and always at TLS=REQUIRED or IMPLICIT; 533 in clear. When allowed, both ends close TLS on the control connection after the 200; data connections keep their PROT.", true, argNone, (*session).cmdCCC},
		{"MLSD", "3659", "MLSD [<path>]", "Facts type, size, modify, perm, unique; 501 for a file.", true, argOptional, (*session).cmdMLSD},
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
