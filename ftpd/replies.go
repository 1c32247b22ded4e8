package ftpd

import (
	"strconv"
	"strings"
)

// replyID names one reply of the table.
type replyID int

// replyDef is one catalogued reply: its RFC code, its text with {name}
// inserts filled in order, and when it is sent. Multi-line replies use Text
// for the first line and End for the last.
type replyDef struct {
	Code int
	Text string
	End  string
	When string
}

// The replies. Their order is the order of docs/ftp.md.
const (
	rBanner replyID = iota
	rTooMany
	rIdle
	rShutdown
	rLockout
	rPerAddr
	rAddrLocked
	rLoginTime
	rUserOK
	rAnonOK
	rAnonRefused
	rLoggedIn
	rAnonLoggedIn
	rLoginFailed
	rNeedUser
	rAlreadyIn
	rNotLoggedIn
	rAcct
	rQuit
	rUnknown
	rLineTooLong
	rNeedArg
	rNoArg
	rBadArg
	rNotImpl
	rNoop
	rSyst
	rTypeOK
	rTypeBad
	rModeOK
	rModeBad
	rStruOK
	rStruBad
	rAllo
	rPwd
	rCwd
	rCdup
	rMkd
	rRmd
	rDele
	rRnfr
	rRnto
	rNeedRnfr
	rRest
	rRestBeyond
	rSize
	rSizeType
	rMdtm
	rNotFile
	rNotDir
	rNoSuch
	rExists
	rDenied
	rReadOnly
	rRootRO
	rEscape
	rNotEmpty
	rCrossRename
	rNameBad
	rFailed
	rListFailed
	rMlsdNotDir
	rStat
	rStatPath
	rStatXfer
	rHelp
	rHelpCmd
	rHelpUnknown
	rSiteHelp
	rSiteIdle
	rSiteIdleBad
	rSiteCodePage
	rSiteCodePageBad
	rSiteUnknown
	rMfmt
	rEndedByOperator
	rSiteUtime
	rSiteChmod
	rBadTime
	rBadMode
	rFeat
	rOptsUTF8
	rOptsMLST
	rOptsBad
	rMlst
	rPasv
	rEpsv
	rEpsvAll
	rProtoBad
	rAfterEpsvAll
	rPasvV6
	rPortV6
	rNoDataPort
	rPortOK
	rEprtOK
	rPortLow
	rPortForeign
	rActiveOff
	rNoDataSetup
	rDataTimeout
	rDataForeign
	rDataFailed
	rOpening
	rOpeningStou
	rXferOK
	rAborted
	rDataLost
	rAborOK
	rAborNone
	rLocalError
	rDiskFull
	rAuthOK
	rAuthOff
	rAuthMech
	rAuthAgain
	rAuthLoggedIn
	rTLSRequired
	rPbszOK
	rPbszNoTLS
	rProtOK
	rProtNoPbsz
	rProtLevel
	rProtUnknown
	rProtPolicy
	rCccOK
	rCccRefused
	rCccNoTLS
	rDataProt
	rDataTLS
	rDataReuse
	nReplies
)

