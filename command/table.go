package command

import (
	"ipnstack/conn/tcpstate"
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
		Verb:    "SHUTDOWN",
		Summary: "End the stack: drain the consoles, close the links, exit",
		Help: []string{
			"Every console is told, the command that is running on each console is allowed to finish,",
			"then the consoles are closed, the stack's connections and links are closed and the daemon ends with return code 0.",
		},
		Mutates: true,
		Auth:    users.Full,
	},
	{
		Verb:    "Query",
		Object:  "STATistics",
		Summary: "Show the stack's start time, uptime and counters",
		Auth:    users.Query,
	},
	{
		Verb:    "Query",
		Object:  "ALL",
		Summary: "Show the stack's settings and counters in one display",
		Auth:    users.Query,
	},
}

var portRows = []Spec{
	{
		Verb:    "PORTRange",
		Summary: "Set the range of local ports used for dynamic assignment",
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
		},
		AtLeastOne: []string{"LOW", "HIGH"},
		Example:    "PORTRANGE LOW=32768,HIGH=65535",
		Mutates:    true,
		Auth:       users.Full,
	},
	{
		Verb:    "Query",
		Object:  "PORTRange",
		Summary: "Show the port range, the ports in use and in TIME_WAIT, allocations and exhaustions",
		Auth:    users.Query,
	},
	{
		Verb:    "Query",
		Object:  "CONnections",
		Summary: "Show the stack's TCP connections with state, local and foreign address and port",
		Help: []string{
			"Every TCP endpoint of the stack, listening, established, closing or in TIME_WAIT, with its id (for DISCONNECT),",
			"its owner (the daemon that opened it), its state, local and foreign address and port; a second line gives",
			"its bytes in and out, retransmitted segments, age and idle time. Filters combine.",
		},
		Operands: []Operand{
			{Key: "IPADDR", Type: IPv4{}, Help: "only connections with this local or foreign address"},
			{Key: "PORT", Type: portType, Help: "only connections with this local or foreign port"},
			{Key: "STATE", Type: Enum{Values: tcpstate.Names}, Help: "only connections in this state"},
			{Key: "OWNER", Type: Name{Max: 8}, Help: "only connections of this owner (an FTPD id, CONSOLE, ...)"},
			{Key: "MAX", Type: Int{Min: 1, Max: 1000000}, Default: "50", Help: "show at most this many connections (the rest are counted)"},
		},
		Example: "QUERY CONNECTIONS,PORT=21",
		Auth:    users.Query,
	},
}
