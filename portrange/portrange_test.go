package portrange

import (
	"errors"
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
		{"seed example", 32768, 65535, true, true, nil},
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
		port, err := p.Allocate(t0, r)
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
	if _, err := p.Allocate(t0, r); !errors.Is(err, ErrExhausted) {
		t.Fatalf("fifth allocation: %v, want ErrExhausted", err)
	}
	// Give back 40001: the next search goes on from where it stopped and
	// finds it, not 40000.
	if err := p.Release(t0, 40001, nil); err != nil {
		t.Fatal(err)
	}
	if port, err := p.Allocate(t0, r); err != nil || port != 40001 {
		t.Fatalf("after release: %d, %v; want 40001", port, err)
	}
	if err := p.Release(t0, 39999, nil); !errors.Is(err, ErrNotLeased) {
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
		port, err := p.Allocate(t0, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint16(50000 + i%10); port != want {
			t.Fatalf("allocation %d got %d, want %d", i, port, want)
		}
		p.Release(t0, port, nil)
	}
}

func TestStrictTimeWait(t *testing.T) {
	p, _ := New(40000, 40001)
	p.SetModel(Strict, 10*time.Second, 0)
	r := remote("10.77.0.2", 0)
	a, _ := p.Allocate(t0, r)
	b, _ := p.Allocate(t0, r)
	tw := remote("10.77.0.2", 33000)
	p.Release(t0, a, &tw)
	p.Release(t0.Add(time.Second), b, &tw)
	// Both ports are held for 2×MSL = 20 s after their own close.
	if _, err := p.Allocate(t0.Add(19*time.Second), r); !errors.Is(err, ErrExhausted) {
		t.Fatalf("at 19 s: %v, want ErrExhausted", err)
	}
	st := p.Stats(t0.Add(19 * time.Second))
	if st.TimeWait != 2 || st.Blocked != 2 || st.Free() != 0 {
		t.Fatalf("stats at 19 s: %+v", st)
	}
	port, err := p.Allocate(t0.Add(20*time.Second), r)
	if err != nil || port != a {
		t.Fatalf("at 20 s: %d, %v; want %d", port, err, a)
	}
	if _, err := p.Allocate(t0.Add(20*time.Second), r); !errors.Is(err, ErrExhausted) {
		t.Fatalf("b is held until 21 s: %v", err)
	}
	if port, err := p.Allocate(t0.Add(21*time.Second), r); err != nil || port != b {
		t.Fatalf("at 21 s: %d, %v; want %d", port, err, b)
	}
}

func TestTupleTimeWait(t *testing.T) {
	p, _ := New(40000, 40000)
	peer := remote("10.77.0.2", 8080)
	port, _ := p.Allocate(t0, peer)
	p.Release(t0, port, &peer)
	// The same 4-tuple waits...
	if _, err := p.Allocate(t0.Add(time.Second), peer); !errors.Is(err, ErrExhausted) {
		t.Fatalf("same remote: %v, want ErrExhausted", err)
	}
	// ...but another foreign port, another host, or a listener gets the port.
	for _, r := range []Remote{remote("10.77.0.2", 8081), remote("10.77.0.3", 8080), remote("10.77.0.2", 0)} {
		got, err := p.Allocate(t0.Add(time.Second), r)
		if err != nil || got != 40000 {
			t.Fatalf("remote %v: %d, %v", r, got, err)
		}
		p.Release(t0.Add(time.Second), got, nil)
	}
	// After the hold the same tuple may come back.
	if _, err := p.Allocate(t0.Add(61*time.Second), peer); err != nil {
		t.Fatalf("after the hold: %v", err)
	}
}

func TestClaim(t *testing.T) {
	p, _ := New(40000, 40010)
	if err := p.Claim(t0, 21, Remote{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Claim(t0, 21, Remote{}); !errors.Is(err, ErrLeased) {
		t.Fatalf("second claim: %v", err)
	}
	if st := p.Stats(t0); st.InUse != 0 {
		t.Fatalf("a port outside the range counts as in use: %+v", st)
	}
}

func TestSetRangeKeepsLeases(t *testing.T) {
	p, _ := New(40000, 40010)
	port, _ := p.Allocate(t0, Remote{})
	if err := p.SetRange(50000, 50010); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Allocate(t0, Remote{}); got != 50000 {
		t.Fatalf("first port of the new range: %d", got)
	}
	if err := p.Release(t0, port, nil); err != nil {
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
	p, err := New(5000, 5009)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	if err := p.Reserve("FTP01", 5002, 5004); err != nil {
		t.Fatal(err)
	}
	var re *ReservedError
	if err := p.Reserve("FTP02", 5004, 5006); !errors.As(err, &re) || re.Owner != "FTP01" {
		t.Fatalf("overlapping reservation: %v", err)
	}
	if err := p.Reserve("FTP02", 5100, 5199); err != nil { // outside the range: allowed
		t.Fatal(err)
	}
	got := map[uint16]bool{}
	for {
		port, err := p.Allocate(now, Remote{})
		if errors.Is(err, ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if port >= 5002 && port <= 5004 {
			t.Fatalf("reserved port %d allocated", port)
		}
		got[port] = true
	}
	if len(got) != 7 {
		t.Fatalf("allocated %d ports, want the 7 not reserved", len(got))
	}
	st := p.Stats(now)
	if st.InUse != 7 || st.Reserved != 3 || st.Free() != 0 {
		t.Fatalf("stats %+v, free %d", st, st.Free())
	}
	p.Unreserve("FTP01")
	port, err := p.Allocate(now, Remote{})
	if err != nil || port < 5002 || port > 5004 {
		t.Fatalf("after Unreserve: %d %v", port, err)
	}
	if rs := p.Reservations(); len(rs) != 1 || rs[0].Owner != "FTP02" {
		t.Fatalf("reservations %+v", rs)
	}
}
