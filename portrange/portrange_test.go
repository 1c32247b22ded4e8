package portrange

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestCheckEphemeral(t *testing.T) {
	cases := []struct {
		name            string
		low, high       int
		lowGiven, hiGiv bool
		want            []Rule
	}{
		{"the manual's example", 32768, 65535, true, true, nil},
		{"smallest range", 1024, 4096, true, true, nil},
		{"exact gap", 30000, 31024, true, true, nil},
		{"low below 1024", 1023, 65535, true, true, []Rule{RuleLowRange}},
		{"high below 4096", 1024, 4095, true, true, []Rule{RuleHighRange}},
		{"both out of range", 80, 100, true, true, []Rule{RuleLowRange, RuleHighRange}},
		{"high above 65535", 1024, 70000, false, true, []Rule{RuleHighRange}},
		{"gap, low typed", 30000, 31000, true, false, []Rule{RuleLowGap}},
		{"gap, high typed", 30000, 31000, false, true, []Rule{RuleHighGap}},
		{"gap, both typed", 30000, 31000, true, true, []Rule{RuleLowGap, RuleHighGap}},
		{"low above high", 60000, 5000, true, true, []Rule{RuleLowGap, RuleHighGap}},
		{"low 65535", 65535, 65535, true, false, []Rule{RuleLowGap}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := CheckEphemeral(c.low, c.high, c.lowGiven, c.hiGiv)
			if len(errs) != len(c.want) {
				t.Fatalf("got %v, want rules %v", errs, c.want)
			}
			for i, e := range errs {
				if e.Rule != c.want[i] || e.Low != c.low || e.High != c.high {
					t.Errorf("error %d = %+v, want rule %v with %d,%d", i, e, c.want[i], c.low, c.high)
				}
			}
		})
	}
}

var t0 = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func remote(s string, port uint16) Remote { return Remote{Addr: netip.MustParseAddr(s), Port: port} }

