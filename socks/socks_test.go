package socks

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
)

func TestReadGreeting(t *testing.T) {
	cases := []struct {
		in   []byte
		want []byte
		err  error
	}{
		{[]byte{5, 1, 0}, []byte{0}, nil},
		{[]byte{5, 2, 0, 2}, []byte{0, 2}, nil},
		{[]byte{4, 1, 0}, nil, ErrVersion},
		{[]byte{5, 0}, nil, ErrMalformed},
		{[]byte{5, 3, 0}, nil, io.ErrUnexpectedEOF},
		{[]byte{5}, nil, io.ErrUnexpectedEOF},
		{nil, nil, io.EOF},
	}
	for _, c := range cases {
		got, err := ReadGreeting(bytes.NewReader(c.in))
		if !errors.Is(err, c.err) || !bytes.Equal(got, c.want) {
			t.Errorf("ReadGreeting(%v) = %v, %v; want %v, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestReadUserPass(t *testing.T) {
	in := append(append([]byte{1, 5}, "alice"...), append([]byte{6}, "s3cret"...)...)
	u, p, err := ReadUserPass(bytes.NewReader(in))
	if err != nil || u != "alice" || p != "s3cret" {
		t.Fatalf("%q %q %v", u, p, err)
	}
	if _, _, err := ReadUserPass(bytes.NewReader([]byte{5, 1, 'a'})); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 5 sub-negotiation: %v", err)
	}
	if _, _, err := ReadUserPass(bytes.NewReader([]byte{1, 5, 'a'})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short user: %v", err)
	}
	var b bytes.Buffer
	WriteUserPassStatus(&b, true)
	WriteUserPassStatus(&b, false)
	if !bytes.Equal(b.Bytes(), []byte{1, 0, 1, 1}) {
		t.Fatalf("statuses % x", b.Bytes())
	}
}

func TestReadRequest(t *testing.T) {
	cases := []struct {
		name   string
		in     []byte
		target string
		cmd    byte
		rep    Reply // for a *RequestError
		err    error
	}{
		{"IPv4", []byte{5, 1, 0, 1, 10, 77, 0, 2, 0x1f, 0x90}, "10.77.0.2:8080", CmdConnect, 0, nil},
		{"IPv6", append(append([]byte{5, 1, 0, 4}, netip.MustParseAddr("fd77::2").AsSlice()...), 0, 80), "[fd77::2]:80", CmdConnect, 0, nil},
		{"domain", append(append([]byte{5, 1, 0, 3, 11}, "example.org"...), 1, 187), "example.org:443", CmdConnect, 0, nil},
		{"BIND", []byte{5, 2, 0, 1, 10, 77, 0, 2, 0, 21}, "10.77.0.2:21", CmdBind, 0, nil},
		{"version 4", []byte{4, 1, 0, 1, 10, 77, 0, 2, 0, 21}, "", 0, 0, ErrVersion},
		{"reserved byte", []byte{5, 1, 7, 1, 10, 77, 0, 2, 0, 21}, "", 0, 0, ErrMalformed},
		{"empty name", []byte{5, 1, 0, 3, 0, 0, 21}, "", 0, 0, ErrMalformed},
		{"unknown type", []byte{5, 1, 0, 9, 1, 2}, "", 0, AddrTypeUnsupported, nil},
		{"short", []byte{5, 1, 0, 1, 10, 77}, "", 0, 0, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		q, err := ReadRequest(bytes.NewReader(c.in))
		var re *RequestError
		switch {
		case c.rep != 0:
			if !errors.As(err, &re) || re.Reply != c.rep {
				t.Errorf("%s: %v, want reply %v", c.name, err, c.rep)
			}
		case !errors.Is(err, c.err):
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
		case err == nil && (q.Target() != c.target || q.Cmd != c.cmd):
			t.Errorf("%s: %s cmd %d, want %s cmd %d", c.name, q.Target(), q.Cmd, c.target, c.cmd)
		}
	}
}

func TestWriteReply(t *testing.T) {
	cases := []struct {
		rep  Reply
		bind netip.AddrPort
		want []byte
	}{
		{Succeeded, netip.MustParseAddrPort("10.77.0.10:40000"), []byte{5, 0, 0, 1, 10, 77, 0, 10, 0x9c, 0x40}},
		{GeneralFailure, netip.AddrPort{}, []byte{5, 1, 0, 1, 0, 0, 0, 0, 0, 0}},
		{Succeeded, netip.MustParseAddrPort("[::ffff:10.77.0.10]:21"), []byte{5, 0, 0, 1, 10, 77, 0, 10, 0, 21}},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := WriteReply(&b, c.rep, c.bind); err != nil || !bytes.Equal(b.Bytes(), c.want) {
			t.Errorf("WriteReply(%v, %v) = % x, %v; want % x", c.rep, c.bind, b.Bytes(), err, c.want)
		}
	}
	if s := ConnRefused.String(); s != "connection refused" {
		t.Errorf("%q", s)
	}
}

// FuzzServer feeds arbitrary bytes to the server's reads in the order a
// handshake takes them: no panic, no read beyond what the fields announce,
// and a request read back from its own encoding is the same request.
func FuzzServer(f *testing.F) {
	f.Add([]byte{5, 1, 0, 5, 1, 0, 1, 10, 77, 0, 2, 0, 80})
	f.Add([]byte{5, 1, 2, 1, 1, 'a', 1, 'b', 5, 1, 0, 3, 3, 'a', '.', 'b', 0, 80})
	f.Add([]byte{5, 1, 0, 5, 1, 0, 4, 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 21})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		methods, err := ReadGreeting(r)
		if err != nil {
			return
		}
		if len(methods) == 0 || len(methods) > 255 {
			t.Fatalf("%d methods", len(methods))
		}
		for _, m := range methods {
			if m == MethodUserPass {
				if _, _, err := ReadUserPass(r); err != nil {
					return
				}
				break
			}
		}
		q, err := ReadRequest(r)
		if err != nil {
			return
		}
		if q.Domain == "" && !q.Addr.IsValid() {
			t.Fatal("a request with neither address nor name")
		}
		if q.Domain == "" {
			var b bytes.Buffer
			WriteReply(&b, Succeeded, netip.AddrPortFrom(q.Addr, q.Port))
			enc := b.Bytes()
			enc[1] = q.Cmd // a reply is laid out as a request
			back, err := ReadRequest(bytes.NewReader(enc))
			if err != nil || back.Addr.Unmap() != q.Addr.Unmap() || back.Port != q.Port {
				t.Fatalf("%+v read back as %+v (%v)", q, back, err)
			}
		}
	})
}
