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
	for _, name := range []string{"localhost", "LOCALHOST.", "db.localhost"} { // RFC 6761, no server asked
		if a, err := r.Lookup(ctx, name); err != nil || len(a) != 2 || a[0] != netip.MustParseAddr("127.0.0.1") || a[1] != netip.IPv6Loopback() {
			t.Fatalf("%s: %v %v", name, a, err)
		}
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

// TestForgedAnswers: before the server's own answer, the query's port
// receives what a forger who saw the query would send — a message with
// another id, one with the id but another question's type, class or name,
// and a query rather than a response — each carrying the forger's address.
// The resolver takes none of them, counts them, and keeps the true answer.
func TestForgedAnswers(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	forged := net.ParseIP("10.66.6.6")
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			qq := q.Question[0]
			send := func(m *dns.Msg) {
				b, _ := m.Pack()
				pc.WriteTo(b, from)
			}
			lie := func(edit func(m *dns.Msg)) {
				m := new(dns.Msg)
				m.SetReply(q)
				m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: forged}}
				edit(m)
				send(m)
			}
			lie(func(m *dns.Msg) { m.Id++ })
			lie(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAAAA + dns.TypeA - qq.Qtype })
			lie(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS })
			lie(func(m *dns.Msg) { m.Question[0].Name = "other.example." })
			lie(func(m *dns.Msg) { m.Response = false })
			m := new(dns.Msg)
			m.SetReply(q)
			if qq.Qtype == dns.TypeA {
				m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.ParseIP("10.77.0.21")}}
			}
			send(m)
		}
	}()
	r := New(hostDial, nil)
	r.SetServers([]netip.AddrPort{netip.MustParseAddrPort(pc.LocalAddr().String())})
	a, err := r.Lookup(context.Background(), "ftp.example.org")
	if err != nil || len(a) != 1 || a[0] != netip.MustParseAddr("10.77.0.21") {
		t.Fatalf("lookup: %v %v, want the true answer alone", a, err)
	}
	if _, _, st, _ := r.Config(); st.Mismatched != 10 || st.Answers != 2 {
		t.Fatalf("counters %+v: want 10 forged messages ignored (5 a question) and 2 answers", st)
	}
}
