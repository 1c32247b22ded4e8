// Package acceptloop is the accept loop of every listener of the stack
// (Loop), with the back-off it uses after a failed Accept (the process ran
// out of file descriptors, a connection was aborted before it was taken):
// from Min, doubling to Max, as Go's net/http server does, so that a loop
// never dies of a passing error and never spins on one. It counts the
// failures of an episode so that the loop's owner can say once when one
// starts and once when it ends.
package acceptloop

import (
	"errors"
	"net"
	"sync"
	"time"
)

// The back-off bounds.
const (
	Min = 5 * time.Millisecond
	Max = time.Second
)

// Backoff is one accept loop's state; its zero value is ready. It is used
// by the loop's own goroutine only.
type Backoff struct {
	delay    time.Duration
	failures int
}

// Failed records a failed Accept. It gives how long to wait before the next
// one, and whether this failure starts an episode.
func (b *Backoff) Failed() (wait time.Duration, first bool) {
	first = b.failures == 0
	b.failures++
	b.delay = min(max(2*b.delay, Min), Max)
	return b.delay, first
}

// OK records an Accept that worked. It gives the number of failures of the
// episode it ends (0 when there was none).
func (b *Backoff) OK() int {
	n := b.failures
	b.failures, b.delay = 0, 0
	return n
}

// Reason is the innermost text of an accept error, for a console message
// ("too many open files", not the whole chain of the listener's address).
func Reason(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// Events are what a loop tells its owner. Each may be nil.
type Events struct {
	// Failing: an episode of failed Accepts starts (reason as Reason
	// gives it); the loop retries with back-off.
	Failing func(reason string)
	// Recovered: Accept works again after failures failed ones.
	Recovered func(failures int)
	// Died: the listener was closed under the loop by someone other
	// than Stop; the loop has ended.
	Died func(err error)
}

// Loop accepts connections on one listener until Stop and hands each to
// its handler. It is the accept loop of every listener of the stack: the
// console socket, the telnet consoles, the FTP daemons, the USER link's
// forwarded ports.
type Loop struct {
	ln     net.Listener
	handle func(net.Conn)
	ev     Events
	stop   chan struct{} // closed by Stop
	done   chan struct{} // closed when the loop's goroutine has ended
	once   sync.Once

	mu    sync.Mutex
	fault string // why Accept fails now, or ""
	dead  bool   // the listener died under the loop
}

// Start runs the loop in a goroutine that Stop ends and awaits. handle is
// called on that goroutine for each connection and must not block: it
// hands the connection to a goroutine of the owner's, which the owner
// awaits.
func Start(ln net.Listener, handle func(net.Conn), ev Events) *Loop {
	l := &Loop{ln: ln, handle: handle, ev: ev, stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *Loop) run() {
	defer close(l.done)
	var bo Backoff
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if l.stopping() {
				return
			}
			if errors.Is(err, net.ErrClosed) {
				l.setFault(err.Error(), true)
				if l.ev.Died != nil {
					l.ev.Died(err)
				}
				return
			}
			wait, first := bo.Failed()
			if first {
				l.setFault(Reason(err), false)
				if l.ev.Failing != nil {
					l.ev.Failing(Reason(err))
				}
			}
			select {
			case <-time.After(wait):
			case <-l.stop:
				return
			}
			continue
		}
		if n := bo.OK(); n > 0 {
			l.setFault("", false)
			if l.ev.Recovered != nil {
				l.ev.Recovered(n)
			}
		}
		if l.stopping() {
			c.Close()
			return
		}
		l.handle(c)
	}
}

func (l *Loop) stopping() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *Loop) setFault(reason string, dead bool) {
	l.mu.Lock()
	l.fault, l.dead = reason, dead
	l.mu.Unlock()
}

// Fault says why Accept fails now ("" while it works), and whether the
// loop has died of it.
func (l *Loop) Fault() (reason string, dead bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fault, l.dead
}

// Addr is the listener's address.
func (l *Loop) Addr() net.Addr { return l.ln.Addr() }

// Stop closes the listener and waits for the loop to end. Connections
// already handed over are their owners'.
func (l *Loop) Stop() {
	l.once.Do(func() {
		close(l.stop)
		l.ln.Close()
	})
	<-l.done
}
