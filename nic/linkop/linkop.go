// Package linkop reads the forms of DEFINE LINK's operands that are more
// than a type: FORWARD= and REACH= items, and device numbers (cuu). It is a
// leaf, so that the command table (and ipnconsole's --check with it) reads
// them exactly as the stack does, without linking the stack.
package linkop

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// HostLoopback is the host address forwards listen on, and REACH= reaches,
// unless an item names another; on a link with an IPv6 address, forwards
// without a host address listen on HostLoopback6 too, and the gateway's
// IPv6 address stands for it.
var (
	HostLoopback  = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	HostLoopback6 = netip.IPv6Loopback()
)

// Forward maps Count host ports on HostAddr, from HostPort up, to stack
// ports from StackPort up. Default: the item named no host address (then
// HostAddr is 127.0.0.1, and the link listens on ::1 too when it has an
// IPv6 address).
type Forward struct {
	HostAddr            netip.Addr
	HostPort, StackPort uint16
	Count               int
	Default             bool
}

// HostAddrs are the host addresses a forward listens on, on a link with
// IPv6 (v6) or without.
func (f Forward) HostAddrs(v6 bool) []netip.Addr {
	if f.Default && v6 {
		return []netip.Addr{HostLoopback, HostLoopback6}
	}
	return []netip.Addr{f.HostAddr}
}

// ErrForward is a FORWARD= or REACH= item that cannot be read.
type ErrForward struct {
	Item   string
	Reason string
}

func (e *ErrForward) Error() string { return e.Item + ": " + e.Reason }

// hostAddrPart splits a leading host address off an item: IPv4
// ("0.0.0.0:2121:21") or IPv6 in brackets ("[::1]:2121:21"); an item
// without one is on 127.0.0.1 (given says so).
func hostAddrPart(item string) (a netip.Addr, rest string, given bool, err error) {
	if strings.HasPrefix(item, "[") {
		inner, after, ok := strings.Cut(item[1:], "]")
		rest, colon := strings.CutPrefix(after, ":")
		a, err := netip.ParseAddr(inner)
		if !ok || !colon || err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, "", false, fmt.Errorf("%q is not an IPv6 address in brackets and a port", item)
		}
		return a, rest, true, nil
	}
	first, rest, ok := strings.Cut(item, ":")
	if !ok || !strings.Contains(first, ".") {
		return HostLoopback, item, false, nil
	}
	a, err = netip.ParseAddr(first)
	if err != nil || !a.Is4() {
		return netip.Addr{}, "", false, fmt.Errorf("%q is not an IPv4 address", first)
	}
	return a, rest, true, nil
}

// ParseForward reads one FORWARD= item: "[hostaddr:]hostport",
// "[hostaddr:]hostport:stackport", "[hostaddr:]low-high" or
// "[hostaddr:]low-high:low2-high2" (ranges of the same length). The host
// address is 127.0.0.1 unless given (0.0.0.0 listens on every host
// address).
func ParseForward(item string) (Forward, error) {
	host, rest, given, err := hostAddrPart(item)
	if err != nil {
		return Forward{}, &ErrForward{item, err.Error()}
	}
	hostPart, stackPart, mapped := strings.Cut(rest, ":")
	hl, hh, err := portSpan(hostPart)
	if err != nil {
		return Forward{}, &ErrForward{item, err.Error()}
	}
	sl, sh := hl, hh
	if mapped {
		if sl, sh, err = portSpan(stackPart); err != nil {
			return Forward{}, &ErrForward{item, err.Error()}
		}
	}
	if hh-hl != sh-sl {
		return Forward{}, &ErrForward{item, "the host and stack ranges differ in length"}
	}
	return Forward{HostAddr: host, HostPort: uint16(hl), StackPort: uint16(sl), Count: hh - hl + 1, Default: !given}, nil
}

// Reach is a host destination the stack's connections may go to through a
// USER link (REACH=): ports Low to High of Addr. A connection to the
// gateway's address on such a port of 127.0.0.1 goes to the host's
// 127.0.0.1.
type Reach struct {
	Addr      netip.Addr
	Low, High uint16
}

func (r Reach) String() string {
	a := r.Addr.String()
	if r.Addr.Is6() {
		a = "[" + a + "]"
	}
	if r.Low == r.High {
		return fmt.Sprintf("%s:%d", a, r.Low)
	}
	return fmt.Sprintf("%s:%d-%d", a, r.Low, r.High)
}

func (r Reach) Has(a netip.Addr, port uint16) bool {
	return r.Addr == a && port >= r.Low && port <= r.High
}

// ParseReach reads one REACH= item: "[hostaddr:]port" or
// "[hostaddr:]low-high", the host address 127.0.0.1 unless given.
func ParseReach(item string) (Reach, error) {
	host, rest, _, err := hostAddrPart(item)
	if err != nil {
		return Reach{}, &ErrForward{item, err.Error()}
	}
	if host.IsUnspecified() {
		return Reach{}, &ErrForward{item, "a destination needs a host address, not " + host.String()}
	}
	lo, hi, err := portSpan(rest)
	if err != nil {
		return Reach{}, &ErrForward{item, err.Error()}
	}
	return Reach{Addr: host, Low: uint16(lo), High: uint16(hi)}, nil
}

func portSpan(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = strconv.Atoi(a); err != nil || lo < 1 || lo > 65535 {
		return 0, 0, fmt.Errorf("%q is not a port 1-65535", a)
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil || hi < 1 || hi > 65535 {
			return 0, 0, fmt.Errorf("%q is not a port 1-65535", b)
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("range %s runs backwards", s)
		}
	}
	if hi-lo >= 4096 {
		return 0, 0, fmt.Errorf("range %s has more than 4,096 ports", s)
	}
	return lo, hi, nil
}

// cuuPattern is a device number as VSE writes it.
var cuuPattern = regexp.MustCompile(`^[0-9A-Fa-f]{3,4}$`)

// IsCUU says whether a DEV= value is a device number rather than a host
// interface name: three or four hexadecimal digits, at least one of them a
// decimal digit (so that an interface named "cafe" stays a name).
func IsCUU(v string) bool {
	return cuuPattern.MatchString(v) && strings.ContainsAny(v, "0123456789")
}

// NormalCUU writes a device number in four upper-case digits (0D00).
func NormalCUU(v string) string {
	v = strings.ToUpper(v)
	for len(v) < 4 {
		v = "0" + v
	}
	return v
}
