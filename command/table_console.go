package command

var remoteRows = []Spec{
	{
		Verb: "DEFine", Object: "CONSole",
		Summary: "Open a telnet listener for remote operator consoles",
		Help: []string{
			"WHERE=HOST listens on the host (IPADDR= defaults to 127.0.0.1: only this machine); WHERE=STACK listens",
			"inside the stack, reachable over its links. Every console logs on with an operator id defined by",
			"DEFINE USER ...,CONSOLE=YES (any command) or CONSOLE=QUERY (QUERY and HELP only); 3 failed logons close",
			"the connection. Telnet clients that accept WILL ECHO and SGA get line editing, history and Tab completion.",
		},
		Operands: append([]Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the listener's name"},
			{Key: "PORT", Type: portType, Required: true, Help: "the port to listen on"},
			{Key: "IPADDR", Type: IPv4{}, Help: "the address to listen on (default 127.0.0.1 on the host, 0.0.0.0 in the stack)"},
			{Key: "WHERE", Type: Enum{Values: []string{"HOST", "STACK"}}, Default: "HOST", Help: "on the host or inside the stack"},
			{Key: "TIMEOUT", Type: Int{Min: 10, Max: 86400}, Default: "900", Help: "seconds a console may stay idle"},
		}, clientGuardOperands...),
		Example: "DEFINE CONSOLE ID=TN01,PORT=2323",
		Mutates: true, Auth: AuthFull,
	},
	{
		Verb: "DELete", Object: "CONSole",
		Summary:  "Close a console listener and end its consoles",
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the listener"}},
		Mutates:  true, Auth: AuthFull,
	},
	{
		Verb: "Query", Object: "CONSoles",
		Summary: "Show the consoles attached (id, operator, authority, address, since) and the listeners",
		Auth:    AuthQuery,
	},
}
