package command

import (
	"time"

	"ipnstack/users"
)

// clientGuardOperands are the rules for one client address, on every
// server that logs clients in (DEFINE FTPD, DEFINE CONSOLE).
var clientGuardOperands = []Operand{
	{Key: "PERCLIENT", Type: Int{Min: 1, Max: 10000}, Default: "16", Help: "most connections one client address may hold at once; the next is refused"},
	{Key: "PREFIX6", Type: Int{Min: 32, Max: 128}, Default: "64", Help: "IPv6 clients within one prefix of this length count as one address for PERCLIENT= (128: each address)"},
	{Key: "PREFIX4", Type: Int{Min: 8, Max: 32}, Default: "32", Help: "IPv4 clients within one prefix of this length count as one address for PERCLIENT= (32: each address)"},
	{Key: "LOGINTIME", Type: Int{Min: 5, Max: 3600}, Default: "30", Help: "seconds from connect to log in; nothing the client sends extends them"},
	{Key: "LOCKOUT", Type: List{Elem: Int{Min: 0, Max: 100000}, Min: 3, Max: 3, Name: "(failures,within,for)"},
		Help: "failed logins from one address within seconds that lock it out for seconds (default (10,60,60); failures 0: never)"},
}

// ftpdOperands are DEFINE FTPD's; ALTER FTPD takes the same (alterOperands).
var ftpdOperands = append([]Operand{
	{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon's name"},
	{Key: "PORT", Type: portType, Default: "21", Help: "the control port"},
	{Key: "IPADDR", Type: IPAddr{}, Help: "the stack address to listen on (default: every address of both families, ::; 0.0.0.0: IPv4 only)"},
	{Key: "COUNT", Type: Int{Min: 1, Max: 10000}, Default: "100", Help: "most sessions at once; the next gets 421"},
	{Key: "TIMEOUT", Type: Int{Min: 10, Max: 86400}, Default: "300", Help: "seconds a session may stay idle"},
	{Key: "DATAPORTS", Type: List{Elem: portType, Min: 2, Max: 2, Name: "(low,high)"}, Help: "the daemon's own passive data port range"},
	{Key: "RATE", Type: Rate{}, Help: "each session's transfers, uploads and downloads, at most this fast (e.g. 1M; 0: no bound)"},
	{Key: "ANONRATE", Type: Rate{}, Help: "an anonymous session's instead of RATE= (0: as RATE=)"},
	{Key: "TOTALRATE", Type: Rate{}, Help: "all the daemon's sessions together at most this fast (0: no bound)"},
	{Key: "CODEPAGE", Type: CodePage{}, Help: "the EBCDIC code page of TYPE E (default 037; 1047 is z/OS's); a session may choose its own (SITE CODEPAGE=)"},
	{Key: "PASVADDR", Type: Host{V4: true}, Help: "the address 227 replies advertise, or a name of it (resolved now; default: the address the client reached)"},
	{Key: "ACTIVE", Type: Bool{}, Default: "YES", Help: "allow active mode (PORT, EPRT)"},
	{Key: "ANONYMOUS", Type: Enum{Values: []string{"NO", "READ", "WRITE"}}, Default: "NO",
		Help: "allow anonymous logins: READ downloads only, WRITE also new uploads"},
	{Key: "BANNER", Type: Text{Max: 200}, Help: "the text of the 220 greeting"},
	{Key: "PROXYPEERS", Type: List{Elem: IPAddr{}, Min: 1, Max: 16, Name: "(addr,...)"},
		Help: "servers a third-party transfer may join: PORT may name them and passive data may come from them (default: none)"},
	{Key: "PASVWAIT", Type: Int{Min: 0, Max: 60}, Default: "0",
		Help: "seconds PASV and EPSV wait for a port when the data pool is dry before answering 425 (0: answer at once)"},
	{Key: "TLS", Type: Enum{Values: []string{"NO", "ALLOWED", "REQUIRED", "IMPLICIT"}}, Default: "ALLOWED",
		Help: "FTPS (RFC 4217): ALLOWED offers AUTH TLS, REQUIRED refuses clear logins and data, IMPLICIT speaks TLS from the first byte (port 990)"},
	{Key: "CERT", Type: Text{Max: 255, Name: "file"}, Help: "the certificate (PEM, with its chain) TLS presents; default: the stack's own, self-signed"},
	{Key: "KEY", Type: Text{Max: 255, Name: "file"}, Help: "the private key (PEM) of CERT="},
	{Key: "TLSREUSE", Type: Bool{}, Default: "YES",
		Help: "a protected data connection must resume the control connection's TLS session (NO: for clients that cannot)"},
	{Key: "ANONCLEAR", Type: Bool{}, Default: "NO", Help: "with TLS=REQUIRED, the anonymous user may log in and transfer in clear"},
	{Key: "CCC", Type: Bool{}, Default: "NO", Help: "allow CCC: the control connection goes on in clear after the login (never at TLS=REQUIRED or IMPLICIT)"},
}, clientGuardOperands...)

// userOperands are DEFINE USER's; ALTER USER takes the same.
var userOperands = []Operand{
	{Key: "ID", Type: Name{Max: 16}, Required: true, Help: "the user id (folded to upper case)"},
	{Key: "PASSWORD", Type: Secret{Text{Max: 128, Name: "password"}}, Required: true, Help: "the password (never echoed, logged or shown)"},
	{Key: "ROOT", Type: Text{Max: 255, Name: "/path"}, Help: "where in the FTP tree the user starts and is confined (default /)"},
	{Key: "READONLY", Type: Bool{}, Default: "NO", Help: "no uploads, deletes or renames"},
	{Key: "CONSOLE", Type: Enum{Values: []string{"NO", "QUERY", "YES"}}, Default: "NO",
		Help: "remote console logon: YES any command, QUERY only QUERY and HELP"},
	{Key: "FTP", Type: Bool{}, Help: "may log in to the FTP daemons (default YES, but NO for an operator given CONSOLE=YES or QUERY)"},
	{Key: "SOCKS", Type: Bool{}, Default: "NO", Help: "may use a SOCKS door that asks for a login (AUTH=USER)"},
	{Key: "TELNET", Type: Bool{}, Help: "the product's TN3270 logon: accepted with a warning (not emulated)"},
	{Key: "WEB", Type: Bool{}, Help: "the product's web logon: accepted with a warning (the HTTP daemon serves without a login)"},
	{Key: "LPR", Type: Bool{}, Help: "the product's print service: accepted with a warning (not emulated)"},
}

// alterOperands derives an ALTER row's operands from its DEFINE row's: the
// same keywords and types, ID still required and nothing else, and no
// defaults (an operand not given stays as it is); notes replace the help of
// the keywords they name.
func alterOperands(define []Operand, notes map[string]string, fixed ...string) []Operand {
	out := make([]Operand, len(define))
	for i, o := range define {
		o.Required = o.Key == "ID"
		o.Default = ""
		if n, ok := notes[o.Key]; ok {
			o.Help = n
		}
		for _, f := range fixed {
			o.Fixed = o.Fixed || f == o.Key
		}
		out[i] = o
	}
	return out
}

// keysBut lists the keywords of ops but one.
func keysBut(ops []Operand, but string) []string {
	var out []string
	for _, o := range ops {
		if o.Key != but {
			out = append(out, o.Key)
		}
	}
	return out
}

var ftpRows = []Spec{
	{
		Verb: "DEFine", Object: "FTPD",
		Summary: "Create a File Transfer Protocol Daemon",
		Origin:  Emulated,
		Help: []string{
			"Passive data ports come from DATAPORTS= if given, else from the stack's PORTRANGE, the next available port in turn;",
			"when none is free the client gets 425 and the operator one warning per burst, never a port outside the range.",
			"PASVADDR= is the address 227 replies advertise, for a daemon behind NAT (EPSV needs none).",
			"Active mode (PORT, EPRT) connects from the port below PORT=, only to the client's own address and ports 1024 and up.",
			"Per client address: at most PERCLIENT= sessions, LOGINTIME= seconds to log in, and LOCKOUT= after failed logins",
			"(counted across connections; QUERY LOCKOUTS lists the addresses locked out, DELETE LOCKOUT lifts one).",
			"TLS (FTPS, RFC 4217): ALLOWED offers AUTH TLS; REQUIRED refuses USER in clear (530) and clear data (PROT C: 534, a transfer: 521);",
			"IMPLICIT speaks TLS from the first byte. A protected data connection must resume the control connection's TLS session",
			"(TLSREUSE=YES), so a stolen passive port gets nothing. Without CERT= and KEY= the stack's own self-signed certificate is used,",
			"kept in the data directory; IPN421I and QUERY FTPDS show its SHA-256 fingerprint for clients to pin.",
		},
		Operands: ftpdOperands,
		Example:  "DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(30000,30019),PASVADDR=127.0.0.1",
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "ALTer", Object: "FTPD",
		Summary: "Change a running FTP daemon without ending its sessions",
		Origin:  Own,
		Help: []string{
			"ACTIVE=, ANONYMOUS=, PASVADDR=, PERCLIENT=, LOCKOUT=, PASVWAIT= and PROXYPEERS= apply to running sessions at their next command;",
			"COUNT= at the next connect; TIMEOUT=, LOGINTIME= and BANNER= from the next session on.",
			"TLS=, TLSREUSE=, ANONCLEAR= and CCC= apply at the next command; CERT= and KEY= read the files again (a renewed certificate):",
			"new TLS negotiations present it, protected sessions keep theirs. TLS= cannot change to or from IMPLICIT.",
			"PORT=, IPADDR= and DATAPORTS= cannot change on a running daemon: DELETE FTPD and DEFINE FTPD again.",
		},
		Operands: alterOperands(ftpdOperands, map[string]string{
			"PORT": "cannot change on a running daemon", "IPADDR": "cannot change on a running daemon",
			"DATAPORTS": "cannot change on a running daemon", "TLS": "NO, ALLOWED or REQUIRED (IMPLICIT cannot come or go on a running daemon)",
			"PASVADDR": "the address 227 replies advertise (0.0.0.0: the address the client reached)",
		}, "PORT", "IPADDR", "DATAPORTS"),
		AtLeastOne: keysBut(ftpdOperands, "ID"),
		Example:    "ALTER FTPD ID=FTP01,COUNT=200,ANONYMOUS=READ",
		Mutates:    true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "LOCKouts",
		Summary: "Show the client addresses locked out after failed logins, by FTP daemon, SOCKS door and console listener, and the user ids locked out",
		Origin:  Own,
		Auth:    users.Query,
	},
	{
		Verb: "DELete", Object: "LOCKout",
		Summary: "Lift the lockout of a client address (at every FTP daemon, SOCKS door and console listener, or at one), or of a user id",
		Origin:  Own,
		Operands: []Operand{
			{Key: "IPADDR", Type: IPAddr{}, Help: "the client address"},
			{Key: "ID", Type: Name{Max: 8}, Help: "only at this FTP daemon, SOCKS door or console listener"},
			{Key: "USER", Type: Name{Max: 16}, Help: "the user id locked out after failed logins at any door"},
		},
		AtLeastOne: []string{"IPADDR", "USER"},
		Example:    "DELETE LOCKOUT,IPADDR=10.77.0.9",
		Mutates:    true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "FTPD",
		Summary:  "End an FTP daemon: its sessions end with 421, uploads in flight leave nothing half-written",
		Origin:   Emulated,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "FTPDs",
		Summary:  "Show the FTP daemons: sessions, transfers, bytes, data-port pool use and exhaustions",
		Origin:   Emulated,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Help: "only this daemon"}},
		Auth:     users.Query,
	},
	{
		Verb: "DEFine", Object: "USER",
		Summary: "Define a user of the FTP daemons and, with CONSOLE=, an operator of the remote consoles",
		Origin:  Emulated,
		Help: []string{
			"The password is stored hashed (argon2id) and never logged or shown; it keeps its case.",
			"Console authority and FTP access are separate: an operator (CONSOLE=YES or QUERY) is an FTP user only with FTP=YES.",
		},
		Operands: userOperands,
		Example:  "DEFINE USER ID=OPER1,PASSWORD='s3cret',CONSOLE=YES,FTP=NO",
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "ALTer", Object: "USER",
		Summary: "Change a user: password, root, read-only, console authority, FTP access",
		Origin:  Own,
		Help: []string{
			"Sessions already logged in keep what they logged in with, unless ENDSESSIONS=YES ends them (421).",
		},
		Operands: append(alterOperands(userOperands, map[string]string{"PASSWORD": "the new password (never echoed, logged or shown)"}),
			Operand{Key: "ENDSESSIONS", Type: Bool{}, Default: "NO", Help: "end the user's FTP sessions now"}),
		AtLeastOne: append(keysBut(userOperands, "ID"), "ENDSESSIONS"),
		Example:    "ALTER USER ID=OPER1,PASSWORD='n3w-secret'",
		Mutates:    true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "USER",
		Summary:  "Delete a user (sessions already logged in go on)",
		Origin:   Emulated,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 16}, Required: true, Help: "the user"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "USERs",
		Summary: "Show the users: root, read-only, console authority (never the password)",
		Origin:  Emulated,
		Auth:    users.Query,
	},
	{
		Verb: "DEFine", Object: "FILE",
		Summary: "Map a host directory into the FTP tree as /name",
		Origin:  Emulated,
		Help: []string{
			"A relative DLBL= is taken from the stack's data directory (stackd --data).",
		},
		Operands: []Operand{
			{Key: "PUBlic", Type: Text{Max: 32, Name: "name"}, Required: true, Help: "the name in the FTP root"},
			{Key: "DLBL", Type: Text{Max: 255, Name: "host-directory"}, Required: true, Help: "the host directory"},
			{Key: "READONLY", Type: Bool{}, Default: "YES", Help: "no uploads, deletes or renames under it"},
			{Key: "TYPE", Type: Enum{Values: []string{"DIRectory", "LIBrary"}}, Default: "DIRECTORY",
				Help: "accepted for decks of the real product; both map a host directory"},
		},
		Example: "DEFINE FILE PUBLIC=PUB,DLBL=/srv/ftp/pub,READONLY=NO",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "FILE",
		Summary:  "Remove a directory from the FTP tree",
		Origin:   Emulated,
		Operands: []Operand{{Key: "PUBlic", Type: Text{Max: 32, Name: "name"}, Required: true, Help: "the name"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "FILEs",
		Summary: "Show the directories of the FTP tree",
		Origin:  Emulated,
		Auth:    users.Query,
	},
}

// The TIME_WAIT operands of SET.
var timeWaitOperands = []Operand{
	{Key: "TIMEWAIT", Type: Enum{Values: []string{"TUPLE", "STRICT"}},
		Help: "the TIME_WAIT model of the port pools: TUPLE, what a TCP stack does (TIME_WAIT holds the 4-tuple, the port serves other peers at once), or STRICT, the PORTRANGE page's model (a port is unusable for 2×MSL after its connection closed)"},
	{Key: "MSL", Type: Duration{Min: time.Millisecond, Max: 10 * time.Minute},
		Help: "the maximum segment lifetime of the STRICT model (TIME_WAIT lasts 2×MSL; default 30 s)"},
	{Key: "EXPLICITBIND", Type: List{Elem: Int{Min: 0, Max: 65535, Name: "port"}, Min: 2, Max: 2, Name: "(low,high)"},
		Help: "the explicit-bind range, ports 1024-65535 set aside from the ephemeral range; (0,0): none (the default)"},
	{Key: "SYSPLEXPORTS", Type: List{Elem: Int{Min: 0, Max: 65535, Name: "port"}, Min: 2, Max: 2, Name: "(low,high)"},
		Help: "the SYSPLEXPORTS range: the ports of connections from a dynamic VIPA with port 0, set aside from the ephemeral range; (0,0): none (the default)"},
}
