package command

import (
	"errors"
	"math/bits"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"ipnstack/ftpc"
	"ipnstack/ftptype"
	"ipnstack/grammar"
	"ipnstack/msgcat"
	"ipnstack/nic/linkop"
)

// The forms of this file are more than a type: FORWARD= and REACH= items,
// MACs, masks, device numbers, and the operands that go with one value of
// another (When). The stack reads them from the table like every other
// operand, so that ipnconsole --check and the stack give one verdict.

// MsgError is a value's failure that has a catalogued message of its own.
type MsgError struct{ Msg msgcat.Msg }

func (e *MsgError) Error() string { return e.Msg.Text() }

// When names the values of another operand: an operand allowed only then
// (Operand.Only), or required then (Operand.NeedIf).
type When struct {
	Key string   // the operand that decides, upper case
	Is  []string // its values, upper case; none: whenever it is given
}

func (w *When) holds(a Args) (string, bool) {
	if len(w.Is) == 0 {
		return w.Key + "=" + a.Typed(w.Key), a.Has(w.Key)
	}
	shown, v := w.Key+"=", a.Str(w.Key)
	for i, p := range a.spec.Positional { // a positional operand: its value, after the command
		if strings.EqualFold(p.Key, w.Key) {
			shown = a.spec.key + " "
			v, _ = a.Positional(i).(string)
		}
	}
	for _, x := range w.Is {
		if x == v {
			return shown + v, true
		}
	}
	return shown + v, false
}

// words says the condition for HELP: "TYPE=RAW, OSAX or TAP", "MASK=",
// "TRACE ON".
func (w *When) words() string {
	if len(w.Is) == 0 {
		return w.Key + "="
	}
	vals := w.Is
	if len(vals) == 1 {
		return w.Key + "=" + vals[0]
	}
	return w.Key + "=" + strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}

// Related is a Type whose value is checked against the other operands once
// all are read (device numbers against TYPE=, the FTP client's subcommands
// against HOST2=).
type Related interface {
	Relate(v any, a Args) error
}

// conditions checks Only, NeedIf and the Related types, once the operands
// are otherwise right.
func (r *operands) conditions() {
	if len(r.errs) > 0 {
		return
	}
	for i, o := range r.spec.Operands {
		key := strings.ToUpper(o.Key)
		if o.Fixed && r.a.given[i] {
			r.fault(msgcat.IPN473E(key, strings.ToUpper(r.spec.Object), r.a.Typed("ID")))
		}
		if o.Only != nil && r.a.given[i] {
			if when, ok := o.Only.holds(r.a); !ok {
				r.fault(msgcat.IPN176E(key, when))
			}
		}
		if o.NeedIf != nil && !r.a.given[i] {
			if when, ok := o.NeedIf.holds(r.a); ok {
				r.fault(msgcat.IPN177E(key, when))
			}
		}
	}
	if len(r.errs) > 0 {
		return
	}
	for i, o := range r.spec.Operands {
		if rel, ok := o.Type.(Related); ok && r.a.given[i] {
			if err := rel.Relate(r.a.vals[i], r.a); err != nil {
				r.valueFaults(err, strings.ToUpper(o.Key), r.a.words[strings.ToUpper(o.Key)])
			}
		}
	}
}

// itemError maps a FORWARD= or REACH= item's failure to its message.
func itemError(key string, err error) error {
	var fe *linkop.ErrForward
	if errors.As(err, &fe) {
		return &MsgError{msgcat.IPN181E(key, fe.Item, fe.Reason)}
	}
	return err
}

// Forward is a FORWARD= item of a USER link; the value is a
// linkop.Forward.
type Forward struct{}

// Parse implements Type.
func (Forward) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "a forward")
	if err != nil {
		return nil, err
	}
	f, err := linkop.ParseForward(s)
	if err != nil {
		return nil, itemError("FORWARD", err)
	}
	return f, nil
}

// Describe implements Type.
func (Forward) Describe() string {
	return "[hostaddr:]hostport[:stackport] or [hostaddr:]low-high[:low-high]"
}

// Meta implements Type.
func (Forward) Meta() string { return "forward" }

// Choices implements Type.
func (Forward) Choices() []string { return nil }

