package main

import (
	"io"
	"os"
	"path/filepath"
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
		_, err := parseFlags([]string{"--telnet", c.arg}, io.Discard)
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
