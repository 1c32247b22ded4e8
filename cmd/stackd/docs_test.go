package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ipnstack/msgcat"
)

// The console exchanges printed in README.md and docs/*.md are run against
// the real stackd on its built-in deck, and must be what it says.
//
// In a fenced block:
//
//	$ bin/stackd ...       the lines up to the prompt are its start-up output
//	$ bin/ipnconsole ...   the lines up to the prompt are the console's greeting
//	==> command            the lines up to the next prompt are its replies
//	==>                    a prompt alone ends what came before it
//
// What differs from run to run is made the same on both sides: time stamps,
// certificate fingerprints and expiry dates,
// the socket and data directory (shown as /tmp/ipn/...), the host ports the
// test moves the built-in deck to (shown as the deck's own), and where an
// unsolicited message falls among the start-up lines.

// exchange is one command of a block and the lines it must give.
type exchange struct {
	line int // in the file, for messages
	cmd  string
	want []string
}

// docSession is what one file prints: the stack's start-up lines (if it
// shows them) and its exchanges, in order.
type docSession struct {
	startLine int
	startup   []string
	greeting  []string
	exchanges []exchange
}

// parseExchanges reads the fenced blocks of a Markdown text.
func parseExchanges(text string) docSession {
	var s docSession
	var cur *[]string // where the lines now read go
	inBlock := false
	for i, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			inBlock = !inBlock
			cur = nil
		case !inBlock:
		case strings.HasPrefix(l, "$ bin/stackd") || strings.HasPrefix(l, "$ go run ./cmd/stackd"):
			s.startLine = i + 1
			cur = &s.startup
		case strings.HasPrefix(l, "$ bin/ipnconsole") || strings.HasPrefix(l, "$ go run ./cmd/ipnconsole"):
			cur = &s.greeting
		case l == "==>" || strings.HasPrefix(l, "==> "):
			cur = nil
			if cmd := strings.TrimPrefix(l, "==> "); l != "==>" {
				s.exchanges = append(s.exchanges, exchange{line: i + 1, cmd: cmd})
				cur = &s.exchanges[len(s.exchanges)-1].want
			}
		case cur != nil && l != "":
			*cur = append(*cur, l)
		}
	}
	return s
}

var (
	timeStamp   = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	fingerprint = regexp.MustCompile(`SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}`)
	expires     = regexp.MustCompile(`expires \d{4}-\d\d-\d\d`)
)

func TestDocExchanges(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append([]string{"../../README.md"}, files...)
	ran := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := parseExchanges(string(b))
		if len(s.exchanges) == 0 && s.startup == nil {
			continue
		}
		ran++
		t.Run(filepath.Base(f), func(t *testing.T) {
			d, ftp, data := startBuiltinDeck(t)
			var repl []string
			for _, p := range []struct{ test, doc int }{{ftp, builtinFTPPort}, {data, builtinDataLow}, {data + 19, builtinDataHigh}} {
				repl = append(repl, thousands(p.test), thousands(p.doc), strconv.Itoa(p.test), strconv.Itoa(p.doc))
			}
			repl = append(repl, d.socket, "/tmp/ipn/console.sock", filepath.Join(d.dir, "data"), "/tmp/ipn/data")
			r := strings.NewReplacer(repl...)
			norm := func(lines []string) string {
				var out []string
				for _, l := range lines {
					if l = strings.TrimRight(l, " "); l != "" {
						l = timeStamp.ReplaceAllString(r.Replace(l), "YYYY-MM-DD hh:mm:ss")
						l = fingerprint.ReplaceAllString(l, "SHA-256 (fingerprint)")
						out = append(out, expires.ReplaceAllString(l, "expires YYYY-MM-DD"))
					}
				}
				return strings.Join(out, "\n")
			}
			if s.startup != nil {
				got := strings.Split(d.stdout.String(), "\n")
				if g, w := unsolicitedLast(norm(got)), unsolicitedLast(norm(s.startup)); g != w {
					t.Errorf("line %d: the start-up output differs.\nprinted:\n%s\nstackd says:\n%s", s.startLine, w, g)
				}
			}
			if s.greeting != nil {
				if g, w := msgcat.IPN300I().String(), norm(s.greeting); g != w {
					t.Errorf("the console's greeting is printed as %q, ipnconsole says %q", w, g)
				}
			}
			for _, x := range s.exchanges {
				out, _ := runConsole(t, d.socket, x.cmd+"\n")
				if g, w := norm(strings.Split(out, "\n")), norm(x.want); g != w {
					t.Errorf("line %d: ==> %s\nprinted:\n%s\nstackd says:\n%s", x.line, x.cmd, w, g)
				}
			}
		})
	}
	if ran == 0 {
		t.Fatal("no console exchange found in README.md or docs/")
	}
}

// unsolicitedLast moves the lines of unsolicited messages to the end, in
// order: the daemon's console hears them when they happen, which may be
// before or after the deck's own lines around them.
func unsolicitedLast(text string) string {
	var own, unsol []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "IPN400I ") {
			unsol = append(unsol, l)
		} else {
			own = append(own, l)
		}
	}
	return strings.Join(append(own, unsol...), "\n")
}

// thousands writes n as the catalogue does (1,234).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