// Reach is a REACH= item: ports of a host address, 127.0.0.1 unless given;
// the value is a linkop.Reach. Loopback: the items must be loopback
// addresses (a SOCKS door's REACH= opens the stack's own loopback).
type Reach struct{ Loopback bool }

// Parse implements Type.
func (t Reach) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "a destination")
	if err != nil {
		return nil, err
	}
	r, err := linkop.ParseReach(s)
	if err != nil {
		return nil, itemError("REACH", err)
	}
	if t.Loopback && !r.Addr.IsLoopback() {
		return nil, &MsgError{msgcat.IPN181E("REACH", s, r.Addr.String()+" is not the stack's loopback (other addresses need no REACH=)")}
	}
	return r, nil
}

// Describe implements Type.
func (Reach) Describe() string { return "[hostaddr:]port or [hostaddr:]low-high" }

// Meta implements Type.
func (Reach) Meta() string { return "destination" }

// Choices implements Type.
func (Reach) Choices() []string { return nil }

// MAC is a unicast Ethernet address; the value is a net.HardwareAddr.
type MAC struct{}

// Parse implements Type.
func (MAC) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "a MAC address")
	if err != nil {
		return nil, err
	}
	mac, perr := net.ParseMAC(s)
	if perr != nil || len(mac) != 6 || mac[0]&1 != 0 {
		return nil, &MsgError{msgcat.IPN180E(s)}
	}
	return mac, nil
}

// Describe implements Type.
func (MAC) Describe() string { return "a unicast MAC address (xx:xx:xx:xx:xx:xx)" }

// Meta implements Type.
func (MAC) Meta() string { return "xx:xx:xx:xx:xx:xx" }

// Choices implements Type.
func (MAC) Choices() []string { return nil }

// Mask is a contiguous IPv4 subnet mask; the value is a netip.Addr
// (MaskBits gives its length).
type Mask struct{}

// Parse implements Type.
func (Mask) Parse(v grammar.Value) (any, error) {
	x, err := IPv4{}.Parse(v)
	if err != nil {
		return nil, err
	}
	if _, ok := MaskBits(x.(netip.Addr)); !ok {
		return nil, &MsgError{msgcat.IPN111E(v.Text)}
	}
	return x, nil
}

// Describe implements Type.
func (Mask) Describe() string { return "a subnet mask (255.255.255.0)" }

// Meta implements Type.
func (Mask) Meta() string { return "a.b.c.d" }

// Choices implements Type.
func (Mask) Choices() []string { return nil }

// MaskBits checks that a mask is contiguous and gives its length.
func MaskBits(m netip.Addr) (int, bool) {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := bits.LeadingZeros32(^v)
	return n, v<<uint(n) == 0 || n == 32
}

// CUU is a device number of the product (three or four hexadecimal
// digits); the value is written in four upper-case digits (0D00).
type CUU struct{}

// Parse implements Type.
func (CUU) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "a device number")
	if err != nil {
		return nil, err
	}
	if !linkop.IsCUU(s) {
		return nil, &MsgError{msgcat.IPN251E("CUU", s, "not a device number (cuu: 3 or 4 hexadecimal digits)")}
	}
	return linkop.NormalCUU(s), nil
}

// Describe implements Type.
func (CUU) Describe() string { return "a device number (3 or 4 hexadecimal digits)" }

// Meta implements Type.
func (CUU) Meta() string { return "cuu" }

// Choices implements Type.
func (CUU) Choices() []string { return nil }

// ProductLinkTypes are the product's link types: each drives a host
// interface as RAW does, named in DEV= or mapped from device numbers.
var ProductLinkTypes = []string{"OSAX", "LCS", "CTCA", "CLAW", "IUCV"}

func isProductType(t string) bool {
	for _, p := range ProductLinkTypes {
		if p == t {
			return true
		}
	}
	return false
}

// Devices is DEV= of a link: one host interface name, or (for the
// product's types) one or two device numbers. The value is []any of
// strings, device numbers written in four digits.
type Devices struct{}

var devList = List{Elem: Text{Max: 15, Name: "device"}, Min: 1, Max: 2, Name: "device|(cuu,cuu)"}

