// Package sysplex couples stacks into a sysplex through etcd, as z/OS
// couples the stacks of a sysplex through a coupling facility structure:
// the members of a sysplex, the sysplex-wide port tiers (the explicit-bind
// range and SYSPLEXPORTS: a port is one member's at a time) and, in
// vipa.go, the dynamic VIPAs that one member owns at a time.
//
// What is kept in the store, under /ipnstack/sysplex/<name>/:
//
//	members/<member>         the member's record (JSON), on its lease
//	ports/<TIER>/<port>      the member that holds the port, on its lease
//	vipas/<address>/...      the election of the VIPA's owner (vipa.go)
//
// Every key a member writes is on its one lease (TTL= seconds): while the
// member speaks to the store the lease lives; when it cannot (it died, or
// the store is gone from it), the lease ends and the store forgets the
// member, its ports and its VIPAs together. A member that lost the store
// says so, keeps its own connections, lends no sysplex-wide port (a claim
// goes through the store or not at all) and gives up its VIPAs; when the
// store is back it joins again on a new lease, claims again the ports its
// connections still hold, and reports any that another member took
// meanwhile.
//
// Consensus is etcd's (go.etcd.io/etcd/client/v3): transactions for the
// claims, leases for the members' lives, its election recipe for the
// VIPAs. Nothing here decides anything on its own.
//
// Goroutines: a Member owns four (the keeper of its lease, the releaser of
// ports given back, the watcher of other members' ports, the sweeper of
// the pools' holds) and stops and awaits them in Leave.
//
// Lock order: Member.mu, then relMu; a pool's lock may be held when
// Release is called (it takes relMu only). The member calls a pool
// (SetElsewhere, Claimed, Sweep) holding none of its own locks.
package sysplex

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"ipnstack/portrange"
)

// Config is how a stack joins a sysplex.
type Config struct {
	Name      string   // the sysplex
	Member    string   // this stack's name in it, unique among the live members
	Endpoints []string // the store's members, host:port
	// TTL is how long the member's lease outlives its last word with the
	// store: how soon the sysplex forgets a member that died (and a VIPA
	// moves). Default 5 s.
	TTL time.Duration
	// Clock is the stack's clock, for the times the member shows (when it
	// joined, when it lost the store); nil: time.Now.
	Clock func() time.Time
}

// The times a member waits for the store.
const (
	dialTimeout  = 3 * time.Second
	claimTimeout = 2 * time.Second
	retryEvery   = time.Second
	sweepEvery   = time.Second
)

// DefaultTTL is the lease time unless Config.TTL says.
const DefaultTTL = 5 * time.Second

// ErrMemberTaken says a live member of the sysplex already has the name.
type ErrMemberTaken struct{ Sysplex, Member string }

func (e *ErrMemberTaken) Error() string {
	return "member " + e.Member + " of sysplex " + e.Sysplex + " is live already"
}

// ErrStore says the store could not be reached or refused.
type ErrStore struct {
	Endpoints []string
	Err       error
}

func (e *ErrStore) Error() string {
	return "the store at " + strings.Join(e.Endpoints, ",") + ": " + e.Err.Error()
}

func (e *ErrStore) Unwrap() error { return e.Err }

// EventKind is what happened to a member's link with its sysplex.
type EventKind int

// The events a member reports (Join's notify).
const (
	EventLost     EventKind = iota // the lease ended: the store is gone from the member
	EventBack                      // joined again; Ports claimed again
	EventConflict                  // a port the member's connections hold is another's now
	EventVIPAOwn                   // the member owns a VIPA now
	EventVIPALost                  // the member gave a VIPA up
)

// Event is one report of a member's.
type Event struct {
	Kind   EventKind
	Tier   portrange.Tier
	Port   uint16
	Holder string // EventConflict: who holds the port
	Ports  int    // EventBack: the ports claimed again
	VIPA   string // EventVIPAOwn, EventVIPALost
	Link   string // the VIPA's link
	Reason string
}

// record is a member's record in the store.
type record struct {
	Joined time.Time `json:"joined"`
	// Incarnation tells this member's record from another stack's with the
	// same name: a member that lost the store takes its own record back.
	Incarnation string `json:"incarnation"`
	Explicit    string `json:"explicit,omitempty"` // its explicit-bind range, low-high
	Sysplex     string `json:"sysplexports,omitempty"`
}

