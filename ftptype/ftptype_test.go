package ftptype

import (
	"bytes"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func TestConvert(t *testing.T) {
	cp := func(s string) string { b, _ := charmap.CodePage037.NewEncoder().String(s); return b }
	cases := []struct {
		name   string
		t      Type
		toWire bool
		in     string
		want   string
	}{
		{"A out", A, true, "a\nb\n", "a\r\nb\r\n"},
		{"A out keeps CRLF", A, true, "a\r\nb", "a\r\nb"},
		{"A in", A, false, "a\r\nb\r\n", "a\nb\n"},
		{"A in lone CR kept", A, false, "a\rb\r", "a\rb\r"},
		{"E out", E, true, "HELLO, world\n", cp("HELLO, world") + "\x15"},
		{"E out latin", E, true, "café ¢\n", cp("café ¢") + "\x15"},
		{"E out unmappable", E, true, "€→x", "\x3f\x3f" + cp("x")},
		{"E out bad utf-8", E, true, "a\xffb", cp("a") + "\x3f" + cp("b")},
		{"E in", E, false, cp("HELLO") + "\x15" + cp("x") + "\x25", "HELLO\nx\n"},
		{"E in latin", E, false, cp("é¬"), "é¬"},
		{"I", I, true, "a\nb", "a\nb"},
	}
	for _, c := range cases {
		if got := string(ConvertAll(c.t, c.toWire, []byte(c.in))); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		// Split at every point: state carried across calls gives the same.
		for i := 0; i <= len(c.in); i++ {
			cv := NewConverter(c.t, c.toWire)
			if cv == nil {
				break
			}
			out := cv.Conv(nil, []byte(c.in[:i]))
			out = cv.Conv(out, []byte(c.in[i:]))
			out = cv.Flush(out)
			if string(out) != c.want {
				t.Errorf("%s split at %d: got %q", c.name, i, out)
			}
		}
	}
	// Round trip of every code page 037 byte except NL/LF folding.
	var all []byte
	for b := 0; b < 256; b++ {
		if b != 0x15 && b != 0x25 {
			all = append(all, byte(b))
		}
	}
	text := ConvertAll(E, false, all)
	if back := ConvertAll(E, true, text); !bytes.Equal(back, all) {
		t.Fatalf("EBCDIC round trip differs")
	}
}
