package ops

import (
	"context"
	"flag"
	"ipnstack/sysplex"
	"ipnstack/tlscert"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipnstack/command"
	"ipnstack/console"
	"ipnstack/internal/testnet"
	"ipnstack/msgcat"
	"ipnstack/nic"
	"ipnstack/portrange"
	"ipnstack/users"
)

var update = flag.Bool("update", false, "rewrite the expected output of the golden decks")

// testClock is the fixed time of the golden decks.
var testClock = func() time.Time { return time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC) }

// newTestSystem builds a real System on a real netstack with a fixed clock.
func newTestSystem(t testing.TB) *System {
	t.Helper()
	sys, err := New(Config{Clock: testClock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	return sys
}

// runDeck runs a deck through the session and console code the daemon uses
// for its initialization deck, on a console GOLDEN attached to a hub of its
// own, and returns every line said. A deck named *.query.deck runs on a
// console with query authority only.
func runDeck(t *testing.T, sys *System, name, text string) string {
	var b strings.Builder
	auth := users.Full
	if strings.HasSuffix(name, ".query.deck") {
		auth = users.Query
	}
	hub := console.NewHub(nil, nil, command.Commands)
	hub.Clock, hub.Exec = testClock, sys
	c, err := hub.Attach("", "GOLDEN", "golden", auth, nopSink{})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Shutdown(msgcat.IPN211I("GOLDEN"))
	s := &command.Session{Table: command.Commands, Exec: sys, Consoles: hub,
		Console: c.Info,
		Out:     command.OutFunc(func(m msgcat.Msg) { b.WriteString(m.String() + "\n") })}
	if _, err := console.RunDeckLib(context.Background(), s, name, strings.NewReader(text), "testdata/members"); err != nil {
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
			if strings.HasSuffix(name, ".root.deck") {
				testnet.RequireRoot(t)
			}
			sys := newTestSystem(t)
			vars := map[string]string{"$TMP": t.TempDir()}
			if strings.Contains(string(in), "$PORT") {
				base := testnet.HostPorts(t, 10)
				for i := range 10 {
					vars["$PORT"+strconv.Itoa(i)] = strconv.Itoa(base + i)
				}
			}
			if setup := setups[name]; setup != nil {
				for k, v := range setup(t, sys, vars) {
					vars[k] = v
				}
			}
			text := string(in)
			for k, v := range vars {
				text = strings.ReplaceAll(text, k, v)
			}
			got := runDeck(t, sys, name, text)
			for k, v := range vars {
				got = strings.ReplaceAll(got, v, k)
			}
			got = normalize(got)
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

// nopSink is a console that drops what it is sent.
type nopSink struct{}

func (nopSink) Reply(string) error       { return nil }
func (nopSink) Unsolicited(string) error { return nil }
func (nopSink) Done(int) error           { return nil }
func (nopSink) Close(msgcat.Msg)         {}

// setups prepare the stack for the decks that need more than commands can
// make; they may give variables ($NAME) that the deck's text uses and the
// output shows by name. $TMP is a temporary directory; $PORT0 to $PORT9 are
// ten consecutive host ports proved free (a deck never names a fixed host
// port, which a running stack may hold). A deck named *.root.deck runs only
// as root (and always in CI).
var setups = map[string]func(t *testing.T, sys *System, vars map[string]string) map[string]string{
	"sysplex.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		e := testnet.StartEtcd(t, 1)
		reg, _ := portrange.NewRegistry(nil)
		other, err := sysplex.Join(sysplex.Config{Name: "PLEX1", Member: "OTHER", Endpoints: e.Endpoints(), Clock: testClock},
			reg, func(sysplex.Event) {})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(other.Leave)
		return map[string]string{"$STORE": e.Endpoints()[0], "$DEAD": strconv.Itoa(testnet.HostPorts(t, 1))}
	},
	"raw.root.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		ns := testnet.Netns(t)
		dev, peer := testnet.Veth(t, ns, "10.77.30.2/24")
		testnet.Must(t, "", "ip", "-n", ns, "link", "set", peer, "address", "02:77:00:00:30:02")
		return map[string]string{"$DEV": dev, "$NS": ns}
	},
	"devices.root.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		ns := testnet.Netns(t)
		dev, _ := testnet.Veth(t, ns, "10.77.33.2/24")
		return map[string]string{"$DEV": dev}
	},
	"ipinit00.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		sys.DataDir = vars["$TMP"] // DLBL=PRD2 is taken from the data directory, where it is not
		return nil
	},
	"tls.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		for _, d := range []string{"site", "other"} {
			if _, _, err := tlscert.SelfSigned(filepath.Join(vars["$TMP"], d), []string{d + ".example"}, nil, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	},
	"connections.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		lo := netip.MustParseAddr("127.0.0.1")
		ln, err := sys.Conns.Listen("TESTSRV", netip.AddrPortFrom(lo, 7000))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		for i := 0; i < 2; i++ {
			c, err := sys.Conns.Dial(context.Background(), "TESTCLI", netip.Addr{}, netip.AddrPortFrom(lo, 7000))
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
		return nil
	},
	"ftp.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		dir := t.TempDir()
		for _, d := range []string{"pub", "ro"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return map[string]string{"$TMP": dir}
	},
	"links.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		// A host port in use, for FORWARD= to fail on.
		ln, err := net.Listen("tcp4", "127.0.0.1:"+vars["$PORT9"])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return nil
	},
	"lockouts.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		if err := sys.Users.Define(users.User{ID: "GUESSED", Password: "right", FTP: true}); err != nil {
			t.Fatal(err)
		}
		for i := range users.AccountFailures {
			from := netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)})
			sys.Users.Login("GUESSED", "wrong", users.Door{Name: "FTPD FTP01", From: from, Need: users.NeedFTP})
		}
		return nil
	},
	"ports.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		now := sys.Clock()
		if err := sys.Ports.SetEphemeral(portrange.UDP, 60000, 61024, true, true); err != nil {
			t.Fatal(err)
		}
		for range 1025 {
			if _, err := sys.Ports.UDP().Lend(now, portrange.Request{}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := sys.Ports.SetExplicit(4000, 4001); err != nil {
			t.Fatal(err)
		}
		peer := portrange.Remote{Addr: netip.MustParseAddr("10.77.0.2"), Port: 40000}
		for range 2 {
			l, err := sys.Ports.Explicit().Lend(now, portrange.Request{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			l.Drop(now, portrange.Closing{Remote: peer, First: true})
		}
		sys.Ports.SetModel(time.Time{}, portrange.Strict, 0, 0)
		return nil
	},
	"busylink.deck": func(t *testing.T, sys *System, vars map[string]string) map[string]string {
		// A link with a listener on it.
		err := sys.Stack.DefineLink(nic.LinkConfig{ID: "LOOP3", Type: nic.TypeLoopback, Addr: netip.MustParsePrefix("10.99.3.1/24")})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := sys.Conns.Listen("TESTSRV", netip.MustParseAddrPort("10.99.3.1:2121"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return nil
	},
}

// notFromDecks are the messages a console deck cannot produce; each is
// covered by the test named.
var notFromDecks = map[string]string{
	"IPN276W": "command/ops TestSysplexStoreAway (the store lost: unsolicited)",
	"IPN277I": "command/ops TestSysplexStoreAway",
	"IPN278W": "command/ops TestSysplexStoreAway",
	"IPN280W": "command/ops TestSysplexStoreAway (QUERY SYSPLEX with the store lost)",
	"IPN291W": "command/ops TestSysplexStoreAway (QUERY SYSPLEX with the path cut)",
	"IPN283I": "cmd/stackd TestSysplexVIPA (the VIPA's owner is elected in the background)",
	"IPN284I": "cmd/stackd TestSysplexVIPA",
	"IPN285W": "cmd/stackd TestSysplexVIPA",
	"IPN259E": "console.TestVSELook (the VSE look frames a console, not a deck)",
	"IPN260E": "console.TestVSELook",
	"IPN605W": "command/ops TestPressureMessages (raised by the pressure watch, not by a command)",
	"IPN650I": "command/ops TestFTPClientAgainstOwnDaemon (transfer times and rates vary from run to run)",
	"IPN651I": "command/ops TestFTPClientAgainstOwnDaemon",
	"IPN652I": "command/ops TestFTPClientAgainstOwnDaemon",
	"IPN653I": "command/ops TestFTPClientAgainstOwnDaemon",
	"IPN654E": "command/ops TestFTPClientAgainstOwnDaemon",
	"IPN657I": "command/ops TestFTPClientAgainstOwnDaemon",
	"IPN658I": "command/ops TestFTPClientTwoDaemons",
	"IPN646W": "socksd TestLockoutAndLimits (raised by a client's failed logins)",
	"IPN648I": "cmd/stackd TestSocksDoor (a connection through a door, from a host client's own port)",
	"IPN148I": "cmd/stackd TestSocksDoor",
	"IPN606W": "command/ops TestPressureMessages",
	"IPN607I": "command/ops TestPressureMessages",
	"IPN205S": "command.TestDeckReadError",
	"IPN136E": "none: netstack refusing an ICMP endpoint or a send for a reason of its own; nothing a deck or test does provokes it",
	"IPN207I": "cmd/stackd TestSignalsEndTheStack",
	"IPN223I": "cmd/stackd TestTerminalCtrlD",
	"IPN268I": "command/ops TestDump (a deck's stack has no connection to count)",
	"IPN263E": "console TestVSELook (the attention routine's commands in the VSE look)",
	"IPN224W": "cmd/stackd TestStartupHonesty",
	"IPN226I": "cmd/stackd TestSIGTERMDrains",
	"IPN227W": "cmd/stackd TestSIGTERMDrains (a second SIGTERM)",
	"IPN228I": "cmd/stackd TestSIGTERMDrains",
	"IPN225E": "cmd/stackd TestStartupHonesty",
	"IPN221I": "cmd/stackd TestSIGHUPReopensLogs",
	"IPN542I": "cmd/stackd TestLeavingAConsole (LOGOFF in the initialization deck)",
	"IPN543I": "cmd/stackd TestLeavingAConsole (said to the console that leaves, as it closes)",
	"IPN211I": "cmd/stackd e2e",
	"IPN533I": "console TestTelnetDeleteConsole (the end of a console whose listener is deleted)",
	"IPN212I": "cmd/stackd e2e",
	"IPN213I": "cmd/stackd e2e",
	"IPN214S": "cmd/stackd e2e",
	"IPN215S": "cmd/ipnconsole e2e",
	"IPN216S": "cmd/ipnconsole e2e",
	"IPN217W": "cmd/stackd e2e",
	"IPN218I": "cmd/ipnconsole interactive e2e",
	"IPN219S": "cmd/stackd e2e",
	"IPN222S": "cmd/stackd TestDeckReturnCodes (the stack ends mid-deck)",
	"IPN300I": "cmd/ipnconsole interactive e2e",
	"IPN309E": "command.TestResolveErrors (no ambiguous keyword yet)",
	"IPN319E": "command.TestResolveErrors (no flag yet)",
	"IPN164W": "nic.TestRawLink (a link fails between two commands)",
	"IPN186W": "nic.TestAcceptBackoff (accept fails between two commands)",
	"IPN187I": "nic.TestAcceptBackoff (accept recovers between two commands)",
	"IPN188E": "nic.TestAcceptBackoff (a forwarded port's socket closed under it)",
	"IPN405W": "ftpd.TestAcceptFailuresRetried (accept fails between two commands)",
	"IPN406I": "ftpd.TestAcceptFailuresRetried (accept recovers between two commands)",
	"IPN454W": "ftpd.TestAcceptFailuresRetried (QUERY FTPDS while accept fails)",
	"IPN528W": "command.TestTelnetAcceptBackoff (QUERY CONSOLES while accept fails)",
	"IPN477I": "cmd/stackd TestFTPEndSession (a live session ended)",
	"IPN414W": "cmd/stackd TestFTPLockout (failed logins from one address)",
	"IPN415I": "cmd/stackd TestFTPLockout (QUERY LOCKOUTS while one is locked out)",
	"IPN417I": "cmd/stackd TestFTPLockout (DELETE LOCKOUT of a locked address)",
	"IPN522W": "command.TestTelnetAcceptBackoff (accept fails between two commands)",
	"IPN523I": "command.TestTelnetAcceptBackoff (accept recovers between two commands)",
	"IPN524E": "command.TestTelnetGuard (said to a telnet client, not a console)",
	"IPN525E": "command.TestTelnetGuard (said to a telnet client, not a console)",
	"IPN526W": "command.TestTelnetGuard (failed logons from one address)",
	"IPN527E": "command.TestTelnetGuard (said to a telnet client, not a console)",
	"IPN471I": "cmd/stackd TestUploadDebrisAfterKill (a stack killed mid-upload)",
	"IPN165I": "nic.TestRawLink (a link recovers between two commands)",
	"IPN349E": "command.TestHandlerPanic",
	"IPN400I": "ftpd tests (unsolicited: a daemon started)",
	"IPN401I": "ftpd tests (unsolicited: a daemon ended)",
	"IPN402I": "ftpd tests (unsolicited: a user logged in)",
	"IPN403I": "ftpd tests (unsolicited: a session ended)",
	"IPN404E": "ftpd tests (unsolicited: the control listener failed)",
	"IPN410W": "ftpd.TestPortRangeScenario (unsolicited: the data ports ran out)",
	"IPN411I": "ftpd.TestPortRangeScenario (unsolicited: the data ports came back)",
	"IPN412W": "ftpd.TestCountRefusal (unsolicited)",
	"IPN413W": "ftpd.TestFailedLogins (unsolicited)",
	"IPN220W": "cmd/stackd TestMetricsBeyondLoopbackWarns (start-up)",
	"IPN538W": "users.TestAccountLockout and cmd/stackd TestPasswordOracleClosed (unsolicited: an account locked out)",
	"IPN420W": "ftpd.TestDataMustResume (unsolicited: a data connection without TLS session reuse)",
	"IPN451I": "cmd/stackd FTP e2e (QUERY FTPDS during a session)",
	"IPN500I": "cmd/stackd telnet e2e (logon)",
	"IPN503E": "cmd/stackd telnet e2e (logon)",
	"IPN504E": "cmd/stackd telnet e2e (logon)",
	"IPN505W": "cmd/stackd telnet e2e (logon)",
	"IPN506I": "cmd/stackd telnet e2e (logon)",
	"IPN507W": "command.TestTelnetIdleTimeout",
	"IPN508E": "command.TestTelnetLongLine",
	"IPN519I": "cmd/stackd telnet e2e (STOP CONSOLE)",
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
		// HELP and INCLUDE are the session's own (command.Session.Do).
		if _, ok := handlers[s.Key()]; !ok && s.Key() != "HELP" && s.Key() != "INCLUDE" {
			t.Errorf("no handler for %s", s.Key())
		}
	}
	for k := range handlers {
		if command.Commands.Spec(k) == nil {
			t.Errorf("handler %s has no row in the table", k)
		}
	}
}

// volatile are the parts of a deck's output that a run measures (round-trip
// times); they are replaced by a fixed text before the comparison.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`time=[0-9]+\.[0-9]{3} ms`), "time=N.NNN ms"},
	{regexp.MustCompile(`min/avg/max [0-9.]+/[0-9.]+/[0-9.]+ ms`), "min/avg/max N/N/N ms"},
	{regexp.MustCompile(`IPN158I Storage: .*`), "IPN158I Storage: (measured)"},
	{regexp.MustCompile(`SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}`), "SHA-256 (fingerprint)"},
	{regexp.MustCompile(`expires \d{4}-\d\d-\d\d`), "expires YYYY-MM-DD"},
	{regexp.MustCompile(`\b[0-9]+\.[0-9]{3} ms\b`), "N.NNN ms"}, // TRACERT's hop times (after PING's own)
	{regexp.MustCompile(`of [0-9,]+ \(every USER link\)`), "of (descriptor limit less the reserve) (every USER link)"},
}

func normalize(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
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
