package ops

import (
	"time"

	"ipnstack/msgcat"
	"ipnstack/portrange"
)

// pressureEvery is how often the pools' pressure is looked at. A pool that
// runs dry between two looks is seen by its exhaustions.
const pressureEvery = time.Second

// startPressure starts the watch that raises IPN605W, IPN606W and IPN607I
// as the pools fill, run dry and empty; stopPressure (from Close) ends it.
func (s *System) startPressure() {
	s.pressure.stop, s.pressure.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.pressure.done)
		tick := time.NewTicker(pressureEvery)
		defer tick.Stop()
		for {
			select {
			case <-s.pressure.stop:
				return
			case <-tick.C:
				s.lookAtPressure()
			}
		}
	}()
}

func (s *System) stopPressure() {
	close(s.pressure.stop)
	<-s.pressure.done
}

// lookAtPressure raises one message per change of a pool's level.
func (s *System) lookAtPressure() {
	for _, e := range s.Ports.Pressure(s.Clock()) {
		s.Broadcast(pressureMsg(e))
	}
}

func pressureMsg(e portrange.PressureEvent) msgcat.Msg {
	name := poolName(e.Pool)
	switch e.Level {
	case portrange.LevelDry:
		return msgcat.IPN606W(name, e.Used, e.Capacity, e.Refused)
	case portrange.LevelHigh:
		return msgcat.IPN605W(name, e.Percent(), e.Used, e.Capacity)
	}
	return msgcat.IPN607I(name, e.Used, e.Capacity)
}

// poolName is how messages name a pool: TCP, UDP, EXPLICIT, or the FTP
// daemon's id for its DATAPORTS.
func poolName(p portrange.PoolInfo) string { return p.Name }
