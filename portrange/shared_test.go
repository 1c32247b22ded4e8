package portrange

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeStore is a sysplex's store in memory: who holds each port of one
// tier. Its members' claims are what the checker reads.
type fakeStore struct {
	mu     sync.Mutex
	holder map[uint16]string
	down   bool
}

type fakeMember struct {
	s    *fakeStore
	name string
}

func (m fakeMember) Claim(port uint16) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.s.down {
		return ErrUncoupled
	}
	if h, ok := m.s.holder[port]; ok && h != m.name {
		return fmt.Errorf("port %d is %s's: %w", port, h, ErrInUse)
	}
	m.s.holder[port] = m.name
	return nil
}

func (m fakeMember) Release(port uint16) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.s.holder[port] == m.name {
		delete(m.s.holder, port)
	}
}

// TestSharedPoolUnique: two members lend from one SYSPLEXPORTS range
// through the store under churn, in both models; a port is never lent by
// both at once, every port comes back to the store when its life here
// ends, and a store that cannot be reached refuses the request (no port
// lent) until it is back.
func TestSharedPoolUnique(t *testing.T) {
	for _, model := range []Model{Tuple, Strict} {
		t.Run(model.String(), func(t *testing.T) {
			st := &fakeStore{holder: map[uint16]string{}}
			now := time.Unix(1000, 0)
			var regs [2]*Registry
			for i := range regs {
				r, _ := NewRegistry(nil)
				r.SetModel(now, model, time.Second, 2*time.Second)
				name := fmt.Sprintf("M%d", i)
				r.Couple(func(Tier) Shared { return fakeMember{st, name} })
				if err := r.SetSysplexPorts(5000, 5063); err != nil {
					t.Fatal(err)
				}
				vipa := netip.MustParseAddr("10.77.9.9")
				r.SetVIPA(vipa, true)
				if r.DialPool(vipa) != r.SysplexPorts() || r.DialPool(netip.MustParseAddr("10.77.0.1")) != r.TCP() {
					t.Fatal("DialPool does not choose SYSPLEXPORTS for the VIPA alone")
				}
				regs[i] = r
			}
			rng := rand.New(rand.NewPCG(1, 2))
			type held struct {
				m  int
				ls *Lease
			}
			var live []held
			owner := map[uint16]int{}
			lent := 0
			for step := 0; step < 20000; step++ {
				now = now.Add(time.Duration(rng.IntN(20)) * time.Millisecond)
				if len(live) > 0 && (rng.IntN(2) == 0 || len(live) > 40) {
					k := rng.IntN(len(live))
					h := live[k]
					live = append(live[:k], live[k+1:]...)
					delete(owner, h.ls.Port())
					remote := Remote{Addr: netip.MustParseAddr("10.77.0.2"), Port: 21}
					if end := h.ls.Drop(now, Closing{Remote: remote, First: rng.IntN(2) == 0, Tracked: true}); end != nil {
						end(now.Add(time.Duration(rng.IntN(500)) * time.Millisecond))
					}
					continue
				}
				m := rng.IntN(2)
				remote := Remote{Addr: netip.MustParseAddr("10.77.0.2"), Port: 21}
				ls, err := regs[m].SysplexPorts().Lend(now, Request{Remote: remote}, nil)
				if errors.Is(err, ErrExhausted) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				lent++
				if o, ok := owner[ls.Port()]; ok {
					t.Fatalf("step %d: port %d lent by M%d while M%d holds it", step, ls.Port(), m, o)
				}
				st.mu.Lock()
				h := st.holder[ls.Port()]
				st.mu.Unlock()
				if h != fmt.Sprintf("M%d", m) {
					t.Fatalf("port %d lent by M%d, the store says %q", ls.Port(), m, h)
				}
				owner[ls.Port()] = m
				live = append(live, held{m, ls})
			}
			if lent < 5000 {
				t.Fatalf("only %d lent", lent)
			}
			// The store refuses: no port is lent, the request fails with it.
			now = now.Add(10 * time.Second) // the strict model's rests are over
			regs[0].Sweep(now)
			st.mu.Lock()
			st.down = true
			st.mu.Unlock()
			if _, err := regs[0].SysplexPorts().Lend(now, Request{}, nil); !errors.Is(err, ErrUncoupled) {
				t.Fatalf("store down: %v", err)
			}
			st.mu.Lock()
			st.down = false
			st.mu.Unlock()
			for _, h := range live {
				h.ls.Drop(now, Closing{})
			}
			now = now.Add(time.Minute)
			for _, r := range regs {
				r.Sweep(now)
				if n := r.SysplexPorts().Stats(now).Shared; n != 0 {
					t.Errorf("a member still holds %d ports in the store", n)
				}
			}
			st.mu.Lock()
			defer st.mu.Unlock()
			if len(st.holder) != 0 {
				t.Errorf("the store still has %d ports after every life ended: %v", len(st.holder), st.holder)
			}
		})
	}
}

// TestElsewhereSkipped: a port the store says another member holds is not
// offered, and counts as blocked, until the store lets it go.
func TestElsewhereSkipped(t *testing.T) {
	p, _ := New(6000, 6003)
	st := &fakeStore{holder: map[uint16]string{}}
	p.SetShared(fakeMember{st, "A"})
	for _, port := range []uint16{6000, 6001, 6002} {
		p.SetElsewhere(port, true)
	}
	now := time.Unix(1, 0)
	ls, err := p.Lend(now, Request{}, nil)
	if err != nil || ls.Port() != 6003 {
		t.Fatalf("lent %v, %v", ls, err)
	}
	if s := p.Stats(now); s.Elsewhere != 3 || s.Free() != 0 || s.Shared != 1 {
		t.Fatalf("stats %+v", s)
	}
	if _, err := p.Lend(now, Request{}, nil); !errors.Is(err, ErrExhausted) {
		t.Fatalf("dry: %v", err)
	}
	p.SetElsewhere(6001, false)
	if ls, err := p.Lend(now, Request{}, nil); err != nil || ls.Port() != 6001 {
		t.Fatalf("after the store let 6001 go: %v, %v", ls, err)
	}
}
