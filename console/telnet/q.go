package telnet

// The RFC 1143 "Q method": each side of each option (what we do, "us", and
// what the peer does, "him") has one of four states and a one-slot queue.
// A request is sent only on a change of state, and a reply is sent only when
// a received command changes the state, so two peers can never bounce
// WILL/DO at each other, and an option that is already off is never
// acknowledged again (no DONT in answer to a DONT).

type qState uint8

const (
	qNo      qState = iota // disabled
	qYes                   // enabled
	qWantNo                // we asked to disable and wait for the answer
	qWantYes               // we asked to enable and wait for the answer
)

func (s qState) String() string {
	return [...]string{"NO", "YES", "WANTNO", "WANTYES"}[s]
}

// qSide is one side of one option. opposite is the RFC's queue bit: while
// a request is in flight, the user changed its mind, and the opposite
// request is to be sent once the answer arrives.
type qSide struct {
	state    qState
	opposite bool
}

// send is what a Q-method step asks the caller to put on the wire: nothing,
// the positive verb (WILL for us, DO for him) or the negative one (WONT for
// us, DONT for him).
type send uint8

const (
	sendNone send = iota
	sendYes
	sendNo
)

// recvYes handles a received WILL (for him) or DO (for us). accept says
// whether we agree when the peer asks on its own. It returns what to send
// and whether the state became YES.
func (q *qSide) recvYes(accept bool) (s send, enabled bool) {
	switch q.state {
	case qNo:
		if !accept {
			return sendNo, false
		}
		q.state = qYes
		return sendYes, true
	case qYes:
		return sendNone, false
	case qWantNo:
		// The peer answered our DONT/WONT with WILL/DO: an error by the
		// peer (RFC 1143). Without a queued request, the option is off;
		// with one, the peer's "yes" is what we now want.
		if q.opposite {
			q.state, q.opposite = qYes, false
			return sendNone, true
		}
		q.state = qNo
		return sendNone, false
	default: // qWantYes
		if q.opposite {
			q.state, q.opposite = qWantNo, false
			return sendNo, false
		}
		q.state = qYes
		return sendNone, true
	}
}

// recvNo handles a received WONT (for him) or DONT (for us) and returns
// what to send. The peer may always refuse, so the option ends up off (or,
// with a queued request, asked for again).
func (q *qSide) recvNo() send {
	switch q.state {
	case qNo:
		return sendNone // already off: no answer, ever
	case qYes:
		q.state = qNo
		return sendNo
	case qWantNo:
		if q.opposite {
			q.state, q.opposite = qWantYes, false
			return sendYes
		}
		q.state = qNo
		return sendNone
	default: // qWantYes
		q.state, q.opposite = qNo, false
		return sendNone
	}
}

// ask is our own wish to enable (true) or disable (false) the option. It
// returns what to send; asking for what is already so, or already asked
// for, sends nothing.
func (q *qSide) ask(enable bool) send {
	switch q.state {
	case qNo:
		if enable {
			q.state = qWantYes
			return sendYes
		}
	case qYes:
		if !enable {
			q.state = qWantNo
			return sendNo
		}
	case qWantNo:
		q.opposite = enable
	case qWantYes:
		q.opposite = !enable
	}
	return sendNone
}

// pending reports whether an answer from the peer is awaited.
func (q *qSide) pending() bool { return q.state == qWantNo || q.state == qWantYes }
