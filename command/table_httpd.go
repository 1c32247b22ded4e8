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
