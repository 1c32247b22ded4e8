// Package portrange is the stack's port authority. A Registry holds every
// tier of the selection order (explicit binds with their owners, the
// explicit-bind range, the FTP daemons' passive data ports, the TCP and UDP
// ephemeral ranges), the ports set aside for an owner or for no one, and the
// TIME_WAIT model that decides when a port may be used again; each rule it
// enforces is one typed error (RangeError, ReservedError, BoundError).
//
// A Pool, and the Registry, are pure data structures: no goroutines, no
// sockets, and the time is passed in by the caller, so their behaviour over
// minutes of TIME_WAIT can be tested in microseconds. Both are safe for
// concurrent use.
//
// Allocation follows the PORTRANGE page's policy: the pool hands out "the
// next available port number" in turn, going round the range from where the last allocation
// stopped, and never hands out a port that is leased or that the TIME_WAIT
// model still holds. A port is a lease: it is the caller's until Release.
//
// The TIME_WAIT model is chosen per pool:
//
//   - Tuple (the default, what a real TCP stack does): a connection that ends
//     in TIME_WAIT holds its 4-tuple, not its port. The port is free again at
//     once for a listener and for a connection to any other foreign address
//     and port; only a new connection to the very same foreign address and
//     port waits for the TIME_WAIT to pass.
//   - Strict (the PORTRANGE page's model): a port whose last connection
//     closed is unusable for 2×MSL, whoever the next peer is.
package portrange

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// The rules of the PORTRANGE command (seed 000).
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
	Low, High      uint16
	Size           int // ports in the range
	InUse          int // ports leased now
	TimeWait       int // ports with at least one connection in TIME_WAIT
	TimeWaitTuples int // connections in TIME_WAIT
	Blocked        int // ports that the TIME_WAIT model keeps from any use now
	Reserved       int // ports of the range set aside for an owner (and not leased)
	Allocations    uint64
	Exhaustions    uint64
	Model          Model
	MSL            time.Duration
}

// Free is the number of ports in the range that could be allocated now.
func (s Stats) Free() int { return s.Size - s.InUse - s.Blocked - s.Reserved }

// twEntry is a connection that ended in TIME_WAIT at closed (unix ns).
type twEntry struct {
	remote Remote
	closed int64
}

// twList holds one port's connections in TIME_WAIT, oldest first: the order
// they closed in, so that the expired ones are always at the front and a
// check costs no more than what expired. How long an entry holds depends on
// the model in force when the pool looks, so that a change of model or MSL
// applies to the connections already in TIME_WAIT. byRemote (the latest
// close per foreign end) is kept only once the pool has served a dial, the
// one request that asks about one exact 4-tuple.
type twList struct {
	oldest   int64 // fifo[head].closed, kept here so that a look at a port whose records all live reads no more than this
	fifo     []twEntry
	head     int
	byRemote map[Remote]int64
}

func (l *twList) len() int { return len(l.fifo) - l.head }

func (l *twList) newest() int64 { return l.fifo[len(l.fifo)-1].closed }

// Pool is a range of ports with its leases and TIME_WAIT records.
type Pool struct {
	mu          sync.Mutex
	low, high   uint16
	next        uint16       // where the next search starts
	leased      [1024]uint64 // one bit per port
	full        [16]uint64   // one bit per word of leased: set when all 64 ports are leased
	tw          map[uint16]*twList
	dials       bool          // the pool has served a dial (Allocate with a foreign port)
	twHold      time.Duration // how long a TIME_WAIT record lasts in the Tuple model
	model       Model
	msl         time.Duration
	allocations uint64
	exhaustions uint64
	reserved    []Reservation // by Low; a handful at most, set by the Registry
}

// New makes a pool over [low, high], in the Tuple model.
func New(low, high uint16) (*Pool, error) {
	if low == 0 || low > high {
		return nil, &RangeError{RuleOrder, int(low), int(high)}
	}
	return &Pool{
		low: low, high: high, next: low,
		tw:     make(map[uint16]*twList),
		twHold: 60 * time.Second,
		msl:    DefaultMSL,
	}, nil
}

// Range gives the pool's bounds.
func (p *Pool) Range() (low, high uint16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.low, p.high
}

