package sysplex

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ipnstack/internal/testnet"
	"ipnstack/portrange"
)

// events collects a member's reports.
type events struct {
	mu  sync.Mutex
	evs []Event
	ch  chan Event
}

func newEvents() *events { return &events{ch: make(chan Event, 1024)} }

func (e *events) notify(ev Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

// wait waits for an event of kind k.
func (e *events) wait(t *testing.T, k EventKind, within time.Duration) Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-e.ch:
			if ev.Kind == k {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event %d within %v", k, within)
		}
	}
}

type member struct {
	m   *Member
	reg *portrange.Registry
	ev  *events
}

func join(t *testing.T, endpoints []string, plex, name string, ttl time.Duration) member {
	t.Helper()
	return joinNotify(t, endpoints, plex, name, ttl, nil)
}

// joinNotify joins with also, if not nil, told every event.
func joinNotify(t *testing.T, endpoints []string, plex, name string, ttl time.Duration, also func(Event)) member {
	t.Helper()
	reg, err := portrange.NewRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.SetSysplexPorts(5000, 5099); err != nil {
		t.Fatal(err)
	}
	if err := reg.SetExplicit(6000, 6099); err != nil {
		t.Fatal(err)
	}
	ev := newEvents()
	notify := ev.notify
	if also != nil {
		notify = func(e Event) { also(e); ev.notify(e) }
	}
	m, err := Join(Config{Name: plex, Member: name, Endpoints: endpoints, TTL: ttl}, reg, notify)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Leave)
	return member{m, reg, ev}
}

// crash ends a member as a killed stack ends: nothing is given back, its
// lease runs out in the store.
func (m *Member) crash() {
	m.cli.Close() // first: nothing reaches the store after this
	m.cancel()
	m.relMu.Lock()
	m.relCond.Broadcast()
	m.relMu.Unlock()
	m.wg.Wait()
}

// checker holds who has each shared port now, from the grant to the drop,
// as the sysplex counts it: a member's holdings count while it has the
// store (from the member's EventLost to its EventBack they are its own
// business: it has let its lease go and dropped its VIPAs), except those
// it was told another member took meanwhile (EventConflict). A grant of a
// port another member holds, as counted, is a failure.
type checker struct {
	mu       sync.Mutex
	holds    map[string]map[string]bool // member -> "TIER/port" -> conflicted
	away     map[string]bool            // members between EventLost and EventBack
	bad      []string
	n        atomic.Int64
	lost     atomic.Int64
	lostBy   []string
	conflict atomic.Int64
}

func newChecker() *checker {
	return &checker{holds: map[string]map[string]bool{}, away: map[string]bool{}}
}

func key(tier portrange.Tier, port uint16) string { return fmt.Sprint(tier, "/", port) }

func (c *checker) grant(tier portrange.Tier, port uint16, who string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := key(tier, port)
	for o, hs := range c.holds {
		if conflicted, ok := hs[k]; ok && o != who && !conflicted && !c.away[o] && len(c.bad) < 10 {
			c.bad = append(c.bad, fmt.Sprintf("%s lent to %s while %s holds it", k, who, o))
		}
	}
	if c.holds[who] == nil {
		c.holds[who] = map[string]bool{}
	}
	c.holds[who][k] = false
	c.n.Add(1)
}

func (c *checker) drop(tier portrange.Tier, port uint16, who string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.holds[who], key(tier, port))
}

// dead forgets a member that crashed: its connections are gone with it.
func (c *checker) dead(who string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.holds, who)
}

func (c *checker) event(who string) func(Event) {
	return func(e Event) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch e.Kind {
		case EventLost:
			c.away[who] = true
			c.lost.Add(1)
			c.lostBy = append(c.lostBy, who)
		case EventConflict:
			if hs := c.holds[who]; hs != nil {
				if _, ok := hs[key(e.Tier, e.Port)]; ok {
					hs[key(e.Tier, e.Port)] = true
				}
			}
			c.conflict.Add(1)
		case EventBack:
			c.away[who] = false
		}
	}
}

// churner lends and drops ports of both sysplex-wide tiers on one member
// until stopped, bounded by count; stop gives every port back.
type churner struct {
	stop chan struct{}
	done chan struct{}
}

