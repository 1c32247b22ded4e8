package console

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Hardcopy is the stack's hardcopy log: every console line in and out with a
// timestamp, like a system log.
//
//	20261122 021418.27 L001     < portrange low=32768,high=65535
//	20261122 021418.27 L001     > IPN237I portrange low=32768,high=65535
//	20261122 021418.27 *        * IPN217W Stale console socket ... taken over
type Hardcopy struct {
	mu    sync.Mutex
	w     *bufio.Writer
	c     io.Closer
	clock func() time.Time
}

// NewHardcopy writes the hardcopy log to w (closed by Close if it is a
// Closer).
func NewHardcopy(w io.Writer, clock func() time.Time) *Hardcopy {
	h := &Hardcopy{w: bufio.NewWriterSize(w, 64*1024), clock: clock}
	if c, ok := w.(io.Closer); ok {
		h.c = c
	}
	if h.clock == nil {
		h.clock = time.Now
	}
	return h
}

// Line writes one line; dir is '<' for input, '>' for output and '*' for an
// unsolicited message.
func (h *Hardcopy) Line(console string, dir byte, text string) {
	if h == nil {
		return
	}
	t := h.clock()
	text = EscapeControls(text)
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.w, "%s.%02d %-8s %c %s\n", t.Format("20060102 150405"), t.Nanosecond()/1e7, console, dir, text)
}

// EscapeControls writes the control characters of a line (NUL, ESC, CR,
// DEL ...) as \xNN, and a backslash as \\, so that a log line is one line
// of plain text whatever an operator or a client sent.
func EscapeControls(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Flush writes buffered lines out.
func (h *Hardcopy) Flush() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.w.Flush()
}

// Close flushes and closes the log.
func (h *Hardcopy) Close() error {
	if h == nil {
		return nil
	}
	h.Flush()
	if h.c != nil {
		return h.c.Close()
	}
	return nil
}
