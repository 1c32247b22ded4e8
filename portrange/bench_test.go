package portrange

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkAllocateRelease: one port lent and given back in the range
// 1024-65535 while `held` other ports stay leased. The search skips leased
// ports 64 (and 4,096) at a time, so the cost is flat in the number held.
func BenchmarkAllocateRelease(b *testing.B) {
	for _, held := range []int{0, 1000, 16000, 64000} {
		b.Run(fmt.Sprintf("held=%d", held), func(b *testing.B) {
			p, _ := New(1024, 65535)
			now := time.Unix(1_800_000_000, 0)
			for range held {
				if _, err := p.lendPort(now, Remote{}); err != nil {
					b.Fatal(err)
				}
			}
			peer := Remote{Addr: netip.MustParseAddr("10.77.0.2")}
			b.ResetTimer()
			for range b.N {
				l, err := p.Lend(now, Request{Remote: peer}, nil)
				if err != nil {
					b.Fatal(err)
				}
				l.Drop(now, Closing{})
			}
		})
	}
}

// BenchmarkPools: the snapshot QUERY PORTRANGE prints, with every pool
// populated: the TCP range 1024-65535 with 30,000 leases and 20,000
// connections in TIME_WAIT, the UDP range, an explicit-bind range and two
// DATA pools, half leased.
func BenchmarkPools(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	r, _ := NewRegistry(nil)
	if err := r.SetEphemeral(TCP, 1024, 65535, true, true); err != nil {
		b.Fatal(err)
	}
	if err := r.SetExplicit(4000, 4999); err != nil {
		b.Fatal(err)
	}
	d1, _ := r.AddData("FTP01", 50000, 50999)
	d2, _ := r.AddData("FTP02", 60000, 60019)
	fill := func(p *Pool, n, tw int) {
		for i := range n + tw {
			port, err := p.lendPort(now, Remote{})
			if err != nil {
				b.Fatal(err)
			}
			if i >= n {
				p.givePort(now, port, &Remote{Addr: netip.MustParseAddr("10.77.0.2"), Port: uint16(1024 + i%60000)})
			}
		}
	}
	fill(r.TCP(), 30000, 20000)
	fill(r.UDP(), 1000, 0)
	fill(r.Explicit(), 500, 200)
	fill(d1, 500, 300)
	fill(d2, 10, 5)
	b.ResetTimer()
	for range b.N {
		if len(r.Pools(now)) != 5 {
			b.Fatal("not five pools")
		}
	}
}

// BenchmarkDryPool: a request against a pool with no port to give, in
// ranges of 1,025 to 64,512 ports. STRICT: every port rests after its
// connection (the summary bits answer). TUPLE-dial: every port holds a
// 4-tuple in TIME_WAIT to the very server the dial asks for (the first
// refusal walks the range, later ones are answered from the remembered
// dry search until a port may have freed). The cost is flat in the
// range's size.
func BenchmarkDryPool(b *testing.B) {
	server := Remote{Addr: netip.MustParseAddr("10.77.0.2"), Port: 21}
	for _, size := range []int{1025, 16384, 64512} {
		for _, m := range []Model{Strict, Tuple} {
			name := fmt.Sprintf("%s/size=%d", m, size)
			if m == Tuple {
				name = fmt.Sprintf("TUPLE-dial/size=%d", size)
			}
			b.Run(name, func(b *testing.B) {
				p, _ := New(1024, uint16(1024+size-1))
				p.SetModel(time.Time{}, m, 30*time.Second, 60*time.Second)
				now := time.Unix(1_800_000_000, 0)
				for range size {
					l, err := p.Lend(now, Request{Remote: server}, nil)
					if err != nil {
						b.Fatal(err)
					}
					l.Drop(now, Closing{Remote: server, First: true, Tracked: true})
				}
				b.ResetTimer()
				for range b.N {
					if _, err := p.Lend(now, Request{Remote: server}, nil); err != ErrExhausted {
						b.Fatalf("a dry pool gave %v", err)
					}
				}
			})
		}
	}
}