// SetRange changes the bounds. Leases outside the new range stay valid until
// they are released. The search restarts at the new LOW.
func (p *Pool) SetRange(low, high uint16) error {
	if low == 0 || low > high {
		return &RangeError{RuleOrder, int(low), int(high)}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.low, p.high, p.next = low, high, low
	return nil
}

// SetModel chooses the TIME_WAIT model. msl is the maximum segment lifetime
// of the Strict model (TIME_WAIT lasts 2×MSL); tupleHold is how long a
// connection stays in TIME_WAIT in the Tuple model (the stack's own timeout).
// A zero duration keeps the current value.
func (p *Pool) SetModel(m Model, msl, tupleHold time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.model = m
	if msl > 0 {
		p.msl = msl
	}
	if tupleHold > 0 {
		p.twHold = tupleHold
	}
}

// Model gives the TIME_WAIT model and its times.
func (p *Pool) Model() (m Model, msl, tupleHold time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.model, p.msl, p.twHold
}

// Allocate leases the next available port for a connection to (or from) the
// remote r. It returns ErrExhausted when no port of the range can serve r now.
func (p *Pool) Allocate(now time.Time, r Remote) (uint16, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Port != 0 {
		p.dials = true
	}
	if p.next < p.low || p.next > p.high {
		p.next = p.low
	}
	// In turn from next to high, then from low to next-1; the bitmap skips
	// leased ports 64 (and 4096) at a time, so the search costs the same
	// however many ports are held.
	port, ok := p.searchLocked(now, r, int(p.next), int(p.high))
	if !ok {
		port, ok = p.searchLocked(now, r, int(p.low), int(p.next)-1)
	}
	if !ok {
		p.exhaustions++
		return 0, ErrExhausted
	}
	p.setLeased(port, true)
	p.allocations++
	if port == p.high {
		p.next = p.low
	} else {
		p.next = port + 1
	}
	return port, nil
}

// searchLocked finds the first port of [from, to] that is not leased, not
// reserved and that the TIME_WAIT model lets serve r.
func (p *Pool) searchLocked(now time.Time, r Remote, from, to int) (uint16, bool) {
	for from <= to {
		port := p.nextUnleased(from, to)
		if port < 0 {
			return 0, false
		}
		if !p.reservedLocked(uint16(port)) && p.usableLocked(now, uint16(port), r) {
			return uint16(port), true
		}
		from = port + 1
	}
	return 0, false
}

// nextUnleased gives the first port of [from, to] whose lease bit is clear,
// or -1.
func (p *Pool) nextUnleased(from, to int) int {
	for from <= to {
		w := from >> 6
		if free := ^p.leased[w] >> (from & 63); free != 0 {
			if port := from + bits.TrailingZeros64(free); port <= to {
				return port
			}
			return -1
		}
		w = p.nextNotFull(w + 1)
		if w < 0 {
			return -1
		}
		from = w << 6
	}
	return -1
}

// nextNotFull gives the first word of leased from w on with a clear bit, or -1.
func (p *Pool) nextNotFull(w int) int {
	for w < len(p.leased) {
		s := w >> 6
		if open := ^p.full[s] >> (w & 63); open != 0 {
			return w + bits.TrailingZeros64(open)
		}
		w = (s + 1) << 6
	}
	return -1
}

// CanServe says whether Allocate would find a port for r now, without
// counting an exhaustion when it would not (a caller waiting for a port
// looks with it).
func (p *Pool) CanServe(now time.Time, r Remote) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.searchLocked(now, r, int(p.low), int(p.high))
	return ok
}

// Claim leases a given port, which need not be inside the range (a fixed
// port, or one the stack chose itself). It fails with ErrLeased if the port
// is leased, or ErrExhausted if the TIME_WAIT model holds it for r.
func (p *Pool) Claim(now time.Time, port uint16, r Remote) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isLeased(port) {
		return ErrLeased
	}
	if !p.usableLocked(now, port, r) {
		return ErrExhausted
	}
	p.setLeased(port, true)
	return nil
}

