package ftpc

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on what a server may send as one reply: longer lines and longer
// replies are a fault of the server, not something to buffer without end.
const (
	maxLine       = 8192
	maxReplyLines = 10000
)

// ErrBadReply says the server's reply is not what RFC 959 §4.2 allows.
var ErrBadReply = errors.New("malformed FTP reply")

// Reply is one reply of the server: its code and its text, the lines of a
// multi-line reply joined by newlines (without their code prefixes where
// the last line has one).
type Reply struct {
	Code int
	Text string
}

func (r Reply) String() string { return fmt.Sprintf("%d %s", r.Code, r.Text) }

// Class is the reply's first digit: 1 preliminary, 2 completed, 3
// intermediate, 4 transient failure, 5 permanent failure.
func (r Reply) Class() int { return r.Code / 100 }

// readLine reads one line ending in LF (a CR before it is dropped), at most
// maxLine bytes.
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(b)+len(frag) > maxLine {
			return "", fmt.Errorf("%w: a line longer than %d bytes", ErrBadReply, maxLine)
		}
		b = append(b, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// ReadReply reads one reply. A multi-line reply starts "ddd-" and ends at
// a line that starts with the same code and a space (RFC 959 §4.2).
func ReadReply(r *bufio.Reader) (Reply, error) {
	first, err := readLine(r)
	if err != nil {
		return Reply{}, err
	}
	code, sep, ok := parseCode(first)
	if !ok {
		return Reply{}, fmt.Errorf("%w: %q", ErrBadReply, clip(first))
	}
	if sep != '-' {
		text := ""
		if len(first) > 4 {
			text = first[4:]
		}
		return Reply{Code: code, Text: text}, nil
	}
	lines := []string{first[4:]}
	end := first[:3] + " "
	for n := 1; ; n++ {
		if n > maxReplyLines {
			return Reply{}, fmt.Errorf("%w: a reply of more than %d lines", ErrBadReply, maxReplyLines)
		}
		l, err := readLine(r)
		if err != nil {
			return Reply{}, err
		}
		if strings.HasPrefix(l, end) || l == first[:3] {
			lines = append(lines, strings.TrimPrefix(l, end))
			return Reply{Code: code, Text: strings.Join(lines, "\n")}, nil
		}
		lines = append(lines, l)
	}
}

// parseCode reads "ddd" and the character after it (space, '-', or the end
// of the line as a space).
func parseCode(l string) (code int, sep byte, ok bool) {
	if len(l) < 3 {
		return 0, 0, false
	}
	n, err := strconv.Atoi(l[:3])
	if err != nil || n < 100 || n > 599 || l[0] < '1' || l[0] > '5' {
		return 0, 0, false
	}
	if len(l) == 3 {
		return n, ' ', true
	}
	if l[3] != ' ' && l[3] != '-' {
		return 0, 0, false
	}
	return n, l[3], true
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// ReplyError is a command the server refused: its reply.
type ReplyError struct {
	Cmd   string // the command as sent, a password masked
	Reply Reply
}

func (e *ReplyError) Error() string { return e.Cmd + ": " + e.Reply.String() }