// Member is this stack in its sysplex.
type Member struct {
	cfg    Config
	cli    *clientv3.Client
	reg    *portrange.Registry
	notify func(Event)
	prefix string
	joined time.Time
	incarn string // random, for this Join (record.Incarnation)

	ctx    context.Context // ends with Leave
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	session *concurrency.Session // nil while the store is lost
	lostAt  time.Time
	vipas   map[string]*vipa // by address (vipa.go)
	claims  uint64           // claims granted, for QUERY SYSPLEX and benchmarks
	refused uint64           // claims refused because another member held the port

	relMu    sync.Mutex
	relCond  *sync.Cond
	pending  map[string]bool // port keys to give back to the store
	inflight map[string]bool // being given back now
	relWake  chan struct{}
}

// Join makes the stack a member of cfg's sysplex: it takes a lease, writes
// its record (refused when a live member has the name), couples the
// registry's sysplex-wide tiers, and starts the member's goroutines.
// notify is told what happens later (from the member's goroutines).
func Join(cfg Config, reg *portrange.Registry, notify func(Event)) (*Member, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cfg.Endpoints, DialTimeout: dialTimeout,
		Logger: zap.NewNop(), AutoSyncInterval: 0})
	if err != nil {
		return nil, &ErrStore{cfg.Endpoints, err}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Member{cfg: cfg, cli: cli, reg: reg, notify: notify, prefix: "/ipnstack/sysplex/" + cfg.Name + "/",
		joined: cfg.Clock(), incarn: incarnation(), ctx: ctx, cancel: cancel, vipas: map[string]*vipa{},
		pending: map[string]bool{}, inflight: map[string]bool{}, relWake: make(chan struct{}, 1)}
	m.relCond = sync.NewCond(&m.relMu)
	s, err := m.openSession()
	if err != nil {
		cancel()
		cli.Close()
		return nil, err
	}
	m.session = s
	reg.Couple(func(t portrange.Tier) portrange.Shared { return &claimer{m, t} })
	m.wg.Add(4)
	go m.keep(s)
	go m.releaser()
	go m.watchPorts()
	go m.sweeper()
	return m, nil
}

// openSession takes a lease and writes the member's record on it.
func (m *Member) openSession() (*concurrency.Session, error) {
	ctx, cancel := context.WithTimeout(m.ctx, dialTimeout)
	defer cancel()
	g, err := m.cli.Grant(ctx, int64((m.cfg.TTL+time.Second-1)/time.Second))
	if err != nil {
		return nil, &ErrStore{m.cfg.Endpoints, err}
	}
	rec, _ := json.Marshal(m.record())
	key := m.prefix + "members/" + m.cfg.Member
	resp, err := m.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(rec), clientv3.WithLease(g.ID))).
		Else(clientv3.OpGet(key)).Commit()
	if err == nil && !resp.Succeeded {
		// Taken: by this member's own record from before it lost the store
		// (its lease not ended yet), which it takes back, or by another.
		taken := true
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
			var old record
			json.Unmarshal(kvs[0].Value, &old)
			if old.Incarnation == m.incarn {
				var r2 *clientv3.TxnResponse
				r2, err = m.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", kvs[0].ModRevision)).
					Then(clientv3.OpPut(key, string(rec), clientv3.WithLease(g.ID))).Commit()
				taken = err == nil && !r2.Succeeded
			}
		}
		if err == nil && taken {
			m.cli.Revoke(ctx, g.ID)
			return nil, &ErrMemberTaken{m.cfg.Name, m.cfg.Member}
		}
	}
	if err != nil {
		m.cli.Revoke(context.Background(), g.ID)
		return nil, &ErrStore{m.cfg.Endpoints, err}
	}
	s, err := concurrency.NewSession(m.cli, concurrency.WithLease(g.ID), concurrency.WithContext(m.ctx))
	if err != nil {
		m.cli.Revoke(context.Background(), g.ID)
		return nil, &ErrStore{m.cfg.Endpoints, err}
	}
	return s, nil
}