// Release gives a leased port back. If the connection that used it ended in
// TIME_WAIT, tw is its foreign end, and the model holds the port (Strict) or
// the 4-tuple (Tuple) from now on.
func (p *Pool) Release(now time.Time, port uint16, tw *Remote) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isLeased(port) {
		return ErrNotLeased
	}
	p.setLeased(port, false)
	if tw != nil {
		p.addTimeWaitLocked(now, port, *tw)
	}
	return nil
}

// TimeWait records a connection in TIME_WAIT on a port that is not (or no
// longer) leased through this pool, such as one closed by the stack itself.
func (p *Pool) TimeWait(now time.Time, port uint16, r Remote) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addTimeWaitLocked(now, port, r)
}

func (p *Pool) addTimeWaitLocked(now time.Time, port uint16, r Remote) {
	l := p.pruneLocked(now, port)
	if l == nil {
		l = &twList{}
		p.tw[port] = l
	}
	ns := now.UnixNano()
	if l.len() > 0 && ns < l.newest() {
		ns = l.newest() // a clock that went back must not break the order
	}
	l.fifo = append(l.fifo, twEntry{remote: r, closed: ns})
	l.oldest = l.fifo[l.head].closed
	if p.dials {
		if l.byRemote == nil {
			l.byRemote = map[Remote]int64{}
		}
		l.byRemote[r] = ns
	}
}

// holdLocked is how long TIME_WAIT lasts in the model in force.
func (p *Pool) holdLocked() time.Duration {
	if p.model == Strict {
		return 2 * p.msl
	}
	return p.twHold
}

// keepLocked is how long a record is kept: the longer of the two models'
// holds, so that a change of model can lengthen a hold as well as shorten it.
func (p *Pool) keepLocked() time.Duration {
	if 2*p.msl > p.twHold {
		return 2 * p.msl
	}
	return p.twHold
}

// usableLocked says whether the TIME_WAIT model lets port serve r now.
func (p *Pool) usableLocked(now time.Time, port uint16, r Remote) bool {
	l := p.pruneLocked(now, port)
	if l == nil {
		return true
	}
	if p.model == Strict {
		return l.newest()+int64(p.holdLocked()) <= now.UnixNano()
	}
	if r.Port == 0 {
		// A listener: its client will come from a port of its own choosing,
		// and a SYN for a 4-tuple in TIME_WAIT is accepted anyway.
		return true
	}
	closed, ok := l.byRemote[r]
	return !ok || closed+int64(p.holdLocked()) <= now.UnixNano()
}

// pruneLocked drops the expired TIME_WAIT records of a port and gives what
// is left, or nil.
func (p *Pool) pruneLocked(now time.Time, port uint16) *twList {
	l, ok := p.tw[port]
	if !ok {
		return nil
	}
	return p.pruneList(now.UnixNano()-int64(p.keepLocked()), port, l)
}

// pruneList drops the records of l closed at or before limit.
func (p *Pool) pruneList(limit int64, port uint16, l *twList) *twList {
	if l.oldest > limit {
		return l // the common case: nothing expired
	}
	for l.head < len(l.fifo) && l.fifo[l.head].closed <= limit {
		e := l.fifo[l.head]
		if l.byRemote != nil && l.byRemote[e.remote] == e.closed {
			delete(l.byRemote, e.remote)
		}
		l.fifo[l.head] = twEntry{}
		l.head++
	}
	if l.len() == 0 {
		delete(p.tw, port)
		return nil
	}
	if l.head > 64 && l.head > len(l.fifo)/2 {
		l.fifo = append(l.fifo[:0:0], l.fifo[l.head:]...)
		l.head = 0
	}
	l.oldest = l.fifo[l.head].closed
	return l
}

// ForgetTimeWait drops the newest TIME_WAIT record of port for r: the
// stack ended that connection's TIME_WAIT early (a reset), and the pool
// follows the stack. It does nothing if there is none.
func (p *Pool) ForgetTimeWait(port uint16, r Remote) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.tw[port]
	if !ok {
		return
	}
	live := l.fifo[l.head:]
	for i := len(live) - 1; i >= 0; i-- {
		if live[i].remote != r {
			continue
		}
		closed := live[i].closed
		l.fifo = append(append(l.fifo[:0:0], live[:i]...), live[i+1:]...)
		l.head = 0
		if l.byRemote != nil && l.byRemote[r] == closed {
			delete(l.byRemote, r)
			for _, e := range l.fifo {
				if e.remote == r {
					l.byRemote[r] = e.closed
				}
			}
		}
		if len(l.fifo) == 0 {
			delete(p.tw, port)
		} else {
			l.oldest = l.fifo[0].closed
		}
		return
	}
}

