package ops

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/nic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

var update = flag.Bool("update", false, "rewrite the expected output of the golden decks")

// testClock is the fixed time of the golden decks.
var testClock = func() time.Time { return time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC) }

// newTestSystem builds a real System on a real netstack with a fixed clock.
func newTestSystem(t testing.TB) *System {
	t.Helper()
	stk, err := nic.New(nic.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stk.Close)
	sys, err := New(Config{Clock: testClock, Stack: stk})
	if err != nil {
		t.Fatal(err)
	}
	return sys
}

// runDeck runs a deck through the session code the daemon uses and returns
// every line said. A deck named *.query.deck runs on a console with query
// authority only.
func runDeck(t *testing.T, sys *System, name, text string) string {
	var b strings.Builder
	auth := command.AuthFull
	if strings.HasSuffix(name, ".query.deck") {
		auth = command.AuthQuery
	}
	s := &command.Session{Table: command.Commands, Exec: sys,
		Console: command.ConsoleInfo{ID: "GOLDEN", Auth: auth},
		Out:     command.OutFunc(func(m msgcat.Msg) { b.WriteString(m.String() + "\n") })}
	if _, err := command.RunDeck(context.Background(), s, name, strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGoldenDecks runs every deck in testdata/decks and compares what the
// stack says with the .out file beside it, line for line.
func TestGoldenDecks(t *testing.T) {
	decks, _ := filepath.Glob("testdata/decks/*.deck")
	if len(decks) == 0 {
		t.Fatal("no decks")
	}
	for _, path := range decks {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sys := newTestSystem(t)
			if setup := setups[name]; setup != nil {
				setup(t, sys)
			}
			got := runDeck(t, sys, name, string(in))
			outPath := strings.TrimSuffix(path, ".deck") + ".out"
			if *update {
				os.WriteFile(outPath, []byte(got), 0o644)
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n%s", outPath, diffLines(string(want), got))
			}
		})
	}
}

// setups prepare the stack for the decks that need more than commands can
// make yet.
var setups = map[string]func(t *testing.T, sys *System){
	"connections.deck": func(t *testing.T, sys *System) {
		ns := sys.Stack.NS()
		addr := func(port uint16) tcpip.FullAddress {
			return tcpip.FullAddress{NIC: nic.LoopbackNIC, Addr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: port}
		}
		ln, err := gonet.ListenTCP(ns, addr(7000), ipv4.ProtocolNumber)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		for _, port := range []uint16{40001, 40002} {
			c, err := gonet.DialTCPWithBind(context.Background(), ns, addr(port), addr(7000), ipv4.ProtocolNumber)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			a, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
		}
	},
}

// notFromDecks are the messages a console deck cannot produce; each is
// covered by the test named.
var notFromDecks = map[string]string{
	"IPN205S": "command.TestDeckReadError",
	"IPN211I": "cmd/stackd e2e",
	"IPN212I": "cmd/stackd e2e",
	"IPN213I": "cmd/stackd e2e",
	"IPN214S": "cmd/stackd e2e",
	"IPN215S": "cmd/ipnconsole e2e",
	"IPN216S": "cmd/ipnconsole e2e",
	"IPN217W": "cmd/stackd e2e",
	"IPN218I": "cmd/ipnconsole interactive e2e",
	"IPN219S": "cmd/stackd e2e",
	"IPN222W": "cmd/ipnconsole e2e",
	"IPN300I": "cmd/ipnconsole interactive e2e",
	"IPN202W": "command.TestRunDeck (no command warns yet)",
	"IPN304E": "command.TestResolveErrors (no ambiguous verb yet)",
	"IPN309E": "command.TestResolveErrors (no ambiguous keyword yet)",
	"IPN311E": "command.TestResolveErrors (no required operand yet)",
	"IPN319E": "command.TestResolveErrors (no flag yet)",
	"IPN349E": "command.TestHandlerPanic",
	"IPN998S": "command.TestHandlerPanic",
	"IPN999S": "msgcat.TestRender",
}

// TestGoldenCoverage checks that the golden decks say every message of the
// catalogue that a deck can produce.
func TestGoldenCoverage(t *testing.T) {
	outs, _ := filepath.Glob("testdata/decks/*.out")
	seen := map[string]bool{}
	id := regexp.MustCompile(`(?m)^(IPN[0-9]{3}[A-Z])`)
	for _, p := range outs {
		b, _ := os.ReadFile(p)
		for _, m := range id.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
	}
	var missing []string
	for _, e := range msgcat.Entries() {
		if !seen[e.ID] && notFromDecks[e.ID] == "" {
			missing = append(missing, e.ID)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no golden deck says %s", strings.Join(missing, ", "))
	}
	for id := range notFromDecks {
		if seen[id] {
			t.Errorf("%s is said by a golden deck; take it off notFromDecks", id)
		}
	}
}

// TestEveryRowHasAHandler checks the binding of the table to the handlers.
func TestEveryRowHasAHandler(t *testing.T) {
	for _, s := range command.Commands.Specs() {
		if _, ok := handlers[s.Key()]; !ok && s.Key() != "HELP" {
			t.Errorf("no handler for %s", s.Key())
		}
	}
	for k := range handlers {
		if command.Commands.Spec(k) == nil {
			t.Errorf("handler %s has no row in the table", k)
		}
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
		}
	}
	return b.String()
}

func itoa(n int) string { return msgcat.FormatNum(int64(n)) }
