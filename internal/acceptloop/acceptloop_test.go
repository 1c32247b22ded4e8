package acceptloop

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	var b Backoff
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000}
	for i, w := range want {
		d, first := b.Failed()
		if d != w*time.Millisecond || first != (i == 0) {
			t.Fatalf("failure %d: %v %v", i+1, d, first)
		}
	}
	if n := b.OK(); n != len(want) {
		t.Fatalf("OK after %d failures says %d", len(want), n)
	}
	if n := b.OK(); n != 0 {
		t.Fatalf("OK again says %d", n)
	}
	if d, first := b.Failed(); d != Min || !first {
		t.Fatalf("a new episode starts at %v (%v)", d, first)
	}
}
