package conn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"ipnstack/internal/testnet"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// connPair is a connection of the table and its peer's end.
func connPair(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	tb, _ := newTable(t, 40100, 40109)
	ln, err := tb.Listen("SRV", netip.AddrPortFrom(lo, 7100))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(got)
			return
		}
		got <- c
	}()
	c, err := tb.Dial(context.Background(), "CLI", netip.Addr{}, netip.AddrPortFrom(lo, 7100))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	peer, ok := <-got
	if !ok {
		t.Fatal("no connection accepted")
	}
	t.Cleanup(func() { peer.Close() })
	return c, peer
}

// TestSendFile covers a download from a file straight into netstack: whole
// files, a limit (the pieces ftpd sends), the offset left after the last
// byte sent, and bytes counted in the table.
func TestSendFile(t *testing.T) {
	data := make([]byte, 3<<20+123)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		start  int64
		pieces []int64 // SendFile sizes; none: the whole file
	}{
		{name: "whole file"},
		{name: "from an offset", start: 1<<20 + 7},
		{name: "pieces", pieces: []int64{1 << 20, 1 << 20, 1 << 20, 1 << 20}},
		{name: "a piece past the end", start: 3 << 20, pieces: []int64{1 << 20}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, peer := connPair(t)
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(tc.start, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			want := data[tc.start:]
			recv := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(peer)
				recv <- b
			}()
			var sent int64
			if tc.pieces == nil {
				sent, err = c.SendFile(f, -1)
			}
			for _, p := range tc.pieces {
				k, err := c.SendFile(f, p)
				if err != nil {
					t.Fatal(err)
				}
				if want := min(p, int64(len(data))-(tc.start+sent)); k != want {
					t.Fatalf("a piece of %d sent %d, want %d", p, k, want)
				}
				sent += k
			}
			if err != nil {
				t.Fatal(err)
			}
			if off, _ := f.Seek(0, io.SeekCurrent); off != int64(len(data)) {
				t.Errorf("file offset %d after sending, want %d", off, len(data))
			}
			c.Close()
			b := <-recv
			if sent != int64(len(want)) || !bytes.Equal(b, want) {
				t.Fatalf("sent %d, received %d bytes, equal %v; want %d", sent, len(b), bytes.Equal(b, want), len(want))
			}
			if out := c.e.out.Load(); out != uint64(len(want)) {
				t.Errorf("table counts %d bytes out, want %d", out, len(want))
			}
		})
	}
}

// TestSendFileEnds covers a download that cannot finish: a file cut short
// while it is sent fails with a read error of that file (not a network
// error, and not a wait for bytes that never come), a peer that does not
// read runs into the write deadline, and a close from elsewhere (ABOR)
// ends the send.
func TestSendFileEnds(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, make([]byte, 64<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("file cut short", func(t *testing.T) {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		p := &filePayload{f: f, off: 0, left: 64<<20 + 1} // one byte more than there is
		b := make([]byte, 128<<20)
		n, err := p.Read(b)
		var pe *fs.PathError
		if n != 64<<20 || !errors.As(err, &pe) || pe.Path != name || !errors.Is(err, errFileShrank) {
			t.Fatalf("read %d, %v; want %d and the file's error", n, err, 64<<20)
		}
	})
	t.Run("write deadline", func(t *testing.T) {
		c, _ := connPair(t) // the peer reads nothing
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.SendFile(f, -1)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("sent %d: %v, want the deadline", n, err)
		}
		if off, _ := f.Seek(0, io.SeekCurrent); off != n {
			t.Errorf("file offset %d, want %d (the bytes sent)", off, n)
		}
	})
	t.Run("closed while sending", func(t *testing.T) {
		c, _ := connPair(t)
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		done := make(chan error, 1)
		go func() { _, err := c.SendFile(f, -1); done <- err }()
		// The peer reads nothing: once bytes have gone out the send
		// buffer fills and the send waits for room that never comes.
		if !testnet.Until(5*time.Second, func() bool { return c.e.out.Load() > 0 }) {
			t.Fatal("nothing was sent")
		}
		c.Close()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("a closed connection sent the whole file")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the send did not end when the connection closed")
		}
	})
}
