package command

import "ipnstack/users"

// httpdRows are the HTTP daemons' commands.
var httpdRows = []Spec{
	{
		Verb: "DEFine", Object: "HTTPD",
		Summary: "Start an HTTP daemon: the published directories (DEFINE FILE), read-only, over HTTP/1.1",
		Origin:  Emulated,
		Help: []string{
			"GET and HEAD only: directory listings, byte ranges and conditional requests (If-Modified-Since,",
			"If-None-Match); anything else gets 405. Without ROOT= the top lists every public name; with it, that",
			"directory alone is served at /. Listens on both families unless IPADDR= names one address.",
			"At most COUNT= connections, PERCLIENT= from one client address (an IPv6 /64 counts as one); the next",
			"gets 503. A response whose client takes no bytes for TIMEOUT= seconds is ended.",
		},
		Operands: []Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon's name"},
			{Key: "PORT", Type: portType, Default: "80", Help: "the port"},
			{Key: "IPADDR", Type: IPAddr{}, Help: "the stack address to listen on (default: every address of both families)"},
			{Key: "ROOT", Type: PublicName{}, Help: "serve this public name (DEFINE FILE) at / instead of them all ('/PRD2', as the product writes it, or PRD2)"},
			{Key: "CONFINE", Type: Bool{}, Default: "YES", Help: "the product's confinement to ROOT=: always so here (NO is accepted with a warning)"},
			{Key: "COUNT", Type: Int{Min: 1, Max: 10000}, Default: "100", Help: "most connections at once; the next gets 503"},
			{Key: "PERCLIENT", Type: Int{Min: 1, Max: 10000}, Default: "16", Help: "most connections of one client address; the next gets 503"},
			{Key: "TIMEOUT", Type: Int{Min: 1, Max: 86400}, Default: "30", Help: "seconds a response may wait for its client to take more bytes"},
		},
		Example: "DEFINE HTTPD,ID=HTTP1,PORT=80",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "HTTPD",
		Summary:  "End an HTTP daemon: requests in flight finish (10 s at most)",
		Origin:   Emulated,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "HTTPDs",
		Summary: "Show the HTTP daemons: address, requests, bytes, connections",
		Origin:  Emulated,
		Auth:    users.Query,
	},
}
