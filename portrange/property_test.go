package portrange

import (
	"errors"
	"math/rand"
	"net/netip"
	"testing"
	"time"
)

// refPool is the obvious model of a pool: for every port, the leases and
// the close times of its connections in TIME_WAIT, searched by brute force.
type refPool struct {
	low, high uint16
	leased    map[uint16]bool
	tw        map[uint16][]refEntry
}

// refEntry is a connection that closed first at closed (unix ns).
type refEntry struct {
	remote Remote
	closed int64
}

func (r *refPool) usable(now time.Time, port uint16, peer Remote, m Model, hold time.Duration) bool {
	if r.leased[port] {
		return false
	}
	for _, e := range r.tw[port] {
		if e.closed+int64(hold) <= now.UnixNano() {
			continue // expired
		}
		if m == Strict || (peer.Port != 0 && e.remote == peer) {
			return false
		}
	}
	return true
}

// TestNoFalseExhaustion drives a pool and the model with 10^6 random steps:
// allocations for listeners and for dials to a few peers, connections that
// close with or without TIME_WAIT, time passing, and changes of model. The
// pool must never say "exhausted" while a port could serve, never hand out
// a port that cannot, and must hand them out in turn.
func TestNoFalseExhaustion(t *testing.T) {
	steps := 1_000_000
	if testing.Short() {
		steps = 100_000
	}
	rng := rand.New(rand.NewSource(1))
	const low, high = 40000, 40019
	p, _ := New(low, high)
	hold := 2 * time.Second
	p.SetModel(time.Time{}, Tuple, 500*time.Millisecond, hold)
	ref := &refPool{low: low, high: high, leased: map[uint16]bool{}, tw: map[uint16][]refEntry{}}
	model := Tuple
	peers := []Remote{
		{Addr: netip.MustParseAddr("10.77.0.2")},
		{Addr: netip.MustParseAddr("10.77.0.2"), Port: 8080},
		{Addr: netip.MustParseAddr("10.77.0.3"), Port: 8080},
		{Addr: netip.MustParseAddr("10.77.0.2"), Port: 9090},
	}
	type lease struct {
		port uint16
		peer Remote
	}
	var live []lease
	now := time.Unix(1_800_000_000, 0)
	next := uint16(low)
	var allocs, exhaustions int
	for i := 0; i < steps; i++ {
		holdNow := hold
		if model == Strict {
			holdNow = time.Second // 2 × MSL of 500 ms
		}
		switch op := rng.Intn(100); {
		case op < 45: // allocate
			peer := peers[rng.Intn(len(peers))]
			// The next available port in turn, from where the last
			// allocation stopped.
			want, any := uint16(0), false
			for k := 0; k < high-low+1; k++ {
				port := uint16(low + (int(next)-low+k)%(high-low+1))
				if ref.usable(now, port, peer, model, holdNow) {
					want, any = port, true
					break
				}
			}
			port, err := p.lendPort(now, peer)
			if errors.Is(err, ErrExhausted) {
				exhaustions++
				if any {
					t.Fatalf("step %d: false exhaustion (%v, model %v)", i, peer, model)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if !ref.usable(now, port, peer, model, holdNow) {
				t.Fatalf("step %d: port %d handed out while unusable for %v", i, port, peer)
			}
			if port != want {
				t.Fatalf("step %d: port %d handed out, the next available in turn is %d", i, port, want)
			}
			next = port + 1
			if port == high {
				next = low
			}
			allocs++
			ref.leased[port] = true
			live = append(live, lease{port, peer})
		case op < 85 && len(live) > 0: // a connection closes
			k := rng.Intn(len(live))
			l := live[k]
			live = append(live[:k], live[k+1:]...)
			var tw *Remote
			if rng.Intn(2) == 0 { // the stack closed first: TIME_WAIT
				r := l.peer
				if r.Port == 0 {
					r.Port = uint16(1024 + rng.Intn(60000)) // the client's own port
				}
				tw = &r
				ref.tw[l.port] = append(ref.tw[l.port], refEntry{remote: r, closed: now.UnixNano()})
			}
			if err := p.givePort(now, l.port, tw); err != nil {
				t.Fatalf("step %d: release %d: %v", i, l.port, err)
			}
			delete(ref.leased, l.port)
		case op < 99: // time passes
			now = now.Add(time.Duration(rng.Intn(200)) * time.Millisecond)
		default: // the operator changes the model
			if model == Tuple {
				model = Strict
			} else {
				model = Tuple
			}
			p.SetModel(time.Time{}, model, 0, 0)
		}
		if i%1000 == 0 {
			for port, list := range ref.tw { // keep the model small
				keep := list[:0]
				for _, e := range list {
					if e.closed+int64(hold+time.Second) > now.UnixNano() {
						keep = append(keep, e)
					}
				}
				ref.tw[port] = keep
			}
		}
	}
	if allocs < steps/10 || exhaustions == 0 {
		t.Fatalf("the walk did not exercise the pool: %d allocations, %d exhaustions", allocs, exhaustions)
	}
	t.Logf("%d steps: %d allocations, %d true exhaustions, 0 false", steps, allocs, exhaustions)
}

// TestStrictSustainedRate drives a 20-port pool in the strict model the way
// the PORTRANGE page's FTP client does: it asks for a data port again and again,
// each transfer takes a millisecond, and the server closes first, so each
// port is held 2×MSL after its transfer. Over ten minutes of simulated time
// the sustained rate must be ports ÷ (2×MSL) within 1%.
func TestStrictSustainedRate(t *testing.T) {
	const ports = 20
	for _, msl := range []time.Duration{250 * time.Millisecond, time.Second, 30 * time.Second} {
		p, _ := New(40000, 40000+ports-1)
		p.SetModel(time.Time{}, Strict, msl, 0)
		client := Remote{Addr: netip.MustParseAddr("10.77.0.2")}
		now := time.Unix(1_800_000_000, 0)
		end := now.Add(10 * time.Minute)
		const transfer = time.Millisecond
		var done, refused int
		for now.Before(end) {
			port, err := p.lendPort(now, client)
			if err != nil {
				refused++
				now = now.Add(time.Millisecond) // the client tries again at once
				continue
			}
			now = now.Add(transfer)
			tw := Remote{Addr: client.Addr, Port: uint16(30000 + done%30000)}
			p.givePort(now, port, &tw)
			done++
		}
		want := float64(ports) / (2 * msl.Seconds())
		got := float64(done) / (10 * time.Minute).Seconds()
		if dev := (got - want) / want; dev > 0.01 || dev < -0.01 {
			t.Errorf("MSL %v: %.3f transfers/s, model says %.3f (%.2f%% off)", msl, got, want, 100*dev)
		}
		t.Logf("MSL %v: %.3f transfers/s (ports/(2×MSL) = %.3f), %d refused with 425", msl, got, want, refused)
	}
}

// TestRegistryOneOwnerPerPort drives the registry with 10^6 random steps
// over every tier at once: connections drawn from the TCP, explicit-bind
// and two DATA pools, explicit binds by three owners (some inside pools,
// some in reservations, some forbidden), closes with and without TIME_WAIT,
// time passing and changes of model. At every step: no port is held by two
// owners, no pool lends a port reserved for someone else or one the
// TIME_WAIT model holds, every refusal is justified, and no pool says
// "exhausted" while one of its ports could serve.
func TestRegistryOneOwnerPerPort(t *testing.T) {
	steps := 1_000_000
	if testing.Short() {
		steps = 100_000
	}
	rng := rand.New(rand.NewSource(2))
	r, err := NewRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.SetEphemeral(TCP, 40000, 41024, true, true))
	must(r.Reserve(TCP, 40020, 41024, Forbidden)) // leaves the TCP pool 20 ports, 5 of them FTP01's
	must(r.SetExplicit(50000, 50009))
	d1, err := r.AddData("FTP01", 40010, 40014)
	must(err)
	d2, err := r.AddData("FTP02", 60000, 60004)
	must(err)
	must(r.Reserve(TCP, 2100, 2109, "FTP03"))
	pools := []struct {
		name   string
		p      *Pool
		lo, hi uint16                 // its range
		mine   func(port uint16) bool // the ports of it this pool may lend
	}{
		{"TCP", r.TCP(), 40000, 41024, func(p uint16) bool { return p <= 40019 && (p < 40010 || p > 40014) }},
		{"EXPLICIT", r.Explicit(), 50000, 50009, func(uint16) bool { return true }},
		{"FTP01", d1, 40010, 40014, func(uint16) bool { return true }},
		{"FTP02", d2, 60000, 60004, func(uint16) bool { return true }},
	}
	// reservedFor is who a port is set aside for ("" for no one).
	reservedFor := func(p uint16) string {
		switch {
		case p >= 40020 && p <= 41024:
			return Forbidden
		case p >= 40010 && p <= 40014:
			return "FTP01"
		case p >= 60000 && p <= 60004:
			return "FTP02"
		case p >= 2100 && p <= 2109:
			return "FTP03"
		}
		return ""
	}
	owners := []string{"FTP01", "FTP02", "FTP03"}
	var bindPorts []uint16
	for _, span := range [][2]uint16{{40000, 40024}, {50000, 50004}, {60000, 60002}, {2100, 2102}, {21, 21}} {
		for p := span[0]; p <= span[1]; p++ {
			bindPorts = append(bindPorts, p)
		}
	}
	peers := []Remote{
		{Addr: netip.MustParseAddr("10.77.0.2")},
		{Addr: netip.MustParseAddr("10.77.0.2"), Port: 8080},
		{Addr: netip.MustParseAddr("10.77.0.3"), Port: 8080},
	}
	holder := map[uint16]string{} // "lease" or "bind OWNER"
	ref := &refPool{leased: map[uint16]bool{}, tw: map[uint16][]refEntry{}}
	type lease struct {
		port uint16
		peer Remote
		pool *Pool
	}
	type bind struct {
		port    uint16
		release *Lease
	}
	var leases []lease
	var binds []bind
	bindCount := map[uint16]int{}
	model, hold := Tuple, 2*time.Second
	r.SetModel(time.Time{}, Tuple, 500*time.Millisecond, hold)
	now := time.Unix(1_800_000_000, 0)
	var allocs, exhaustions, bound, refusedBinds int
	for i := 0; i < steps; i++ {
		holdNow := hold
		if model == Strict {
			holdNow = time.Second
		}
		usable := func(port uint16, peer Remote) bool {
			return holder[port] == "" && ref.usable(now, port, peer, model, holdNow)
		}
		switch op := rng.Intn(100); {
		case op < 35: // a connection takes a port from a pool
			pl := pools[rng.Intn(len(pools))]
			peer := peers[rng.Intn(len(peers))]
			port, err := pl.p.lendPort(now, peer)
			if errors.Is(err, ErrExhausted) {
				exhaustions++
				for p := pl.lo; p <= pl.hi; p++ {
					if pl.mine(p) && usable(p, peer) {
						t.Fatalf("step %d: %s says exhausted but port %d could serve %v", i, pl.name, p, peer)
					}
				}
				continue
			}
			must(err)
			if port < pl.lo || port > pl.hi || !pl.mine(port) {
				t.Fatalf("step %d: %s lent port %d, which is not its to lend", i, pl.name, port)
			}
			if h := holder[port]; h != "" {
				t.Fatalf("step %d: %s lent port %d, held by %s", i, pl.name, port, h)
			}
			if !ref.usable(now, port, peer, model, holdNow) {
				t.Fatalf("step %d: %s lent port %d while TIME_WAIT holds it for %v", i, pl.name, port, peer)
			}
			holder[port] = "lease"
			leases = append(leases, lease{port, peer, pl.p})
			allocs++
		case op < 50: // an owner binds a port
			port := bindPorts[rng.Intn(len(bindPorts))]
			owner := owners[rng.Intn(len(owners))]
			release, err := r.Bind(now, TCP, netip.AddrPortFrom(netip.IPv4Unspecified(), port), owner)
			h := holder[port]
			if err != nil {
				refusedBinds++
				res := reservedFor(port)
				justified := (h != "" && h != "bind "+owner) || (res != "" && res != owner) ||
					(model == Strict && !ref.usable(now, port, Remote{}, model, holdNow) && h == "")
				if !justified {
					t.Fatalf("step %d: %s refused port %d (held by %q, reserved for %q): %v", i, owner, port, h, res, err)
				}
				continue
			}
			if h != "" && h != "bind "+owner {
				t.Fatalf("step %d: %s bound port %d, held by %s", i, owner, port, h)
			}
			if res := reservedFor(port); res != "" && res != owner {
				t.Fatalf("step %d: %s bound port %d, reserved for %s", i, owner, port, res)
			}
			holder[port] = "bind " + owner
			bindCount[port]++
			binds = append(binds, bind{port, release})
			bound++
		case op < 65 && len(binds) > 0: // an owner lets a bind go
			k := rng.Intn(len(binds))
			b := binds[k]
			binds = append(binds[:k], binds[k+1:]...)
			b.release.Drop(now, Closing{})
			if bindCount[b.port]--; bindCount[b.port] == 0 {
				delete(holder, b.port)
			}
		case op < 88 && len(leases) > 0: // a connection closes
			k := rng.Intn(len(leases))
			l := leases[k]
			leases = append(leases[:k], leases[k+1:]...)
			var tw *Remote
			if rng.Intn(2) == 0 {
				rm := l.peer
				if rm.Port == 0 {
					rm.Port = uint16(1024 + rng.Intn(60000))
				}
				tw = &rm
				ref.tw[l.port] = append(ref.tw[l.port], refEntry{remote: rm, closed: now.UnixNano()})
			}
			must(l.pool.givePort(now, l.port, tw))
			delete(holder, l.port)
		case op < 99:
			now = now.Add(time.Duration(rng.Intn(200)) * time.Millisecond)
		default:
			model = 1 - model
			r.SetModel(time.Time{}, model, 0, 0)
		}
		if i%1000 == 0 {
			for port, list := range ref.tw {
				keep := list[:0]
				for _, e := range list {
					if e.closed+int64(hold+time.Second) > now.UnixNano() {
						keep = append(keep, e)
					}
				}
				ref.tw[port] = keep
			}
		}
	}
	if allocs < steps/10 || exhaustions == 0 || bound < steps/20 || refusedBinds == 0 {
		t.Fatalf("the walk did not exercise the registry: %d allocations, %d exhaustions, %d binds, %d refused", allocs, exhaustions, bound, refusedBinds)
	}
	t.Logf("%d steps: %d allocations, %d true exhaustions, %d binds, %d refused binds; no port held twice", steps, allocs, exhaustions, bound, refusedBinds)
}
