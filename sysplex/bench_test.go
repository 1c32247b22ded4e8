package sysplex

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"ipnstack/internal/testnet"
	"ipnstack/portrange"
)

// BenchmarkLend: one lend and give-back of a SYSPLEXPORTS port, through
// the store (a sysplex of one member on an etcd of one and of three
// members) and locally (no sysplex), one after another: what a connection
// from a VIPA pays for its port. The give-back goes to the store in the
// background; each lend waits for its claim.
func BenchmarkLend(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		reg, _ := portrange.NewRegistry(nil)
		reg.SetSysplexPorts(40000, 40999)
		lendLoop(b, reg)
	})
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("etcd%d", n), func(b *testing.B) {
			e := testnet.StartEtcd(b, n)
			reg, _ := portrange.NewRegistry(nil)
			reg.SetSysplexPorts(40000, 40999)
			m, err := Join(Config{Name: "BENCH", Member: "B", Endpoints: e.Endpoints()}, reg, func(Event) {})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Leave()
			lendLoop(b, reg)
		})
	}
}

// BenchmarkLendMembers: three members of one sysplex on a three-member
// etcd lend and give back at once, each in turn, from one range: the
// sysplex's throughput and each lend's latency when the members contend.
func BenchmarkLendMembers(b *testing.B) {
	e := testnet.StartEtcd(b, 3)
	var regs []*portrange.Registry
	for i := 0; i < 3; i++ {
		reg, _ := portrange.NewRegistry(nil)
		reg.SetSysplexPorts(40000, 40999)
		m, err := Join(Config{Name: "BENCH", Member: fmt.Sprintf("M%d", i), Endpoints: e.Endpoints()}, reg, func(Event) {})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Leave()
		regs = append(regs, reg)
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, reg := range regs {
		n := b.N / 3
		if i == 0 {
			n += b.N % 3
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool := reg.SysplexPorts()
			for j := 0; j < n; j++ {
				ls, err := pool.Lend(time.Now(), portrange.Request{}, nil)
				if err != nil {
					b.Error(err)
					return
				}
				ls.Drop(time.Now(), portrange.Closing{})
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lends/s")
}

func lendLoop(b *testing.B, reg *portrange.Registry) {
	pool := reg.SysplexPorts()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ls, err := pool.Lend(time.Now(), portrange.Request{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		ls.Drop(time.Now(), portrange.Closing{})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lends/s")
}
