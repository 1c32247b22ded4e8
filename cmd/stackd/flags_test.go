package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTelnetFlag: --telnet opens a console in clear, so only on a loopback
// address.
func TestTelnetFlag(t *testing.T) {
	for _, c := range []struct {
		arg  string
		want string // in the error; "" for none
	}{
		{"127.0.0.1:2323", ""},
		{"127.0.0.2:2323", ""},
		{"0.0.0.0:2323", "127.0.0.1 only"},
		{"10.77.0.1:2323", "TLS=YES"},
		{"2323", "address and port"},
	} {
		_, err := parseFlags([]string{"--telnet", c.arg}, io.Discard, io.Discard)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("--telnet %s: %v", c.arg, err)
		}
	}
}

// TestDeckInclude: the initialization deck includes members from its own
// directory (the default deck library), or from --decklib.
func TestDeckInclude(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "SITEPORT"), []byte("PORTRANGE LOW=40000,HIGH=50000\n"), 0o644)
	deck := filepath.Join(dir, "ipinit.deck")
	os.WriteFile(deck, []byte("* the site's deck\nINCLUDE SITEPORT\n"), 0o644)
	d := startDaemon(t, "--deck", deck)
	out := d.stdout.String()
	if !strings.Contains(out, "IPN127I Port range changed to 40,000 50,000") || !strings.Contains(out, "IPN201I Deck 'ipinit.deck' processed: 1 statement, return code 0") {
		t.Fatalf("the member did not run:\n%s", out)
	}
	lib := t.TempDir()
	os.WriteFile(filepath.Join(lib, "siteport.deck"), []byte("PORTRANGE LOW=41000,HIGH=50000\n"), 0o644)
	d = startDaemon(t, "--deck", deck, "--decklib", lib)
	if out := d.stdout.String(); !strings.Contains(out, "IPN127I Port range changed to 41,000 50,000") {
		t.Fatalf("--decklib:\n%s", out)
	}
}

// TestReferenceDeck: the product's illustrative initialization deck runs
// live, unchanged, with return code 4 and only the warnings for what cannot
// be emulated here: the OSA link whose devices are not mapped, the library
// PRD2 that is not in the data directory, the TN3270 daemon. Then DEFINE
// DEVICE to an interface that does not exist leaves the link waiting.
func TestReferenceDeck(t *testing.T) {
	deck, err := filepath.Abs("../../command/ops/testdata/decks/ipinit00.deck")
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--deck", deck)
	out := d.stdout.String()
	if !strings.Contains(out, "IPN202W Deck 'ipinit00.deck' processed: 10 statements, return code 4") {
		t.Fatalf("the reference deck:\n%s", out)
	}
	warned := regexp.MustCompile(`IPN\d{3}[WE]`).FindAllString(out, -1)
	if want := []string{"IPN241W", "IPN258W", "IPN691W", "IPN202W"}; strings.Join(warned, " ") != strings.Join(want, " ") {
		t.Fatalf("warnings %v, want %v:\n%s", warned, want, out)
	}
	q := mustConsole(t, d.socket, "QUERY LINKS,ID=OSA1\nQUERY TELNETDS\nQUERY FILES\n")
	for _, w := range []string{
		"IPN167I OSA1     OSAX     NODEVICE 0D00,0D01        192.168.1.10/24",
		"IPN243I          devices 0D00,0D01 DATAPATH 0D02: not mapped to a host interface (DEFINE DEVICE)",
		"IPN695I TELNETD TN01     (not emulated): DEFINE TELNETD,ID=TN01",
		"PRD2",
	} {
		if !strings.Contains(q, w) {
			t.Fatalf("no %q:\n%s", w, q)
		}
	}
	out, rc := runConsole(t, d.socket, "DEFINE DEVICE,CUU=0D02,INTERFACE=ipnnosuch0\n")
	if rc != 4 || !strings.Contains(out, "IPN245W Link OSA1 could not start on device 0D02") {
		t.Fatalf("rc %d:\n%s", rc, out)
	}
}

