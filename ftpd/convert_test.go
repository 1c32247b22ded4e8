package ftpd

import (
	"bytes"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func TestConvert(t *testing.T) {
	cp := func(s string) string { b, _ := charmap.CodePage037.NewEncoder().String(s); return b }
	cases := []struct {
		name   string
		t      xferType
		toWire bool
		in     string
		want   string
	}{
		{"A out", typeA, true, "a\nb\n", "a\r\nb\r\n"},
		{"A out keeps CRLF", typeA, true, "a\r\nb", "a\r\nb"},
		{"A in", typeA, false, "a\r\nb\r\n", "a\nb\n"},
		{"A in lone CR kept", typeA, false, "a\rb\r", "a\rb\r"},
		{"E out", typeE, true, "HELLO, world\n", cp("HELLO, world") + "\x15"},
		{"E out latin", typeE, true, "café ¢\n", cp("café ¢") + "\x15"},
		{"E out unmappable", typeE, true, "€→x", "\x3f\x3f" + cp("x")},
		{"E out bad utf-8", typeE, true, "a\xffb", cp("a") + "\x3f" + cp("b")},
		{"E in", typeE, false, cp("HELLO") + "\x15" + cp("x") + "\x25", "HELLO\nx\n"},
		{"E in latin", typeE, false, cp("é¬"), "é¬"},
		{"I", typeI, true, "a\nb", "a\nb"},
	}
	for _, c := range cases {
		if got := string(convertAll(c.t, c.toWire, []byte(c.in))); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		// Split at every point: state carried across calls gives the same.
		for i := 0; i <= len(c.in); i++ {
			cv := newConverter(c.t, c.toWire)
			if cv == nil {
				break
			}
			out := cv.conv(nil, []byte(c.in[:i]))
			out = cv.conv(out, []byte(c.in[i:]))
			out = cv.flush(out)
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
	text := convertAll(typeE, false, all)
	if back := convertAll(typeE, true, text); !bytes.Equal(back, all) {
		t.Fatalf("EBCDIC round trip differs")
	}
}
