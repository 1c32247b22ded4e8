package telnet

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		in     string
		binary bool
		want   []byte
	}{
		{"hello", false, bs("hello")},
		{"a\nb", false, bs("a\r\nb")},
		{"a\r\nb", false, bs("a\r\nb")},
		{"a\rb", false, bs("a\r", 0, "b")},
		{"a\r", false, bs("a\r", 0)},
		{"\r\r\n\n", false, bs("\r", 0, "\r\n\r\n")},
		{"x\xffy", false, bs("x", IAC, IAC, "y")},
		{"\xff\xff", false, bs(IAC, IAC, IAC, IAC)},
		{"é\n", false, bs("é\r\n")},
		{"a\r\nb\xff", true, bs("a\r\nb", IAC, IAC)},
		{"a\nb\r", true, bs("a\nb\r")},
	}
	for _, tt := range tests {
		if got := encode(nil, []byte(tt.in), tt.binary); !bytes.Equal(got, tt.want) {
			t.Errorf("encode(%q, %v) = %q, want %q", tt.in, tt.binary, got, tt.want)
		}
	}
}

// TestEncodeDecode: what Write sends, the reader gives back (CR LF
// arrives as LF).
func TestEncodeDecode(t *testing.T) {
	in := "line one\nbare\rcr\r\n\xff\xfe and \x00 nul\n"
	e := newEngine(Options{})
	got, _ := e.finish(e.feed(encode(nil, []byte(in), false), nil))
	if want := strings.ReplaceAll(in, "\r\n", "\n"); string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		line  string
		width int
		want  []string
	}{
		{"short", 80, []string{"short"}},
		{"", 10, []string{""}},
		{"no width", 0, []string{"no width"}},
		{"exactly10!", 10, []string{"exactly10!"}},
		{"IPN122I Port range 32,768 65,535, 32,768 ports", 20, []string{"IPN122I Port range", "32,768 65,535,", "32,768 ports"}},
		{"break at the blank after", 9, []string{"break at", "the blank", "after"}},
		{"averyveryverylongword and more", 10, []string{"averyveryv", "erylongwor", "d and more"}},
		{"many     blanks     here", 8, []string{"many", "blanks", "here"}},
		{"  indented line wraps", 12, []string{"  indented", "line wraps"}},
		{"ééééé ééééé", 5, []string{"ééééé", "ééééé"}},
		{"abc", 1, []string{"a", "b", "c"}},
		{"               ", 4, []string{""}},
	}
	for _, tt := range tests {
		got := Wrap(tt.line, tt.width)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.line, tt.width, got, tt.want)
		}
		for _, piece := range got {
			if tt.width > 0 && len([]rune(piece)) > tt.width {
				t.Errorf("Wrap(%q, %d): piece %q too long", tt.line, tt.width, piece)
			}
		}
	}
}
