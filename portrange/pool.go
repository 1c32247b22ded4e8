package portrange

import (
	crand "crypto/rand"
	"errors"
	"math/bits"
	mrand "math/rand/v2"
	"sync"
	"time"
)

// Tester tries a port the pool offers, with the port already the
// request's: it binds (and for a dial connects) the stack's or the host's
// socket. It returns nil when the socket has the port, an error wrapping
// ErrInUse when something outside the pool holds the port (the pool leaves
// the port alone for StackRetry and offers the next), or any other error,
// which ends the request with that error.
type Tester func(port uint16) error

// ErrInUse says the stack or the host refused a port the pool offered.
var ErrInUse = errors.New("port is held outside the pool")

// StackRetry is how long a port that the stack or the host refused is left
// alone before the pool offers it again.
const StackRetry = time.Second

// Request is one request for a port.
type Request struct {
	// Remote is the foreign end: a zero port for a listener (its client
	// comes from a port of its own choosing), the exact end for a dial.
	Remote Remote
	// Again says the caller asks again if this request finds no port (a
	// PASV that waits, PASVWAIT=): a refusal is not counted; the caller
	// counts its final one with Refused.
	Again bool
	// Random draws the port at random among the usable ones instead of
	// the next in turn (a DNS query's source port, RFC 5452: an answer
	// forged blind must guess it).
	Random bool
}

// Closing is how one connection on a lent port ended, as its holder tells
// the lease.
type Closing struct {
	// Remote is the foreign end of the connection; zero for a listener or
	// a connection that never came up (no 4-tuple to hold).
	Remote Remote
	// First says this side closed first, so the connection is in TIME_WAIT
	// here (the stack's endpoint state says so: FIN_WAIT_1 and on).
	First bool
	// Tracked says the holder reports when the stack lets the endpoint go
	// (the end func that Drop returns): the pool then follows the stack's
	// own TIME_WAIT. Untracked closings (host sockets) are held for the
	// model's times alone.
	Tracked bool
}

// bitmap has one bit per port.
type bitmap [1024]uint64

func (b *bitmap) has(port uint16) bool { return b[port>>6]&(1<<(port&63)) != 0 }

func (b *bitmap) set(port uint16, on bool) {
	if on {
		b[port>>6] |= 1 << (port & 63)
	} else {
		b[port>>6] &^= 1 << (port & 63)
	}
}

// count counts the set bits of [lo, hi].
func (b *bitmap) count(lo, hi int) int {
	n := 0
	for lo <= hi {
		w := lo >> 6
		end := min(hi, w<<6|63)
		word := b[w] >> (lo & 63)
		if span := end - lo + 1; span < 64 {
			word &= 1<<span - 1
		}
		n += bits.OnesCount64(word)
		lo = end + 1
	}
	return n
}

// rec is one connection that ended on a port of the pool: what the models
// hold after it. It lives in the pool's queue (by close time) until the
// longer of the models' holds has passed, and after that in waiting while
// the stack still holds its endpoint.
type rec struct {
	port    uint16
	remote  Remote
	closed  int64 // unix ns
	tw      bool  // this side closed first: TIME_WAIT here
	tracked bool  // the stack's end is reported
	pending bool  // tracked, and the stack has not let the endpoint go yet
	indexed bool  // counted in byRemote
	// As last computed: the strict model rests the port; the 4-tuple is
	// held (the stack keeps the endpoint, or an untracked closing's time);
	// the connection counts as in TIME_WAIT.
	rests, tuple, inTW bool
	gone               bool // out of the queue and out of waiting
	// restOver: the strict rest was seen to end; a longer MSL set later
	// does not bring it back.
	restOver bool
}

// portState is what the records of one port add up to.
type portState struct {
	recs     int            // records kept (queued or waiting)
	holds    int            // records that rest the port (strict)
	tw       int            // records in TIME_WAIT
	tuples   int            // records holding their 4-tuple
	newest   int64          // the latest close
	byRemote map[Remote]int // records holding their 4-tuple, by foreign end (pools that dial)
}

