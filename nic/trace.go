package nic

import (
	"bufio"
	"encoding/binary"
	"os"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The pcap file format is two fixed headers (a file header and a record
// header per packet), so it is written here rather than pulling in a packet
// library for it. Records hold raw IPv4 packets (LINKTYPE_RAW), which is what
// a stack sees; ARP frames are not traced.
const (
	pcapMagic    = 0xa1b2c3d4 // microsecond timestamps
	pcapLinkRaw  = 101        // LINKTYPE_RAW: the record starts with the IP header
	pcapSnapLen  = 262144     // enough for a 64 KiB GSO segment and more
	pcapFileHdr  = 24
	pcapRecHdr   = 16
	traceBufSize = 256 * 1024
)

// pcapWriter writes one link's packets to a pcap file.
type pcapWriter struct {
	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	clock   func() time.Time
	packets uint64
	err     error
	since   time.Time // when the trace began
}

// openPcap creates (or truncates) path and writes the file header.
func openPcap(path string, clock func() time.Time) (*pcapWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	w := &pcapWriter{f: f, w: bufio.NewWriterSize(f, traceBufSize), clock: clock, since: clock()}
	var h [pcapFileHdr]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(h[20:], pcapLinkRaw)
	if _, err := w.w.Write(h[:]); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// packet records one packet; inbound packets have not been parsed yet, so
// their link header (if any) is skipped by length either way.
func (w *pcapWriter) packet(protocol tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer, inbound bool) {
	if protocol != header.IPv4ProtocolNumber && protocol != header.IPv6ProtocolNumber {
		return
	}
	v := pkt.ToView()
	defer v.Release()
	b := v.AsSlice()
	if n := len(pkt.LinkHeader().Slice()); n <= len(b) {
		b = b[n:]
	}
	if len(b) == 0 {
		return
	}
	now := w.clock()
	incl := len(b)
	if incl > pcapSnapLen {
		incl = pcapSnapLen
	}
	var h [pcapRecHdr]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(now.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(now.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], uint32(incl))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(b)))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	if _, err := w.w.Write(h[:]); err != nil {
		w.err = err
		return
	}
	if _, err := w.w.Write(b[:incl]); err != nil {
		w.err = err
		return
	}
	w.packets++
}

// count is the number of packets written so far.
func (w *pcapWriter) count() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.packets
}

// close flushes and closes the file; it reports the packets written and the
// first write error, if any.
func (w *pcapWriter) close() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ferr := w.w.Flush()
	cerr := w.f.Close()
	if w.err == nil {
		w.err = ferr
	}
	if w.err == nil {
		w.err = cerr
	}
	return w.packets, w.err
}
