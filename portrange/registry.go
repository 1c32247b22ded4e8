package portrange

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Proto is a transport protocol: TCP and UDP ports are separate spaces.
type Proto int

// The protocols.
const (
	TCP Proto = iota
	UDP
)

func (p Proto) String() string {
	if p == UDP {
		return "UDP"
	}
	return "TCP"
}

// Tier is one tier of the stack's selection order for a local port, in the
// order the stack asks them:
//
//  1. BIND: the port its user names (a daemon's own port, the data port
//     L-1 of an active FTP transfer).
//  2. EXPLICIT: the explicit-bind range, for a connection its user binds
//     to any address and port 0 before connecting (off until set).
//  3. DATA: an FTP daemon's passive data ports (DATAPORTS), for its
//     passive data listeners only.
//  4. SYSPLEX: the SYSPLEXPORTS range, for a connection from a dynamic
//     VIPA with port 0 (off until set; sysplex-wide, as EXPLICIT is, once
//     the stack joins a sysplex: Couple).
//  5. TCP: the ephemeral range that PORTRANGE sets, for every other TCP
//     port; UDP: the ephemeral range of UDP, for every UDP port.
type Tier int

// The tiers.
const (
	TierBind Tier = iota
	TierExplicit
	TierData
	TierSysplex
	TierTCP
	TierUDP
)

func (t Tier) String() string {
	return [...]string{"BIND", "EXPLICIT", "DATA", "SYSPLEX", "TCP", "UDP"}[t]
}

// Forbidden is the owner of ports no one may use: the operator's RESERVED.
const Forbidden = "RESERVED"

// Kind says who set a reservation aside.
type Kind int

// The kinds of reservation.
const (
	KindOperator Kind = iota // DEFINE PORT
	KindData                 // an FTP daemon's DATAPORTS
	KindExplicit             // the explicit-bind range
	KindSysplex              // the SYSPLEXPORTS range
)

func (k Kind) String() string {
	return [...]string{"DEFINE PORT", "DATAPORTS", "EXPLICIT range", "SYSPLEXPORTS range"}[k]
}

// Reserved is a range of ports set aside: for an owner (an FTP daemon's
// DATAPORTS, an operator's reservation for a named user), for the
// explicit-bind range, or for no one (Owner Forbidden). The ephemeral pools
// never lend a reserved port; only its owner may bind it.
type Reserved struct {
	Proto     Proto
	Low, High uint16
	Owner     string
	Kind      Kind
}

func (r Reserved) overlaps(p Proto, low, high uint16) bool {
	return r.Proto == p && low <= r.High && r.Low <= high
}

// BoundError says a port is bound by another owner.
type BoundError struct {
	Proto Proto
	Port  uint16
	Owner string
}

func (e *BoundError) Error() string {
	return fmt.Sprintf("%s port %d is bound by %s", e.Proto, e.Port, e.Owner)
}

// ErrNoReservation says there is no operator reservation at that port.
var ErrNoReservation = errors.New("no reservation starts at that port")

// Bound is an explicit bind: a port its user named.
type Bound struct {
	Proto Proto
	Addr  netip.Addr // the unspecified address binds every address
	Port  uint16
	Owner string
	Count int // binds of this owner on this address and port
}

// PoolInfo is one pool of the registry as QUERY PORTRANGE shows it.
type PoolInfo struct {
	Name  string // TCP, UDP, EXPLICIT, or the owner of a DATA pool
	Tier  Tier
	Stats Stats
	// NextFree is when the TIME_WAIT model frees its next port, when it
	// holds one; zero otherwise.
	NextFree time.Time
}

// Rate is how many new connections a second the pool sustains in the
// strict model: each port serves one connection every 2×MSL.
func (pi PoolInfo) Rate() float64 {
	capacity := pi.Stats.Size - pi.Stats.Reserved
	if pi.Stats.MSL <= 0 || capacity <= 0 {
		return 0
	}
	return float64(capacity) / (2 * pi.Stats.MSL).Seconds()
}