// incarnation is a random name for one Join.
func incarnation() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (m *Member) record() record {
	r := record{Joined: m.joined, Incarnation: m.incarn}
	for _, pi := range m.reg.Pools(time.Now()) {
		span := fmt.Sprintf("%d-%d", pi.Stats.Low, pi.Stats.High)
		switch pi.Tier {
		case portrange.TierExplicit:
			r.Explicit = span
		case portrange.TierSysplex:
			r.Sysplex = span
		}
	}
	return r
}

// Publish writes the member's record again (its ranges changed).
func (m *Member) Publish() error {
	s := m.current()
	if s == nil {
		return portrange.ErrUncoupled
	}
	rec, _ := json.Marshal(m.record())
	ctx, cancel := context.WithTimeout(m.ctx, claimTimeout)
	defer cancel()
	_, err := m.cli.Put(ctx, m.prefix+"members/"+m.cfg.Member, string(rec), clientv3.WithLease(s.Lease()))
	return err
}

func (m *Member) current() *concurrency.Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.session
}

// keep watches the member's lease. The member stops counting on it before
// the store can end it: when the store has not answered a keepalive for
// three quarters of the TTL (fence), the member says it lost the store,
// lends no sysplex-wide port, drops its VIPAs and lets the lease go —
// so that by the time the store forgets the member and gives its ports
// and VIPAs to others, it uses none of them. It then tries every second
// until it has a lease again, and claims again what its connections hold.
func (m *Member) keep(s *concurrency.Session) {
	defer m.wg.Done()
	for {
		if !m.watchLease(s) {
			return
		}
		m.mu.Lock()
		m.session, m.lostAt = nil, m.cfg.Clock()
		m.mu.Unlock()
		s.Orphan() // no more keepalives: the store ends the lease in its time
		m.notify(Event{Kind: EventLost, Reason: "the store has not answered the member's keepalives"})
		m.dropVIPAs("the store cannot be reached")
		for {
			select {
			case <-m.ctx.Done():
				return
			case <-time.After(retryEvery):
			}
			ns, err := m.openSession()
			if err != nil {
				continue
			}
			s = ns
			break
		}
		n := m.reclaim(s)
		m.mu.Lock()
		m.session = s
		m.mu.Unlock()
		m.notify(Event{Kind: EventBack, Ports: n})
		m.restartVIPAs()
	}
}

// watchLease waits until session s can no longer be counted on (true) or
// the member leaves (false).
func (m *Member) watchLease(s *concurrency.Session) bool {
	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	ka, err := m.cli.KeepAlive(ctx, s.Lease())
	if err != nil {
		ka = nil
	}
	fence := m.cfg.TTL * 3 / 4
	last := time.Now()
	probed := false // a keepalive of its own was sent since the last answer
	tick := time.NewTicker(min(fence/8, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return false
		case <-s.Done():
			return m.ctx.Err() == nil
		case _, ok := <-ka:
			if !ok {
				ka = nil // ended with the lease: s.Done or the fence says so
				continue
			}
			last, probed = time.Now(), false
		case <-tick.C:
			late := time.Since(last)
			if late > fence {
				return true
			}
			// Half way to the fence without an answer: the stream of
			// keepalives may be on a store member that failed, and the
			// client takes a while to open it again on another. One
			// keepalive of its own, on whichever member answers, can keep
			// the lease (and the VIPAs) through that; it cannot through
			// the store's election of a new leader when that is longer
			// than what is left of the fence (docs/sysplex.md).
			if late > fence/2 && !probed {
				probed = true
				ctx, cancel := context.WithTimeout(m.ctx, fence-late)
				_, err := m.cli.KeepAliveOnce(ctx, s.Lease())
				cancel()
				if err == nil {
					last, probed = time.Now(), false
				}
			}
		}
	}
}

// reclaim claims again, on the new lease, every port the member's pools
// still hold: those another member took meanwhile are reported.
func (m *Member) reclaim(s *concurrency.Session) int {
	n := 0
	for _, pool := range m.sharedPools() {
		for _, port := range pool.p.Claimed() {
			holder, err := m.claimOn(s, pool.t, port)
			switch {
			case err == nil:
				n++
			case errors.Is(err, portrange.ErrInUse):
				m.notify(Event{Kind: EventConflict, Tier: pool.t, Port: port, Holder: holder})
			}
		}
	}
	return n
}

type tierPool struct {
	t portrange.Tier
	p *portrange.Pool
}

