package telnet

import "testing"

// TestQMethod walks every row of RFC 1143's tables (section 7) for one side
// of an option. "yes" is WILL for him and DO for us, "no" WONT or DONT.
func TestQMethod(t *testing.T) {
	type event int
	const (
		recvYesAccept event = iota // peer asks/agrees to enable, and we would agree
		recvYesRefuse              // peer asks to enable, and we would not agree
		recvNo                     // peer asks/agrees to disable
		askYes                     // we want it on
		askNo                      // we want it off
	)
	names := []string{"recvYes(accept)", "recvYes(refuse)", "recvNo", "ask(on)", "ask(off)"}
	tests := []struct {
		from    qSide
		ev      event
		to      qSide
		send    send
		enabled bool
	}{
		// Receiving WILL/DO.
		{qSide{qNo, false}, recvYesAccept, qSide{qYes, false}, sendYes, true},
		{qSide{qNo, false}, recvYesRefuse, qSide{qNo, false}, sendNo, false},
		{qSide{qYes, false}, recvYesAccept, qSide{qYes, false}, sendNone, false},
		{qSide{qWantNo, false}, recvYesAccept, qSide{qNo, false}, sendNone, false},  // error: DONT answered by WILL
		{qSide{qWantNo, true}, recvYesAccept, qSide{qYes, false}, sendNone, true},   // error, but now wanted
		{qSide{qWantYes, false}, recvYesAccept, qSide{qYes, false}, sendNone, true}, // our request granted
		{qSide{qWantYes, false}, recvYesRefuse, qSide{qYes, false}, sendNone, true}, // ours, whatever we would accept
		{qSide{qWantYes, true}, recvYesAccept, qSide{qWantNo, false}, sendNo, false},
		// Receiving WONT/DONT.
		{qSide{qNo, false}, recvNo, qSide{qNo, false}, sendNone, false}, // never DONT to a DONT
		{qSide{qYes, false}, recvNo, qSide{qNo, false}, sendNo, false},
		{qSide{qWantNo, false}, recvNo, qSide{qNo, false}, sendNone, false},
		{qSide{qWantNo, true}, recvNo, qSide{qWantYes, false}, sendYes, false},
		{qSide{qWantYes, false}, recvNo, qSide{qNo, false}, sendNone, false},
		{qSide{qWantYes, true}, recvNo, qSide{qNo, false}, sendNone, false},
		// Asking to enable.
		{qSide{qNo, false}, askYes, qSide{qWantYes, false}, sendYes, false},
		{qSide{qYes, false}, askYes, qSide{qYes, false}, sendNone, false},
		{qSide{qWantNo, false}, askYes, qSide{qWantNo, true}, sendNone, false},
		{qSide{qWantNo, true}, askYes, qSide{qWantNo, true}, sendNone, false},
		{qSide{qWantYes, false}, askYes, qSide{qWantYes, false}, sendNone, false},
		{qSide{qWantYes, true}, askYes, qSide{qWantYes, false}, sendNone, false},
		// Asking to disable.
		{qSide{qNo, false}, askNo, qSide{qNo, false}, sendNone, false},
		{qSide{qYes, false}, askNo, qSide{qWantNo, false}, sendNo, false},
		{qSide{qWantNo, false}, askNo, qSide{qWantNo, false}, sendNone, false},
		{qSide{qWantNo, true}, askNo, qSide{qWantNo, false}, sendNone, false},
		{qSide{qWantYes, false}, askNo, qSide{qWantYes, true}, sendNone, false},
		{qSide{qWantYes, true}, askNo, qSide{qWantYes, true}, sendNone, false},
	}
	for _, tt := range tests {
		q := tt.from
		var s send
		var enabled bool
		switch tt.ev {
		case recvYesAccept:
			s, enabled = q.recvYes(true)
		case recvYesRefuse:
			s, enabled = q.recvYes(false)
		case recvNo:
			s = q.recvNo()
		case askYes:
			s = q.ask(true)
		case askNo:
			s = q.ask(false)
		}
		if q != tt.to || s != tt.send || enabled != tt.enabled {
			t.Errorf("%v/%v %s: got %v/%v send %d enabled %v, want %v/%v send %d enabled %v",
				tt.from.state, tt.from.opposite, names[tt.ev], q.state, q.opposite, s, enabled,
				tt.to.state, tt.to.opposite, tt.send, tt.enabled)
		}
	}
}
