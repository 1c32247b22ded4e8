// Package tcpstate names the TCP states as the console prints them: the one
// list that QUERY CONNECTIONS filters on (the command table reads it) and
// the connection table reports (package conn maps netstack's states to
// it). It imports nothing, so that the command table can read it without
// linking the network stack.
package tcpstate

// The state names, in the order of a connection's life.
const (
	Listen      = "LISTEN"
	Connecting  = "CONNECTING" // netstack's: a connect in progress, before SYN_SENT
	SynSent     = "SYN_SENT"
	SynRcvd     = "SYN_RCVD"
	Established = "ESTABLISHED"
	FinWait1    = "FIN_WAIT1"
	FinWait2    = "FIN_WAIT2"
	CloseWait   = "CLOSE_WAIT"
	LastAck     = "LAST_ACK"
	Closing     = "CLOSING"
	TimeWait    = "TIME_WAIT"
	Closed      = "CLOSED"
)

// Names lists every state name, in that order.
var Names = []string{Listen, Connecting, SynSent, SynRcvd, Established, FinWait1, FinWait2,
	CloseWait, LastAck, Closing, TimeWait, Closed}