// Pool is a range of ports with its leases and the records of the
// connections that ended on them. Lock order: a Lease's mu, then the
// Pool's mu; the pool calls no lease, tester or reclaim while it holds its
// own.
type Pool struct {
	mu        sync.Mutex
	low, high uint16
	next      uint16 // where the next search starts

	// A port is busy (never offered) while any of these has its bit:
	leased  bitmap // lent (parked included) or claimed by a bind
	held    bitmap // the strict model holds it (a record that holds)
	outside bitmap // the stack or the host refused it less than StackRetry ago
	resv    bitmap // set aside for an owner (Registry)
	// elsewhere: another member of the sysplex holds it in the store
	// (a shared pool; the member's watch of the store keeps it)
	elsewhere bitmap
	full      [16]uint64 // one bit per word of the bitmaps: set when all 64 ports are busy

	// shared is the sysplex's store through which a sysplex-wide pool's
	// ports are unique across members (nil: a local pool); claimed has the
	// ports this member holds in it.
	shared  Shared
	claimed bitmap

	ports   map[uint16]*portState
	queue   []*rec // by close time; [head:] kept
	head    int
	cursor  int // queue[head:cursor] are past the hold of the model in force
	waiting map[*rec]struct{}
	outq    []outMark // by time; [outHead:] kept
	outHead int

	parked map[*Lease]struct{}

	dials      bool           // the pool has served a dial: records are indexed by foreign end
	remoteLive map[Remote]int // records holding their 4-tuple by foreign end, every port
	gen        uint64         // changes whenever a port may have become usable
	dry        map[Remote]uint64
	rand       func(n uint32) uint32 // a random number below n (Random requests)

	twPorts, twTuples int
	now               int64 // the latest time the pool was told (a change of model judges by it)

	model       Model
	msl         time.Duration
	twHold      time.Duration // the stack's TIME_WAIT (the Tuple model's hold for untracked closings)
	allocations uint64
	exhaustions uint64
	reserved    []Reservation // by Low; a handful at most, set by the Registry
}

type outMark struct {
	port  uint16
	until int64
}

// New makes a pool over [low, high], in the Tuple model.
func New(low, high uint16) (*Pool, error) {
	if low == 0 || low > high {
		return nil, &RangeError{RuleOrder, int(low), int(high)}
	}
	return &Pool{
		low: low, high: high, next: low,
		ports: map[uint16]*portState{}, waiting: map[*rec]struct{}{}, parked: map[*Lease]struct{}{},
		remoteLive: map[Remote]int{}, dry: map[Remote]uint64{},
		twHold: 60 * time.Second, msl: DefaultMSL,
		rand: cryptoSeeded(),
	}, nil
}

// cryptoSeeded is a random source seeded from the system's secure one:
// fast enough to draw under the pool's lock, and not predictable from the
// ports it gave before.
func cryptoSeeded() func(n uint32) uint32 {
	var seed [32]byte
	crand.Read(seed[:])
	r := mrand.New(mrand.NewChaCha8(seed))
	return r.Uint32N
}

// SetRandom replaces the pool's random source (tests: a seeded one).
func (p *Pool) SetRandom(f func(n uint32) uint32) {
	p.mu.Lock()
	p.rand = f
	p.mu.Unlock()
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
	p.gen++
	return nil
}

// SetModel chooses the TIME_WAIT model at now (zero: the latest time the
// pool has seen). msl is the maximum segment lifetime of the Strict model
// (a port rests 2×MSL after its connection closed); tupleHold is the
// stack's TIME_WAIT, which the Tuple model follows for closings it cannot
// track. A zero duration keeps the current value. The records are first
// judged at now under the old model, then again by the new one: a longer
// MSL lengthens the rest of a port resting now, and never brings back a
// rest that had ended.
func (p *Pool) SetModel(now time.Time, m Model, msl, tupleHold time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := p.now
	if !now.IsZero() {
		at = max(at, now.UnixNano())
	}
	p.expireLocked(at) // the holds that have ended stay ended
	p.model = m
	if msl > 0 {
		p.msl = msl
	}
	if tupleHold > 0 {
		p.twHold = tupleHold
	}
	p.rejudgeLocked(at)
}