func (m *Member) sharedPools() []tierPool {
	var out []tierPool
	if p := m.reg.Explicit(); p != nil {
		out = append(out, tierPool{portrange.TierExplicit, p})
	}
	if p := m.reg.SysplexPorts(); p != nil {
		out = append(out, tierPool{portrange.TierSysplex, p})
	}
	return out
}

func (m *Member) portKey(t portrange.Tier, port uint16) string {
	return fmt.Sprintf("%sports/%s/%05d", m.prefix, t, port)
}

// claimer is one tier's Shared.
type claimer struct {
	m *Member
	t portrange.Tier
}

func (c *claimer) Claim(port uint16) error {
	s := c.m.current()
	if s == nil {
		return portrange.ErrUncoupled
	}
	holder, err := c.m.claimOn(s, c.t, port)
	c.m.mu.Lock()
	switch {
	case err == nil:
		c.m.claims++
	case errors.Is(err, portrange.ErrInUse):
		c.m.refused++
	}
	c.m.mu.Unlock()
	if err != nil && !errors.Is(err, portrange.ErrInUse) {
		return fmt.Errorf("%w: %v", portrange.ErrUncoupled, err)
	}
	if err != nil {
		return fmt.Errorf("%s port %d is %s's: %w", c.t, port, holder, err)
	}
	return nil
}

// Offset is where the member's turn through a range starts: a place of
// its own, from its name, so that members lending at once seldom meet.
func (c *claimer) Offset() uint32 {
	h := fnv.New32a()
	h.Write([]byte(c.m.cfg.Member))
	return h.Sum32()
}

func (c *claimer) Release(port uint16) {
	key := c.m.portKey(c.t, port)
	c.m.relMu.Lock()
	c.m.pending[key] = true
	c.m.relMu.Unlock()
	select {
	case c.m.relWake <- struct{}{}:
	default:
	}
}

// claimOn takes port for the member on session s's lease: it is the
// member's when no one has it, or when it is the member's own already (a
// claim from before the store was lost, or one given back and not yet
// gone: the give-back is called off). It gives the holder when another
// member has it.
func (m *Member) claimOn(s *concurrency.Session, t portrange.Tier, port uint16) (string, error) {
	key := m.portKey(t, port)
	m.relMu.Lock()
	delete(m.pending, key)
	for m.inflight[key] {
		m.relCond.Wait()
	}
	m.relMu.Unlock()
	ctx, cancel := context.WithTimeout(m.ctx, claimTimeout)
	defer cancel()
	me := m.cfg.Member
	resp, err := m.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, me, clientv3.WithLease(s.Lease()))).
		Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return "", err
	}
	if resp.Succeeded {
		return me, nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 { // gone between the compare and the get: try once more
		return m.claimOn(s, t, port)
	}
	if holder := string(kvs[0].Value); holder != me {
		return holder, portrange.ErrInUse
	}
	// The member's own: put it on the current lease, if it is still the
	// member's at that revision.
	resp, err = m.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", kvs[0].ModRevision)).
		Then(clientv3.OpPut(key, me, clientv3.WithLease(s.Lease()))).Commit()
	if err != nil {
		return "", err
	}
	if !resp.Succeeded {
		return m.claimOn(s, t, port)
	}
	return me, nil
}

// releaser gives back to the store the ports whose life ended here: each
// key deleted only while it is still the member's.
func (m *Member) releaser() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.relWake:
		}
		m.relMu.Lock()
		keys := make([]string, 0, len(m.pending))
		for k := range m.pending {
			keys = append(keys, k)
			m.inflight[k] = true
		}
		clear(m.pending)
		m.relMu.Unlock()
		var failed []string
		for _, k := range keys {
			ctx, cancel := context.WithTimeout(m.ctx, claimTimeout)
			_, err := m.cli.Txn(ctx).If(clientv3.Compare(clientv3.Value(k), "=", m.cfg.Member)).
				Then(clientv3.OpDelete(k)).Commit()
			cancel()
			if err != nil {
				failed = append(failed, k)
			}
		}
		m.relMu.Lock()
		for _, k := range failed {
			// Tried again while the lease lives (a claim in between calls
			// it off); when the lease ends the store forgets it anyway.
			m.pending[k] = true
		}
		for _, k := range keys {
			delete(m.inflight, k)
		}
		m.relCond.Broadcast()
		m.relMu.Unlock()
		if len(failed) > 0 {
			select {
			case <-m.ctx.Done():
				return
			case <-time.After(retryEvery):
			}
			select {
			case m.relWake <- struct{}{}:
			default:
			}
		}
	}
}