func churn(t *testing.T, mb member, name string, seed uint64, c *checker, max int) *churner {
	ch := &churner{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(ch.done)
		rng := rand.New(rand.NewPCG(seed, 7))
		type held struct {
			tier portrange.Tier
			ls   *portrange.Lease
		}
		var live []held
		defer func() {
			for _, h := range live {
				c.drop(h.tier, h.ls.Port(), name)
				h.ls.Drop(time.Now(), portrange.Closing{})
			}
		}()
		remote := portrange.Remote{Addr: netip.MustParseAddr("10.77.0.2"), Port: 21}
		for n := 0; n < max; n++ {
			select {
			case <-ch.stop:
				return
			default:
			}
			if len(live) > 0 && (rng.IntN(2) == 0 || len(live) > 30) {
				k := rng.IntN(len(live))
				h := live[k]
				live = append(live[:k], live[k+1:]...)
				c.drop(h.tier, h.ls.Port(), name)
				if end := h.ls.Drop(time.Now(), portrange.Closing{Remote: remote, First: true, Tracked: true}); end != nil {
					end(time.Now())
				}
				continue
			}
			tier, pool := portrange.TierSysplex, mb.reg.SysplexPorts()
			if rng.IntN(3) == 0 {
				tier, pool = portrange.TierExplicit, mb.reg.Explicit()
			}
			ls, err := pool.Lend(time.Now(), portrange.Request{Remote: remote}, nil)
			if err != nil {
				if !errors.Is(err, portrange.ErrExhausted) && !errors.Is(err, portrange.ErrUncoupled) {
					t.Errorf("%s: %v", name, err)
					return
				}
				select { // a port comes back, or the store
				case <-ch.stop:
					return
				case <-time.After(time.Millisecond):
				}
				continue
			}
			c.grant(tier, ls.Port(), name)
			live = append(live, held{tier, ls})
		}
	}()
	return ch
}

func (ch *churner) end() {
	close(ch.stop)
	<-ch.done
}

// TestSysplexPortsUnique: three members on a three-member etcd lend from
// the sysplex-wide tiers at once under churn, while an etcd member is
// killed and restarted, the store is cut off from one member for longer
// than its lease and then mended, and another member crashes and a new
// one joins: no port is ever lent to a member while another holds it as
// the sysplex counts (see checker), and when every life has ended the
// store holds nothing.
func TestSysplexPortsUnique(t *testing.T) {
	e := testnet.StartEtcd(t, 3)
	proxy := testnet.NewProxy(t, e.Endpoints()[0])
	c := newChecker()
	const ttl = 2 * time.Second
	names := []string{"M0", "M1", "M2"}
	ends := [][]string{e.Endpoints(), e.Endpoints(), {proxy.Addr()}}
	var ms []member
	var chs []*churner
	for i, name := range names {
		mb := joinNotify(t, ends[i], "PLEX1", name, ttl, c.event(name))
		ms = append(ms, mb)
		chs = append(chs, churn(t, mb, name, uint64(i), c, 1_000_000))
	}
	step := func(what string, f func()) {
		t.Logf("%s after %d grants", what, c.n.Load())
		f()
	}
	// Each step once the members have lent a few hundred ports more.
	lent := func(more int64) {
		t.Helper()
		want := c.n.Load() + more
		if !testnet.Until(30*time.Second, func() bool { return c.n.Load() >= want }) {
			t.Fatalf("only %d of %d ports lent", c.n.Load(), want)
		}
	}
	lent(300)
	step("etcd member 1 killed", func() { e.Kill(1) })
	lent(300)
	step("etcd member 1 restarted", func() { e.Restart(1); e.WaitReady(1, 10*time.Second) })
	step("M2 cut off from the store", proxy.Cut)
	ms[2].ev.wait(t, EventLost, 10*time.Second)
	// Its lease ends: the store forgets it and the others may take its ports.
	if !testnet.Until(10*time.Second, func() bool {
		st, err := ms[1].m.Status()
		return err == nil && len(st.Members) == 2
	}) {
		t.Fatal("the store still has M2 as a member after its lease")
	}
	step("M2's path mended", proxy.Mend)
	ms[2].ev.wait(t, EventBack, 20*time.Second)
	step("M0 crashed", func() {
		chs[0].end()
		ms[0].m.crash()
		c.dead("M0")
	})
	mb := joinNotify(t, e.Endpoints(), "PLEX1", "M3", ttl, c.event("M3"))
	chs[0] = churn(t, mb, "M3", 3, c, 1_000_000)
	ms[0] = mb
	testnet.Until(30*time.Second, func() bool { return c.n.Load() >= 3000 }) // counted below
	for _, ch := range chs {
		ch.end()
	}
	c.mu.Lock()
	bad := c.bad
	c.mu.Unlock()
	for _, b := range bad {
		t.Error(b)
	}
	if n := c.n.Load(); n < 3000 {
		t.Errorf("only %d ports lent in the run", n)
	}
	c.mu.Lock()
	t.Logf("%d ports lent through the store; %d losses of the store (%v), %d conflicts reported", c.n.Load(), c.lost.Load(), c.lostBy, c.conflict.Load())
	c.mu.Unlock()
	var (
		st  Status
		err error
	)
	if !testnet.Until(10*time.Second, func() bool {
		st, err = ms[1].m.Status()
		return err == nil && len(st.Members) == 3 && st.Coupled
	}) {
		t.Fatalf("members after M0's crash and M3's join (M0's lease ended): %+v %v", st.Members, err)
	}
	// Every life ended: the sweepers give every port back (M0's with its
	// lease).
	var held map[string]string
	if !testnet.Until(10*time.Second, func() bool {
		held, _, err = ms[1].m.Holders(t.Context())
		return err == nil && len(held) == 0
	}) {
		t.Fatalf("the store still holds %d ports: %v", len(held), err)
	}
}