// Stats takes a snapshot, dropping expired TIME_WAIT records first.
func (p *Pool) Stats(now time.Time) Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{
		Low: p.low, High: p.high, Size: int(p.high) - int(p.low) + 1,
		Allocations: p.allocations, Exhaustions: p.exhaustions,
		Model: p.model, MSL: p.msl,
	}
	limit := now.UnixNano() - int64(p.holdLocked())
	keep := now.UnixNano() - int64(p.keepLocked())
	for port, l := range p.tw {
		if l = p.pruneList(keep, port, l); l == nil {
			continue
		}
		n := l.len()
		if limit != keep && l.oldest <= limit {
			live := l.fifo[l.head:]
			n -= sort.Search(len(live), func(i int) bool { return live[i].closed > limit })
		}
		if n > 0 {
			s.TimeWait++
			s.TimeWaitTuples += n
			if p.model == Strict && port >= p.low && port <= p.high && !p.isLeased(port) && !p.reservedLocked(port) {
				s.Blocked++
			}
		}
	}
	s.InUse = p.countLeased(int(p.low), int(p.high))
	for _, r := range p.reserved {
		lo, hi := max(int(r.Low), int(p.low)), min(int(r.High), int(p.high))
		if lo <= hi {
			s.Reserved += hi - lo + 1 - p.countLeased(lo, hi)
		}
	}
	return s
}

// NextFree says when the TIME_WAIT model frees its next port of the range
// (not leased, not reserved), and false when it holds none: then only the
// end of a connection using a port can free one.
func (p *Pool) NextFree(now time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first int64
	hold := int64(p.holdLocked())
	for port := range p.tw {
		l := p.pruneLocked(now, port)
		if l == nil || port < p.low || port > p.high || p.isLeased(port) || p.reservedLocked(port) {
			continue
		}
		if p.model == Tuple {
			continue // a TIME_WAIT record keeps a port from no listener
		}
		if at := l.newest() + hold; at > now.UnixNano() && (first == 0 || at < first) {
			first = at
		}
	}
	if first == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, first), true
}

// setReserved replaces the ports set aside from the pool (the Registry's
// reservations that concern it): Allocate never hands them out. Ports
// leased now stay leased until released. A reservation may lie partly or
// wholly outside the range (it applies to the ports the range holds, now
// or after a change of range).
func (p *Pool) setReserved(rs []Reservation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reserved = rs
}

func (p *Pool) reservedLocked(port uint16) bool {
	for _, r := range p.reserved {
		if port >= r.Low && port <= r.High {
			return true
		}
	}
	return false
}

// Leased reports whether a port is leased now.
func (p *Pool) Leased(port uint16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.isLeased(port)
}

func (p *Pool) isLeased(port uint16) bool { return p.leased[port>>6]&(1<<(port&63)) != 0 }

func (p *Pool) setLeased(port uint16, on bool) {
	w := port >> 6
	if on {
		p.leased[w] |= 1 << (port & 63)
		if p.leased[w] == ^uint64(0) {
			p.full[w>>6] |= 1 << (w & 63)
		}
	} else {
		p.leased[w] &^= 1 << (port & 63)
		p.full[w>>6] &^= 1 << (w & 63)
	}
}

// countLeased counts the leased ports of [lo, hi].
func (p *Pool) countLeased(lo, hi int) int {
	n := 0
	for lo <= hi {
		w := lo >> 6
		end := min(hi, w<<6|63)
		word := p.leased[w] >> (lo & 63)
		if span := end - lo + 1; span < 64 {
			word &= 1<<span - 1
		}
		n += bits.OnesCount64(word)
		lo = end + 1
	}
	return n
}