// Parse implements Type.
func (Devices) Parse(v grammar.Value) (any, error) { return devList.Parse(v) }

// Relate implements Related: the form of DEV= goes with TYPE=.
func (Devices) Relate(v any, a Args) error {
	devs := v.([]any)
	cuus := 0
	var shown []string
	for _, d := range devs {
		if linkop.IsCUU(d.(string)) {
			cuus++
		}
		shown = append(shown, d.(string))
	}
	all := strings.Join(shown, ",")
	if len(devs) > 1 {
		all = "(" + all + ")"
	}
	typ := a.Str("TYPE")
	product := isProductType(typ)
	switch {
	case !product && (cuus > 0 || len(devs) > 1):
		return &MsgError{msgcat.IPN251E("DEV", all, "TYPE="+typ+" takes one host interface name; device numbers are for the product's types (OSAX, LCS, CTCA, CLAW, IUCV)")}
	case cuus == len(devs) && product:
		for i, d := range devs {
			devs[i] = linkop.NormalCUU(d.(string))
		}
	case len(devs) == 1:
	default:
		return &MsgError{msgcat.IPN251E("DEV", all, "give one host interface name, or device numbers (cuu: 3 or 4 hexadecimal digits)")}
	}
	return nil
}

// Describe implements Type.
func (Devices) Describe() string { return devList.Describe() }

// Meta implements Type.
func (Devices) Meta() string { return devList.Meta() }

// Choices implements Type.
func (Devices) Choices() []string { return nil }

// DataPath is DATAPATH= of a product link: the data device's number, with
// device numbers in DEV=.
type DataPath struct{}

// Parse implements Type.
func (DataPath) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "a device number")
	if err != nil {
		return nil, err
	}
	if !linkop.IsCUU(s) {
		return nil, &MsgError{msgcat.IPN251E("DATAPATH", s, "not a device number (cuu: 3 or 4 hexadecimal digits)")}
	}
	return linkop.NormalCUU(s), nil
}

// Relate implements Related.
func (DataPath) Relate(v any, a Args) error {
	if !isProductType(a.Str("TYPE")) {
		return nil
	}
	for _, d := range a.List("DEV") {
		if !linkop.IsCUU(d.(string)) {
			return &MsgError{msgcat.IPN251E("DATAPATH", a.Typed("DATAPATH"), "it goes with device numbers in DEV=, not a host interface name")}
		}
	}
	return nil
}

// Describe implements Type.
func (DataPath) Describe() string { return "a device number (3 or 4 hexadecimal digits)" }

// Meta implements Type.
func (DataPath) Meta() string { return "cuu" }

// Choices implements Type.
func (DataPath) Choices() []string { return nil }

// FTPScript is the FTP client's CMD=: a list of subcommands (package
// ftpc's one list), each checked with its arguments; the value is []any
// of strings, as typed.
type FTPScript struct{}

var scriptList = List{Elem: Text{Max: 255, Name: "subcommand"}, Min: 1, Max: 1000, Name: "('subcommand',...)"}

// Parse implements Type.
func (FTPScript) Parse(v grammar.Value) (any, error) {
	x, err := scriptList.Parse(v)
	if err != nil {
		return nil, err
	}
	for _, it := range x.([]any) {
		if _, err := ftpc.ParseStep(it.(string), true); err != nil {
			return nil, scriptError(err)
		}
	}
	return x, nil
}

// Relate implements Related: the subcommands between two servers need
// HOST2=.
func (FTPScript) Relate(v any, a Args) error {
	for _, it := range v.([]any) {
		if _, err := ftpc.ParseStep(it.(string), a.Has("HOST2")); err != nil {
			return scriptError(err)
		}
	}
	return nil
}

func scriptError(err error) error {
	var se *ftpc.StepError
	if errors.As(err, &se) {
		return &MsgError{msgcat.IPN656E(se.Item, se.Reason)}
	}
	return err
}

// Describe implements Type.
func (FTPScript) Describe() string { return scriptList.Describe() }

// Meta implements Type.
func (FTPScript) Meta() string { return scriptList.Meta() }

// Choices implements Type.
func (FTPScript) Choices() []string { return nil }