// Registry is the stack's port authority: every local port the stack binds
// or lends goes through it. It holds the tiers of the selection order (see
// Tier), the explicit binds with their owners, and the ports set aside.
//
// Lock order: a Lease's mu, Registry.mu, then a Pool's mu. A Pool is also
// used on its own (Lend and a lease's Drop take only its lock and the
// lease's); a bind's last Drop takes Registry.mu after letting go of the
// others.
type Registry struct {
	mu       sync.Mutex
	tcp, udp *Pool
	explicit *Pool // nil while no explicit-bind range is set
	sysplex  *Pool // nil while no SYSPLEXPORTS range is set
	vipas    map[netip.Addr]bool
	// shared is the sysplex's store for the explicit and SYSPLEXPORTS
	// pools (nil: they are local); sharedFor makes one pool's Shared.
	sharedFor func(Tier) Shared
	data      map[string]*Pool // by owner
	binds     map[bindKey][]*Bound
	claims    map[bindKey]*Pool // the pool each bound port was taken from
	reserved  []Reserved        // by Proto, then Low
	model     Model
	modelAt   time.Time // when the model was chosen
	msl, hold time.Duration
	// stackRange gives the TCP ephemeral range to the stack underneath, so
	// that a port it ever chose itself would come from the same range.
	stackRange func(low, high uint16) error
	pressure   map[string]*pressure
}

type bindKey struct {
	proto Proto
	port  uint16
}

// NewRegistry makes the registry with the built-in ranges (TCP and UDP
// DefaultLow-DefaultHigh, no explicit-bind range) in the Tuple model.
// stackRange, if not nil, is told every TCP range that is set.
func NewRegistry(stackRange func(low, high uint16) error) (*Registry, error) {
	tcp, _ := New(DefaultLow, DefaultHigh)
	udp, _ := New(DefaultLow, DefaultHigh)
	r := &Registry{tcp: tcp, udp: udp, data: map[string]*Pool{}, binds: map[bindKey][]*Bound{}, claims: map[bindKey]*Pool{}, vipas: map[netip.Addr]bool{},
		msl: DefaultMSL, hold: 2 * DefaultMSL, stackRange: stackRange, pressure: map[string]*pressure{}}
	if stackRange != nil {
		if err := stackRange(DefaultLow, DefaultHigh); err != nil {
			return nil, err
		}
	}
	r.applyModelLocked()
	return r, nil
}

// TCP is the ephemeral TCP pool (PORTRANGE).
func (r *Registry) TCP() *Pool { return r.tcp }

// UDP is the ephemeral UDP pool.
func (r *Registry) UDP() *Pool { return r.udp }

// Explicit is the explicit-bind pool, or nil when none is set.
func (r *Registry) Explicit() *Pool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.explicit
}

// Data is owner's DATAPORTS pool, or nil.
func (r *Registry) Data(owner string) *Pool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data[owner]
}

