package command

import (
	"ipnstack/internal/tcpstate"
	"ipnstack/portrange"
	"ipnstack/users"
)

// Commands is the command table of the stack: every command an operator or a
// deck can give. Its rows are shapes only; the daemon binds the handlers.
var Commands = NewTable(rows())

func rows() []Spec {
	var all []Spec
	all = append(all, consoleRows...)
	all = append(all, portRows...)
	all = append(all, linkRows...)
	all = append(all, remoteRows...)
	all = append(all, ftpRows...)
	all = append(all, socksRows...)
	all = append(all, ftpcRows...)
	all = append(all, httpdRows...)
	all = append(all, sysplexRows...)
	all = append(all, acceptedRows...)
	return all
}

// Operand types used by several rows.
var (
	portType = Int{Min: 1, Max: 65535, Name: "port"}
)

var consoleRows = []Spec{
	{
		Verb:    "HELP",
		Summary: "List the commands, or explain a command or a message",
		Origin:  Own,
		Help: []string{
			"HELP alone lists every command with its syntax.",
			"HELP <command> shows one command's syntax and operands; abbreviations are accepted.",
			"HELP IPNnnnS explains a message: what it means, what the stack did and what to do.",
		},
		Positional: []Operand{
			{Key: "topic", Type: Text{Max: 40, Name: "topic"}, Help: "a command, a verb, or a message id"},
			{Key: "object", Type: Text{Max: 40, Name: "object"}, Help: "the object of a two-word command"},
		},
		Example: "HELP PORTRANGE",
		Auth:    users.Query,
	},
	{
		Verb: "Query", Object: "ACTive",
		Summary: "Show the daemons running now and their sessions (FTP sessions one by one)",
		Origin:  Emulated,
		Help: []string{
			"TYPE= narrows it to one kind: FTPD, HTTPD, SOCKSD or CONSOLE (the console listeners, with the remote consoles",
			"logged on). TYPE=TELNETD, the product's TN3270 daemons, is accepted and answered with a warning: not emulated.",
		},
		Operands: []Operand{{Key: "TYPE", Type: Enum{Values: []string{"ALL", "FTPD", "HTTPD", "SOCKSD", "CONSOLE", "TELNETD"}}, Help: "only this kind of daemon"}},
		Example:  "QUERY ACTIVE,TYPE=FTPD",
		Auth:     users.Query,
	},
	{
		Verb: "Query", Object: "DAEMONS",
		Summary:  "The product's name of QUERY ACTIVE: the daemons running now and their sessions",
		Origin:   Emulated,
		Operands: []Operand{{Key: "TYPE", Type: Enum{Values: []string{"ALL", "FTPD", "HTTPD", "SOCKSD", "CONSOLE", "TELNETD"}}, Help: "only this kind of daemon"}},
		Auth:     users.Query,
	},
	{
		Verb:    "DUMP",
		Summary: "Write a diagnostic of the stack's state: statistics, port pools, connections by state, links, memory and goroutines",
		Origin:  Emulated,
		Help: []string{
			"The product's DUMP writes a storage dump for its support; this stack says, in catalogued lines, what its support",
			"would ask first: QUERY STATISTICS, QUERY PORTRANGE and the connections by state and owner. The hardcopy keeps it.",
		},
		Auth: users.Full,
	},
	{
		Verb:    "INClude",
		Summary: "Run the statements of another deck, a member of the deck library (in initialization decks)",
		Origin:  Emulated,
		Help: []string{
			"In the initialization deck (stackd --deck) the member's statements run where INCLUDE stands, then the deck goes",
			"on; ipnconsole --check checks members the same way. Members come from the deck library (stackd --decklib, by",
			"default the directory of --deck; ipnconsole --decklib, by default the working directory), as a file named like the",
			"member, with or without .deck. Members may include members; a member that would include itself, or nesting deeper",
			"than 16, is refused. Lines are reported as the member's. At a console INCLUDE is refused.",
		},
		Positional: []Operand{{Key: "member", Type: Name{Max: 8}, Required: true, Help: "the member of the deck library"}},
		Example:    "INCLUDE SITEFTP",
		Auth:       users.Full,
	},
	{
		Verb:    "FLUSH",
		Summary: "The product's FLUSH: accepted, with a warning; nothing is held here for it to flush",
		Origin:  Accepted,
		Help: []string{
			"A command name of the product's (its monitor treats it apart). This stack holds no output for it to flush: each",
			"console's lines are written as they are made. It is accepted so that the product's decks run, and says so.",
		},
		Positional: []Operand{{Key: "what", Type: Text{Max: 64}, Help: "what to flush, as the product's deck gives it"}},
		Auth:       users.Full,
	},
	{
		Verb:    "SHUTDOWN",
		Summary: "End the stack: drain the FTP transfers and the consoles, close the links, exit",
		Origin:  Emulated,
		Help: []string{
			"Every console is told and takes no new command. The FTP daemons take no new clients, and the transfers running",
			"may finish within GRACE= seconds (what is cut then is said); the command that is running on each console is allowed",
			"to finish, then the consoles are closed, the stack's connections and links are closed and the daemon ends with",
			"return code 0. SIGTERM does the same with stackd --grace; a second SIGTERM ends at once.",
		},
		Operands: []Operand{{Key: "GRACE", Type: Int{Min: 0, Max: 3600}, Default: "30", Help: "seconds the running FTP transfers may take to finish"}},
		Example:  "SHUTDOWN GRACE=60",
		Mutates:  true,
		Auth:     users.Full,
	},
	{
		Verb:    "Query",
		Object:  "STATistics",
		Summary: "Show the stack's start time, uptime and counters",
		Origin:  Emulated,
		Auth:    users.Query,
	},
	{
		Verb:    "Query",
		Object:  "ALL",
		Summary: "Show the stack's settings and counters in one display",
		Origin:  Emulated,
		Auth:    users.Query,
	},
}

