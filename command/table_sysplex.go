package command

import "ipnstack/users"

// sysplexRows are the sysplex's commands: joining, leaving and showing a
// sysplex of stacks coupled through etcd, and its dynamic VIPAs.
var sysplexRows = []Spec{
	{
		Verb: "DEFine", Object: "SYSPLEX",
		Summary: "Join a sysplex: stacks sharing the explicit-bind and SYSPLEXPORTS ports and dynamic VIPAs through etcd",
		Origin:  Own,
		Help: []string{
			"The stacks that name the same ID= and store are one sysplex: a port of the explicit-bind range (SET",
			"EXPLICITBIND=) or of SYSPLEXPORTS (SET SYSPLEXPORTS=) is lent by one member at a time, and a dynamic VIPA",
			"(DEFINE VIPA) is held by one member at a time. Each member has a lease of TTL= seconds in the store: a member",
			"that dies is forgotten, with its ports and VIPAs, that long after its last word. A member that loses the store",
			"keeps its connections, lends no sysplex-wide port and holds no VIPA until the store is back (IPN276W).",
		},
		Operands: []Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the sysplex's name"},
			{Key: "MEMBER", Type: Name{Max: 8}, Required: true, Help: "this stack's name in the sysplex, unique among its live members"},
			{Key: "STORE", Type: List{Elem: StoreEndpoint{}, Min: 1, Max: 7, Name: "(host:port,...)"}, Required: true,
				Help: "the etcd members to reach, host:port each (one is enough; give every one)"},
			{Key: "TTL", Type: Int{Min: 2, Max: 300}, Default: "5", Help: "seconds a member's lease outlives its last word with the store"},
		},
		Example: "DEFINE SYSPLEX,ID=PLEX1,MEMBER=STKA,STORE=(127.0.0.1:2379)",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "SYSPLEX",
		Summary: "Leave the sysplex: its VIPAs and sysplex-wide ports are given back, the tiers are local again",
		Origin:  Own,
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "SYSPLEX",
		Summary: "Show the sysplex: the store, each member's lease, ranges and ports held, and the dynamic VIPAs' owners",
		Origin:  Own,
		Auth:    users.Query,
	},
	{
		Verb: "DEFine", Object: "VIPA",
		Summary: "Make this stack a candidate for a dynamic VIPA of its sysplex: one member holds it at a time",
		Origin:  Own,
		Help: []string{
			"The member that asked first holds the address on LINKID= and announces it (a gratuitous ARP for IPv4, an",
			"unsolicited Neighbor Advertisement for IPv6); when it fails",
			"the next candidate takes it within the sysplex's TTL= and announces it. Connections from the VIPA with port 0",
			"take their ports from SYSPLEXPORTS, so no two members use the same 4-tuple.",
		},
		Operands: []Operand{
			{Key: "IPADDR", Type: IPAddr{Unicast: true}, Required: true, Help: "the dynamic VIPA, IPv4 or IPv6"},
			{Key: "LINKID", Type: Name{Max: 8}, Required: true, Help: "the link that holds it while this stack owns it"},
		},
		Example: "DEFINE VIPA,IPADDR=10.77.60.1,LINKID=OSA1",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "VIPA",
		Summary:  "End this stack's candidacy for a dynamic VIPA (given up if held: the next candidate takes it)",
		Origin:   Own,
		Operands: []Operand{{Key: "IPADDR", Type: IPAddr{}, Required: true, Help: "the dynamic VIPA"}},
		Example:  "DELETE VIPA,IPADDR=10.77.60.1",
		Mutates:  true, Auth: users.Full,
	},
}
