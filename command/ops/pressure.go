package ops

import (
	"time"

	"ipnstack/msgcat"
	"ipnstack/portrange"
)

// pressureEvery is how often the pools' pressure is looked at. A pool that
// runs dry between two looks is seen by its exhaustions.
const pressureEvery = time.Second

// watchPressure starts the pools' watch (portrange) that raises IPN605W,
// IPN606W and IPN607I as the pools fill, run dry and empty; the stop it
// gives (called by Close) ends it.
func (s *System) watchPressure() (stop func()) {
	return s.Ports.WatchPressure(pressureEvery, s.Clock, func(e portrange.PressureEvent) { s.Broadcast(pressureMsg(e)) })
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
