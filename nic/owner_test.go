package nic

import (
	"net"
	"net/netip"
	"os"
	"testing"
)

// TestHostOwner: the kernel names this process's user as the owner of the
// client end of a loopback connection, for IPv4 and IPv6, and no owner for
// a 4-tuple that has no socket.
func TestHostOwner(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		at := map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network]
		ln, err := net.Listen(network, at)
		if err != nil {
			t.Skipf("%s: %v", network, err)
		}
		defer ln.Close()
		c, err := net.Dial(network, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		client := c.LocalAddr().(*net.TCPAddr).AddrPort()
		listener := ln.Addr().(*net.TCPAddr).AddrPort()
		uid, ok := hostOwner(client, listener)
		if !ok || uid != uint32(os.Getuid()) {
			t.Fatalf("%s: owner %d %v, want %d", network, uid, ok, os.Getuid())
		}
		if _, ok := hostOwner(netip.AddrPortFrom(client.Addr(), client.Port()+1), listener); ok {
			t.Fatalf("%s: an owner for a 4-tuple with no socket", network)
		}
	}
}
