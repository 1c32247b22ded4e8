package telnet

import (
	"strings"
	"unicode/utf8"
)

// encode appends p to dst as the NVT wants it on the wire (RFC 854): IAC is
// doubled and, unless binary, LF becomes CR LF, a CR LF stays CR LF and any
// other CR becomes CR NUL. Bytes of 128 and up pass as they are (UTF-8 text
// reaches the terminal unchanged).
func encode(dst, p []byte, binary bool) []byte {
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch {
		case b == cmdIAC:
			dst = append(dst, cmdIAC, cmdIAC)
		case binary:
			dst = append(dst, b)
		case b == '\n':
			dst = append(dst, '\r', '\n')
		case b == '\r' && i+1 < len(p) && p[i+1] == '\n':
			dst = append(dst, '\r', '\n')
			i++
		case b == '\r':
			dst = append(dst, '\r', 0)
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// Wrap splits line into pieces of at most width characters each, to fit a
// terminal width such as the one Size reports. It breaks at the last blank
// that fits, dropping the blanks at the break, or in the middle of a word
// longer than width. Every rune counts as one column; tabs and wide
// characters are not measured. A width below 1 returns the line whole.
func Wrap(line string, width int) []string {
	if width < 1 || utf8.RuneCountInString(line) <= width {
		return []string{line}
	}
	var out []string
	rest := line
	for utf8.RuneCountInString(rest) > width {
		cut := runeOffset(rest, width) // rest[:cut] is width runes
		piece, next := rest[:cut], rest[cut:]
		if next[0] != ' ' {
			if i := strings.LastIndexByte(piece, ' '); i >= 0 && strings.TrimRight(piece[:i], " ") != "" {
				piece, next = piece[:i], rest[i:]
			}
		}
		if piece = strings.TrimRight(piece, " "); piece != "" {
			out = append(out, piece)
		}
		rest = strings.TrimLeft(next, " ")
	}
	if rest != "" || len(out) == 0 {
		out = append(out, rest)
	}
	return out
}

// runeOffset is the byte offset of rune number n (from 0) in s.
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
