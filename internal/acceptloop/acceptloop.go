// Package acceptloop is the back-off every accept loop of the stack uses
// after a failed Accept (the process ran out of file descriptors, a
// connection was aborted before it was taken): from Min, doubling to Max,
// as Go's net/http server does, so that a loop never dies of a passing
// error and never spins on one. It counts the failures of an episode so
// that the loop's owner can say once when one starts and once when it ends.
package acceptloop

import (
	"errors"
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
