package command

import "ipnstack/users"

// httpdRows are the HTTP daemons' commands, and the product's TN3270
// daemons, which are accepted and shown but not emulated.
var httpdRows = []Spec{
	{
		Verb: "DEFine", Object: "TELNETD",
		Summary: "Accept the product's TN3270 daemon definition: kept and shown, not emulated",
		Help: []string{
			"The product's TELNETD connects TN3270 clients to VTAM applications, which this stack cannot reach. The",
			"definition is checked, kept and shown by QUERY TELNETDS, with a warning (return code 4), so that a site's",
			"deck runs unchanged; no port is opened. The remote consoles are DEFINE CONSOLE.",
		},
		Operands: []Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon's name"},
			{Key: "PORT", Type: portType, Default: "23", Help: "the port it would listen on"},
			{Key: "TERMNAME", Type: Name{Max: 8}, Help: "the VTAM terminal name prefix"},
			{Key: "TARGET", Type: Name{Max: 8}, Help: "the VTAM application (e.g. a CICS)"},
			{Key: "COUNT", Type: Int{Min: 1, Max: 10000}, Default: "1", Help: "sessions"},
			{Key: "LOGMODE", Type: Name{Max: 8}, Help: "the VTAM logon mode"},
			{Key: "POOL", Type: Bool{}, Help: "terminal names from a pool"},
		},
		Example: "DEFINE TELNETD,ID=TN01,TERMNAME=TELNLU,TARGET=DBDCCICS,COUNT=10,PORT=23",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "TELNETD",
		Summary:  "Forget a TELNETD definition",
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "TELNETDs",
		Summary: "Show the TELNETD definitions kept (not emulated)",
		Auth:    users.Query,
	},
	{
		Verb: "DEFine", Object: "HTTPD",
		Summary: "Start an HTTP daemon: the published directories (DEFINE FILE), read-only, over HTTP/1.1",
		Help: []string{
			"GET and HEAD only: directory listings, byte ranges and conditional requests (If-Modified-Since,",
			"If-None-Match); anything else gets 405. Without ROOT= the top lists every public name; with it, that",
			"directory alone is served at /. Listens on both families unless IPADDR= names one address.",
		},
		Operands: []Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon's name"},
			{Key: "PORT", Type: portType, Default: "80", Help: "the port"},
			{Key: "IPADDR", Type: IPAddr{}, Help: "the stack address to listen on (default: every address of both families)"},
			{Key: "ROOT", Type: Name{Max: 8}, Help: "serve this public name (DEFINE FILE) at / instead of them all"},
		},
		Example: "DEFINE HTTPD,ID=HTTP1,PORT=80",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "HTTPD",
		Summary:  "End an HTTP daemon: requests in flight finish (10 s at most)",
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "HTTPDs",
		Summary: "Show the HTTP daemons: address, requests, bytes, connections",
		Auth:    users.Query,
	},
}
