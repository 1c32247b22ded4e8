package command

import (
	"ipnstack/ftpc"
	"ipnstack/users"
)

// ftpcRows are the FTP client's commands.
var ftpcRows = []Spec{
	{
		Verb:    "FTP",
		Summary: "Run an FTP client session from the stack: log in to a server, then the subcommands of CMD= in order",
		Origin:  Own,
		Help: append([]string{
			"The control and passive data connections leave from the stack's ephemeral range; an active data connection's",
			"listening port comes from the explicit-bind range if one is set, else from the ephemeral range. Local files",
			"are paths under a DEFINE FILE public name (LOCAL=PUB/in); a file the client receives is written whole or not",
			"at all. Every transfer is a message with its bytes and rate; the first failure, with the server's reply, ends",
			"the session with return code 8. A passive data connection goes to the server's own address whatever the 227",
			"reply says; an active one is accepted from the server's address only. The subcommands:",
		}, append(ftpc.HelpLines(),
			"COPY and COPYBACK move a file server to server (one listens, PASV; the other connects, PORT): the data never",
			"passes through the client. Both servers must let the other join (PROXYPEERS= of DEFINE FTPD here).")...),
		Operands: []Operand{
			{Key: "HOST", Type: Host{V4: true}, Required: true, Help: "the server: an IPv4 address or a name"},
			{Key: "PORT", Type: portType, Default: "21", Help: "the server's control port"},
			{Key: "USER", Type: Text{Max: 64, Name: "id"}, Required: true, Help: "the user id to log in with"},
			{Key: "PASSWORD", Type: Secret{Text{Max: 128, Name: "password"}}, Required: true, Help: "its password (never echoed, logged or shown)"},
			{Key: "LOCAL", Type: Text{Max: 255, Name: "PUBLIC/dir"}, Required: true, Help: "where local file names start: a DEFINE FILE public name and a directory under it"},
			{Key: "MODE", Type: Enum{Values: []string{"PASSIVE", "ACTIVE"}}, Default: "PASSIVE", Help: "data connections at the start"},
			{Key: "TYPE", Type: Enum{Values: []string{"I", "A", "E"}}, Default: "I", Help: "representation type at the start"},
			{Key: "RATE", Type: Rate{}, Help: "each GET and PUT at most this fast, bytes a second (e.g. 1M; 0: no bound)"},
			{Key: "CODEPAGE", Type: CodePage{}, Help: "the EBCDIC code page the client converts TYPE E with (default 037); the stack's daemons take SITE CODEPAGE= for theirs"},
			{Key: "HOST2", Type: Host{V4: true}, Help: "a second server (an IPv4 address or a name), for COPY, COPYBACK and CD2"},
			{Key: "PORT2", Type: portType, Default: "21", Help: "its control port"},
			{Key: "USER2", Type: Text{Max: 64, Name: "id"}, Help: "the user id there (default: USER=)"},
			{Key: "PASSWORD2", Type: Secret{Text{Max: 128, Name: "password"}}, Help: "its password (default: PASSWORD=)"},
			{Key: "CMD", Type: FTPScript{}, Required: true,
				Help: "the subcommands, in order"},
		},
		Example: "FTP HOST=10.77.0.2,USER=TESTER,PASSWORD=T3ster,LOCAL=PUB,CMD=('CD /PUB','TYPE A','GET readme.txt','MPUT *.log')",
		Long:    true, Auth: users.Full,
	},
}
