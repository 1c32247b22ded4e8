package command

import "ipnstack/users"

// socksRows are the SOCKS doors' commands.
var socksRows = []Spec{
	{
		Verb: "DEFine", Object: "SOCKSD",
		Summary: "Open a SOCKS 5 door on a host address: host programs' connections leave from the stack",
		Origin:  Own,
		Help: []string{
			"Host programs (curl --socks5, ssh's ProxyCommand, any SOCKS-aware client) connect to the door; each CONNECT",
			"leaves the stack from the next port of its ephemeral range (PORTRANGE), over its links and routes, and shows",
			"in QUERY CONNECTIONS with the door's id as owner and the host client. When the range has no port, the client",
			"gets a SOCKS failure reply at once. Destinations are IPv4 or IPv6 addresses (a name only when written as one).",
			"AUTH=USER asks for a username and password (RFC 1929) of a DEFINE USER given SOCKS=YES; a door on an address",
			"other than the host's loopback needs it. A connection that passes no byte either way for TIMEOUT= seconds is closed.",
			"The stack's own loopback (127.0.0.0/8 and ::1 inside the stack, where consoles and daemons meant for the stack",
			"alone listen) is refused unless REACH= lists the port: REACH=(21) lets the door's clients reach a daemon on 127.0.0.1:21.",
		},
		Operands: append([]Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the door's name"},
			{Key: "PORT", Type: portType, Required: true, Help: "the host port it listens on"},
			{Key: "ADDR", Type: IPv4{}, Help: "the host address it listens on (default 127.0.0.1)"},
			{Key: "AUTH", Type: Enum{Values: []string{"NONE", "USER"}}, Default: "NONE",
				Help: "NONE: any client on the host; USER: a username and password of DEFINE USER"},
			{Key: "COUNT", Type: Int{Min: 1, Max: 10000}, Default: "100", Help: "most connections at once; the next is closed"},
			{Key: "TIMEOUT", Type: Int{Min: 10, Max: 86400}, Default: "900", Help: "seconds a granted connection may pass no byte either way before it is closed"},
			{Key: "REACH", Type: List{Elem: Reach{Loopback: true}, Min: 1, Max: 32, Name: "([loopaddr:]port,[loopaddr:]low-high,...)"},
				Help: "ports of the stack's own loopback the door's clients may reach (address 127.0.0.1 unless given); none by default"},
		}, clientGuardOperands...),
		Example: "DEFINE SOCKSD ID=SOCKS1,PORT=1080",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "SOCKSD",
		Summary:  "Close a SOCKS door and every connection through it",
		Origin:   Own,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the door"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "SOCKSDs",
		Summary:  "Show the SOCKS doors: connections, bytes, refusals by reason, and each connection",
		Origin:   Own,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Help: "only this door"}},
		Auth:     users.Query,
	},
}
