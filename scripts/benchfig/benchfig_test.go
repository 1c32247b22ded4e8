package benchfig

import (
	"testing"
	"time"
)

func TestOf(t *testing.T) {
	s := time.Second
	cases := []struct {
		times                    []time.Duration
		median, slowest, fastest time.Duration
	}{
		{[]time.Duration{3 * s}, 3 * s, 3 * s, 3 * s},
		{[]time.Duration{4 * s, 1 * s, 2 * s}, 2 * s, 4 * s, 1 * s},
		{[]time.Duration{4 * s, 1 * s, 2 * s, 3 * s}, 2500 * time.Millisecond, 4 * s, 1 * s},
	}
	for _, c := range cases {
		r := Of(1e9/8, c.times)
		if r.Median != c.median || r.Slowest != c.slowest || r.Fastest != c.fastest {
			t.Errorf("Of(%v) = %v %v %v, want %v %v %v", c.times, r.Median, r.Slowest, r.Fastest, c.median, c.slowest, c.fastest)
		}
		if c.times[0] != r.Times[0] {
			t.Errorf("Of reordered its input")
		}
	}
	if g := Of(1e9/8, []time.Duration{s}).Gbit(s / 2); g != 2 {
		t.Errorf("Gbit = %v, want 2", g)
	}
}
