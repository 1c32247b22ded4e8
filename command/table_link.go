package command

import "ipnstack/users"

// ConnectionStates are the TCP states QUERY CONNECTIONS prints and filters
// on (package conn names them; a test in command/ops checks they agree).
var ConnectionStates = []string{"LISTEN", "CONNECTING", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2",
	"CLOSE_WAIT", "LAST_ACK", "CLOSING", "TIME_WAIT", "CLOSED"}

var linkRows = []Spec{
	{
		Verb: "DEFine", Object: "LINK",
		Summary: "Define a link to a network and start it",
		Help: []string{
			"TYPE=RAW (or OSAX, the product's OSA-Express link) drives an existing host interface through a raw socket: fast, needs root.",
			"TYPE=TAP creates the TAP device named by DEV=, through which the host reaches the stack; needs root.",
			"TYPE=USER needs no privileges: the stack sits behind a gateway; FORWARD= host ports (on 127.0.0.1 unless an item names",
			"a host address) reach the stack, each client with its own address. The stack's connections reach the host only to a",
			"client connected now (ports 1024 and up: active FTP data) or to a REACH= destination (the gateway's address is 127.0.0.1).",
			"TYPE=LOOPBACK is a loopback link at the address given. The link's MAC is derived from its id unless MAC= is given.",
		},
		Operands: []Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the link's name"},
			{Key: "TYPE", Type: Enum{Values: []string{"RAW", "OSAX", "TAP", "USER", "LOOPBACK"}}, Required: true,
				Help: "the kind of link"},
			{Key: "DEV", Type: Text{Max: 15, Name: "device"}, Help: "RAW: the host interface; TAP: the TAP device to create"},
			{Key: "IPADDR", Type: IPv4{}, Help: "the stack's address on the link (default: the home address, SET IPADDR)"},
			{Key: "MASK", Type: IPv4{}, Help: "the subnet mask (default 255.255.255.0, or the home mask with the home address)"},
			{Key: "MTU", Type: Int{Min: 576, Max: 65520}, Help: "default: the interface's (RAW), 1,500 (TAP), 65,520 (USER, LOOPBACK)"},
			{Key: "MAC", Type: Text{Max: 17, Name: "xx:xx:xx:xx:xx:xx"}, Help: "RAW, TAP: the stack's MAC (default: a locally administered one derived from ID)"},
			{Key: "GATEWAY", Type: IPv4{}, Help: "USER: the gateway (default .2 of the subnet); its address stands for the host's 127.0.0.1 in REACH="},
			{Key: "FORWARD", Type: List{Elem: Text{Max: 39}, Min: 1, Max: 32, Name: "([hostaddr:]hostport[:stackport],[hostaddr:]low-high[:low-high],...)"},
				Help: "USER: host ports (on 127.0.0.1 unless a host address is given; 0.0.0.0 is every one) forwarded to the stack's ports"},
			{Key: "REACH", Type: List{Elem: Text{Max: 27}, Min: 1, Max: 32, Name: "([hostaddr:]port,[hostaddr:]low-high,...)"},
				Help: "USER: host destinations the stack's connections may reach (host address 127.0.0.1 unless given); none by default"},
			{Key: "HOSTADDR", Type: IPv4{}, Help: "TAP: an address the stack gives the host's side of the device"},
		},
		Example: "DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(2121:21,40000-40099)",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "LINK",
		Summary:  "Delete a link that has no live connections",
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the link"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb:    "START",
		Summary: "Start a stopped or failed link now, or let a stopped FTP daemon accept clients again",
		Operands: []Operand{
			{Key: "LINK", Type: Name{Max: 8}, Help: "the link"},
			{Key: "FTPD", Type: Name{Max: 8}, Help: "the FTP daemon (STOP FTPD= stopped it)"},
		},
		AtLeastOne: []string{"LINK", "FTPD"},
		Example:    "START LINK=OSA1",
		Mutates:    true, Auth: users.Full,
	},
	{
		Verb:    "STOP",
		Summary: "Stop a link until START LINK, end a console, stop an FTP daemon accepting clients, or end one of its sessions",
		Help: []string{
			"STOP FTPD=id closes the daemon's control port until START FTPD=id; its sessions go on to their end.",
			"STOP FTPD=id,SESSION=n ends one session (QUERY FTPDS shows the numbers) with 421, a transfer in flight aborted first.",
		},
		Operands: []Operand{
			{Key: "LINK", Type: Name{Max: 8}, Help: "the link to stop"},
			{Key: "CONSOLE", Type: Name{Max: 8}, Help: "the console to end (QUERY CONSOLES shows the ids)"},
			{Key: "FTPD", Type: Name{Max: 8}, Help: "the FTP daemon that stops accepting clients"},
			{Key: "SESSION", Type: Int{Min: 1, Max: 1 << 62}, Help: "with FTPD=: only end this session of the daemon"},
		},
		AtLeastOne: []string{"LINK", "CONSOLE", "FTPD"},
		Example:    "STOP LINK=OSA1",
		Mutates:    true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "LINKs",
		Summary:  "Show the links: type, state, device, address, MTU, MAC, forwarded ports",
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Help: "only this link"}},
		Auth:     users.Query,
	},
	{
		Verb:    "SET",
		Summary: "Set the stack's home address and mask, and the TIME_WAIT model of the port pools",
		Help: []string{
			"A link defined without IPADDR= uses the home address; changing it re-addresses those links.",
			"TIMEWAIT= and MSL= apply to the ephemeral range and to every FTP daemon's data ports, and to the",
			"connections already in TIME_WAIT.",
		},
		Operands: append([]Operand{
			{Key: "IPADDR", Type: IPv4{}, Help: "the home address"},
			{Key: "MASK", Type: IPv4{}, Help: "the home subnet mask"},
		}, timeWaitOperands...),
		AtLeastOne: []string{"IPADDR", "MASK", "TIMEWAIT", "MSL"},
		Example:    "SET IPADDR=10.77.0.10,MASK=255.255.255.0",
		Mutates:    true, Auth: users.Full,
	},
	{
		Verb: "DEFine", Object: "ROUTE",
		Summary: "Define a static route; a route to 0.0.0.0 is the default route",
		Operands: []Operand{
			{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the route's name"},
			{Key: "LINKID", Type: Name{Max: 8}, Required: true, Help: "the link the traffic leaves by"},
			{Key: "IPADDR", Type: IPv4{}, Required: true, Help: "the destination network"},
			{Key: "MASK", Type: IPv4{}, Help: "the network's mask (default 0.0.0.0 for network 0.0.0.0, else 255.255.255.255)"},
			{Key: "GATEWAY", Type: IPv4{}, Help: "the next hop, on the link's subnet (default: the network is on the link)"},
		},
		Example: "DEFINE ROUTE ID=DEFAULT,LINKID=OSA1,IPADDR=0.0.0.0,GATEWAY=10.77.0.1",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb: "DELete", Object: "ROUTE",
		Summary:  "Delete a static route",
		Operands: []Operand{{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "the route"}},
		Mutates:  true, Auth: users.Full,
	},
	{
		Verb: "Query", Object: "ROUTes",
		Summary: "Show the routes: each link's subnet and the static routes",
		Auth:    users.Query,
	},
	{
		Verb: "Query", Object: "ARP",
		Summary: "Show the ARP caches of the Ethernet links",
		Auth:    users.Query,
	},
	{
		Verb:       "PING",
		Summary:    "Send ICMP echo requests from the stack and show each reply",
		Positional: []Operand{{Key: "host", Type: Text{Max: 64, Name: "host"}, Required: true, Help: "the IPv4 address to ping"}},
		Operands: []Operand{
			{Key: "COUNT", Type: Int{Min: 1, Max: 100}, Default: "4", Help: "echo requests, one a second"},
			{Key: "SIZE", Type: Int{Min: 0, Max: 65000}, Default: "56", Help: "payload bytes of each request"},
			{Key: "TIMEOUT", Type: Int{Min: 1, Max: 60}, Default: "2", Help: "seconds to wait for each reply"},
		},
		Example: "PING 10.77.0.2,COUNT=3",
		Auth:    users.Full,
	},
	{
		Verb:    "TRACE",
		Summary: "Write a link's packets to a pcap file, or stop",
		Positional: []Operand{{Key: "switch", Type: Enum{Values: []string{"ON", "OFF"}}, Required: true,
			Help: "ON starts the trace, OFF ends it"}},
		Operands: []Operand{
			{Key: "LINKID", Type: Name{Max: 8}, Required: true, Help: "the link"},
			{Key: "FILE", Type: Text{Max: 255, Name: "path"}, Help: "ON: the pcap file to write (created or replaced)"},
		},
		Example: "TRACE ON,LINKID=OSA1,FILE=/tmp/osa1.pcap",
		Mutates: true, Auth: users.Full,
	},
	{
		Verb:     "DISCONNect",
		Summary:  "Reset one connection (QUERY CONNECTIONS shows the ids)",
		Operands: []Operand{{Key: "ID", Type: Int{Min: 1, Max: 1 << 53}, Required: true, Help: "the connection's id"}},
		Example:  "DISCONNECT ID=12",
		Mutates:  true, Auth: users.Full,
	},
}