var portRows = []Spec{
	{
		Verb:    "PORTRange",
		Summary: "Set the range of local ports used for dynamic assignment",
		Origin:  Emulated,
		Help: []string{
			"Ports for outbound connections and for passive FTP data connections (unless an FTPD has its own DATAPORTS)",
			"are taken from this range, the next available port in turn, and a port is not used again while TIME_WAIT holds it.",
			"Either operand may be given alone; the other keeps its current value.",
		},
		Operands: []Operand{
			{Key: "LOW", Type: Int{Min: portrange.LowMin, Max: portrange.LowMax, Name: "port"},
				Help: "lowest port; at least 1,024 lower than HIGH"},
			{Key: "HIGH", Type: Int{Min: portrange.HighMin, Max: portrange.HighMax, Name: "port"},
				Help: "highest port; at least 1,024 higher than LOW"},
			{Key: "PROTOCOL", Type: Enum{Values: []string{"TCP", "UDP"}}, Default: "TCP",
				Help: "the range to set: TCP (connections, passive data) or UDP (datagrams); the same rules"},
		},
		AtLeastOne: []string{"LOW", "HIGH"},
		Example:    "PORTRANGE LOW=32768,HIGH=65535",
		Mutates:    true,
		Auth:       users.Full,
	},
	{
		Verb:    "Query",
		Object:  "PORTRange",
		Summary: "Show every port pool: range, ports in use and in TIME_WAIT, free, allocations, exhaustions, sustainable rate",
		Origin:  Own,
		Help: []string{
			"One line per pool, in the order the stack asks them for a port: the TCP ephemeral range (PORTRANGE), the UDP",
			"ephemeral range (PORTRANGE PROTOCOL=UDP), the explicit-bind range (SET EXPLICITBIND=) and each FTP daemon's",
			"DATAPORTS; then the ports set aside inside the ephemeral ranges. A dry pool says when its next port frees.",
		},
		Auth: users.Query,
	},
	{
		Verb: "DEFine", Object: "PORT",
		Summary: "Reserve a port or range of ports for a user of the stack, or forbid it to every user",
		Origin:  Own,
		Help: []string{
			"No pool lends a reserved port, and only its owner may bind it: an FTP daemon whose ID is the owner may take",
			"it as its PORT= or inside its DATAPORTS=. OWNER=RESERVED forbids the ports to every user.",
		},
		Operands: []Operand{
			{Key: "LOW", Type: portType, Required: true, Help: "the first port"},
			{Key: "HIGH", Type: portType, Help: "the last port (default: LOW, one port)"},
			{Key: "OWNER", Type: Name{Max: 8}, Required: true, Help: "the user's id (an FTPD id), or RESERVED: no one"},
			{Key: "PROTOCOL", Type: Enum{Values: []string{"TCP", "UDP"}}, Default: "TCP", Help: "the protocol whose ports these are"},
		},
		Example: "DEFINE PORT,LOW=6000,HIGH=6099,OWNER=RESERVED",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "PORT",
		Summary: "End a reservation of DEFINE PORT",
		Origin:  Own,
		Operands: []Operand{
			{Key: "LOW", Type: portType, Required: true, Help: "the reservation's first port"},
			{Key: "PROTOCOL", Type: Enum{Values: []string{"TCP", "UDP"}}, Default: "TCP", Help: "its protocol"},
		},
		Example: "DELETE PORT,LOW=6000",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "PORTs",
		Summary: "Show every port a user of the stack has bound, with its owner, and every port set aside",
		Origin:  Own,
		Auth:    users.Query,
	},
	{
		Verb:    "Query",
		Object:  "CONnections",
		Summary: "Show the stack's TCP connections with state, local and foreign address and port",
		Origin:  Emulated,
		Help: []string{
			"Every TCP endpoint of the stack, listening, established, closing or in TIME_WAIT, with its id (for DISCONNECT),",
			"its owner (the daemon that opened it), its state, local and foreign address and port; a second line gives",
			"its bytes in and out, retransmitted segments, age and idle time. Filters combine.",
		},
		Operands: []Operand{
			{Key: "IPADDR", Type: Host{}, Help: "only connections with this local or foreign address (or name)"},
			{Key: "IP", Type: Host{}, Help: "only connections with this foreign address or host (the product's filter)"},
			{Key: "PORT", Type: portType, Help: "only connections with this local or foreign port"},
			{Key: "STATE", Type: Enum{Values: tcpstate.Names}, Help: "only connections in this state"},
			{Key: "OWNER", Type: Name{Max: 8}, Help: "only connections of this owner (an FTPD id, CONSOLE, ...)"},
			{Key: "MAX", Type: Int{Min: 1, Max: 1000000}, Default: "50", Help: "show at most this many connections (the rest are counted)"},
		},
		Example: "QUERY CON,IP=10.0.2.2",
		Auth:    users.Query,
	},
}
