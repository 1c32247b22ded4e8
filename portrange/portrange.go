// Package portrange is the stack's port authority. A Registry holds every
// tier of the selection order (explicit binds with their owners, the
// explicit-bind range, the FTP daemons' passive data ports, the TCP and UDP
// ephemeral ranges), the ports set aside for an owner or for no one, and the
// TIME_WAIT model that decides when a port may be used again; each rule it
// enforces is one typed error (RangeError, ReservedError, BoundError).
//
// It owns a port's whole life, once for the whole stack:
//
//	lend (Pool.Lend, Registry.Bind) → lease (holders: a listener and its
//	accepted connections, or one dial) → parked (a listener kept for its
//	session's next transfer; the pool takes it back when it runs dry) →
//	closed (each holder's Drop says who closed first and the foreign end)
//	→ held as long as the model says → free.
//
// The search for a usable port lives here and nowhere else: Lend offers
// the next available port in turn ("the next available port number",
// going round the range from where the last one stopped) to the caller's
// Tester, which binds the real socket; a port the stack or the host
// refuses is left alone for StackRetry and the next one offered. A pool
// keeps one bitmap per reason a port is busy (lent, held, refused outside,
// reserved) and a summary of full words, so a search, and the answer of a
// dry pool, costs the same however large the range and however many ports
// are held. Allocations count ports lent (granted listeners and
// connections); exhaustions count requests refused.
//
// The TIME_WAIT model is chosen per pool:
//
//   - Tuple (the default, what a real TCP stack does): a connection holds
//     its 4-tuple, not its port, for as long as the stack keeps its endpoint
//     (its TIME_WAIT after an active close, LAST_ACK after a passive one): the
//     holder reports the end (Closing.Tracked), so the pool and the stack
//     begin and end the hold together. The port is free at once for a
//     listener and for a connection to any other foreign end.
//   - Strict (the PORTRANGE page's "proper time intervals elapse between port
//     re-use"): a port rests 2×MSL after its connection closed, whichever
//     side closed first — in a download the server closes first and its
//     TIME_WAIT is here; in an upload the client closes first and its
//     TIME_WAIT is on the client's side, but the server's port rests all the
//     same — and, where the stack still keeps the endpoint after that, until
//     the stack lets it go. A listener that served no connection holds
//     nothing.
//
// In a sysplex the explicit-bind and SYSPLEXPORTS pools are shared
// (Registry.Couple): a port is lent only once the sysplex's store gave it
// to this stack, and goes back there when its whole life here has ended
// (Shared, shared.go); the store is asked, never remembered.
//
// A Pool and the Registry are data structures: no goroutines, no sockets,
// and the time is passed in by the caller (a pool judges a change of model
// by the latest time it was told), so their behaviour over minutes of
// TIME_WAIT can be tested in microseconds. Both are safe for concurrent
// use.
package portrange

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// The rules of the PORTRANGE command (the product's PORTRANGE page).
const (
	LowMin  = 1024  // LOW must be at least this
	LowMax  = 65535 // and at most this
	HighMin = 4096  // HIGH must be at least this
	HighMax = 65535 // and at most this
	MinGap  = 1024  // HIGH must be at least this much above LOW
)

// The stack's built-in ephemeral range, before any PORTRANGE command.
const (
	DefaultLow  = 32768
	DefaultHigh = 65535
)

// DefaultMSL is the maximum segment lifetime of the strict model; TIME_WAIT
// lasts twice as long.
const DefaultMSL = 30 * time.Second

// Model is a TIME_WAIT model.
type Model int

// The models; see the package documentation.
const (
	Tuple Model = iota
	Strict
)

func (m Model) String() string {
	if m == Strict {
		return "STRICT"
	}
	return "TUPLE"
}

// Rule names one rule of the PORTRANGE command.
type Rule int

// The rules, each with its own message.
const (
	RuleLowRange  Rule = iota // LOW in 1024..65535
	RuleHighRange             // HIGH in 4096..65535
	RuleLowGap                // LOW at least 1024 lower than HIGH
	RuleHighGap               // HIGH at least 1024 higher than LOW
	RuleOrder                 // a pool needs LOW <= HIGH (any pool)
)