// TestMemberNameTaken: a second live member with the same name is refused.
func TestMemberNameTaken(t *testing.T) {
	e := testnet.StartEtcd(t, 1)
	join(t, e.Endpoints(), "PLEX1", "A", 3*time.Second)
	reg, _ := portrange.NewRegistry(nil)
	_, err := Join(Config{Name: "PLEX1", Member: "A", Endpoints: e.Endpoints()}, reg, func(Event) {})
	var taken *ErrMemberTaken
	if !errors.As(err, &taken) {
		t.Fatalf("a second A: %v", err)
	}
	if _, err := Join(Config{Name: "PLEX2", Member: "A", Endpoints: e.Endpoints()}, reg, func(Event) {}); err != nil {
		t.Fatalf("A in another sysplex: %v", err)
	}
}

// TestStoreLost: when the store is gone the member says so, lends no
// sysplex-wide port (its own lent ports stay lent), and when the store is
// back it joins again and claims again the ports it holds.
func TestStoreLost(t *testing.T) {
	e := testnet.StartEtcd(t, 1)
	a := join(t, e.Endpoints(), "PLEX1", "A", 2*time.Second)
	ls, err := a.reg.SysplexPorts().Lend(time.Now(), portrange.Request{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Kill(0)
	a.ev.wait(t, EventLost, 10*time.Second)
	if _, err := a.reg.SysplexPorts().Lend(time.Now(), portrange.Request{}, nil); !errors.Is(err, portrange.ErrUncoupled) {
		t.Fatalf("store gone: %v", err)
	}
	e.Restart(0)
	back := a.ev.wait(t, EventBack, 20*time.Second)
	if back.Ports != 1 {
		t.Errorf("claimed again %d ports, want 1", back.Ports)
	}
	h, _, err := a.m.Holders(t.Context())
	if err != nil || h[fmt.Sprintf("SYSPLEX/%05d", ls.Port())] != "A" {
		t.Fatalf("after the store came back: %v %v", h, err)
	}
	if _, err := a.reg.SysplexPorts().Lend(time.Now(), portrange.Request{}, nil); err != nil {
		t.Fatalf("store back: %v", err)
	}
}

// fakeHolder records the address it holds.
type fakeHolder struct {
	mu   sync.Mutex
	held map[netip.Addr]bool
}

func (h *fakeHolder) Take(a netip.Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held[a] = true
	return nil
}

func (h *fakeHolder) Give(a netip.Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.held, a)
	return nil
}

func (h *fakeHolder) has(a netip.Addr) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[a]
}