// SetEphemeral applies the PORTRANGE rules (CheckEphemeral) to a new range
// of the TCP or UDP pool and sets it; the TCP range is given to the stack
// first. Nothing changes when a rule is violated.
func (r *Registry) SetEphemeral(p Proto, low, high int, lowGiven, highGiven bool) error {
	if errs := CheckEphemeral(low, high, lowGiven, highGiven); len(errs) > 0 {
		return RangeErrors(errs)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pool := r.udp
	if p == TCP {
		pool = r.tcp
		if r.stackRange != nil {
			if err := r.stackRange(uint16(low), uint16(high)); err != nil {
				return err
			}
		}
	}
	return pool.SetRange(uint16(low), uint16(high))
}

// RangeErrors is every rule a new range violates.
type RangeErrors []*RangeError

func (es RangeErrors) Error() string {
	s := es[0].Error()
	for _, e := range es[1:] {
		s += "; " + e.Error()
	}
	return s
}

// SetExplicit sets the explicit-bind range to [low, high]: LOW at least
// LowMin, HIGH not below LOW, and no port of it reserved for anyone else.
// The range is set aside from the TCP ephemeral range. low == 0 removes it.
func (r *Registry) SetExplicit(low, high int) error { return r.setRange(KindExplicit, low, high) }

// SetSysplexPorts sets the SYSPLEXPORTS range as SetExplicit sets the
// explicit-bind range: the ports of connections from a dynamic VIPA with
// port 0 (SetVIPA).
func (r *Registry) SetSysplexPorts(low, high int) error { return r.setRange(KindSysplex, low, high) }

// CheckExplicit says whether SetExplicit would take [low, high], changing
// nothing.
func (r *Registry) CheckExplicit(low, high int) error { return r.checkRange(KindExplicit, low, high) }

// CheckSysplexPorts says whether SetSysplexPorts would take [low, high].
func (r *Registry) CheckSysplexPorts(low, high int) error {
	return r.checkRange(KindSysplex, low, high)
}

// SysplexPorts is the SYSPLEXPORTS pool, or nil when none is set.
func (r *Registry) SysplexPorts() *Pool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sysplex
}

// rangeTiers are the tiers whose pool is a range the operator sets aside
// from the TCP ephemeral range (and that a sysplex shares).
var rangeTiers = map[Kind]struct {
	tier  Tier
	owner string
}{KindExplicit: {TierExplicit, "EXPLICIT"}, KindSysplex: {TierSysplex, "SYSPLEXPORTS"}}

func (r *Registry) rangePoolLocked(k Kind) **Pool {
	if k == KindSysplex {
		return &r.sysplex
	}
	return &r.explicit
}

func (r *Registry) setRange(k Kind, low, high int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pp := r.rangePoolLocked(k)
	if low == 0 {
		if *pp != nil {
			(*pp).SetShared(nil)
		}
		*pp = nil
		r.dropReservedLocked(func(rs Reserved) bool { return rs.Kind == k })
		return nil
	}
	if err := r.checkRangeLocked(k, low, high); err != nil {
		return err
	}
	if *pp == nil {
		p, _ := New(uint16(low), uint16(high))
		*pp = p
		r.applyModelLocked()
		if r.sharedFor != nil {
			p.SetShared(r.sharedFor(rangeTiers[k].tier))
		}
	} else if err := (*pp).SetRange(uint16(low), uint16(high)); err != nil {
		return err
	}
	r.dropReservedLocked(func(rs Reserved) bool { return rs.Kind == k })
	r.addReservedLocked(Reserved{TCP, uint16(low), uint16(high), rangeTiers[k].owner, k})
	return nil
}

func (r *Registry) checkRange(k Kind, low, high int) error {
	if low == 0 && high == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkRangeLocked(k, low, high)
}

func (r *Registry) checkRangeLocked(k Kind, low, high int) error {
	if low < LowMin || low > LowMax {
		return RangeErrors{{RuleLowRange, low, high}}
	}
	if high < low || high > HighMax {
		return RangeErrors{{RuleOrder, low, high}}
	}
	return r.checkFreeLocked(TCP, uint16(low), uint16(high), "", k)
}

// Couple makes the explicit-bind and SYSPLEXPORTS pools sysplex-wide:
// shared gives each tier's Shared (nil: local again, when the stack leaves
// its sysplex). A range set later is coupled as it is made.
func (r *Registry) Couple(shared func(Tier) Shared) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sharedFor = shared
	for k, rt := range rangeTiers {
		if p := *r.rangePoolLocked(k); p != nil {
			var s Shared
			if shared != nil {
				s = shared(rt.tier)
			}
			p.SetShared(s)
		}
	}
}

// SetVIPA marks a local address as a dynamic VIPA of the sysplex (or no
// longer): a connection from it with port 0 draws from the SYSPLEXPORTS
// pool (DialPool).
func (r *Registry) SetVIPA(a netip.Addr, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on {
		r.vipas[a] = true
	} else {
		delete(r.vipas, a)
	}
}