// watchPorts keeps the pools' view of the ports other members hold, so
// that a search skips them instead of asking the store for each.
func (m *Member) watchPorts() {
	defer m.wg.Done()
	prefix := m.prefix + "ports/"
	others := map[portrange.Tier]map[uint16]bool{portrange.TierExplicit: {}, portrange.TierSysplex: {}}
	var applied [2]*portrange.Pool
	apply := func(t portrange.Tier, port uint16, on bool) {
		if on {
			others[t][port] = true
		} else {
			delete(others[t], port)
		}
		for _, tp := range m.sharedPools() {
			if tp.t == t {
				tp.p.SetElsewhere(port, on)
			}
		}
	}
	// A pool made after the watch began (a range set later) is told
	// everything once.
	reapply := func() {
		for i, tp := range m.sharedPools() {
			if i < len(applied) && applied[i] != tp.p {
				applied[i] = tp.p
				for port := range others[tp.t] {
					tp.p.SetElsewhere(port, true)
				}
			}
		}
	}
	for m.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(m.ctx, claimTimeout)
		resp, err := m.cli.Get(ctx, prefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			select {
			case <-m.ctx.Done():
				return
			case <-time.After(retryEvery):
			}
			continue
		}
		for t := range others {
			for port := range others[t] {
				apply(t, port, false)
			}
		}
		for _, kv := range resp.Kvs {
			if t, port, ok := m.parsePortKey(string(kv.Key)); ok && string(kv.Value) != m.cfg.Member {
				apply(t, port, true)
			}
		}
		applied = [2]*portrange.Pool{}
		reapply()
		wctx, wcancel := context.WithCancel(m.ctx)
		wch := m.cli.Watch(clientv3.WithRequireLeader(wctx), prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
		tick := time.NewTicker(sweepEvery)
	watch:
		for {
			select {
			case <-m.ctx.Done():
				tick.Stop()
				wcancel()
				return
			case <-tick.C:
				reapply()
			case wr, ok := <-wch:
				if !ok || wr.Err() != nil {
					break watch
				}
				for _, ev := range wr.Events {
					t, port, ok := m.parsePortKey(string(ev.Kv.Key))
					if !ok {
						continue
					}
					on := ev.Type == clientv3.EventTypePut && string(ev.Kv.Value) != m.cfg.Member
					apply(t, port, on)
				}
			}
		}
		tick.Stop()
		wcancel()
	}
}

func (m *Member) parsePortKey(key string) (portrange.Tier, uint16, bool) {
	rest, ok := strings.CutPrefix(key, m.prefix+"ports/")
	if !ok {
		return 0, 0, false
	}
	tier, num, ok := strings.Cut(rest, "/")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n <= 0 || n > 65535 {
		return 0, 0, false
	}
	switch tier {
	case portrange.TierExplicit.String():
		return portrange.TierExplicit, uint16(n), true
	case portrange.TierSysplex.String():
		return portrange.TierSysplex, uint16(n), true
	}
	return 0, 0, false
}

// sweeper lets the sysplex-wide pools judge their holds every second, so
// that a port whose life ended goes back to the store without waiting for
// the pool's next use.
func (m *Member) sweeper() {
	defer m.wg.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case now := <-t.C:
			m.reg.Sweep(now)
		}
	}
}

// Leave ends the membership: the VIPAs are given up, the registry's tiers
// are local again, the goroutines stopped and awaited, and the lease
// revoked, which takes the member's record and ports out of the store.
func (m *Member) Leave() {
	m.dropVIPAs("the stack left the sysplex")
	m.reg.Couple(nil)
	s := m.current()
	m.cancel()
	m.relMu.Lock()
	m.relCond.Broadcast()
	m.relMu.Unlock()
	m.wg.Wait()
	m.stopVIPAs()
	if s != nil {
		ctx, cancel := context.WithTimeout(context.Background(), claimTimeout)
		m.cli.Revoke(ctx, s.Lease())
		cancel()
	}
	m.cli.Close()
}

