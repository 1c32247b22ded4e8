package main

import (
	"io"
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