// DialPool is the pool a connection (or a passive data listener) from
// local with port 0 draws from when no tier above applies: SYSPLEXPORTS
// for a dynamic VIPA when the range is set, else the TCP ephemeral pool
// (tier 4, then tier 5 of the selection order).
func (r *Registry) DialPool(local netip.Addr) *Pool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sysplex != nil && r.vipas[local] {
		return r.sysplex
	}
	return r.tcp
}

// Sweep lets every sysplex-wide pool judge its records at now (the
// member's clock), so that ports whose life ended go back to the store.
func (r *Registry) Sweep(now time.Time) {
	r.mu.Lock()
	ps := []*Pool{r.explicit, r.sysplex}
	r.mu.Unlock()
	for _, p := range ps {
		if p != nil {
			p.Sweep(now)
		}
	}
}

// AddData makes owner's passive data pool over [low, high]: no port of it
// may be reserved for anyone else or bound by another owner. The range is
// set aside from the TCP ephemeral range and the explicit-bind range while
// the pool exists (RemoveData).
func (r *Registry) AddData(owner string, low, high uint16) (*Pool, error) {
	p, err := New(low, high)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.data[owner]; ok {
		return nil, &ReservedError{owner, low, high, KindData}
	}
	if err := r.checkFreeLocked(TCP, low, high, owner, KindData); err != nil {
		return nil, err
	}
	r.data[owner] = p
	r.applyModelLocked()
	r.addReservedLocked(Reserved{TCP, low, high, owner, KindData})
	return p, nil
}

// RemoveData ends owner's passive data pool. Leases still held stay valid
// until released into the pool, which no one else draws from.
func (r *Registry) RemoveData(owner string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.data, owner)
	delete(r.pressure, "DATA "+owner)
	r.dropReservedLocked(func(rs Reserved) bool { return rs.Kind == KindData && rs.Owner == owner })
}

// Reserve sets [low, high] aside for owner (Forbidden: for no one). It may
// not overlap another reservation, a DATAPORTS range or the explicit-bind
// range of someone else, nor a port bound now by another owner.
func (r *Registry) Reserve(p Proto, low, high uint16, owner string) error {
	if low == 0 || low > high {
		return RangeErrors{{RuleOrder, int(low), int(high)}}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkFreeLocked(p, low, high, owner, KindOperator); err != nil {
		return err
	}
	r.addReservedLocked(Reserved{p, low, high, owner, KindOperator})
	return nil
}

// Unreserve ends the operator's reservation that starts at low.
func (r *Registry) Unreserve(p Proto, low uint16) (Reserved, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range r.reserved {
		if rs.Kind == KindOperator && rs.Proto == p && rs.Low == low {
			r.dropReservedLocked(func(x Reserved) bool { return x == rs })
			return rs, nil
		}
	}
	return Reserved{}, ErrNoReservation
}

// checkFreeLocked says whether [low, high] of p may be set aside for owner
// as kind: the operator may reserve for a daemon the ports of its own
// DATAPORTS and the other way round; any other overlap is refused, as is a
// port bound now by someone other than owner.
func (r *Registry) checkFreeLocked(p Proto, low, high uint16, owner string, kind Kind) error {
	for _, rs := range r.reserved {
		if !rs.overlaps(p, low, high) {
			continue
		}
		sameOwner := owner != "" && owner != Forbidden && rs.Owner == owner
		if sameOwner && rs.Kind != kind && (rs.Kind == KindOperator || kind == KindOperator) {
			continue
		}
		if _, ok := rangeTiers[kind]; ok && rs.Kind == kind {
			continue // the range being replaced
		}
		return &ReservedError{rs.Owner, rs.Low, rs.High, rs.Kind}
	}
	for k, bs := range r.binds {
		if k.proto != p || k.port < low || k.port > high {
			continue
		}
		for _, b := range bs {
			if _, rangeKind := rangeTiers[kind]; b.Owner != owner || owner == Forbidden || rangeKind {
				return &BoundError{p, k.port, b.Owner}
			}
		}
	}
	return nil
}

func (r *Registry) addReservedLocked(rs Reserved) {
	r.reserved = append(r.reserved, rs)
	sort.SliceStable(r.reserved, func(i, j int) bool {
		a, b := r.reserved[i], r.reserved[j]
		if a.Proto != b.Proto {
			return a.Proto < b.Proto
		}
		return a.Low < b.Low
	})
	r.pushReservedLocked()
}

func (r *Registry) dropReservedLocked(drop func(Reserved) bool) {
	keep := r.reserved[:0]
	for _, rs := range r.reserved {
		if !drop(rs) {
			keep = append(keep, rs)
		}
	}
	r.reserved = keep
	r.pushReservedLocked()
}

// pushReservedLocked gives each pool the reservations it must not lend:
// the TCP ephemeral pool every TCP one, the explicit-bind and SYSPLEXPORTS
// pools every TCP one but their own, the UDP pool every UDP one. A DATA pool is its owner's
// alone and has none.
func (r *Registry) pushReservedLocked() {
	var tcp, explicit, sysplex, udp []Reservation
	for _, rs := range r.reserved {
		res := Reservation{rs.Owner, rs.Low, rs.High}
		if rs.Proto == UDP {
			udp = append(udp, res)
			continue
		}
		tcp = append(tcp, res)
		if rs.Kind != KindExplicit {
			explicit = append(explicit, res)
		}
		if rs.Kind != KindSysplex {
			sysplex = append(sysplex, res)
		}
	}
	r.tcp.setReserved(tcp)
	r.udp.setReserved(udp)
	if r.explicit != nil {
		r.explicit.setReserved(explicit)
	}
	if r.sysplex != nil {
		r.sysplex.setReserved(sysplex)
	}
}

// Reservations lists what is set aside, by protocol and first port.
func (r *Registry) Reservations() []Reserved {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Reserved(nil), r.reserved...)
}

