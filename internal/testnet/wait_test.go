package testnet

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	var n atomic.Int32
	if !Until(time.Second, func() bool { return n.Add(1) >= 3 }) {
		t.Fatal("a condition that comes true was not seen")
	}
	if n.Load() != 3 {
		t.Errorf("cond called %d times, want 3 (it stops once it holds)", n.Load())
	}
	start := time.Now()
	if Until(50*time.Millisecond, func() bool { return false }) {
		t.Fatal("a condition that never holds was reported")
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("gave up before the limit")
	}
}