// TestVSELook: with --look vse the system log reads as the VSE system
// console, and ipnconsole --look vse plays the verified transcript: MSG F7,
// the attention routine's READY, the stack's prompt with its reply id, the
// operator's reply in lower case and abbreviated, the answer under the id
// (the reply itself not echoed, as on VSE).
// docs/console.md prints this exchange ("The VSE look").
func TestVSELook(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "CNXV8R8")
	os.Mkdir(lib, 0o755)
	d := startDaemon(t, "--look", "vse", "--partition", "f7")
	if out := d.stdout.String(); !strings.Contains(out, "F7 0000 IPN237I PORTRANGE LOW=32768,HIGH=65535\n") {
		t.Fatalf("the system log in the VSE look:\n%s", out)
	}
	out, rc := runConsole(t, d.socket, "msg f7\n1 def file,pub=CNXV8R8,dlbl="+lib+",type=lib\nmsg bg\nMSG F7,DATA=QUERY FILES\n", "--look", "vse")
	want := "IPN237I LOOK VSE,PARTITION=F7\nIPN261I Console L001 look is VSE, partition F7\n" +
		"AR 0015 1I40I  READY\nF7-0001 IPN300I Enter TCP/IP Command\n" +
		"F7 0100 IPN264I File defined, Dataset: " + lib + "\n" + // a reply by its id is not echoed
		"AR 0015 1I40I  READY\nF7 0100 IPN259E MSG BG: the stack's partition here is F7\n" +
		"AR 0015 1I40I  READY\nF7 0100 IPN237I QUERY FILES\n"
	if rc != 8 || !strings.HasPrefix(out, want) || !strings.Contains(out, "F7 0100 IPN466I CNXV8R8") {
		t.Fatalf("rc %d:\n%s\nwant first:\n%s", rc, out, want)
	}
	if _, rc := runConsole(t, d.socket, "", "--look", "vse", "--partition", "F77"); rc != 2 {
		t.Fatalf("--partition F77: rc %d", rc)
	}
}

// TestVSETranscript replays the verified console transcript of the
// product's documentation (testdata/vse-transcript.txt) line by line: the
// operator's lines are typed on a console in the VSE look, every other
// line must come back as printed. Reply ids are the system's, so another
// console's 101 replies bring the prompt to the transcript's 0102.
func TestVSETranscript(t *testing.T) {
	text, err := os.ReadFile("testdata/vse-transcript.txt")
	if err != nil {
		t.Fatal(err)
	}
	var typed, want []string
	for _, l := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
		if strings.HasPrefix(l, "AR ") || strings.HasPrefix(l, "F7 ") || strings.HasPrefix(l, "F7-") {
			want = append(want, l)
		} else {
			typed = append(typed, l)
		}
	}
	d := startDaemon(t)
	if err := os.MkdirAll(filepath.Join(d.dir, "data", "CNXV8R8"), 0o755); err != nil {
		t.Fatal(err)
	}
	var other strings.Builder
	for i := 1; i <= 101; i++ {
		fmt.Fprintf(&other, "msg f7\n%d query portrange\n", i)
	}
	if out, rc := runConsole(t, d.socket, other.String(), "--look", "vse"); rc != 0 || strings.Count(out, "IPN300I") != 101 {
		t.Fatalf("the other console: rc %d:\n%s", rc, out)
	}
	out, rc := runConsole(t, d.socket, strings.Join(typed, "\n")+"\n", "--look", "vse")
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	const greeting = 2 // IPN237I LOOK VSE,PARTITION=F7 and IPN261I
	if rc != 0 || len(got) < greeting || strings.Join(got[greeting:], "\n") != strings.Join(want, "\n") {
		t.Fatalf("rc %d:\n%s\nwant after the greeting:\n%s", rc, out, strings.Join(want, "\n"))
	}
}
