// Package resolve turns host names into addresses for the stack's
// commands: the operator's host table first (DEFINE NAME), then DNS
// servers (SET DNS1=, DNS2=) asked over the stack's own UDP, with the
// default domain (SET DEFAULT_DOMAIN=) tried for a name without a dot, and
// answers kept for their TTL.
//
// DNS messages are github.com/miekg/dns's; this package only chooses whom
// to ask, in which order, and what to keep. Against forged answers (RFC
// 5452) each query has a random id (miekg/dns's, from crypto/rand), leaves
// from a UDP port the port authority draws at random (its Dialer's), and
// takes only a response from the server and port asked, with the id and
// the question asked.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Dialer opens a UDP conversation with a DNS server (over the stack).
type Dialer func(server netip.AddrPort) (net.Conn, error)

// Errors of a lookup.
var (
	ErrNotFound  = errors.New("no such host")
	ErrNoServers = errors.New("no DNS server is set (SET DNS1=) and the name is not in the host table")
	// ErrNoIPv4: the name has addresses, none of them IPv4, where only
	// IPv4 will do (the FTP client's servers, PASVADDR=).
	ErrNoIPv4 = errors.New("it has no IPv4 address")
)

// LookupError says which name failed and why.
type LookupError struct {
	Name string
	Err  error
}

func (e *LookupError) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *LookupError) Unwrap() error { return e.Err }

// Timeout is how long one server has to answer one question.
const Timeout = 2 * time.Second

// Resolver is the stack's resolver. It is safe for concurrent use.
//
// Lock order: Resolver.mu is a leaf (no lookup on the network holds it).
type Resolver struct {
	dial  Dialer
	clock func() time.Time

	mu      sync.Mutex
	hosts   map[string][]netip.Addr // DEFINE NAME, by lower-case name
	servers []netip.AddrPort
	domain  string
	cache   map[string]cached
	stats   Stats
}

type cached struct {
	addrs   []netip.Addr
	expires time.Time
}

// Stats counts what the resolver did. Mismatched counts the messages
// that reached a query's port but did not answer it (another id or
// question): forged or stray.
type Stats struct {
	Queries, Answers, Failures, CacheHits, Mismatched uint64
}

// answers says whether in is the answer to q (RFC 5452 §9.1): a response,
// with q's id and q's one question, name (any case), type and class. The
// server's address and port are the socket's: the stack's UDP socket is
// connected to the server asked, so nothing else reaches it.
func answers(in, q *dns.Msg) bool {
	if !in.Response || in.Id != q.Id || len(in.Question) != 1 {
		return false
	}
	a, b := in.Question[0], q.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}

// New makes a resolver that reaches DNS servers through dial.
func New(dial Dialer, clock func() time.Time) *Resolver {
	if clock == nil {
		clock = time.Now
	}
	return &Resolver{dial: dial, clock: clock, hosts: map[string][]netip.Addr{}, cache: map[string]cached{}}
}

// Name is one entry of the host table.
type Name struct {
	Name  string
	Addrs []netip.Addr
}

// ErrBadName: a host table name must be a DNS name.
var ErrBadName = errors.New("not a host name (letters, digits, hyphens and dots, 253 at most)")

// ValidDomain says whether d is a domain name (any case, a final dot
// allowed): what SET DEFAULT_DOMAIN= takes; "" (none) is valid.
func ValidDomain(d string) bool {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	return d == "" || validName(d)
}

