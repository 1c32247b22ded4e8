package ops

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ipnstack/command"
	"ipnstack/console"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// checkDeck runs a deck as ipnconsole --check does: the command table
// alone, no stack.
func checkDeck(t *testing.T, name, text string) string {
	var b strings.Builder
	sess := &command.Session{Table: command.Commands,
		Console: command.ConsoleInfo{ID: "CHECK", Auth: users.Full},
		Out:     command.OutFunc(func(m msgcat.Msg) { b.WriteString(m.String() + "\n") })}
	if _, err := console.RunDeckLib(context.Background(), sess, name, strings.NewReader(text), "testdata/members"); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var failedLine = regexp.MustCompile(`^IPN204E Deck '([^']+)' line (\d+): statement failed`)

// failures gives each failed statement ("deck:line") and what was said
// for it, from the statement's echo to its IPN204E.
func failures(out string) map[string][]string {
	f := map[string][]string{}
	var cur []string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "IPN237I "):
			cur = nil
		case failedLine.MatchString(l):
			m := failedLine.FindStringSubmatch(l)
			f[m[1]+":"+m[2]] = cur
		case l != "":
			cur = append(cur, l)
		}
	}
	return f
}

// stateMsgs are the messages a form check cannot give, because they
// depend on the stack's state: TLS=IMPLICIT against a daemon's mode now,
// a PORTRANGE end against the range in force.
// IPN203E closes an included deck, whatever failed in it.
var stateMsgs = map[string]bool{"IPN473E": true, "IPN313E": true, "IPN314E": true, "IPN203E": true}

// checkVars stand for what a deck's setup gives it (setups), in a form
// the check takes as the real thing.
var checkVars = map[string]string{"$STORE": "127.0.0.1:22379", "$DEAD": "22380"}

// TestCheckAgreesWithStack: every statement of every golden deck gets one
// verdict from ipnconsole --check (the table alone) and from the stack. A
// statement --check refuses, the stack refuses with the same messages; a
// statement the stack refuses and --check passes was refused for the
// stack's state (an id not defined, a port in use), never with a message
// that judges a statement's form.
func TestCheckAgreesWithStack(t *testing.T) {
	decks, _ := filepath.Glob("testdata/decks/*.deck")
	type deck struct{ name, check, stack string }
	var all []deck
	form := map[string]bool{}
	for _, path := range decks {
		name := filepath.Base(path)
		in, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(strings.TrimSuffix(path, ".deck") + ".out")
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(in), "$TMP", "/tmp/check")
		for i := 9; i >= 0; i-- {
			text = strings.ReplaceAll(text, "$PORT"+strconv.Itoa(i), strconv.Itoa(20000+i))
		}
		for k, v := range checkVars {
			text = strings.ReplaceAll(text, k, v)
		}
		got := checkDeck(t, name, text)
		for k, v := range checkVars {
			got = strings.ReplaceAll(got, v, k)
		}
		for i := 0; i <= 9; i++ {
			got = strings.ReplaceAll(got, strconv.Itoa(20000+i), "$PORT"+strconv.Itoa(i))
		}
		got = strings.ReplaceAll(got, "/tmp/check", "$TMP")
		all = append(all, deck{name, got, string(want)})
		for _, said := range failures(got) {
			for _, l := range said {
				form[l[:7]] = true
			}
		}
	}
	if len(form) < 10 {
		t.Fatalf("--check refused with only %d kinds of message over %d decks", len(form), len(decks))
	}
	for _, d := range all {
		checked, ran := failures(d.check), failures(d.stack)
		for at, said := range checked {
			if strings.HasSuffix(d.name, ".query.deck") {
				continue // the stack refuses its changes for authority first
			}
			if _, ok := ran[at]; !ok {
				t.Errorf("%s: --check refuses, the stack runs it:\n%s", at, strings.Join(said, "\n"))
				continue
			}
			if strings.Join(said, "\n") != strings.Join(ran[at], "\n") {
				t.Errorf("%s: --check says\n%s\nthe stack says\n%s", at, strings.Join(said, "\n"), strings.Join(ran[at], "\n"))
			}
		}
		for at, said := range ran {
			if _, ok := checked[at]; ok {
				continue
			}
			for _, l := range said {
				if id := l[:7]; form[id] && !stateMsgs[id] {
					t.Errorf("%s: the stack refuses its form (%s), --check passes it", at, l)
				}
			}
		}
	}
}
