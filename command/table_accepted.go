package command

import "ipnstack/users"

// acceptedRows are the product's definitions this stack checks against their
// shapes, keeps and shows, but does not emulate: each gives one warning
// (return code 4), so that a site's deck runs on unchanged.
var acceptedRows = []Spec{
	{
		Verb: "DEFine", Object: "TRANSLATION",
		Summary: "Accept the product's translation table definition: kept and shown; TYPE E takes its code page from CODEPAGE=",
		Origin:  Accepted,
		Help: []string{
			"The product defines named ASCII/EBCDIC translation tables; the shape of their contents is not known here. The",
			"definition is checked, kept and shown by QUERY TRANSLATIONS, with a warning, so that a site's deck runs unchanged.",
			"The EBCDIC code pages this stack speaks (037, 1047, 1140) are chosen by CODEPAGE= of DEFINE FTPD and of FTP, and by",
			"SITE CODEPAGE= in a session.",
		},
		Operands: []Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the table's name"},
			{Key: "TYPE", Type: Name{Max: 16}, Help: "the product's kind of table"},
			{Key: "MEMBER", Type: Name{Max: 8}, Help: "the library member holding it"},
			{Key: "CODEPAGE", Type: Text{Max: 16, Name: "page"}, Help: "the code page it stands for"},
		},
		Example: "DEFINE TRANSLATION,ID=US037,MEMBER=US037",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "TRANSLATION",
		Summary:  "Forget a TRANSLATION definition",
		Origin:   Accepted,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the table"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "TRANSLATIONs",
		Summary: "Show the TRANSLATION definitions kept (not emulated)",
		Origin:  Accepted,
		Auth:    users.Query,
	},
	{
		Verb: "DEFine", Object: "TELNETD",
		Summary: "Accept the product's TN3270 daemon definition: kept and shown, not emulated",
		Origin:  Accepted,
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
		Origin:   Accepted,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the daemon"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "TELNETDs",
		Summary: "Show the TELNETD definitions kept (not emulated)",
		Origin:  Accepted,
		Auth:    users.Query,
	},
	{
		Verb: "DEFine", Object: "LPD",
		Summary: "Accept the product's line printer daemon definition: kept and shown, not emulated",
		Origin:  Accepted,
		Help: []string{
			"The product's LPD receives print jobs (RFC 1179) into VSE/POWER queues or libraries, which this stack does",
			"not have. The definition is checked, kept and shown by QUERY LPDS, with a warning; no port is opened.",
		},
		Operands: []Operand{
			{Key: "PRINTER", Type: Name{Max: 16}, Required: true, Help: "the printer (queue) name LPR clients give"},
			{Key: "QUEUE", Type: Text{Max: 44, Name: "queue"}, Required: true, Help: "where jobs go, e.g. 'POWER.LST.A'"},
			{Key: "LIB", Type: Name{Max: 8}, Help: "a library for the jobs"},
			{Key: "SUBLIB", Type: Name{Max: 8}, Help: "its sublibrary"},
			{Key: "TRAN", Type: Name{Max: 8}, Help: "the translation table"},
			{Key: "USERID", Type: Name{Max: 8}, Help: "the user the jobs run as"},
		},
		Example: "DEFINE LPD,PRINTER=LOCAL,QUEUE='POWER.LST.A'",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "LPD",
		Summary:  "Forget an LPD definition",
		Origin:   Accepted,
		Operands: []Operand{{Key: "PRINTER", Type: Name{Max: 16}, Required: true, Help: "the printer"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "LPDs",
		Summary: "Show the LPD definitions kept (not emulated)",
		Origin:  Accepted,
		Auth:    users.Query,
	},
	{
		Verb: "DEFine", Object: "EVENT",
		Summary: "Accept the product's POWER queue event definition: kept and shown, not emulated",
		Origin:  Accepted,
		Help: []string{
			"The product's events watch VSE/POWER queues and send what arrives on (LPR, FTP, e-mail), which needs",
			"VSE/POWER. The definition is checked, kept and shown by QUERY EVENTS, with a warning.",
		},
		Operands: []Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the event's name"},
			{Key: "TYPE", Type: Enum{Values: []string{"POWER"}}, Default: "POWER", Help: "what is watched"},
			{Key: "QUEUE", Type: Enum{Values: []string{"LST", "PUN"}}, Default: "LST", Help: "the POWER queue"},
			{Key: "CLASS", Type: Text{Max: 1, Name: "class"}, Help: "the queue class"},
			{Key: "SCRIPT", Type: Name{Max: 8}, Help: "the automation script run for each entry"},
		},
		Example: "DEFINE EVENT,ID=PRTQ,TYPE=POWER,QUEUE=LST,CLASS=Q,SCRIPT=AUTOLPR",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "EVENT",
		Summary:  "Forget an EVENT definition",
		Origin:   Accepted,
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the event"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "EVENTs",
		Summary: "Show the EVENT definitions kept (not emulated)",
		Origin:  Accepted,
		Auth:    users.Query,
	},
	{
		Verb: "DEFine", Object: "ADAPTER",
		Summary: "Accept the product's LAN adapter of an LCS link: kept and shown, not emulated",
		Origin:  Accepted,
		Help: []string{
			"On the product an LCS link carries one or more LAN adapters (ports). Here a link runs on the one host",
			"interface DEV= or the device map names, so the adapter is checked (its link must be defined), kept and shown by",
			"QUERY ADAPTERS, with a warning.",
		},
		Operands: []Operand{
			{Key: "LINKID", Type: Name{Max: 8}, Required: true, Help: "the link"},
			{Key: "NUMBER", Type: Int{Min: 0, Max: 15}, Required: true, Help: "the adapter's number on the link"},
			{Key: "TYPE", Type: Enum{Values: []string{"ETHERNET", "TOKENRING", "FDDI"}}, Default: "ETHERNET", Help: "the LAN"},
			{Key: "MTU", Type: Int{Min: 576, Max: 65520}, Help: "its MTU"},
			{Key: "IPADDR", Type: IPv4{}, Help: "its address"},
			{Key: "MASK", Type: IPv4{}, Help: "its mask"},
		},
		Example: "DEFINE ADAPTER,LINKID=LCS1,NUMBER=0,TYPE=ETHERNET,MTU=1500",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "ADAPTER",
		Summary: "Forget an ADAPTER definition",
		Origin:  Accepted,
		Operands: []Operand{
			{Key: "LINKID", Type: Name{Max: 8}, Required: true, Help: "the link"},
			{Key: "NUMBER", Type: Int{Min: 0, Max: 15}, Required: true, Help: "the adapter's number"},
		},
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "ADAPTERs",
		Summary: "Show the ADAPTER definitions kept (not emulated)",
		Origin:  Accepted,
		Auth:    users.Query,
	},
	{
		Verb:    "SECURITY",
		Summary: "Accept the product's security switches: kept and shown; this stack checks every logon always",
		Origin:  Accepted,
		Help: []string{
			"The product's SECURITY switches its checking of logons (and of ARP, automatic and batch requests) on or off.",
			"This stack checks every logon against DEFINE USER whatever is said here; the statement is kept and shown by",
			"QUERY SECURITY, with a warning.",
		},
		Positional: []Operand{{Key: "switch", Type: Enum{Values: []string{"ON", "OFF"}}, Help: "checking on or off"}},
		Operands: []Operand{
			{Key: "ARP", Type: Bool{}, Help: "check ARP"},
			{Key: "AUTO", Type: Bool{}, Help: "check automatic (event) requests"},
			{Key: "BATCH", Type: Bool{}, Help: "check batch clients' requests"},
		},
		Example: "SECURITY ON,BATCH=ON",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "SECURITY",
		Summary: "Show the SECURITY statement kept and how this stack checks logons",
		Origin:  Accepted,
		Auth:    users.Query,
	},
}