// TestVIPATakeover: three members are candidates for one VIPA; exactly
// one holds it; when the owner crashes a backup holds it within the
// lease's time, and the VIPA makes DialPool choose SYSPLEXPORTS there.
func TestVIPATakeover(t *testing.T) {
	e := testnet.StartEtcd(t, 3)
	vip := netip.MustParseAddr("10.77.50.1")
	const ttl = 2 * time.Second
	var ms []member
	var hs []*fakeHolder
	for i := 0; i < 3; i++ {
		m := join(t, e.Endpoints(), "PLEX1", fmt.Sprintf("M%d", i), ttl)
		h := &fakeHolder{held: map[netip.Addr]bool{}}
		if err := m.m.DefineVIPA(vip, "OSA1", h); err != nil {
			t.Fatal(err)
		}
		ms, hs = append(ms, m), append(hs, h)
	}
	owner := func() int {
		n, who := 0, -1
		for i, h := range hs {
			if h.has(vip) {
				n++
				who = i
			}
		}
		if n > 1 {
			t.Fatalf("%d members hold the VIPA", n)
		}
		return who
	}
	testnet.Until(5*time.Second, func() bool { return owner() >= 0 })
	first := owner()
	if first < 0 {
		t.Fatal("nobody owns the VIPA")
	}
	if ms[first].reg.DialPool(vip) != ms[first].reg.SysplexPorts() {
		t.Fatal("the owner's connections from the VIPA do not draw from SYSPLEXPORTS")
	}
	if o, err := ms[(first+1)%3].m.Owner(t.Context(), vip); err != nil || o != fmt.Sprintf("M%d", first) {
		t.Fatalf("the store names %q (%v), M%d holds it", o, err, first)
	}
	killed := time.Now()
	ms[first].m.crash()
	hs[first].Give(vip) // the killed stack's address is gone with it
	next := -1
	testnet.Until(3*ttl, func() bool { next = owner(); return next >= 0 })
	took := time.Since(killed)
	if next < 0 || next == first {
		t.Fatalf("no backup took the VIPA within %v", 3*ttl)
	}
	t.Logf("M%d took the VIPA %v after M%d was killed (lease %v)", next, took.Round(time.Millisecond), first, ttl)
	if took > ttl+2*time.Second {
		t.Errorf("takeover took %v, more than the lease and 2 s", took)
	}
}

// TestPartitionConflict: the store cut off from one member (A) alone: A
// says so and lends nothing sysplex-wide; once A's lease ended the other
// member (B) is given the port A's connection still holds; when the path
// is back A joins again and reports that port as B's (EventConflict)
// instead of taking it back.
func TestPartitionConflict(t *testing.T) {
	e := testnet.StartEtcd(t, 1)
	proxy := testnet.NewProxy(t, e.Endpoints()[0])
	a := join(t, []string{proxy.Addr()}, "PLEX1", "A", 2*time.Second)
	b := join(t, e.Endpoints(), "PLEX1", "B", 2*time.Second)
	ls, err := a.reg.SysplexPorts().Lend(time.Now(), portrange.Request{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	a.ev.wait(t, EventLost, 10*time.Second)
	if _, err := a.reg.SysplexPorts().Lend(time.Now(), portrange.Request{}, nil); !errors.Is(err, portrange.ErrUncoupled) {
		t.Fatalf("A cut off: %v", err)
	}
	// B is given A's port once the store forgot A (B's pool lends in
	// turn: it lends until the turn comes to that port).
	key := fmt.Sprintf("SYSPLEX/%05d", ls.Port())
	var h map[string]string
	if !testnet.Until(10*time.Second, func() bool {
		h, _, err = b.m.Holders(t.Context())
		return err == nil && h[key] == ""
	}) {
		t.Fatalf("the store still has A's port: %v %v", h, err)
	}
	gotIt := false
	for i := 0; i < 100 && !gotIt; i++ {
		l, err := b.reg.SysplexPorts().Lend(time.Now(), portrange.Request{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		gotIt = l.Port() == ls.Port()
	}
	if !gotIt {
		t.Fatalf("B was never given port %d", ls.Port())
	}
	proxy.Mend()
	c := a.ev.wait(t, EventConflict, 20*time.Second)
	if c.Port != ls.Port() || c.Holder != "B" || c.Tier != portrange.TierSysplex {
		t.Fatalf("conflict %+v", c)
	}
	if back := a.ev.wait(t, EventBack, 10*time.Second); back.Ports != 0 {
		t.Fatalf("A claimed %d ports again, want 0", back.Ports)
	}
	h, _, err = a.m.Holders(t.Context())
	if err != nil || h[fmt.Sprintf("SYSPLEX/%05d", ls.Port())] != "B" {
		t.Fatalf("the store after A came back: %v %v", h, err)
	}
}