// rejudgeLocked computes every record again after a change of model: the
// held bits, the counts, the cursor. A 4-tuple is judged by the stack's
// time from its close; a strict rest that was seen to end stays ended.
func (p *Pool) rejudgeLocked(now int64) {
	p.cursor = p.head
	for _, r := range p.queue[p.head:] {
		p.refreshLocked(r, now)
	}
	for r := range p.waiting {
		p.refreshLocked(r, now)
	}
	hold := int64(p.holdLocked())
	for p.cursor < len(p.queue) && p.queue[p.cursor].closed+hold <= now {
		p.cursor++
	}
	p.gen++
}

// Model gives the TIME_WAIT model and its times.
func (p *Pool) Model() (m Model, msl, tupleHold time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.model, p.msl, p.twHold
}

// holdLocked is how long a record holds by time in the model in force.
func (p *Pool) holdLocked() time.Duration {
	if p.model == Strict {
		return 2 * p.msl
	}
	return p.twHold
}

// keepLocked is how long a record stays in the queue: the longer of the
// two models' holds, so that a change of model can lengthen a hold as well
// as shorten it.
func (p *Pool) keepLocked() time.Duration { return max(2*p.msl, p.twHold) }

// Lend lends the next available port for req, in turn from where the last
// one stopped (or from a random point, req.Random), trying each with test (nil: no socket to try). A port the
// tester finds held outside the pool is left alone for StackRetry and the
// next one offered. When no port can serve, parked leases are taken back
// once (their owners' reclaim), then the request is refused with
// ErrExhausted, counted unless req.Again. Allocations count granted ports
// only.
func (p *Pool) Lend(now time.Time, req Request, test Tester) (*Lease, error) {
	reclaimed := false
	for {
		p.mu.Lock()
		if req.Remote.Port != 0 {
			p.dials = true
		}
		port, ok := p.findLocked(now, req)
		if !ok {
			if !reclaimed && len(p.parked) > 0 {
				ls := make([]*Lease, 0, len(p.parked))
				for l := range p.parked {
					ls = append(ls, l)
				}
				clear(p.parked)
				p.mu.Unlock()
				for _, l := range ls {
					l.reclaimNow()
				}
				reclaimed = true
				continue
			}
			if !req.Again {
				p.exhaustions++
			}
			p.mu.Unlock()
			return nil, ErrExhausted
		}
		p.setLeased(port, true)
		switch {
		case req.Random:
		case port >= p.high:
			p.next = p.low
		default:
			p.next = port + 1
		}
		share := p.shared // asked every time: the store decides, never a memory of it
		p.mu.Unlock()
		var err error
		if share != nil {
			// The store first: a port another member holds is not this
			// member's to try, whatever the socket says.
			if err = share.Claim(port); err == nil {
				p.mu.Lock()
				if p.shared == share {
					p.claimed.set(port, true)
				}
				p.mu.Unlock()
			}
		}
		if err == nil && test != nil {
			err = test(port)
		}
		p.mu.Lock()
		if err == nil {
			p.allocations++
			p.mu.Unlock()
			return &Lease{pool: p, port: port, holders: 1}, nil
		}
		p.setLeased(port, false)
		p.releaseLocked(port)
		p.gen++
		if !errors.Is(err, ErrInUse) {
			p.mu.Unlock()
			return nil, err
		}
		// Held outside the pool: left alone a while; the loop ends, as
		// every pass marks one more port.
		p.outside.set(port, true)
		p.touch(port)
		p.outq = append(p.outq, outMark{port, now.Add(StackRetry).UnixNano()})
		p.mu.Unlock()
	}
}

// Refused counts a request refused after it asked Again (a PASV whose wait
// ran out).
func (p *Pool) Refused() {
	p.mu.Lock()
	p.exhaustions++
	p.mu.Unlock()
}