// CodePage is an EBCDIC code page of TYPE E (037, 1047, 1140; IBM-1047
// and CP1047 forms too); the value is a *ftptype.CodePage.
type CodePage struct{}

// Parse implements Type.
func (CodePage) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "a code page")
	if err != nil {
		return nil, err
	}
	cp, ok := ftptype.LookupCodePage(s)
	if !ok {
		return nil, &WrongType{Value: s, Want: CodePage{}.Describe()}
	}
	return cp, nil
}

// Describe implements Type.
func (CodePage) Describe() string {
	var n []string
	for _, cp := range ftptype.CodePages {
		n = append(n, cp.Name)
	}
	return "an EBCDIC code page: " + strings.Join(n, ", ")
}

// Meta implements Type.
func (CodePage) Meta() string { return "page" }

// Choices implements Type.
func (CodePage) Choices() []string {
	var n []string
	for _, cp := range ftptype.CodePages {
		n = append(n, cp.Name)
	}
	return n
}

// Rate is a rate in bytes a second: a number, or with K, M or G (1,024
// based, as transfer rates are usually given); 0 is no bound. The value is
// an int64.
type Rate struct{}

// Parse implements Type.
func (Rate) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, Rate{}.Describe())
	if err != nil {
		return nil, err
	}
	u, mult := strings.ToUpper(strings.ReplaceAll(s, ",", "")), int64(1)
	for _, x := range []struct {
		suffix string
		m      int64
	}{{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if strings.HasSuffix(u, x.suffix) {
			u, mult = strings.TrimSuffix(u, x.suffix), x.m
			break
		}
	}
	n, perr := strconv.ParseInt(u, 10, 64)
	if perr != nil || n < 0 || n > (1<<40)/mult {
		return nil, &WrongType{Value: s, Want: Rate{}.Describe()}
	}
	return n * mult, nil
}

// Describe implements Type.
func (Rate) Describe() string {
	return "bytes a second, a number or with K, M or G (0: no bound)"
}

// Meta implements Type.
func (Rate) Meta() string { return "rate" }

// Choices implements Type.
func (Rate) Choices() []string { return nil }

// PublicName is a public name of DEFINE FILE, with or without the leading
// slash the product writes ('/PRD2'); the value is the name in upper case.
type PublicName struct{}

// Parse implements Type.
func (PublicName) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, PublicName{}.Describe())
	if err != nil {
		return nil, err
	}
	n, nerr := Name{Max: 32}.Parse(grammar.Value{Text: strings.TrimPrefix(s, "/")})
	if nerr != nil {
		return nil, &WrongType{Value: s, Want: PublicName{}.Describe()}
	}
	return n, nil
}

// Describe implements Type.
func (PublicName) Describe() string { return "a public name of DEFINE FILE (/ before it allowed)" }

// Meta implements Type.
func (PublicName) Meta() string { return "name" }

// Choices implements Type.
func (PublicName) Choices() []string { return nil }

// StoreEndpoint is an etcd member to reach: host:port, the host an address
// or a name; the value is the text in lower case.
type StoreEndpoint struct{}

// Parse implements Type.
func (StoreEndpoint) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, StoreEndpoint{}.Describe())
	if err != nil {
		return nil, err
	}
	host, port, serr := net.SplitHostPort(strings.ToLower(s))
	n, perr := strconv.Atoi(port)
	if serr != nil || perr != nil || n < 1 || n > 65535 || host == "" {
		return nil, &WrongType{Value: s, Want: StoreEndpoint{}.Describe()}
	}
	if _, aerr := netip.ParseAddr(host); aerr != nil && !plainHostName(host) {
		return nil, &WrongType{Value: s, Want: StoreEndpoint{}.Describe()}
	}
	return net.JoinHostPort(host, port), nil
}

// Describe implements Type.
func (StoreEndpoint) Describe() string { return "host:port of an etcd member" }

// Meta implements Type.
func (StoreEndpoint) Meta() string { return "host:port" }

// Choices implements Type.
func (StoreEndpoint) Choices() []string { return nil }

// plainHostName says whether s reads as a DNS host name: letters, digits,
// hyphens and dots, at most 253 characters.
func plainHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
