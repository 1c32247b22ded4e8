// Package socks is the server side of the SOCKS version 5 protocol: the
// method negotiation and CONNECT request of RFC 1928 and the
// username/password sub-negotiation of RFC 1929. It reads and writes the
// messages only; what to connect to, and how, is the caller's.
//
// It is written here rather than taken from a library: the reachable Go
// SOCKS servers are either not served by the module registry this project
// builds from (things-go/go-socks5, txthinking/socks5) or unmaintained
// since 2016 (armon/go-socks5), and golang.org/x/net/proxy is a client. The
// layer is small (four messages), every read is bounded by the message's own
// length fields, and FuzzServer feeds it arbitrary bytes.
package socks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// Version is the protocol version byte of every SOCKS 5 message.
const Version = 5

// Methods of authentication (RFC 1928 §3).
const (
	MethodNone         byte = 0x00
	MethodUserPass     byte = 0x02
	MethodNoAcceptable byte = 0xff
)

// Commands of a request (RFC 1928 §4).
const (
	CmdConnect   byte = 0x01
	CmdBind      byte = 0x02
	CmdAssociate byte = 0x03
)

// Address types (RFC 1928 §5).
const (
	AtypIPv4   byte = 0x01
	AtypDomain byte = 0x03
	AtypIPv6   byte = 0x04
)

// Reply is the REP field of a reply (RFC 1928 §6).
type Reply byte

// The replies.
const (
	Succeeded           Reply = 0x00
	GeneralFailure      Reply = 0x01
	NotAllowed          Reply = 0x02
	NetUnreachable      Reply = 0x03
	HostUnreachable     Reply = 0x04
	ConnRefused         Reply = 0x05
	TTLExpired          Reply = 0x06
	CmdNotSupported     Reply = 0x07
	AddrTypeUnsupported Reply = 0x08
)

var replyText = map[Reply]string{
	Succeeded: "succeeded", GeneralFailure: "general SOCKS server failure", NotAllowed: "connection not allowed by ruleset",
	NetUnreachable: "network unreachable", HostUnreachable: "host unreachable", ConnRefused: "connection refused",
	TTLExpired: "TTL expired", CmdNotSupported: "command not supported", AddrTypeUnsupported: "address type not supported",
}

func (r Reply) String() string {
	if s, ok := replyText[r]; ok {
		return s
	}
	return fmt.Sprintf("reply %#02x", byte(r))
}

// ErrVersion says a message did not start with version 5 (or, for RFC
// 1929, its sub-negotiation version 1).
var ErrVersion = errors.New("not SOCKS version 5")

// ErrMalformed says a message's fields are not what the RFC allows.
var ErrMalformed = errors.New("malformed SOCKS message")

// ReadGreeting reads the client's version/method selection message and
// gives the methods it offers.
func ReadGreeting(r io.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	if h[0] != Version {
		return nil, ErrVersion
	}
	if h[1] == 0 {
		return nil, fmt.Errorf("%w: no method offered", ErrMalformed)
	}
	methods := make([]byte, h[1])
	if _, err := io.ReadFull(r, methods); err != nil {
		return nil, err
	}
	return methods, nil
}

// WriteMethod writes the server's method selection.
func WriteMethod(w io.Writer, method byte) error {
	_, err := w.Write([]byte{Version, method})
	return err
}

// ReadUserPass reads an RFC 1929 username/password request.
func ReadUserPass(r io.Reader) (user, pass string, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", "", err
	}
	if h[0] != 0x01 {
		return "", "", ErrVersion
	}
	u := make([]byte, h[1])
	if _, err := io.ReadFull(r, u); err != nil {
		return "", "", err
	}
	var n [1]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", "", err
	}
	p := make([]byte, n[0])
	if _, err := io.ReadFull(r, p); err != nil {
		return "", "", err
	}
	return string(u), string(p), nil
}

// WriteUserPassStatus writes the RFC 1929 status: 0 for success.
func WriteUserPassStatus(w io.Writer, ok bool) error {
	status := byte(0x01)
	if ok {
		status = 0x00
	}
	_, err := w.Write([]byte{0x01, status})
	return err
}

// Request is a client's request: a command and its destination, given as
// an address or as a domain name.
type Request struct {
	Cmd    byte
	Addr   netip.Addr // the destination address; invalid when a name is given
	Domain string     // the destination name (ATYP 3)
	Port   uint16
}

// Target gives the destination as text: addr:port or name:port.
func (q Request) Target() string {
	if q.Domain != "" {
		return fmt.Sprintf("%s:%d", q.Domain, q.Port)
	}
	return netip.AddrPortFrom(q.Addr, q.Port).String()
}

// RequestError is a request the server must answer with a failure reply:
// Reply says which.
type RequestError struct {
	Reply Reply
	Err   error
}

func (e *RequestError) Error() string { return e.Reply.String() + ": " + e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// ReadRequest reads a request. An address type it does not know is a
// *RequestError with AddrTypeUnsupported, after which the connection
// cannot be read on (the address's length is unknown).
func ReadRequest(r io.Reader) (Request, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Request{}, err
	}
	if h[0] != Version {
		return Request{}, ErrVersion
	}
	if h[2] != 0 {
		return Request{}, fmt.Errorf("%w: reserved byte %#02x", ErrMalformed, h[2])
	}
	q := Request{Cmd: h[1]}
	switch h[3] {
	case AtypIPv4:
		var a [4]byte
		if _, err := io.ReadFull(r, a[:]); err != nil {
			return Request{}, err
		}
		q.Addr = netip.AddrFrom4(a)
	case AtypIPv6:
		var a [16]byte
		if _, err := io.ReadFull(r, a[:]); err != nil {
			return Request{}, err
		}
		q.Addr = netip.AddrFrom16(a)
	case AtypDomain:
		var n [1]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return Request{}, err
		}
		if n[0] == 0 {
			return Request{}, fmt.Errorf("%w: empty domain name", ErrMalformed)
		}
		d := make([]byte, n[0])
		if _, err := io.ReadFull(r, d); err != nil {
			return Request{}, err
		}
		q.Domain = string(d)
	default:
		return Request{}, &RequestError{AddrTypeUnsupported, fmt.Errorf("address type %#02x", h[3])}
	}
	var p [2]byte
	if _, err := io.ReadFull(r, p[:]); err != nil {
		return Request{}, err
	}
	q.Port = binary.BigEndian.Uint16(p[:])
	return q, nil
}

// WriteReply writes a reply; bind is the server's local address of the
// connection it made (the zero value for a failure: 0.0.0.0:0).
func WriteReply(w io.Writer, rep Reply, bind netip.AddrPort) error {
	a := bind.Addr().Unmap()
	b := []byte{Version, byte(rep), 0}
	switch {
	case a.Is6():
		b = append(b, AtypIPv6)
		s := a.As16()
		b = append(b, s[:]...)
	case a.Is4():
		b = append(b, AtypIPv4)
		s := a.As4()
		b = append(b, s[:]...)
	default:
		b = append(b, AtypIPv4, 0, 0, 0, 0)
	}
	b = binary.BigEndian.AppendUint16(b, bind.Port())
	_, err := w.Write(b)
	return err
}
