package addrport

import (
	"net"
	"net/netip"
	"testing"
)

type named string

func (n named) Network() string { return "tcp" }
func (n named) String() string  { return string(n) }

func TestOf(t *testing.T) {
	cases := []struct {
		in   net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("10.77.0.2"), Port: 21}, "10.77.0.2:21"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.77.0.2"), Port: 21}, "10.77.0.2:21"},
		{named("[fd77::2]:80"), "[fd77::2]:80"},
		{named("not an address"), "invalid AddrPort"},
		{nil, "invalid AddrPort"},
	}
	for _, c := range cases {
		if got := Of(c.in).String(); got != c.want {
			t.Errorf("Of(%v) = %s, want %s", c.in, got, c.want)
		}
	}
	var zero netip.AddrPort
	if Of(nil) != zero {
		t.Error("nil")
	}
}
