package command

import "ipnstack/users"

var remoteRows = []Spec{
	{
		Verb: "DEFine", Object: "CONSole",
		Summary: "Open a telnet listener for remote operator consoles",
		Origin:  Own,
		Help: []string{
			"WHERE=HOST listens on the host (IPADDR= defaults to 127.0.0.1: only this machine); WHERE=STACK listens",
			"inside the stack, reachable over its links. Every console logs on with an operator id defined by",
			"DEFINE USER ...,CONSOLE=YES (any command) or CONSOLE=QUERY (QUERY and HELP only); 3 failed logons close",
			"the connection. Telnet clients that accept WILL ECHO and SGA get line editing, history and Tab completion.",
			"TLS=YES wraps the console in TLS (openssl s_client, telnet-ssl), with CERT= and KEY= or the stack's own",
			"certificate. A listener in clear carries passwords in clear: it is refused anywhere but 127.0.0.1 on the host",
			"unless CLEARTEXT=YES says the operator knows.",
		},
		Operands: append([]Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the listener's name"},
			{Key: "PORT", Type: portType, Required: true, Help: "the port to listen on"},
			{Key: "IPADDR", Type: IPAddr{}, Help: "the address to listen on, IPv4 or IPv6 (default 127.0.0.1 on the host, :: in the stack: both families)"},
			{Key: "WHERE", Type: Enum{Values: []string{"HOST", "STACK"}}, Default: "HOST", Help: "on the host or inside the stack"},
			{Key: "TIMEOUT", Type: Int{Min: 10, Max: 86400}, Default: "900", Help: "seconds a console may stay idle"},
			{Key: "TLS", Type: Bool{}, Default: "NO", Help: "TLS from the first byte (TLS 1.2 and 1.3)"},
			{Key: "CERT", Type: Text{Max: 255, Name: "file"}, Help: "the certificate (PEM, with its chain); default: the stack's own, self-signed"},
			{Key: "KEY", Type: Text{Max: 255, Name: "file"}, Help: "the private key (PEM) of CERT="},
			{Key: "CLEARTEXT", Type: Bool{}, Default: "NO", Help: "allow a listener without TLS elsewhere than 127.0.0.1 on the host"},
		}, clientGuardOperands...),
		Example: "DEFINE CONSOLE ID=TN01,PORT=2323",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "CONSole",
		Summary:  "Close a console listener and end its consoles",
		Origin:   Own,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the listener"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb:    "MESSages",
		Summary: "Choose the unsolicited informational messages this console hears, by class",
		Origin:  Own,
		Help: []string{
			"Classes: STACK (the stack's life), LINK (links and forwarded ports), FTPD (daemons start, end, recover),",
			"SESSION (a line per FTP login and session end), POOL (port pools), CONSOLE (listeners and logons).",
			"Warnings, errors, action and severe messages reach every console whatever their class, and the",
			"hardcopy log keeps everything. A console hears every class but SESSION until it chooses; the daemon's",
			"system log (stdout when it runs as a daemon) hears all.",
		},
		Operands: []Operand{
			{Key: "CLASSES", Type: List{Elem: Enum{Values: []string{"ALL", "NONE", "STACK", "LINK", "FTPD", "SESSION", "POOL", "CONSOLE"}}, Min: 1, Max: 6,
				Name: "(class,...)|ALL|NONE"}, Required: true, Help: "the classes this console hears from now on"},
		},
		Example:     "MESSAGES CLASSES=(STACK,LINK,FTPD,POOL)",
		Auth:        users.Query,
		ConsoleOnly: true,
	},
	{
		Verb:    "LOOK",
		Summary: "Make this console read as the VSE system console (VSE), or as plain lines again (PLAIN)",
		Origin:  Own,
		Help: []string{
			"LOOK VSE frames every line as on the VSE system console, \"F7 0100 IPN237I ...\": the partition id, then 0100",
			"for an answer (0000 for messages nobody asked for). MSG F7 is answered by the attention",
			"routine's READY and the stack's \"F7-0102 IPN300I Enter TCP/IP Command\"; the operator replies \"102 command\"",
			"(leading zeros may be dropped). MSG F7,DATA=command runs the command at once; a command typed alone runs too.",
			"Only the framing changes: messages, return codes and the hardcopy log are as in the plain look.",
		},
		Positional: []Operand{{Key: "look", Type: Enum{Values: []string{"VSE", "PLAIN"}}, Required: true, Help: "the look"}},
		Operands: []Operand{
			{Key: "PARTITION", Type: Text{Max: 2, Name: "xx"}, Default: "F7", Help: "VSE: the stack's partition id, two letters or digits"},
		},
		Example:     "LOOK VSE,PARTITION=F7",
		ConsoleOnly: true,
		Auth:        users.Query,
	},
	{
		Verb:    "LOGOFF",
		Summary: "Leave this console: the console ends, the stack goes on",
		Origin:  Own,
		Help: []string{
			"ipnconsole, a telnet console and the terminal console of stackd end; on stackd's terminal the stack then runs",
			"without a terminal console (ipnconsole reaches it). SHUTDOWN ends the stack. EXIT, QUIT and END are the same.",
		},
		Example: "LOGOFF", ConsoleOnly: true, Auth: users.Query,
	},
	{Verb: "EXIT", Summary: "Leave this console, as LOGOFF", Origin: Own, ConsoleOnly: true, Auth: users.Query},
	{Verb: "QUIT", Summary: "Leave this console, as LOGOFF", Origin: Own, ConsoleOnly: true, Auth: users.Query},
	{Verb: "END", Summary: "Leave this console, as LOGOFF", Origin: Own, ConsoleOnly: true, Auth: users.Query},
	{
		Verb: "Query", Object: "CONSoles",
		Summary: "Show the consoles attached (id, operator, authority, address, since) and the listeners",
		Origin:  Own,
		Auth:    users.Query,
	},
}
