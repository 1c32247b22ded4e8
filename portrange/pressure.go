package portrange

import (
	"sync"
	"time"
)

// Level is how pressed a pool is.
type Level int

// The levels. A pool rises to High when HighPercent of the ports it may
// lend are in use or held in TIME_WAIT, to Dry when it has none left or
// refused a request, and comes back to Normal only under LowPercent: the
// gap between the two keeps a pool hovering at the mark from raising a
// message per port.
const (
	LevelNormal Level = iota
	LevelHigh
	LevelDry
)

// The pressure marks, in percent of the ports a pool may lend.
const (
	HighPercent = 80
	LowPercent  = 50
)

// PressureEvent is a pool that changed level.
type PressureEvent struct {
	Pool  PoolInfo
	Level Level // the new level
	// Used is the ports leased or held in TIME_WAIT; Capacity the ports
	// the pool may lend (its size less the reserved ones).
	Used, Capacity int
	// Refused is how many requests found no port since the last look.
	Refused uint64
}

// Percent is Used in percent of Capacity.
func (e PressureEvent) Percent() int {
	if e.Capacity <= 0 {
		return 100
	}
	return e.Used * 100 / e.Capacity
}

type pressure struct {
	level       Level
	exhaustions uint64
}

// Pressure looks at every pool and gives those whose level changed since
// the last look: one event when a pool passes HighPercent, one when it runs
// dry (a request refused, or no port free now), one when it is back under
// LowPercent. Its caller looks now and then (every second in the stack); a
// pool that ran dry between two looks is seen by its exhaustions.
func (r *Registry) Pressure(now time.Time) []PressureEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []PressureEvent
	for _, pi := range r.poolsLocked(now) {
		key := pi.Tier.String() + " " + pi.Name
		st := pi.Stats
		pr, ok := r.pressure[key]
		if !ok {
			pr = &pressure{exhaustions: st.Exhaustions}
			r.pressure[key] = pr
		}
		capacity := st.Size - st.Reserved
		used := min(st.InUse+st.Blocked, capacity)
		refused := st.Exhaustions - pr.exhaustions
		pr.exhaustions = st.Exhaustions
		level := pr.level
		switch {
		case refused > 0 || (capacity > 0 && st.Free() <= 0):
			level = LevelDry
		case used*100 >= HighPercent*capacity && capacity > 0:
			level = max(level, LevelHigh)
		case used*100 < LowPercent*capacity || capacity == 0:
			level = LevelNormal
		}
		if level != pr.level {
			pr.level = level
			out = append(out, PressureEvent{Pool: pi, Level: level, Used: used, Capacity: capacity, Refused: refused})
		}
	}
	return out
}

// WatchPressure looks at the pools' pressure every interval and tells
// each change (Pressure) to tell, from a goroutine of its own until the
// stop it gives is called; stop returns once the goroutine has ended.
func (r *Registry) WatchPressure(every time.Duration, clock func() time.Time, tell func(PressureEvent)) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				for _, e := range r.Pressure(clock()) {
					tell(e)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}
