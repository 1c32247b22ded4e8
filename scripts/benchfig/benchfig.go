// Package benchfig sums up a run of timed transfers for the benchmark
// clients (scripts/ftpbench, scripts/ipnbench): one transfer is not a
// figure, so a run gives its median, its slowest and fastest, and every
// transfer's time.
package benchfig

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Run is a run of transfers of n bytes each.
type Run struct {
	N       int64
	Times   []time.Duration
	Median  time.Duration
	Slowest time.Duration
	Fastest time.Duration
}

// Of sums up transfers of n bytes that took times (at least one).
func Of(n int64, times []time.Duration) Run {
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	k := len(sorted)
	med := sorted[k/2]
	if k%2 == 0 {
		med = (sorted[k/2-1] + sorted[k/2]) / 2
	}
	return Run{N: n, Times: times, Median: med, Slowest: sorted[k-1], Fastest: sorted[0]}
}

// Gbit is the rate of one transfer that took d.
func (r Run) Gbit(d time.Duration) float64 { return float64(r.N) * 8 / d.Seconds() / 1e9 }

// Each is every transfer's time in seconds, in the order they ran.
func (r Run) Each() string {
	each := make([]string, len(r.Times))
	for i, d := range r.Times {
		each[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	return strings.Join(each, " ")
}