// Bind records an explicit bind of port on addr by owner, and takes the
// port out of the pool that holds it (its lease is the bind's). It fails
// with *BoundError when another owner has the port bound on an address that
// overlaps (the same, or either unspecified), *ReservedError when the port
// is set aside for someone else (or for no one), ErrLeased when a pool has
// lent the port to a connection, and ErrExhausted when the strict model
// holds it. The lease's last Drop undoes the bind; the connections on the
// port are recorded with the pool the port came from, if any.
func (r *Registry) Bind(now time.Time, p Proto, addr netip.AddrPort, owner string) (*Lease, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	port := addr.Port()
	k := bindKey{p, port}
	var mine *Bound
	for _, b := range r.binds[k] {
		overlap := b.Addr == addr.Addr() || b.Addr.IsUnspecified() || addr.Addr().IsUnspecified()
		switch {
		case overlap && b.Owner != owner:
			return nil, &BoundError{p, port, b.Owner}
		case b.Addr == addr.Addr():
			mine = b
		}
	}
	for _, rs := range r.reserved {
		if _, rangeKind := rangeTiers[rs.Kind]; rs.overlaps(p, port, port) && (rs.Owner != owner || rs.Owner == Forbidden) && !rangeKind {
			return nil, &ReservedError{rs.Owner, rs.Low, rs.High, rs.Kind}
		}
	}
	// The first bind of a port takes it from its pool.
	if len(r.binds[k]) == 0 {
		if pool := r.poolOfLocked(p, port, owner); pool != nil {
			if err := pool.Claim(now, port); err != nil {
				return nil, err
			}
			r.claims[k] = pool
		}
	}
	if mine == nil {
		mine = &Bound{Proto: p, Addr: addr.Addr(), Port: port, Owner: owner}
		r.binds[k] = append(r.binds[k], mine)
	}
	mine.Count++
	return &Lease{pool: r.claims[k], port: port, holders: 1, unbind: func() { r.unbind(k, mine) }}, nil
}