// findLocked gives the next port, from next round to next-1, that is not
// busy and that the model lets serve r. A dial also skips ports whose
// 4-tuple to r is held; a search for r that found
// nothing is remembered until something changes (gen), so that a dry pool
// answers at once.
func (p *Pool) findLocked(now time.Time, req Request) (uint16, bool) {
	p.expireLocked(now.UnixNano())
	if p.next < p.low || p.next > p.high {
		p.next = p.low
	}
	r, start := req.Remote, p.next
	if req.Random {
		start = p.low + uint16(p.rand(uint32(p.high-p.low)+1))
	}
	tuple := r.Port != 0 && p.remoteLive[r] > 0
	if tuple {
		if g, ok := p.dry[r]; ok && g == p.gen {
			return 0, false
		}
	}
	ok := func(port int) bool {
		if !tuple {
			return true
		}
		ps := p.ports[uint16(port)]
		return ps == nil || ps.byRemote[r] == 0
	}
	port, found := p.searchLocked(int(start), int(p.high), ok)
	if !found {
		port, found = p.searchLocked(int(p.low), int(start)-1, ok)
	}
	if !found && tuple {
		if len(p.dry) > 64 {
			clear(p.dry)
		}
		p.dry[r] = p.gen
	}
	return port, found
}

// searchLocked finds the first port of [from, to] that is not busy and
// passes ok. The summary bits skip busy ports 64 (and 4096) at a time, so
// a search costs the same however many ports are held.
func (p *Pool) searchLocked(from, to int, ok func(int) bool) (uint16, bool) {
	for from <= to {
		port := p.nextNotBusy(from, to)
		if port < 0 {
			return 0, false
		}
		if ok(port) {
			return uint16(port), true
		}
		from = port + 1
	}
	return 0, false
}

func (p *Pool) busyWord(w int) uint64 {
	return p.leased[w] | p.held[w] | p.outside[w] | p.resv[w] | p.elsewhere[w]
}

// nextNotBusy gives the first port of [from, to] that is not busy, or -1.
func (p *Pool) nextNotBusy(from, to int) int {
	for from <= to {
		w := from >> 6
		if free := ^p.busyWord(w) >> (from & 63); free != 0 {
			if port := from + bits.TrailingZeros64(free); port <= to {
				return port
			}
			return -1
		}
		w = p.nextNotFull(w + 1)
		if w < 0 || w<<6 > to {
			return -1
		}
		from = w << 6
	}
	return -1
}

// nextNotFull gives the first word from w on with a port that is not busy, or -1.
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

// touch brings the summary bit of port's word up to date.
func (p *Pool) touch(port uint16) {
	w := int(port >> 6)
	if p.busyWord(w) == ^uint64(0) {
		p.full[w>>6] |= 1 << (w & 63)
	} else {
		p.full[w>>6] &^= 1 << (w & 63)
	}
}

func (p *Pool) setLeased(port uint16, on bool) {
	p.leased.set(port, on)
	p.touch(port)
}

func (p *Pool) setHeld(port uint16, on bool) {
	if p.held.has(port) != on {
		p.held.set(port, on)
		p.touch(port)
	}
}

// Claim takes a given port for a bind, which need not be inside the range
// (a fixed port). It fails with ErrLeased if the port is lent or bound, or
// ErrExhausted if the strict model holds it.
func (p *Pool) Claim(now time.Time, port uint16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked(now.UnixNano())
	if p.leased.has(port) {
		return ErrLeased
	}
	if p.held.has(port) {
		return ErrExhausted
	}
	p.setLeased(port, true)
	return nil
}

// unclaim gives back a port taken by Claim (the last bind of it ended).
func (p *Pool) unclaim(port uint16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setLeased(port, false)
	p.releaseLocked(port)
	p.gen++
}

