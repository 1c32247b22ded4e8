package linkop

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseForwardAndReach(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	for _, c := range []struct {
		item string
		want Forward
		err  string
	}{
		{"2121:21", Forward{lo, 2121, 21, 1, true}, ""},
		{"30000-30019", Forward{lo, 30000, 30000, 20, true}, ""},
		{"[::1]:2121:21", Forward{netip.IPv6Loopback(), 2121, 21, 1, false}, ""},
		{"[::]:2121", Forward{netip.IPv6Unspecified(), 2121, 2121, 1, false}, ""},
		{"[10.0.0.1]:21", Forward{}, "is not an IPv6 address"},
		{"[::1]21", Forward{}, "is not an IPv6 address"},
		{"0.0.0.0:2121:21", Forward{netip.MustParseAddr("0.0.0.0"), 2121, 21, 1, false}, ""},
		{"127.0.0.2:5000-5001:6000-6001", Forward{netip.MustParseAddr("127.0.0.2"), 5000, 6000, 2, false}, ""},
		{"300.1.1.1:21", Forward{}, "is not an IPv4 address"},
		{"10-9", Forward{}, "runs backwards"},
		{"1-2:3", Forward{}, "differ in length"},
		{"70000", Forward{}, "is not a port"},
	} {
		f, err := ParseForward(c.item)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want %q", c.item, err, c.err)
			}
			continue
		}
		if err != nil || f != c.want {
			t.Errorf("%s: %+v %v", c.item, f, err)
		}
	}
	for item, want := range map[string]string{"5432": "127.0.0.1:5432", "6000-6010": "127.0.0.1:6000-6010", "10.77.0.9:80": "10.77.0.9:80"} {
		r, err := ParseReach(item)
		if err != nil || r.String() != want {
			t.Errorf("%s: %v %v", item, r, err)
		}
	}
	if _, err := ParseReach("0.0.0.0:80"); err == nil {
		t.Error("REACH to 0.0.0.0 accepted")
	}
}