// unbind ends one bind of b; the port's last bind gives it back to the
// pool it was taken from (the pool's range may have changed since).
func (r *Registry) unbind(k bindKey, b *Bound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b.Count--
	if b.Count == 0 {
		bs := r.binds[k]
		for i, x := range bs {
			if x == b {
				bs = append(bs[:i], bs[i+1:]...)
				break
			}
		}
		if len(bs) == 0 {
			delete(r.binds, k)
		} else {
			r.binds[k] = bs
		}
	}
	if pool, ok := r.claims[k]; ok && len(r.binds[k]) == 0 {
		delete(r.claims, k)
		pool.unclaim(k.port)
	}
}

// poolOfLocked is the pool whose range holds port for owner: the owner's
// own DATA pool, the explicit-bind pool, or the ephemeral pool, or nil.
func (r *Registry) poolOfLocked(p Proto, port uint16, owner string) *Pool {
	if p == UDP {
		if r.udp.covers(port) {
			return r.udp
		}
		return nil
	}
	if d := r.data[owner]; d != nil && d.covers(port) {
		return d
	}
	if r.explicit != nil && r.explicit.covers(port) {
		return r.explicit
	}
	if r.sysplex != nil && r.sysplex.covers(port) {
		return r.sysplex
	}
	if r.tcp.covers(port) {
		return r.tcp
	}
	return nil
}

func (r *Registry) allPoolsLocked() []*Pool {
	ps := []*Pool{r.tcp, r.udp}
	if r.explicit != nil {
		ps = append(ps, r.explicit)
	}
	if r.sysplex != nil {
		ps = append(ps, r.sysplex)
	}
	for _, d := range r.data {
		ps = append(ps, d)
	}
	return ps
}

// Binds lists the explicit binds by protocol and port.
func (r *Registry) Binds() []Bound {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Bound
	for _, bs := range r.binds {
		for _, b := range bs {
			out = append(out, *b)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Proto != b.Proto {
			return a.Proto < b.Proto
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Addr.Less(b.Addr)
	})
	return out
}

// SetModel chooses the TIME_WAIT model of every pool: msl is the maximum
// segment lifetime of the Strict model, hold how long the stack keeps a
// connection in TIME_WAIT (the Tuple model's hold). Zero keeps a value.
func (r *Registry) SetModel(now time.Time, m Model, msl, hold time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.modelAt = now
	r.model = m
	if msl > 0 {
		r.msl = msl
	}
	if hold > 0 {
		r.hold = hold
	}
	r.applyModelLocked()
}

// Model gives the TIME_WAIT model and its times.
func (r *Registry) Model() (m Model, msl, hold time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.model, r.msl, r.hold
}

func (r *Registry) applyModelLocked() {
	for _, p := range r.allPoolsLocked() {
		p.SetModel(r.modelAt, r.model, r.msl, r.hold)
	}
}

// Pools is a snapshot of every pool: TCP, UDP, the explicit-bind range if
// set, then the DATA pools by owner.
func (r *Registry) Pools(now time.Time) []PoolInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.poolsLocked(now)
}

func (r *Registry) poolsLocked(now time.Time) []PoolInfo {
	info := func(name string, t Tier, p *Pool) PoolInfo {
		pi := PoolInfo{Name: name, Tier: t, Stats: p.Stats(now)}
		if pi.Stats.Free() == 0 {
			pi.NextFree, _ = p.NextFree(now)
		}
		return pi
	}
	out := []PoolInfo{info("TCP", TierTCP, r.tcp), info("UDP", TierUDP, r.udp)}
	if r.explicit != nil {
		out = append(out, info("EXPLICIT", TierExplicit, r.explicit))
	}
	if r.sysplex != nil {
		out = append(out, info("SYSPLEX", TierSysplex, r.sysplex))
	}
	owners := make([]string, 0, len(r.data))
	for o := range r.data {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	for _, o := range owners {
		out = append(out, info(o, TierData, r.data[o]))
	}
	return out
}