// closeLocked records how a connection on port ended (nil when nothing is
// held after it), and gives the port back when release says so (the
// lease's last holder). Both in one step: the port is never free without
// its hold.
func (p *Pool) closeLocked(now time.Time, port uint16, c Closing, release bool) *rec {
	var r *rec
	ns := now.UnixNano()
	p.expireLocked(ns)
	if c.Remote.Addr.IsValid() && (c.First || c.Tracked || p.model == Strict) {
		// Kept whatever the model: a change of model judges it again.
		r = &rec{port: port, remote: c.Remote, tw: c.First, tracked: c.Tracked, pending: c.Tracked}
		if n := len(p.queue); n > p.head && ns < p.queue[n-1].closed {
			ns = p.queue[n-1].closed // a clock that went back must not break the order
		}
		r.closed = ns
		ps := p.ports[port]
		if ps == nil {
			ps = &portState{}
			p.ports[port] = ps
		}
		ps.newest = ns
		ps.recs++
		if p.dials {
			r.indexed = true
		}
		p.queue = append(p.queue, r)
		p.refreshLocked(r, now.UnixNano())
		if p.cursor == len(p.queue)-1 && r.closed+int64(p.holdLocked()) <= now.UnixNano() {
			p.cursor++
		}
	}
	if release {
		p.setLeased(port, false)
		p.releaseLocked(port)
		p.gen++
	}
	return r
}

// endedLocked is the stack letting the endpoint of r go.
func (p *Pool) endedLocked(r *rec, now int64) {
	if !r.pending {
		return
	}
	r.pending = false
	p.expireLocked(now)
	p.refreshLocked(r, now)
	if _, ok := p.waiting[r]; ok && !r.tuple {
		delete(p.waiting, r)
		p.goneLocked(r)
	}
}

// goneLocked forgets r (it holds and counts nothing any more), and its
// port's state with the port's last record.
func (p *Pool) goneLocked(r *rec) {
	r.gone = true
	if ps := p.ports[r.port]; ps != nil {
		if ps.recs--; ps.recs == 0 {
			delete(p.ports, r.port)
			p.releaseLocked(r.port)
		}
	}
}

// refreshLocked judges r again at now and brings the counts, the held bit
// and gen up to date. The strict model rests the port 2×MSL from the
// close; the 4-tuple is held while the stack keeps the endpoint (tracked)
// or for the model's time (untracked: the host's sockets); TIME_WAIT is
// counted as the stack has it.
func (p *Pool) refreshLocked(r *rec, now int64) {
	byTime := !r.gone && r.closed+int64(p.holdLocked()) > now
	if p.model == Strict && !byTime {
		r.restOver = true
	}
	rests := byTime && p.model == Strict && !r.restOver
	tuple := !r.gone && (r.pending || (!r.tracked && byTime))
	inTW := r.tw && (r.pending || (!r.tracked && byTime))
	ps := p.ports[r.port]
	if rests != r.rests {
		r.rests = rests
		if rests {
			ps.holds++
		} else {
			ps.holds--
			p.gen++
		}
		p.setHeld(r.port, ps.holds > 0)
	}
	if tuple != r.tuple {
		r.tuple = tuple
		d := 1
		if !tuple {
			d = -1
			p.gen++
		}
		ps.tuples += d
		if r.indexed {
			if ps.byRemote == nil {
				ps.byRemote = map[Remote]int{}
			}
			ps.byRemote[r.remote] += d
			p.remoteLive[r.remote] += d
			if ps.byRemote[r.remote] == 0 {
				delete(ps.byRemote, r.remote)
			}
			if p.remoteLive[r.remote] == 0 {
				delete(p.remoteLive, r.remote)
			}
		}
	}
	if inTW != r.inTW {
		r.inTW = inTW
		if inTW {
			if ps.tw == 0 {
				p.twPorts++
			}
			ps.tw++
			p.twTuples++
		} else {
			ps.tw--
			p.twTuples--
			if ps.tw == 0 {
				p.twPorts--
			}
		}
	}
	if ps == nil || (ps.holds == 0 && ps.tuples == 0) {
		p.releaseLocked(r.port) // nothing of the port's life is left here
	}
}