// Local is what the member knows of itself without asking the store: for
// the metrics.
type Local struct {
	Sysplex, Member string
	Coupled         bool
	Claims, Refused uint64
	VIPAs           map[netip.Addr]bool // candidacies: true when held
}

// Local reads the member's own state.
func (m *Member) Local() Local {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := Local{Sysplex: m.cfg.Name, Member: m.cfg.Member, Coupled: m.session != nil, Claims: m.claims, Refused: m.refused,
		VIPAs: map[netip.Addr]bool{}}
	for _, v := range m.vipas {
		l.VIPAs[v.addr] = v.owned
	}
	return l
}

// Name gives the sysplex's name and the member's.
func (m *Member) Name() (sysplex, member string) { return m.cfg.Name, m.cfg.Member }

// TTL gives the member's lease time.
func (m *Member) TTL() time.Duration { return m.cfg.TTL }

// Endpoints gives the store's endpoints.
func (m *Member) Endpoints() []string { return m.cfg.Endpoints }

// MemberInfo is one member as QUERY SYSPLEX shows it.
type MemberInfo struct {
	Name     string
	Joined   time.Time
	TTL      time.Duration // its lease's time (TTL=)
	Explicit string
	Sysplex  string
	Ports    map[portrange.Tier]int // ports it holds in the store, by tier
	Self     bool
}

// Status is the sysplex as the store has it.
type Status struct {
	Coupled bool      // the member has its lease
	LostAt  time.Time // when it lost it, if it has not
	Members []MemberInfo
	Claims  uint64 // claims this member was granted
	Refused uint64 // claims refused because another member held the port
	VIPAs   []VIPAInfo
}

// Status reads the members and the ports they hold from the store.
func (m *Member) Status() (Status, error) {
	m.mu.Lock()
	st := Status{Coupled: m.session != nil, LostAt: m.lostAt, Claims: m.claims, Refused: m.refused}
	m.mu.Unlock()
	st.VIPAs = m.VIPAs()
	if !st.Coupled {
		return st, nil // the store is not there to ask
	}
	ctx, cancel := context.WithTimeout(m.ctx, claimTimeout)
	defer cancel()
	resp, err := m.cli.Get(ctx, m.prefix+"members/", clientv3.WithPrefix())
	if err != nil {
		return st, &ErrStore{m.cfg.Endpoints, err}
	}
	byName := map[string]*MemberInfo{}
	for _, kv := range resp.Kvs {
		var r record
		json.Unmarshal(kv.Value, &r)
		name := strings.TrimPrefix(string(kv.Key), m.prefix+"members/")
		mi := MemberInfo{Name: name, Joined: r.Joined, Explicit: r.Explicit, Sysplex: r.Sysplex,
			Ports: map[portrange.Tier]int{}, Self: name == m.cfg.Member}
		if kv.Lease != 0 {
			if ttl, err := m.cli.TimeToLive(ctx, clientv3.LeaseID(kv.Lease)); err == nil && ttl.TTL > 0 {
				mi.TTL = time.Duration(ttl.GrantedTTL) * time.Second
			}
		}
		st.Members = append(st.Members, mi)
	}
	for i := range st.Members {
		byName[st.Members[i].Name] = &st.Members[i]
	}
	ports, err := m.cli.Get(ctx, m.prefix+"ports/", clientv3.WithPrefix())
	if err != nil {
		return st, &ErrStore{m.cfg.Endpoints, err}
	}
	for _, kv := range ports.Kvs {
		if t, _, ok := m.parsePortKey(string(kv.Key)); ok {
			if mi := byName[string(kv.Value)]; mi != nil {
				mi.Ports[t]++
			}
		}
	}
	sort.Slice(st.Members, func(i, j int) bool { return st.Members[i].Name < st.Members[j].Name })
	return st, nil
}

// Holders reads who holds each port of the sysplex-wide tiers now (the
// checker's view): "TIER/port" → member.
func (m *Member) Holders(ctx context.Context) (map[string]string, int64, error) {
	resp, err := m.cli.Get(ctx, m.prefix+"ports/", clientv3.WithPrefix())
	if err != nil {
		return nil, 0, err
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), m.prefix+"ports/")] = string(kv.Value)
	}
	return out, resp.Header.Revision, nil
}
