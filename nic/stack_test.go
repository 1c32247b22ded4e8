package nic

import (
	"context"
	"net"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// TestEphemeralPortInRange shows that a connection made inside the stack
// gets its local port from the range set with SetPortRange.
func TestEphemeralPortInRange(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lo := tcpip.FullAddress{NIC: LoopbackNIC, Addr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: 7000}
	ln, err := gonet.ListenTCP(s.NS(), lo, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for _, r := range [][2]uint16{{40000, 41023}, {50000, 51100}} {
		if err := s.SetPortRange(r[0], r[1]); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := gonet.DialContextTCP(ctx, s.NS(), lo, ipv4.ProtocolNumber)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			port := c.LocalAddr().(*net.TCPAddr).Port
			c.Close()
			if port < int(r[0]) || port > int(r[1]) {
				t.Fatalf("local port %d outside the range %d-%d", port, r[0], r[1])
			}
		}
		if lo, hi := s.PortRange(); lo != r[0] || hi != r[1] {
			t.Fatalf("PortRange() = %d,%d", lo, hi)
		}
	}
	eps := s.TCPEndpoints()
	if len(eps) == 0 {
		t.Fatal("no endpoints listed")
	}
	sawListen := false
	for _, e := range eps {
		if e.State == "LISTEN" && e.Local.Port() == 7000 {
			sawListen = true
		}
	}
	if !sawListen {
		t.Fatalf("listener not listed: %+v", eps)
	}
}