// RangeError is one violated rule, with the values that violate it.
type RangeError struct {
	Rule      Rule
	Low, High int
}

func (e *RangeError) Error() string {
	switch e.Rule {
	case RuleLowRange:
		return fmt.Sprintf("LOW=%d is outside %d-%d", e.Low, LowMin, LowMax)
	case RuleHighRange:
		return fmt.Sprintf("HIGH=%d is outside %d-%d", e.High, HighMin, HighMax)
	case RuleLowGap:
		return fmt.Sprintf("LOW=%d must be at least %d lower than HIGH=%d", e.Low, MinGap, e.High)
	case RuleHighGap:
		return fmt.Sprintf("HIGH=%d must be at least %d higher than LOW=%d", e.High, MinGap, e.Low)
	}
	return fmt.Sprintf("port range %d-%d is empty or outside 1-65535", e.Low, e.High)
}

// ErrExhausted says that no port of the pool can serve the request now.
var ErrExhausted = errors.New("no port of the range is available")

// ErrNotLeased says that a port given back was not leased.
var ErrNotLeased = errors.New("port is not leased")

// ErrLeased says that a port asked for by number is already leased.
var ErrLeased = errors.New("port is already leased")

// ReservedError says that a reservation overlaps one already made.
type ReservedError struct {
	Owner     string // the reservation it overlaps
	Low, High uint16
	Kind      Kind // who set it aside
}

func (e *ReservedError) Error() string {
	if e.Owner == Forbidden {
		return fmt.Sprintf("ports %d-%d are forbidden", e.Low, e.High)
	}
	return fmt.Sprintf("ports %d-%d are reserved for %s", e.Low, e.High, e.Owner)
}

// Reservation is a range of ports set aside for an owner, such as an FTP
// daemon's DATAPORTS inside the ephemeral range: the pool never allocates
// them while it stands.
type Reservation struct {
	Owner     string
	Low, High uint16
}

// CheckEphemeral applies the PORTRANGE rules to a new range. lowGiven and
// highGiven say which operands the operator typed: the gap rule is reported
// as LOW's rule, HIGH's rule, or both, accordingly. It returns every violated
// rule, or nil.
func CheckEphemeral(low, high int, lowGiven, highGiven bool) []*RangeError {
	var errs []*RangeError
	if low < LowMin || low > LowMax {
		errs = append(errs, &RangeError{RuleLowRange, low, high})
	}
	if high < HighMin || high > HighMax {
		errs = append(errs, &RangeError{RuleHighRange, low, high})
	}
	if len(errs) > 0 {
		return errs
	}
	if high-low < MinGap {
		if lowGiven || !highGiven {
			errs = append(errs, &RangeError{RuleLowGap, low, high})
		}
		if highGiven {
			errs = append(errs, &RangeError{RuleHighGap, low, high})
		}
	}
	return errs
}

// Remote is the foreign end of a connection. A zero Port means the port is
// not known yet (a passive listener waiting for its client).
type Remote struct {
	Addr netip.Addr
	Port uint16
}

// Stats is a snapshot of a pool.
type Stats struct {
	Low, High uint16
	Size      int // ports in the range
	InUse     int // ports lent now to a listener or a connection, or bound
	Parked    int // ports whose listener is kept for its session's next transfer (taken back when the pool runs dry)
	// TimeWait and TimeWaitTuples count the connections in TIME_WAIT on
	// this side (the stack's own state), by port and by 4-tuple.
	TimeWait       int
	TimeWaitTuples int
	// Blocked is the ports of the range that no one may use now though
	// nobody holds them: the strict model's rest after a close, and ports
	// the stack or the host refused lately (Outside of them).
	Blocked int
	Outside int
	// Elsewhere is the ports of a sysplex-wide range that another member
	// holds (in Blocked); Shared the ports this member holds in the store.
	Elsewhere   int
	Shared      int
	Reserved    int    // ports of the range set aside for an owner (and not lent)
	Allocations uint64 // ports lent: one a granted listener or connection
	Exhaustions uint64 // requests refused because no port could serve
	Model       Model
	MSL         time.Duration
}

// Free is the number of ports in the range that could be lent now.
func (s Stats) Free() int { return s.Size - s.InUse - s.Parked - s.Blocked - s.Reserved }