// replies is the one table of reply texts.
var replies = [nReplies]replyDef{
	rBanner:      {220, "{banner}", "", "Greeting when a client connects (BANNER= of DEFINE FTPD)."},
	rTooMany:     {421, "Too many sessions (COUNT={count}): try again later", "", "A client connects while COUNT sessions are served; the connection is closed (IPN412W)."},
	rIdle:        {421, "Idle for {seconds} seconds: closing control connection", "", "A session sent no command within TIMEOUT= (or its SITE IDLE)."},
	rShutdown:    {421, "Service shutting down: closing control connection", "", "DELETE FTPD or SHUTDOWN; a transfer in flight is aborted first and leaves nothing half-written."},
	rLockout:     {421, "Too many failed logins: closing control connection", "", "The third failed login of a session (IPN413W)."},
	rPerAddr:     {421, "Too many sessions from your address ({count}): try again later", "", "A client address that holds PERCLIENT= sessions connects again; the connection is closed."},
	rAddrLocked:  {421, "Your address is locked out after failed logins: try again later", "", "A client address that failed to log in LOCKOUT= times within the window connects or sends PASS; the connection is closed (IPN414W when the lockout starts)."},
	rLoginTime:   {421, "Not logged in within {seconds} seconds: closing control connection", "", "A session did not log in within LOGINTIME= of its connect; no command extends that time."},
	rUserOK:      {331, "Password required for {user}", "", "USER with a user id."},
	rAnonOK:      {331, "Anonymous login ok: send your e-mail address as password", "", "USER anonymous or ftp when ANONYMOUS=READ or WRITE."},
	rAnonRefused: {530, "Anonymous login is not allowed here", "", "USER anonymous or ftp when ANONYMOUS=NO."},
	rLoggedIn:    {230, "User {user} logged in", "", "PASS with the right password."},
	rAnonLoggedIn: {230, "Anonymous user logged in, {access} access", "",
		"PASS after USER anonymous; access is READ or WRITE."},
	rLoginFailed:     {530, "Login incorrect", "", "PASS with a wrong password or for an unknown user, after a delay of a second."},
	rNeedUser:        {503, "Send USER first", "", "PASS without USER before it."},
	rAlreadyIn:       {503, "Already logged in", "", "PASS when the session is logged in."},
	rNotLoggedIn:     {530, "Please log in with USER and PASS", "", "Any command that needs a login, before it."},
	rAcct:            {202, "ACCT not needed", "", "ACCT: accounts are not used."},
	rQuit:            {221, "Goodbye", "", "QUIT; the control connection is closed after any transfer in flight ends."},
	rUnknown:         {500, "Unknown command {verb}", "", "A verb no RFC this daemon follows defines."},
	rLineTooLong:     {500, "Command line too long", "", "A line longer than 4,112 bytes; it is ignored."},
	rNeedArg:         {501, "{verb} needs an argument", "", "A command sent without its required argument."},
	rNoArg:           {501, "{verb} takes no argument", "", "A command that takes none sent with one."},
	rBadArg:          {501, "Syntax error in the argument of {verb}", "", "An argument of the wrong form (PORT, EPRT, REST, TYPE L, MDTM...)."},
	rNotImpl:         {502, "{verb} is not implemented", "", "SMNT, REIN: defined by RFC 959, not offered."},
	rNoop:            {200, "NOOP ok", "", "NOOP."},
	rSyst:            {215, "UNIX Type: L8 Version: TCP/IP FOR VSE emulation (ipnstack)", "", "SYST: clients parse the first word to choose a listing parser, so it says UNIX; the rest names the system."},
	rTypeOK:          {200, "Type set to {type}", "", "TYPE A, A N, E, E N, I, L 8."},
	rTypeBad:         {504, "Type {type} is not implemented", "", "TYPE with a type or format this daemon does not offer (A T, A C, L 7, X...)."},
	rModeOK:          {200, "Mode set to S", "", "MODE S."},
	rModeBad:         {504, "Mode {mode} is not implemented: only S (stream)", "", "MODE B, C or Z."},
	rStruOK:          {200, "Structure set to F", "", "STRU F."},
	rStruBad:         {504, "Structure {stru} is not implemented: only F (file)", "", "STRU R or P."},
	rAllo:            {202, "ALLO not needed", "", "ALLO: space is not reserved in advance."},
	rPwd:             {257, "{qpath} is the current directory", "", "PWD; the path is in double quotes, a quote inside doubled (RFC 959)."},
	rCwd:             {250, "Directory changed to {path}", "", "CWD."},
	rCdup:            {200, "Directory changed to {path}", "", "CDUP (RFC 959 gives it 200)."},
	rMkd:             {257, "{qpath} created", "", "MKD."},
	rRmd:             {250, "Directory {path} removed", "", "RMD."},
	rDele:            {250, "File {path} deleted", "", "DELE."},
	rRnfr:            {350, "{path} exists: ready for RNTO", "", "RNFR of an existing file or directory."},
	rRnto:            {250, "Renamed to {path}", "", "RNTO after RNFR."},
	rNeedRnfr:        {503, "Send RNFR first", "", "RNTO without RNFR just before it."},
	rRest:            {350, "Restarting at {offset}: send RETR, STOR or APPE", "", "REST with a byte offset (RFC 3659 stream mode)."},
	rRestBeyond:      {554, "Restart position {offset} is beyond the end of the file ({size} bytes)", "", "RETR or STOR after REST past the file's end (RFC 3659)."},
	rSize:            {213, "{size}", "", "SIZE of a file (bytes on disk, TYPE I or L 8)."},
	rSizeType:        {550, "SIZE is not available in TYPE {type}: use TYPE I", "", "SIZE in TYPE A or E, where the size on the wire differs from the size on disk."},
	rMdtm:            {213, "{time}", "", "MDTM: the file's modification time in UTC, YYYYMMDDHHMMSS."},
	rNotFile:         {550, "{path}: not a plain file", "", "RETR, SIZE, MDTM, DELE of a directory."},
	rNotDir:          {550, "{path}: not a directory", "", "CWD, RMD to a file."},
	rNoSuch:          {550, "{path}: no such file or directory", "", "Any command naming what does not exist."},
	rExists:          {550, "{path}: already exists", "", "MKD of an existing name; an anonymous upload over an existing file."},
	rDenied:          {550, "{path}: permission denied", "", "The host refuses the operation, or the anonymous user may not do it."},
	rReadOnly:        {550, "{path}: read-only", "", "A write (STOR, APPE, STOU, DELE, MKD, RMD, RNFR, RNTO) by a read-only user or in a READONLY=YES file."},
	rRootRO:          {550, "{path}: the root directory lists the public names and cannot be changed", "", "MKD, RMD, DELE, RNFR or RNTO of a name directly under the virtual root."},
	rEscape:          {550, "{path}: leads outside the directories you may use", "", "A path, or a symbolic link on the host, that would leave the user's root or the published directory."},
	rNotEmpty:        {550, "{path}: directory not empty", "", "RMD of a directory that holds files."},
	rCrossRename:     {553, "{path}: cannot rename across public directories", "", "RNTO into another published directory than RNFR's."},
	rNameBad:         {553, "{path}: file name not allowed", "", "STOR, APPE or STOU to the virtual root, or a name the host refuses."},
	rFailed:          {550, "{path}: {reason}", "", "Another host error of a file command."},
	rListFailed:      {450, "{path}: cannot be listed: {reason}", "", "LIST or NLST of a path that does not exist or cannot be read (RFC 959 gives these 450)."},
	rMlsdNotDir:      {501, "{path}: not a directory", "", "MLSD of a file (RFC 3659)."},
	rStat:            {211, "FTP daemon {id} status:", "End of status", "STAT without argument: the session's state."},
	rStatPath:        {213, "Status of {path}:", "End of status", "STAT with a path: its listing on the control connection."},
	rStatXfer:        {213, "Transferring {path}: {bytes} bytes so far", "", "STAT during a transfer."},
	rHelp:            {214, "The following commands are recognized:", "Help OK", "HELP without argument."},
	rHelpCmd:         {214, "Syntax: {syntax}", "", "HELP with a command."},
	rHelpUnknown:     {501, "Unknown command {verb}", "", "HELP with a word that is no command."},
	rSiteHelp:        {214, "SITE commands:", "End of SITE help", "SITE HELP."},
	rSiteIdle:        {200, "Idle timeout set to {seconds} seconds", "", "SITE IDLE n; SITE IDLE alone shows the value."},
	rSiteIdleBad:     {501, "SITE IDLE takes seconds from {min} to {max}", "", "SITE IDLE outside 30 seconds to the daemon's TIMEOUT."},
	rSiteCodePage:    {200, "TYPE E speaks code page {page}", "", "SITE CODEPAGE=n (037, 1047 or 1140; IBM-1047 and CP1047 forms too); SITE CODEPAGE alone shows it."},
	rSiteCodePageBad: {501, "SITE CODEPAGE takes {pages}", "", "SITE CODEPAGE with a code page the daemon does not have."},
	rSiteUnknown:     {501, "SITE {what} not understood: SITE HELP lists the SITE commands", "", "SITE with an unknown subcommand."},
	rEndedByOperator: {421, "Session ended by the operator: closing control connection", "", "STOP FTPD=id,SESSION=n; a transfer in flight is aborted first and leaves nothing half-written."},
	rMfmt:            {213, "Modify={time}; {path}", "", "MFMT: the modification time was set (draft-somers-ftp-mfxx)."},
	rSiteUtime:       {200, "SITE UTIME: modification time of {path} set to {time}", "", "SITE UTIME in either of its forms."},
	rSiteChmod:       {200, "SITE CHMOD: mode of {path} set to {mode}", "", "SITE CHMOD within the user's rights."},
	rBadTime:         {501, "{what}: the time must be YYYYMMDDHHMMSS in UTC", "", "MFMT or SITE UTIME with a time it cannot read."},
	rBadMode:         {501, "SITE CHMOD: the mode must be octal, from 000 to 777", "", "SITE CHMOD with another mode (no setuid, setgid or sticky bits)."},
	rFeat:            {211, "Features:", "End", "FEAT (RFC 2389): one feature a line, each after a blank."},
	rOptsUTF8:        {200, "UTF8 mode is always on", "", "OPTS UTF8 ON (or OFF): paths are always UTF-8 (RFC 2640)."},
	rOptsMLST:        {200, "MLST OPTS {facts}", "", "OPTS MLST: the facts MLST and MLSD show from now on (RFC 3659)."},
	rOptsBad:         {501, "OPTS {what} not understood", "", "OPTS for another command or option."},
	rMlst:            {250, "Listing {path}", "End", "MLST: the facts of one file on the control connection (RFC 3659)."},
	rPasv:            {227, "Entering Passive Mode ({hostport})", "", "PASV: the address is PASVADDR= or the control connection's local address; the port comes from the data-port pool."},
	rEpsv:            {229, "Entering Extended Passive Mode (|||{port}|)", "", "EPSV (RFC 2428)."},
	rEpsvAll:         {200, "EPSV ALL ok: PORT, EPRT and PASV are refused from now on", "", "EPSV ALL (RFC 2428)."},
	rProtoBad:        {522, "Network protocol not supported, use ({protos})", "", "EPSV or EPRT with a network protocol other than the control connection's (RFC 2428)."},
	rAfterEpsvAll:    {501, "{verb} is refused after EPSV ALL", "", "PORT, EPRT or PASV after EPSV ALL."},
	rPasvV6:          {501, "PASV cannot describe an IPv6 address: use EPSV", "", "PASV on an IPv6 control connection without an IPv4 PASVADDR=."},
	rPortV6:          {501, "PORT cannot describe an IPv6 address: use EPRT", "", "PORT on an IPv6 control connection."},
	rNoDataPort:      {425, "No data port free in {low}-{high}: try again later", "", "PASV or EPSV when every port of the pool is leased or held in TIME_WAIT; counted, and IPN410W once per burst. The session goes on."},
	rPortOK:          {200, "PORT command successful", "", "PORT to the client's own address and a port of 1024 or above."},
	rEprtOK:          {200, "EPRT command successful", "", "EPRT likewise (RFC 2428)."},
	rPortLow:         {501, "Data port {port} refused: ports below 1024 are not allowed", "", "PORT or EPRT to a privileged port (bounce protection, RFC 2577)."},
	rPortForeign:     {501, "Data connection to {addr} refused: only {peer} is allowed", "", "PORT or EPRT to another address than the control connection's client (bounce protection, RFC 2577)."},
	rActiveOff:       {502, "Active mode is disabled here: use PASV or EPSV", "", "PORT or EPRT when ACTIVE=NO."},
	rNoDataSetup:     {425, "Send PASV, EPSV, PORT or EPRT first", "", "A transfer command without a data connection set up."},
	rDataTimeout:     {425, "No data connection within {seconds} seconds", "", "The client did not connect to the passive port in time; the port is given back."},
	rDataForeign:     {425, "Data connection from {addr} refused: not the control connection's address", "", "The passive port was reached from another address than the client's (the port is given back)."},
	rDataFailed:      {425, "Cannot open data connection: {reason}", "", "The active connection to the client failed, or the passive listener could not be opened."},
	rOpening:         {150, "Opening {type} mode data connection for {what}", "", "A transfer or listing starts."},
	rOpeningStou:     {150, "FILE: {name}", "", "STOU starts, naming the unique file (RFC 1123)."},
	rXferOK:          {226, "Transfer complete: {bytes} bytes", "", "A transfer or listing ended well; the data connection is closed."},
	rAborted:         {426, "Connection closed; transfer aborted", "", "ABOR during a transfer; an upload is discarded and the previous file kept."},
	rDataLost:        {426, "Data connection lost: {reason}", "", "The client closed or reset the data connection during a download, or an upload lost its connection; an upload is discarded."},
	rAborOK:          {226, "ABOR command successful", "", "ABOR, after the 426 of the transfer it ended."},
	rAborNone:        {225, "No transfer to abort", "", "ABOR with no transfer running."},
	rLocalError:      {451, "Local error: {reason}", "", "A host error while reading or writing a file; an upload is discarded."},
	rDiskFull:        {452, "Insufficient storage space: {reason}", "", "The host's file system is full; the upload is discarded and the session goes on."},
	rAuthOK:          {234, "AUTH {mech} OK: starting the TLS negotiation", "", "AUTH TLS (RFC 4217), or its older names TLS-C, SSL and TLS-P; the next bytes are the client's TLS handshake."},
	rAuthOff:         {534, "TLS is not offered at this daemon (TLS=NO)", "", "AUTH at a daemon defined with TLS=NO (RFC 2228: refused for policy reasons)."},
	rAuthMech:        {504, "AUTH {mech} is not supported: use AUTH TLS", "", "AUTH with a mechanism other than TLS, TLS-C, SSL or TLS-P."},
	rAuthAgain:       {503, "TLS is already on for this session", "", "AUTH on a session that is already protected (also every AUTH at a TLS=IMPLICIT daemon)."},
	rAuthLoggedIn:    {503, "AUTH must come before the login", "", "AUTH after PASS: log in again on a new session to protect it."},
	rTLSRequired:     {530, "This daemon requires TLS: send AUTH TLS before USER", "", "USER in clear at a daemon with TLS=REQUIRED (anonymous users too, unless ANONCLEAR=YES)."},
	rPbszOK:          {200, "PBSZ=0", "", "PBSZ on a protected session: TLS needs no buffer size, so any size given is answered with 0 (RFC 4217)."},
	rPbszNoTLS:       {503, "PBSZ needs AUTH TLS first", "", "PBSZ before the session is protected."},
	rProtOK:          {200, "PROT {level} OK: data connections are {what}", "", "PROT C (clear) or PROT P (private: TLS on every data connection)."},
	rProtNoPbsz:      {503, "PROT needs PBSZ first", "", "PROT before PBSZ, or before AUTH."},
	rProtLevel:       {536, "PROT {level} is not supported with TLS: use C or P", "", "PROT S or PROT E (RFC 4217)."},
	rProtUnknown:     {504, "PROT {level} is not a protection level", "", "PROT with anything but C, S, E or P."},
	rProtPolicy:      {534, "PROT C refused: this daemon requires protected data connections", "", "PROT C after the login at a daemon with TLS=REQUIRED (or IMPLICIT), unless ANONCLEAR=YES exempts the anonymous user."},
	rCccOK:           {200, "CCC OK: the control connection goes on in clear", "", "CCC at a daemon with CCC=YES: after this reply both ends close TLS on the control connection; data connections keep their PROT."},
	rCccRefused:      {534, "CCC refused: the control connection stays protected", "", "CCC at a daemon with CCC=NO (the default) or TLS=REQUIRED."},
	rCccNoTLS:        {533, "CCC needs a protected control connection", "", "CCC on a session without TLS (RFC 2228)."},
	rDataProt:        {521, "Data connection cannot be opened with PROT C: send PROT P", "", "A transfer command with PROT C at a daemon with TLS=REQUIRED (or IMPLICIT), unless ANONCLEAR=YES exempts the anonymous user (RFC 4217)."},
	rDataTLS:         {425, "Cannot open data connection: TLS negotiation failed: {reason}", "", "With PROT P, the client's TLS handshake on the data connection failed or did not come in time."},
	rDataReuse:       {522, "Data connection refused: its TLS session must resume the control connection's", "", "With PROT P and TLSREUSE=YES, a data connection whose TLS session is not one the control connection gave (a stolen passive port, or a client that cannot reuse sessions); IPN420W tells the operator."},
}

