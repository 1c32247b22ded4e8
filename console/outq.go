package console

import (
	"sync"
	"sync/atomic"
)

// itemKind is what an item of a console's output queue is.
type itemKind uint8

const (
	itemReply       itemKind = iota // a line answering the console's command
	itemUnsolicited                 // a line nobody on the console asked for
	itemDone                        // the command's end, with its return code
)

type outItem struct {
	kind itemKind
	line string
	rc   int
	ack  chan error // itemDone: gets the sink's answer once written
}

// outQueue is a console's output queue: items are put by command
// handlers and the stack without blocking, and written in order by one
// writer goroutine (run), which the queue's owner starts and close awaits.
// Its lock is taken alone.
type outQueue struct {
	mu      sync.Mutex
	items   []outItem
	unsol   int  // unsolicited items queued
	discard bool // close(false): what is queued is for nobody

	wake     chan struct{} // an item is queued
	stop     chan struct{} // closed by close
	ended    chan struct{} // closed when run returns
	stopOnce sync.Once
	dropped  atomic.Uint64 // unsolicited items dropped for a full queue
}

func newOutQueue() *outQueue {
	return &outQueue{wake: make(chan struct{}, 1), stop: make(chan struct{}), ended: make(chan struct{})}
}

// put queues an item. Unsolicited items beyond unsolicitedQueue waiting
// are dropped (and counted); replies never are. It gives false once the
// writer has ended.
func (q *outQueue) put(it outItem) bool {
	q.mu.Lock()
	select {
	case <-q.ended:
		q.mu.Unlock()
		return false
	default:
	}
	if it.kind == itemUnsolicited {
		if q.unsol >= unsolicitedQueue {
			q.mu.Unlock()
			q.dropped.Add(1)
			return true
		}
		q.unsol++
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// done queues a command's end and waits until it is written: it gives
// whether the sink took it.
func (q *outQueue) done(rc int) bool {
	ack := make(chan error, 1)
	if !q.put(outItem{kind: itemDone, rc: rc, ack: ack}) {
		return false
	}
	select {
	case err := <-ack:
		return err == nil
	case <-q.ended:
		return false
	}
}

// run writes the queue with write until close; it then writes what is
// still queued (unless close discards it) and returns. After each batch
// of what was queued it calls flush.
func (q *outQueue) run(write func(outItem) error, flush func()) {
	defer close(q.ended)
	for {
		q.mu.Lock()
		items := q.items
		q.items, q.unsol = nil, 0
		discard := q.discard
		q.mu.Unlock()
		for _, it := range items {
			var err error
			if !discard {
				err = write(it)
			}
			if it.ack != nil {
				it.ack <- err
			}
		}
		if len(items) > 0 {
			if !discard {
				flush()
			}
			continue
		}
		select {
		case <-q.wake:
		case <-q.stop:
			q.mu.Lock()
			left := len(q.items)
			q.mu.Unlock()
			if left == 0 {
				return
			}
		}
	}
}

// close ends the writer and waits for it: with drain, after it has
// written every item queued; without, dropping them (the connection is
// gone).
func (q *outQueue) close(drain bool) {
	if !drain {
		q.mu.Lock()
		q.discard = true
		q.mu.Unlock()
	}
	q.stopOnce.Do(func() { close(q.stop) })
	<-q.ended
}
