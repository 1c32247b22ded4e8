package resolve

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeDNS answers for ftp.example.org (A and AAAA, TTL 300) and
// host.site.example (A); anything else is NXDOMAIN.
func fakeDNS(t *testing.T) (netip.AddrPort, *atomic.Int64) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int64
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		asked.Add(1)
		m := new(dns.Msg)
		m.SetReply(q)
		name, qt := q.Question[0].Name, q.Question[0].Qtype
		hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: 300}
		switch {
		case name == "ftp.example.org." && qt == dns.TypeA:
			hdr.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.ParseIP("10.77.0.21")})
		case name == "ftp.example.org." && qt == dns.TypeAAAA:
			hdr.Rrtype = dns.TypeAAAA
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.ParseIP("fd77::21")})
		case name == "host.site.example." && qt == dns.TypeA:
			hdr.Rrtype = dns.TypeA
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.ParseIP("10.77.0.22")})
		case name == "host.site.example.":
		default:
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return netip.MustParseAddrPort(pc.LocalAddr().String()), &asked
}

func hostDial(s netip.AddrPort) (net.Conn, error) { return net.Dial("udp", s.String()) }

func TestLookup(t *testing.T) {
	srv, asked := fakeDNS(t)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r := New(hostDial, func() time.Time { return now })
	ctx := context.Background()
	if _, err := r.Lookup(ctx, "ftp.example.org"); !errors.Is(err, ErrNoServers) {
		t.Fatalf("no servers: %v", err)
	}
	if a, err := r.Lookup(ctx, "10.1.2.3"); err != nil || a[0] != netip.MustParseAddr("10.1.2.3") {
		t.Fatalf("a literal: %v %v", a, err)
	}
	r.Define("VSE1.site", netip.MustParseAddr("10.77.0.5"))
	if a, err := r.Lookup(ctx, "vse1.SITE."); err != nil || len(a) != 1 || a[0] != netip.MustParseAddr("10.77.0.5") {
		t.Fatalf("the host table: %v %v", a, err)
	}
	r.SetServers([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1"), srv}) // the first does not answer
	a, err := r.Lookup(ctx, "ftp.example.org")
	if err != nil || len(a) != 2 || a[0] != netip.MustParseAddr("10.77.0.21") || a[1] != netip.MustParseAddr("fd77::21") {
		t.Fatalf("DNS: %v %v", a, err)
	}
	n := asked.Load()
	r.Lookup(ctx, "ftp.example.org")
	if asked.Load() != n {
		t.Fatal("a cached answer was asked again")
	}
	now = now.Add(301 * time.Second)
	r.Lookup(ctx, "ftp.example.org")
	if asked.Load() == n {
		t.Fatal("an expired answer was not asked again")
	}
	if _, err := r.Lookup(ctx, "nosuch.example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("NXDOMAIN: %v", err)
	}
	r.SetDomain("site.example")
	if a, err := r.Lookup(ctx, "host"); err != nil || a[0] != netip.MustParseAddr("10.77.0.22") {
		t.Fatalf("the default domain: %v %v", a, err)
	}
	if _, err := r.Lookup(ctx, "bad_name!"); !errors.Is(err, ErrBadName) {
		t.Fatalf("a bad name: %v", err)
	}
	if err := r.Define("not a name", netip.MustParseAddr("10.0.0.1")); !errors.Is(err, ErrBadName) {
		t.Fatalf("Define: %v", err)
	}
	if !r.Delete("vse1.site") || r.Delete("vse1.site") {
		t.Fatal("Delete")
	}
}
