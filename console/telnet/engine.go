package telnet

// The engine is the protocol without I/O: bytes from the peer go in (feed),
// decoded data comes out, and the bytes to send back collect in out. It
// knows the parser state, the Q-method state of every option and what the
// peer told us (window size, terminal type). Conn owns one and drives it
// from the reading goroutine only.

// maxSB bounds the payload of one subnegotiation. A longer one is read to
// its end and ignored, so an endless SB costs no memory. The largest one we
// use is TTYPE IS with a name of at most 40 characters (RFC 1091).
const maxSB = 64

// maxRefusals is how many times a request for an option is refused before
// further requests for it are ignored. A peer within the RFCs never asks
// that often; one that asks again each time it is refused would otherwise
// ping-pong with us for as long as the connection lasts.
const maxRefusals = 8

// maxTermType is RFC 1091's limit on a terminal type name.
const maxTermType = 40

type pstate uint8

const (
	psData  pstate = iota // plain data
	psIAC                 // after IAC
	psVerb                // after IAC WILL/WONT/DO/DONT: the option byte comes
	psSBOpt               // after IAC SB: the option byte comes
	psSB                  // in a subnegotiation's payload
	psSBIAC               // after IAC inside a subnegotiation
)

type engine struct {
	us, him    [256]qSide
	acceptUs   [256]bool  // options we agree to do when the peer asks (DO)
	acceptHim  [256]bool  // options we agree the peer does when it offers (WILL)
	refusedUs  [256]uint8 // DO refused so far, up to maxRefusals
	refusedHim [256]uint8 // WILL refused so far, up to maxRefusals

	ps     pstate
	verb   byte   // in psVerb: WILL, WONT, DO or DONT
	sbOpt  byte   // in psSB: the option being subnegotiated
	sb     []byte // in psSB: the payload so far, IAC IAC undoubled; at most maxSB bytes
	sbLong bool   // the payload outgrew maxSB and will be ignored
	cr     bool   // a CR arrived and waits for the byte after it

	out []byte // to send to the peer; the caller takes it after each step

	width, height int    // from NAWS; 0 when not told
	termType      string // from TTYPE IS; "" when not told
	gotNAWS       bool
	gotTTYPE      bool

	resized    bool // NAWS changed the size; the caller clears it
	interrupts int  // IAC IP seen; the caller clears it
}

func newEngine(o Options) *engine {
	e := &engine{sb: make([]byte, 0, maxSB)}
	// We never send GA, so agreeing to suppress it is always true; the
	// peer suppressing its GAs harms nothing either.
	e.acceptUs[optSGA] = true
	e.acceptHim[optSGA] = true
	e.acceptUs[optEcho] = o.Echo
	e.acceptHim[optNAWS] = true
	e.acceptHim[optTTYPE] = true
	e.acceptUs[optBinary] = o.Binary
	e.acceptHim[optBinary] = o.Binary
	return e
}

// feed decodes p, appending the data bytes to data, and returns data.
func (e *engine) feed(p, data []byte) []byte {
	for _, b := range p {
		data = e.step(data, b)
	}
	return data
}

// finish is called at the end of the input. A CR still waiting is data. It
// reports whether the input ended inside a command or subnegotiation.
func (e *engine) finish(data []byte) ([]byte, bool) {
	if e.cr {
		e.cr = false
		data = append(data, '\r')
	}
	return data, e.ps != psData
}

func (e *engine) step(data []byte, b byte) []byte {
	switch e.ps {
	case psData:
		if b == cmdIAC {
			e.ps = psIAC
			return data
		}
		return e.dataByte(data, b)
	case psIAC:
		e.ps = psData
		return e.command(data, b)
	case psVerb:
		e.ps = psData
		e.negotiate(e.verb, b)
		return data
	case psSBOpt:
		e.sbOpt, e.sb, e.sbLong = b, e.sb[:0], false
		e.ps = psSB
		return data
	case psSB:
		if b == cmdIAC {
			e.ps = psSBIAC
		} else {
			e.sbByte(b)
		}
		return data
	default: // psSBIAC
		switch b {
		case cmdIAC:
			e.sbByte(cmdIAC)
			e.ps = psSB
		case cmdSE:
			e.ps = psData
			if !e.sbLong {
				e.subnegotiation(e.sbOpt, e.sb)
			}
		default:
			// IAC and a command inside a subnegotiation: the peer never
			// closed it. Drop it and read the command.
			e.ps = psIAC
			return e.step(data, b)
		}
		return data
	}
}

// command handles the byte after IAC.
func (e *engine) command(data []byte, b byte) []byte {
	switch b {
	case cmdIAC:
		return e.dataByte(data, cmdIAC)
	case cmdWILL, cmdWONT, cmdDO, cmdDONT:
		e.verb = b
		e.ps = psVerb
	case cmdSB:
		e.ps = psSBOpt
	case cmdEC:
		return e.key(data, keyErase)
	case cmdEL:
		return e.key(data, keyKill)
	case cmdIP:
		e.interrupts++
		return e.key(data, keyInterrupt)
	case cmdAYT:
		e.out = append(e.out, aytReply...)
	default:
		// NOP, GA, DM, AO, BRK, a stray SE and undefined codes. DM ends
		// a Synch, whose urgent half Go cannot see, so it is a NOP too.
	}
	return data
}