// validName says whether n (lower case, no final dot) is a host name:
// labels of letters, digits and inner hyphens, 63 at most each, 253 in
// all (RFC 1123).
func validName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for _, l := range strings.Split(n, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Define adds a name to the host table (or more addresses to a name).
func (r *Resolver) Define(name string, addrs ...netip.Addr) error {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if !validName(n) {
		return ErrBadName
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range addrs {
		a = a.Unmap()
		dup := false
		for _, b := range r.hosts[n] {
			dup = dup || a == b
		}
		if !dup {
			r.hosts[n] = append(r.hosts[n], a)
		}
	}
	return nil
}

// Delete takes a name out of the host table; false if it was not there.
func (r *Resolver) Delete(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.hosts[n]
	delete(r.hosts, n)
	return ok
}

// Names lists the host table by name.
func (r *Resolver) Names() []Name {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Name, 0, len(r.hosts))
	for n, a := range r.hosts {
		out = append(out, Name{Name: n, Addrs: append([]netip.Addr(nil), a...)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SetServers sets the DNS servers, asked in this order; the cache is
// emptied.
func (r *Resolver) SetServers(servers []netip.AddrPort) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.servers = append([]netip.AddrPort(nil), servers...)
	r.cache = map[string]cached{}
}

// SetDomain sets the default domain, tried for a name without a dot.
func (r *Resolver) SetDomain(d string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.domain = strings.ToLower(strings.Trim(d, "."))
	r.cache = map[string]cached{}
}

// Config gives the servers, the default domain and the counters.
func (r *Resolver) Config() (servers []netip.AddrPort, domain string, st Stats, cachedNames int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]netip.AddrPort(nil), r.servers...), r.domain, r.stats, len(r.cache)
}

// Lookup gives the addresses of a host: an address written out as itself;
// else the host table's, then a cached answer, then the DNS servers' (IPv4
// and IPv6 addresses, IPv4 first). A name without a dot is tried with the
// default domain first.
func (r *Resolver) Lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil && a.Zone() == "" {
		return []netip.Addr{a.Unmap()}, nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if !validName(name) {
		return nil, &LookupError{host, ErrBadName}
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		// RFC 6761: localhost names are the loopback, never asked of DNS.
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}, nil
	}
	r.mu.Lock()
	if a := r.hosts[name]; len(a) > 0 {
		r.mu.Unlock()
		return append([]netip.Addr(nil), a...), nil
	}
	candidates := []string{name}
	if r.domain != "" && !strings.Contains(name, ".") {
		candidates = []string{name + "." + r.domain, name}
	}
	now := r.clock()
	for _, c := range candidates {
		if e, ok := r.cache[c]; ok && now.Before(e.expires) {
			r.stats.CacheHits++
			r.mu.Unlock()
			if len(e.addrs) == 0 {
				return nil, &LookupError{host, ErrNotFound}
			}
			return append([]netip.Addr(nil), e.addrs...), nil
		}
	}
	servers := append([]netip.AddrPort(nil), r.servers...)
	r.mu.Unlock()
	if len(servers) == 0 {
		return nil, &LookupError{host, ErrNoServers}
	}
	var last error
	for _, c := range candidates {
		addrs, ttl, err := r.ask(ctx, servers, c)
		if err != nil {
			// A name no server knows says more than a server's refusal
			// of a later candidate.
			if last == nil || errors.Is(err, ErrNotFound) {
				last = err
			}
			continue
		}
		r.mu.Lock()
		r.cache[c] = cached{addrs: addrs, expires: r.clock().Add(ttl)}
		r.mu.Unlock()
		if len(addrs) > 0 {
			return addrs, nil
		}
	}
	return nil, &LookupError{host, last}
}

// ask asks the servers in turn for A and AAAA records of a fully
// qualified name; the first server that answers decides. ttl is the
// smallest TTL of the answer (1 minute for a name with no addresses).
func (r *Resolver) ask(ctx context.Context, servers []netip.AddrPort, name string) ([]netip.Addr, time.Duration, error) {
	var lastErr error
	for _, srv := range servers {
		var addrs []netip.Addr
		ttl := time.Hour
		nx := false
		var err error
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			in, qerr := r.exchange(ctx, srv, name, qt)
			if qerr != nil {
				err = qerr
				break
			}
			if in.Rcode == dns.RcodeNameError {
				nx = true
				break
			}
			if in.Rcode != dns.RcodeSuccess {
				// Some servers refuse a type they hold nothing of (dnsmasq
				// without upstream refuses AAAA of an A-only name): the
				// other type's answer stands.
				err = fmt.Errorf("server %s: %s", srv, dns.RcodeToString[in.Rcode])
				continue
			}
			for _, rr := range in.Answer {
				switch v := rr.(type) {
				case *dns.A:
					if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
						addrs = append(addrs, a)
					}
				case *dns.AAAA:
					if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
						addrs = append(addrs, a.Unmap())
					}
				default:
					continue
				}
				ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
			}
		}
		if len(addrs) == 0 && err != nil {
			lastErr = err
			continue
		}
		if nx || len(addrs) == 0 {
			return nil, time.Minute, ErrNotFound
		}
		return addrs, max(ttl, time.Second), nil
	}
	return nil, 0, lastErr
}

// exchange sends one question to one server and reads its answer, within
// Timeout.
func (r *Resolver) exchange(ctx context.Context, srv netip.AddrPort, name string, qt uint16) (*dns.Msg, error) {
	r.mu.Lock()
	r.stats.Queries++
	r.mu.Unlock()
	fail := func(err error) (*dns.Msg, error) {
		r.mu.Lock()
		r.stats.Failures++
		r.mu.Unlock()
		return nil, err
	}
	c, err := r.dial(srv)
	if err != nil {
		return fail(fmt.Errorf("server %s: %w", srv, err))
	}
	defer c.Close()
	deadline := time.Now().Add(Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qt)
	m.RecursionDesired = true
	co := &dns.Conn{Conn: c}
	if err := co.WriteMsg(m); err != nil {
		return fail(fmt.Errorf("server %s: %w", srv, err))
	}
	for {
		in, err := co.ReadMsg()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fail(fmt.Errorf("server %s did not answer within %v", srv, Timeout))
			}
			// The reason alone: the local socket's address (a random
			// port) says nothing to the operator.
			var oe *net.OpError
			if errors.As(err, &oe) && oe.Err != nil {
				err = oe.Err
			}
			return fail(fmt.Errorf("server %s: %w", srv, err))
		}
		if !answers(in, m) {
			r.mu.Lock()
			r.stats.Mismatched++
			r.mu.Unlock()
			continue // not the answer to this question
		}
		r.mu.Lock()
		r.stats.Answers++
		r.mu.Unlock()
		return in, nil
	}
}