func TestAllocateInTurn(t *testing.T) {
	p, err := New(40000, 40003)
	if err != nil {
		t.Fatal(err)
	}
	r := remote("10.77.0.2", 21)
	var got []uint16
	for i := 0; i < 4; i++ {
		port, err := p.lendPort(t0, r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, port)
	}
	want := []uint16{40000, 40001, 40002, 40003}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocations %v, want %v", got, want)
		}
	}
	if _, err := p.lendPort(t0, r); !errors.Is(err, ErrExhausted) {
		t.Fatalf("fifth allocation: %v, want ErrExhausted", err)
	}
	// Give back 40001: the next search goes on from where it stopped and
	// finds it, not 40000.
	if err := p.givePort(t0, 40001, nil); err != nil {
		t.Fatal(err)
	}
	if port, err := p.lendPort(t0, r); err != nil || port != 40001 {
		t.Fatalf("after release: %d, %v; want 40001", port, err)
	}
	if err := p.givePort(t0, 39999, nil); !errors.Is(err, errNotLent) {
		t.Fatalf("release of a free port: %v", err)
	}
	st := p.Stats(t0)
	if st.InUse != 4 || st.Allocations != 5 || st.Exhaustions != 1 || st.Size != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNextAvailableRotates(t *testing.T) {
	p, _ := New(50000, 50009)
	r := remote("10.77.0.2", 0)
	for i := 0; i < 25; i++ {
		port, err := p.lendPort(t0, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint16(50000 + i%10); port != want {
			t.Fatalf("allocation %d got %d, want %d", i, port, want)
		}
		p.givePort(t0, port, nil)
	}
}

func TestStrictTimeWait(t *testing.T) {
	p, _ := New(40000, 40001)
	p.SetModel(time.Time{}, Strict, 10*time.Second, 0)
	r := remote("10.77.0.2", 0)
	a, _ := p.lendPort(t0, r)
	b, _ := p.lendPort(t0, r)
	tw := remote("10.77.0.2", 33000)
	p.givePort(t0, a, &tw)
	p.givePort(t0.Add(time.Second), b, &tw)
	// Both ports are held for 2×MSL = 20 s after their own close.
	if _, err := p.lendPort(t0.Add(19*time.Second), r); !errors.Is(err, ErrExhausted) {
		t.Fatalf("at 19 s: %v, want ErrExhausted", err)
	}
	st := p.Stats(t0.Add(19 * time.Second))
	if st.TimeWait != 2 || st.Blocked != 2 || st.Free() != 0 {
		t.Fatalf("stats at 19 s: %+v", st)
	}
	port, err := p.lendPort(t0.Add(20*time.Second), r)
	if err != nil || port != a {
		t.Fatalf("at 20 s: %d, %v; want %d", port, err, a)
	}
	if _, err := p.lendPort(t0.Add(20*time.Second), r); !errors.Is(err, ErrExhausted) {
		t.Fatalf("b is held until 21 s: %v", err)
	}
	if port, err := p.lendPort(t0.Add(21*time.Second), r); err != nil || port != b {
		t.Fatalf("at 21 s: %d, %v; want %d", port, err, b)
	}
}

func TestTupleTimeWait(t *testing.T) {
	p, _ := New(40000, 40000)
	peer := remote("10.77.0.2", 8080)
	port, _ := p.lendPort(t0, peer)
	p.givePort(t0, port, &peer)
	// The same 4-tuple waits...
	if _, err := p.lendPort(t0.Add(time.Second), peer); !errors.Is(err, ErrExhausted) {
		t.Fatalf("same remote: %v, want ErrExhausted", err)
	}
	// ...but another foreign port, another host, or a listener gets the port.
	for _, r := range []Remote{remote("10.77.0.2", 8081), remote("10.77.0.3", 8080), remote("10.77.0.2", 0)} {
		got, err := p.lendPort(t0.Add(time.Second), r)
		if err != nil || got != 40000 {
			t.Fatalf("remote %v: %d, %v", r, got, err)
		}
		p.givePort(t0.Add(time.Second), got, nil)
	}
	// After the hold the same tuple may come back.
	if _, err := p.lendPort(t0.Add(61*time.Second), peer); err != nil {
		t.Fatalf("after the hold: %v", err)
	}
}

func TestClaim(t *testing.T) {
	p, _ := New(40000, 40010)
	if err := p.Claim(t0, 21); err != nil {
		t.Fatal(err)
	}
	if err := p.Claim(t0, 21); !errors.Is(err, ErrLeased) {
		t.Fatalf("second claim: %v", err)
	}
	if st := p.Stats(t0); st.InUse != 0 {
		t.Fatalf("a port outside the range counts as in use: %+v", st)
	}
}

func TestSetRangeKeepsLeases(t *testing.T) {
	p, _ := New(40000, 40010)
	port, _ := p.lendPort(t0, Remote{})
	if err := p.SetRange(50000, 50010); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.lendPort(t0, Remote{}); got != 50000 {
		t.Fatalf("first port of the new range: %d", got)
	}
	if err := p.givePort(t0, port, nil); err != nil {
		t.Fatalf("release of a port of the old range: %v", err)
	}
	if err := p.SetRange(10, 5); err == nil {
		t.Fatal("an empty range was accepted")
	}
}

// TestReservations: a reserved range is never allocated while it stands,
// counts neither as free nor in use, cannot overlap another reservation,
// and serves again once unreserved.
func TestReservations(t *testing.T) {
	r, err := NewRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetEphemeral(TCP, 5000, 6024, true, true); err != nil {
		t.Fatal(err)
	}
	p := r.TCP()
	now := time.Unix(1000, 0)
	if _, err := r.AddData("FTP01", 5002, 5004); err != nil {
		t.Fatal(err)
	}
	var re *ReservedError
	if _, err := r.AddData("FTP02", 5004, 5006); !errors.As(err, &re) || re.Owner != "FTP01" {
		t.Fatalf("overlapping reservation: %v", err)
	}
	if err := r.Reserve(TCP, 5010, 6024, "OTHER"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddData("FTP02", 7100, 7199); err != nil { // outside the range: allowed
		t.Fatal(err)
	}
	got := map[uint16]bool{}
	for {
		port, err := p.lendPort(now, Remote{})
		if errors.Is(err, ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if port >= 5002 && port <= 5004 || port >= 5010 {
			t.Fatalf("reserved port %d allocated", port)
		}
		got[port] = true
	}
	if len(got) != 7 {
		t.Fatalf("allocated %d ports, want the 7 not reserved", len(got))
	}
	st := p.Stats(now)
	if st.InUse != 7 || st.Reserved != 3+1015 || st.Free() != 0 {
		t.Fatalf("stats %+v, free %d", st, st.Free())
	}
	r.RemoveData("FTP01")
	port, err := p.lendPort(now, Remote{})
	if err != nil || port < 5002 || port > 5004 {
		t.Fatalf("after RemoveData: %d %v", port, err)
	}
	if _, err := r.Unreserve(TCP, 5010); err != nil {
		t.Fatal(err)
	}
	if rs := r.Reservations(); len(rs) != 1 || rs[0].Owner != "FTP02" || rs[0].Kind != KindData {
		t.Fatalf("reservations %+v", rs)
	}
}

// TestRegistryRules: each rule of the registry, with the typed error it
// gives.
func TestRegistryRules(t *testing.T) {
	now := time.Unix(1000, 0)
	any21 := netip.MustParseAddrPort("0.0.0.0:21")
	one21 := netip.MustParseAddrPort("10.77.0.1:21")
	two21 := netip.MustParseAddrPort("10.77.0.2:21")
	type step struct {
		name string
		do   func(r *Registry) error
		want any // nil, or a pointer to the error type wanted
	}
	bind := func(a netip.AddrPort, owner string) func(r *Registry) error {
		return func(r *Registry) error { _, err := r.Bind(now, TCP, a, owner); return err }
	}
	var be *BoundError
	var re *ReservedError
	var rg RangeErrors
	steps := []step{
		{"a daemon binds its port", bind(one21, "FTP01"), nil},
		{"another on another address", bind(two21, "FTP02"), nil},
		{"a third on every address", bind(any21, "FTP03"), &be},
		{"the owner again on every address", bind(any21, "FTP01"), &be},
		{"the operator forbids 23", func(r *Registry) error { return r.Reserve(TCP, 23, 23, Forbidden) }, nil},
		{"no one binds a forbidden port", bind(netip.MustParseAddrPort("0.0.0.0:23"), Forbidden), &re},
		{"a reservation over a bound port", func(r *Registry) error { return r.Reserve(TCP, 20, 22, "FTP09") }, &be},
		{"a reservation for the port's owner", func(r *Registry) error { return r.Reserve(TCP, 2100, 2199, "FTP04") }, nil},
		{"its owner binds in it", bind(netip.MustParseAddrPort("0.0.0.0:2121"), "FTP04"), nil},
		{"another does not", bind(netip.MustParseAddrPort("0.0.0.0:2122"), "FTP05"), &re},
		{"the owner's DATAPORTS in its reservation", func(r *Registry) error { _, err := r.AddData("FTP04", 2150, 2159); return err }, nil},
		{"another's DATAPORTS in it", func(r *Registry) error { _, err := r.AddData("FTP05", 2150, 2159); return err }, &re},
		{"an explicit-bind range over a reservation", func(r *Registry) error { return r.SetExplicit(2000, 2199) }, &re},
		{"an explicit-bind range below 1024", func(r *Registry) error { return r.SetExplicit(1000, 1999) }, &rg},
		{"an explicit-bind range", func(r *Registry) error { return r.SetExplicit(3000, 3099) }, nil},
		{"the range moved", func(r *Registry) error { return r.SetExplicit(3100, 3199) }, nil},
		{"PORTRANGE rules for UDP", func(r *Registry) error { return r.SetEphemeral(UDP, 5000, 5100, true, false) }, &rg},
		{"a UDP reservation beside a TCP one", func(r *Registry) error { return r.Reserve(UDP, 2100, 2199, "DNS") }, nil},
	}
	r, err := NewRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		err := s.do(r)
		switch {
		case s.want == nil && err != nil:
			t.Errorf("%s: %v", s.name, err)
		case s.want != nil && !errors.As(err, s.want):
			t.Errorf("%s: got %v, want a %T", s.name, err, s.want)
		}
	}
	if e := r.Explicit(); e == nil {
		t.Fatal("no explicit-bind range")
	} else if lo, hi := e.Range(); lo != 3100 || hi != 3199 {
		t.Errorf("explicit range %d-%d", lo, hi)
	}
	var kinds []string
	for _, rs := range r.Reservations() {
		kinds = append(kinds, fmt.Sprintf("%s %d-%d %s %s", rs.Proto, rs.Low, rs.High, rs.Owner, rs.Kind))
	}
	want := []string{"TCP 23-23 RESERVED DEFINE PORT", "TCP 2100-2199 FTP04 DEFINE PORT", "TCP 2150-2159 FTP04 DATAPORTS",
		"TCP 3100-3199 EXPLICIT EXPLICIT range", "UDP 2100-2199 DNS DEFINE PORT"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("reservations\n%q\nwant\n%q", kinds, want)
	}
}

// TestBindTakesPortFromPool: a port bound inside a pool is the bind's until
// the last of its binds is released, and the pool lends it again after.
func TestBindTakesPortFromPool(t *testing.T) {
	now := time.Unix(1000, 0)
	r, _ := NewRegistry(nil)
	if err := r.SetEphemeral(TCP, 40000, 41024, true, true); err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddrPort("0.0.0.0:40000")
	rel1, err := r.Bind(now, TCP, a, "FTP01")
	if err != nil {
		t.Fatal(err)
	}
	rel2, err := r.Bind(now, TCP, a, "FTP01") // the same owner again (port 20 of two transfers)
	if err != nil {
		t.Fatal(err)
	}
	if port, _ := r.TCP().lendPort(now, Remote{}); port != 40001 {
		t.Fatalf("allocated %d past a bound port, want 40001", port)
	}
	if bs := r.Binds(); len(bs) != 1 || bs[0].Count != 2 || bs[0].Owner != "FTP01" {
		t.Fatalf("binds %+v", bs)
	}
	rel1.Drop(now, Closing{})
	rel1.Drop(now, Closing{}) // twice is once
	if !r.TCP().Leased(40000) {
		t.Fatal("port given back while a bind holds it")
	}
	rel2.Drop(now, Closing{})
	if r.TCP().Leased(40000) || len(r.Binds()) != 0 {
		t.Fatalf("port still held: %v %+v", r.TCP().Leased(40000), r.Binds())
	}
	// A port a pool lent to a connection cannot be bound.
	r.TCP().SetRange(40000, 41023)
	port, _ := r.TCP().lendPort(now, Remote{})
	if _, err := r.Bind(now, TCP, netip.AddrPortFrom(netip.IPv4Unspecified(), port), "FTP02"); !errors.Is(err, ErrLeased) {
		t.Fatalf("bind of a lent port: %v", err)
	}
}

// TestPressure: one event when a pool passes 80 %, one when it runs dry,
// one when it is back under 50 %, and none in between.
func TestPressure(t *testing.T) {
	now := time.Unix(1000, 0)
	r, _ := NewRegistry(nil)
	p, err := r.AddData("FTP01", 6000, 6009)
	if err != nil {
		t.Fatal(err)
	}
	var held []uint16
	take := func(n int) {
		for range n {
			port, err := p.lendPort(now, Remote{})
			if err == nil {
				held = append(held, port)
			}
		}
	}
	give := func(n int) {
		for range n {
			p.givePort(now, held[0], nil)
			held = held[1:]
		}
	}
	look := func() string {
		var s []string
		for _, e := range r.Pressure(now) {
			s = append(s, fmt.Sprintf("%s %s %d%%", e.Pool.Tier, e.Pool.Name, e.Percent()))
			if e.Level == LevelDry {
				s[len(s)-1] += " dry"
			}
		}
		return fmt.Sprint(s)
	}
	steps := []struct {
		do   func()
		want string
	}{
		{func() {}, "[]"},
		{func() { take(7) }, "[]"},
		{func() { take(1) }, "[DATA FTP01 80%]"},
		{func() { take(1) }, "[]"},
		{func() { take(3) }, "[DATA FTP01 100% dry]"}, // one of the three refused
		{func() { give(3) }, "[]"},
		{func() { take(1) }, "[]"},
		{func() { give(3) }, "[]"}, // 50 %: not under yet
		{func() { give(1) }, "[DATA FTP01 40%]"},
		{func() { take(3) }, "[]"},
	}
	for i, s := range steps {
		s.do()
		if got := look(); got != s.want {
			t.Errorf("step %d: %s, want %s", i, got, s.want)
		}
	}
}

// TestTrackedTimeWait: a tracked closing holds its 4-tuple (Tuple) for as
// long as the stack keeps the endpoint, however long that is, and not a
// moment longer (a reset that ends TIME_WAIT early frees it at once); in
// the strict model the port rests 2×MSL and, after that, until the stack
// lets the endpoint go.
func TestTrackedTimeWait(t *testing.T) {
	now := time.Unix(1000, 0)
	p, _ := New(5000, 5000)
	a, b, c := remote("10.77.0.2", 8080), remote("10.77.0.3", 8080), remote("10.77.0.2", 8081)
	var ends []func(time.Time)
	for _, r := range []Remote{a, b, c} {
		l, err := p.Lend(now, Request{Remote: r}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, l.Drop(now, Closing{Remote: r, First: true, Tracked: true}))
		if ends[len(ends)-1] == nil {
			t.Fatal("a tracked closing in TIME_WAIT gave no end to report")
		}
		now = now.Add(time.Second)
	}
	if st := p.Stats(now); st.TimeWaitTuples != 3 || st.TimeWait != 1 {
		t.Fatalf("%d in TIME_WAIT on %d ports, want 3 on 1", st.TimeWaitTuples, st.TimeWait)
	}
	now = now.Add(10 * time.Minute) // far past any time hold: the stack still keeps them
	for _, r := range []Remote{a, c} {
		if _, err := p.Lend(now, Request{Remote: r}, nil); !errors.Is(err, ErrExhausted) {
			t.Fatalf("a dial to a tuple the stack keeps (%v): %v", r, err)
		}
	}
	if _, err := p.Lend(now, Request{Remote: c}, nil); !errors.Is(err, ErrExhausted) {
		t.Fatalf("a dry pool asked again: %v", err)
	}
	ends[0](now) // a reset ended a's TIME_WAIT early
	ends[0](now) // twice is once
	if _, err := p.Lend(now, Request{Remote: c}, nil); !errors.Is(err, ErrExhausted) {
		t.Fatalf("a dial to c, whose tuple is still in TIME_WAIT: %v", err)
	}
	l, err := p.Lend(now, Request{Remote: a}, nil)
	if err != nil {
		t.Fatalf("after a's end: %v", err)
	}
	ends[2](now)
	if st := p.Stats(now); st.TimeWaitTuples != 1 || st.Allocations != 4 || st.Exhaustions != 4 || st.InUse != 1 {
		t.Fatalf("stats %+v, want b's TIME_WAIT, 4 allocations, 4 exhaustions, 1 in use", st)
	}
	// A passive close (LAST_ACK) holds its tuple while the stack keeps it,
	// but counts as no TIME_WAIT here.
	end := l.Drop(now, Closing{Remote: a, Tracked: true})
	if st := p.Stats(now); st.TimeWaitTuples != 1 {
		t.Fatalf("a passive close counted as TIME_WAIT: %+v", st)
	}
	if _, err := p.Lend(now, Request{Remote: a}, nil); !errors.Is(err, ErrExhausted) {
		t.Fatalf("a dial to a tuple in LAST_ACK: %v", err)
	}
	end(now)
	ends[1](now)
	if st := p.Stats(now); st.TimeWaitTuples != 0 {
		t.Fatalf("TIME_WAIT left: %+v", st)
	}
	now = now.Add(2 * time.Minute) // the records leave once the longer hold has passed
	if p.Stats(now); len(p.ports) != 0 || len(p.waiting) != 0 || p.head != len(p.queue) {
		t.Fatalf("records left: %d ports, %d waiting, %d queued", len(p.ports), len(p.waiting), len(p.queue)-p.head)
	}

	// Strict: the port rests 2×MSL from the close, whichever side closed
	// first; the 4-tuple stays held while the stack keeps the endpoint.
	p.SetModel(time.Time{}, Strict, time.Second, 0)
	l, _ = p.Lend(now, Request{Remote: a}, nil)
	end = l.Drop(now, Closing{Remote: a, Tracked: true}) // the peer closed first (an upload)
	for _, at := range []time.Duration{0, 1999 * time.Millisecond} {
		if _, err := p.Lend(now.Add(at), Request{Remote: b}, nil); !errors.Is(err, ErrExhausted) {
			t.Fatalf("strict, %v after the close: %v", at, err)
		}
	}
	if at, ok := p.NextFree(now); !ok || !at.Equal(now.Add(2*time.Second)) {
		t.Fatalf("next free %v %v, want 2 s after the close", at, ok)
	}
	now = now.Add(time.Hour)
	if _, err := p.Lend(now, Request{Remote: a}, nil); !errors.Is(err, ErrExhausted) {
		t.Fatalf("strict, a dial to the tuple the stack still keeps: %v", err)
	}
	lb, err := p.Lend(now, Request{Remote: b}, nil)
	if err != nil {
		t.Fatalf("strict, after 2×MSL, to another end: %v", err)
	}
	lb.Drop(now, Closing{})
	end(now)
	if _, err := p.Lend(now, Request{Remote: a}, nil); err != nil {
		t.Fatalf("strict, after 2×MSL and the stack's end: %v", err)
	}
}

// TestParked: a parked lease counts apart from the ports in use, is taken
// back (its owner's reclaim, once) by a request that finds the pool dry,
// and cannot be taken into use after that; the strict model parks nothing.
func TestParked(t *testing.T) {
	now := time.Unix(1000, 0)
	p, _ := New(5000, 5001)
	peer := Remote{Addr: netip.MustParseAddr("10.77.0.2")}
	a, _ := p.Lend(now, Request{Remote: peer}, nil)
	b, _ := p.Lend(now, Request{Remote: peer}, nil)
	reclaimed := 0
	if !a.Park(func() { reclaimed++; a.Drop(now, Closing{}) }) {
		t.Fatal("the tuple model refused to park")
	}
	if st := p.Stats(now); st.InUse != 1 || st.Parked != 1 || st.Free() != 0 {
		t.Fatalf("stats %+v", st)
	}
	// The owner takes it back into use and parks it again.
	if !a.Unpark() || a.Unpark() {
		t.Fatal("unpark of a parked lease: want true once")
	}
	a.Park(func() { reclaimed++; a.Drop(now, Closing{}) })
	// Another request finds the pool dry: the parked port is its.
	c, err := p.Lend(now, Request{Remote: peer}, nil)
	if err != nil || c.Port() != a.Port() || reclaimed != 1 {
		t.Fatalf("a dry pool with a parked port: %v, port %d (parked %d), reclaimed %d", err, c.Port(), a.Port(), reclaimed)
	}
	if a.Unpark() {
		t.Fatal("a lease the pool took back was unparked")
	}
	if st := p.Stats(now); st.InUse != 2 || st.Parked != 0 || st.Allocations != 3 || st.Exhaustions != 0 {
		t.Fatalf("stats %+v: want 2 in use, 3 allocations and no exhaustion", st)
	}
	// Nothing parked left: the next request is refused.
	if _, err := p.Lend(now, Request{Remote: peer}, nil); !errors.Is(err, ErrExhausted) {
		t.Fatalf("%v, want ErrExhausted", err)
	}
	// Strict: nothing is parked, and a parked lease may not serve again.
	b.Park(func() {})
	p.SetModel(time.Time{}, Strict, time.Second, 0)
	if b.Unpark() {
		t.Fatal("a lease parked before the model became strict was taken back into use")
	}
	if c.Park(func() {}) {
		t.Fatal("the strict model parked a lease")
	}
}

// TestRandomDraw: a Random request gets a port drawn across the range,
// never a busy one, and leaves the in-turn order of the others alone.
func TestRandomDraw(t *testing.T) {
	now := time.Unix(1000, 0)
	p, _ := New(40000, 49999)
	dns := Remote{Addr: netip.MustParseAddr("10.77.0.53"), Port: 53}
	held := map[uint16]bool{}
	for range 5000 { // half the range busy
		l, _ := p.Lend(now, Request{}, nil)
		held[l.Port()] = true
	}
	seen := map[uint16]bool{}
	lo, hi := uint16(65535), uint16(0)
	for range 200 {
		l, err := p.Lend(now, Request{Remote: dns, Random: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		port := l.Port()
		if held[port] || seen[port] {
			t.Fatalf("random draw gave port %d, which is busy", port)
		}
		seen[port] = true
		lo, hi = min(lo, port), max(hi, port)
		if len(seen)%2 == 0 {
			l.Drop(now, Closing{})
			delete(seen, port)
		}
	}
	if hi-lo < 4000 {
		t.Fatalf("200 random draws spread over %d-%d only", lo, hi)
	}
	want := uint16(45000) // the next in turn, past what the draws still hold
	for seen[want] {
		want++
	}
	if l, _ := p.Lend(now, Request{}, nil); l.Port() != want {
		t.Fatalf("the next port in turn after random draws: %d, want %d", l.Port(), want)
	}
}

// TestLongerMSLRevivesNoRest: in the strict model, a longer MSL set while
// ports rest lengthens the rest of a port resting now, and does not bring
// back a rest that ended before the change, however long since the pool
// last looked at its records.
func TestLongerMSLRevivesNoRest(t *testing.T) {
	p, _ := New(40000, 40001)
	t0 := time.Unix(1_800_000_000, 0)
	p.SetModel(t0, Strict, 100*time.Millisecond, 0)
	a, _ := p.lendPort(t0, Remote{})
	b, _ := p.lendPort(t0, Remote{})
	peer := Remote{Addr: netip.MustParseAddr("10.77.0.2"), Port: 50000}
	p.givePort(t0, a, &peer)                                            // rests until t0+200ms
	p.givePort(t0.Add(150*time.Millisecond), b, &peer)                  // rests until t0+350ms
	p.SetModel(t0.Add(300*time.Millisecond), Strict, 10*time.Second, 0) // a has ended; b rests
	at := t0.Add(time.Second)
	st := p.Stats(at)
	if st.Blocked != 1 {
		t.Fatalf("after MSL 10 s: %d ports held, want 1 (the one resting at the change)", st.Blocked)
	}
	port, err := p.lendPort(at, Remote{})
	if err != nil || port != a {
		t.Fatalf("lent %d, %v; want %d, whose rest had ended", port, err, a)
	}
	if _, err := p.lendPort(at, Remote{}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("the port resting at the change was lent: %v", err)
	}
	if st := p.Stats(t0.Add(150*time.Millisecond + 20*time.Second)); st.Blocked != 0 {
		t.Fatalf("20 s after its close the port still rests: %+v", st)
	}
}