// dataByte applies RFC 854's rules for CR on input (unless the peer sends
// BINARY): CR NUL is CR, CR LF is LF (the end of a line), CR and anything
// else is CR and that byte.
func (e *engine) dataByte(data []byte, b byte) []byte {
	if e.cr {
		e.cr = false
		switch b {
		case 0:
			return append(data, '\r')
		case '\n':
			return append(data, '\n')
		}
		data = append(data, '\r')
	}
	if b == '\r' && e.him[optBinary].state != qYes {
		e.cr = true
		return data
	}
	return append(data, b)
}

// key puts a byte standing for a command into the data, after any CR that
// waits.
func (e *engine) key(data []byte, k byte) []byte {
	if e.cr {
		e.cr = false
		data = append(data, '\r')
	}
	return append(data, k)
}

func (e *engine) sbByte(b byte) {
	if len(e.sb) < maxSB {
		e.sb = append(e.sb, b)
	} else {
		e.sbLong = true
	}
}

func (e *engine) negotiate(verb, opt byte) {
	switch verb {
	case cmdWILL:
		s, on := e.him[opt].recvYes(e.acceptHim[opt])
		if s == sendNo && e.him[opt].state == qNo && !refuse(&e.refusedHim[opt]) {
			return
		}
		e.reply(s, cmdDO, cmdDONT, opt)
		if on && opt == optTTYPE {
			e.out = append(e.out, cmdIAC, cmdSB, optTTYPE, ttypeSEND, cmdIAC, cmdSE)
		}
	case cmdWONT:
		e.reply(e.him[opt].recvNo(), cmdDO, cmdDONT, opt)
	case cmdDO:
		s, _ := e.us[opt].recvYes(e.acceptUs[opt])
		if s == sendNo && e.us[opt].state == qNo && !refuse(&e.refusedUs[opt]) {
			return
		}
		e.reply(s, cmdWILL, cmdWONT, opt)
	case cmdDONT:
		e.reply(e.us[opt].recvNo(), cmdWILL, cmdWONT, opt)
	}
}

// refuse counts one refusal and reports whether it may still be sent.
func refuse(n *uint8) bool {
	if *n >= maxRefusals {
		return false
	}
	*n++
	return true
}

// askUs asks to enable or disable an option on our side (WILL/WONT).
func (e *engine) askUs(opt byte, enable bool) {
	e.reply(e.us[opt].ask(enable), cmdWILL, cmdWONT, opt)
}

// askHim asks the peer to enable or disable an option (DO/DONT).
func (e *engine) askHim(opt byte, enable bool) {
	e.reply(e.him[opt].ask(enable), cmdDO, cmdDONT, opt)
}

func (e *engine) reply(s send, yes, no, opt byte) {
	switch s {
	case sendYes:
		e.out = append(e.out, cmdIAC, yes, opt)
	case sendNo:
		e.out = append(e.out, cmdIAC, no, opt)
	}
}

func (e *engine) subnegotiation(opt byte, p []byte) {
	switch opt {
	case optNAWS:
		if len(p) != 4 {
			return
		}
		w, h := int(p[0])<<8|int(p[1]), int(p[2])<<8|int(p[3])
		if !e.gotNAWS || w != e.width || h != e.height {
			e.width, e.height, e.gotNAWS, e.resized = w, h, true, true
		}
	case optTTYPE:
		if len(p) < 1 || p[0] != ttypeIS {
			return
		}
		e.termType, e.gotTTYPE = cleanTermType(p[1:]), true
	}
}

// cleanTermType keeps the printable ASCII of a terminal type name, at most
// maxTermType characters of it.
func cleanTermType(p []byte) string {
	b := make([]byte, 0, min(len(p), maxTermType))
	for _, c := range p {
		if c > ' ' && c < 0x7f && len(b) < maxTermType {
			b = append(b, c)
		}
	}
	return string(b)
}

// askable are the options we ever ask for; no other can be waiting for an
// answer.
var askable = [...]byte{optBinary, optEcho, optSGA, optTTYPE, optNAWS}

// settled reports whether every request has been answered and the peer has
// told what it agreed to tell (its size after WILL NAWS, its type after
// WILL TTYPE).
func (e *engine) settled() bool {
	for _, o := range askable {
		if e.us[o].pending() || e.him[o].pending() {
			return false
		}
	}
	if e.him[optTTYPE].state == qYes && !e.gotTTYPE {
		return false
	}
	return e.him[optNAWS].state != qYes || e.gotNAWS
}

func (e *engine) mode() Mode {
	if e.us[optEcho].state == qYes && e.us[optSGA].state == qYes {
		return CharMode
	}
	return LineMode
}