// expireLocked judges the records whose hold has passed, drops those past
// the longer hold (keeping in waiting those whose endpoint the stack
// still holds), and ends the outside marks whose time is up.
func (p *Pool) expireLocked(now int64) {
	p.now = max(p.now, now)
	hold := int64(p.holdLocked())
	for p.cursor < len(p.queue) && p.queue[p.cursor].closed+hold <= now {
		p.refreshLocked(p.queue[p.cursor], now)
		p.cursor++
	}
	keep := int64(p.keepLocked())
	for p.head < len(p.queue) && p.queue[p.head].closed+keep <= now {
		r := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		if p.cursor < p.head {
			p.cursor = p.head
		}
		p.refreshLocked(r, now) // past the longer hold: it holds only while the stack holds it
		if r.pending {
			p.waiting[r] = struct{}{}
			continue
		}
		p.goneLocked(r)
	}
	if p.head > 64 && p.head > len(p.queue)/2 {
		n := copy(p.queue, p.queue[p.head:])
		clear(p.queue[n:])
		p.queue = p.queue[:n]
		p.cursor -= p.head
		p.head = 0
	}
	for p.outHead < len(p.outq) && p.outq[p.outHead].until <= now {
		port := p.outq[p.outHead].port
		p.outHead++
		p.outside.set(port, false)
		p.touch(port)
		p.gen++
	}
	if p.outHead == len(p.outq) {
		p.outq, p.outHead = p.outq[:0], 0
	}
}

// Stats takes a snapshot.
func (p *Pool) Stats(now time.Time) Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked(now.UnixNano())
	lo, hi := int(p.low), int(p.high)
	s := Stats{
		Low: p.low, High: p.high, Size: hi - lo + 1,
		TimeWait: p.twPorts, TimeWaitTuples: p.twTuples,
		Allocations: p.allocations, Exhaustions: p.exhaustions,
		Model: p.model, MSL: p.msl,
	}
	for l := range p.parked {
		if int(l.port) >= lo && int(l.port) <= hi {
			s.Parked++
		}
	}
	s.InUse = p.leased.count(lo, hi) - s.Parked
	var blocked, outside, elsewhere, reserved bitmap
	for w := lo >> 6; w <= hi>>6; w++ {
		notLent := ^p.leased[w] &^ p.resv[w]
		blocked[w] = (p.held[w] | p.outside[w] | p.elsewhere[w]) & notLent
		outside[w] = p.outside[w] & notLent
		elsewhere[w] = p.elsewhere[w] & notLent
		reserved[w] = p.resv[w] &^ p.leased[w]
	}
	s.Blocked = blocked.count(lo, hi)
	s.Outside = outside.count(lo, hi)
	s.Elsewhere = elsewhere.count(lo, hi)
	s.Shared = p.claimed.count(lo, hi)
	s.Reserved = reserved.count(lo, hi)
	return s
}

// NextFree says when the strict model frees its next port of the range
// (not lent, not reserved), and false when it holds none (the Tuple model
// rests no port).
func (p *Pool) NextFree(now time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked(now.UnixNano())
	if p.model != Strict {
		return time.Time{}, false
	}
	hold := int64(p.holdLocked())
	for _, r := range p.queue[p.cursor:] {
		if r.port < p.low || r.port > p.high || p.leased.has(r.port) || p.resv.has(r.port) || !r.rests {
			continue
		}
		if ps := p.ports[r.port]; ps != nil && ps.newest == r.closed {
			return time.Unix(0, r.closed+hold), true
		}
	}
	return time.Time{}, false
}

// setReserved replaces the ports set aside from the pool (the Registry's
// reservations that concern it): they are never lent. Ports lent now stay
// lent until released. A reservation may lie partly or wholly outside the
// range (it applies to the ports the range holds, now or after a change of
// range).
func (p *Pool) setReserved(rs []Reservation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reserved = rs
	p.resv = bitmap{}
	for _, r := range rs {
		for port := int(r.Low); port <= int(r.High); port++ {
			p.resv.set(uint16(port), true)
		}
	}
	for w := range p.leased {
		p.touch(uint16(w << 6))
	}
	p.gen++
}

// Leased reports whether a port is lent or bound now.
func (p *Pool) Leased(port uint16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.leased.has(port)
}

func (p *Pool) covers(port uint16) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return port >= p.low && port <= p.high
}