// appendReply renders one reply line: code, separator (' ' or '-'), text
// with its inserts filled in order, CRLF. Inserts cannot break the line: CR
// and LF become blanks; the Telnet IAC byte is doubled (RFC 2640).
func appendReply(b []byte, code int, sep byte, text string, args ...any) []byte {
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, sep)
	i := 0
	for len(text) > 0 {
		j := strings.IndexByte(text, '{')
		if j < 0 {
			b = append(b, text...)
			break
		}
		k := strings.IndexByte(text[j:], '}')
		if k < 0 {
			b = append(b, text...)
			break
		}
		b = append(b, text[:j]...)
		if i < len(args) {
			b = appendInsert(b, args[i])
		}
		i++
		text = text[j+k+1:]
	}
	return append(b, '\r', '\n')
}

func appendInsert(b []byte, v any) []byte {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case interface{ String() string }:
		s = x.String()
	case error:
		s = x.Error()
	default:
		s = "?"
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r', '\n':
			b = append(b, ' ')
		case tnIAC:
			b = append(b, tnIAC, tnIAC)
		default:
			b = append(b, c)
		}
	}
	return b
}

// quotePath gives a path in double quotes with quotes inside doubled, as
// 257 replies carry it (RFC 959 appendix II).
func quotePath(p string) string {
	return `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
}

// template shows a reply text with its inserts as <name>, for docs/ftp.md.
func template(text string) string {
	var b strings.Builder
	for len(text) > 0 {
		j := strings.IndexByte(text, '{')
		k := strings.IndexByte(text, '}')
		if j < 0 || k < j {
			b.WriteString(text)
			break
		}
		b.WriteString(text[:j] + "<" + text[j+1:k] + ">")
		text = text[k+1:]
	}
	return b.String()
}
