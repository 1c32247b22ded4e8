package ftpd

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func readAll(t testing.TB, in []byte) ([]string, []error) {
	r := newCmdReader(bytes.NewReader(in))
	var lines []string
	var errs []error
	for i := 0; i < 10000; i++ {
		l, err := r.ReadLine()
		if err == io.EOF {
			return lines, errs
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lines = append(lines, l)
	}
	t.Fatal("reader does not end")
	return nil, nil
}

func TestCommandReader(t *testing.T) {
	long := strings.Repeat("x", MaxLine+1)
	cases := []struct {
		name string
		in   string
		want []string
		errs int
	}{
		{"crlf", "USER a\r\nPASS b\r\n", []string{"USER a", "PASS b"}, 0},
		{"lf only", "NOOP\nQUIT\n", []string{"NOOP", "QUIT"}, 0},
		{"cr only (ABOR whose LF went out of band)", "ABOR\rNOOP\r\n", []string{"ABOR", "NOOP"}, 0},
		{"cr nul", "CWD a\r\x00b\r\n", []string{"CWD a", "b"}, 0},
		{"empty lines skipped", "\r\n\r\n\nNOOP\r\n", []string{"NOOP"}, 0},
		{"telnet IP and DM before ABOR", "\xff\xf4\xff\xf2ABOR\r\n", []string{"ABOR"}, 0},
		{"IAC IAC is 0xFF", "CWD a\xff\xffb\r\n", []string{"CWD a\xffb"}, 0},
		{"option negotiation removed", "\xff\xfb\x01NO\xff\xfd\x03OP\r\n", []string{"NOOP"}, 0},
		{"subnegotiation removed", "NO\xff\xfa\x18\x01abc\xff\xf0OP\r\n", []string{"NOOP"}, 0},
		{"IAC inside subnegotiation", "\xff\xfa\x18\xff\xffx\xff\xf0NOOP\n", []string{"NOOP"}, 0},
		{"nul dropped", "NO\x00OP\r\n", []string{"NOOP"}, 0},
		{"too long then fine", long + "\r\nNOOP\r\n", []string{"NOOP"}, 1},
		{"exactly MaxLine", strings.Repeat("y", MaxLine) + "\n", []string{strings.Repeat("y", MaxLine)}, 0},
		{"unterminated last line dropped", "NOOP\r\nQU", []string{"NOOP"}, 0},
		{"binary garbage", "\x80\x81\xfe\r\n", []string{"\x80\x81\xfe"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, errs := readAll(t, []byte(c.in))
			if strings.Join(lines, "|") != strings.Join(c.want, "|") || len(errs) != c.errs {
				t.Fatalf("got %q, %v; want %q, %d errors", lines, errs, c.want, c.errs)
			}
			for _, e := range errs {
				if !errors.Is(e, ErrLineTooLong) {
					t.Fatalf("error %v", e)
				}
			}
			// The same bytes one at a time give the same lines.
			r := newCmdReader(iotest.OneByteReader(strings.NewReader(c.in)))
			var one []string
			for {
				l, err := r.ReadLine()
				if err == io.EOF {
					break
				}
				if err == nil {
					one = append(one, l)
				}
			}
			if strings.Join(one, "|") != strings.Join(c.want, "|") {
				t.Fatalf("byte by byte: %q", one)
			}
		})
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][2]string{
		"user Joe":      {"USER", "Joe"},
		"RETR  a b ":    {"RETR", "a b "},
		"NOOP":          {"NOOP", ""},
		"stor my file":  {"STOR", "my file"},
		"EPSV ALL":      {"EPSV", "ALL"},
		"\xffgarbage x": {"\xffGARBAGE", "x"},
	} {
		v, a := splitCommand(in)
		if v != want[0] || a != want[1] {
			t.Errorf("%q: got %q %q", in, v, a)
		}
	}
}

// FuzzCommandReader feeds the command reader arbitrary bytes: it must not
// panic or loop, lines are never longer than MaxLine and never hold CR, LF
// or NUL, and reading byte by byte gives the same lines.
func FuzzCommandReader(f *testing.F) {
	for _, s := range []string{"USER a\r\n", "\xff\xf4\xff\xf2ABOR\r\n", "\xff\xfa\x18abc\xff\xf0NOOP\n", "A\rB\x00C\n",
		strings.Repeat("z", MaxLine+3) + "\nQUIT\r\n", "\xff\xff\xff", "\r\r\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lines, _ := readAll(t, in)
		for _, l := range lines {
			if len(l) == 0 || len(l) > MaxLine || strings.ContainsAny(l, "\r\n\x00") {
				t.Fatalf("bad line %q", l)
			}
			v, _ := splitCommand(l)
			if strings.ContainsAny(v, " ") {
				t.Fatalf("verb %q", v)
			}
		}
		r := newCmdReader(iotest.OneByteReader(bytes.NewReader(in)))
		var one []string
		for i := 0; i < len(in)+2; i++ {
			l, err := r.ReadLine()
			if err == io.EOF {
				break
			}
			if err == nil {
				one = append(one, l)
			}
		}
		if strings.Join(one, "\n") != strings.Join(lines, "\n") {
			t.Fatalf("byte by byte %q, whole %q", one, lines)
		}
	})
}
