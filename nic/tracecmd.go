package nic

import "time"

// ErrTraceOn says a trace is already being written for the link.
type ErrTraceOn struct{ Link, File string }

func (e *ErrTraceOn) Error() string { return "link " + e.Link + " is already traced to " + e.File }

// ErrTraceOff says no trace is being written for the link.
type ErrTraceOff struct{ Link string }

func (e *ErrTraceOff) Error() string { return "link " + e.Link + " is not traced" }

// ErrTraceFile says the trace file could not be written.
type ErrTraceFile struct{ File, Reason string }

func (e *ErrTraceFile) Error() string { return e.File + ": " + e.Reason }

// TraceOn starts writing the link's packets to a pcap file (created or
// truncated; tshark and Wireshark read it).
func (s *Stack) TraceOn(link, file string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[link]
	if !ok {
		return &ErrNoLink{link}
	}
	if l.trace != "" {
		return &ErrTraceOn{link, l.trace}
	}
	if l.ep == nil {
		return &ErrNotMapped{link, l.cfg.devices()}
	}
	w, err := openPcap(file, s.clock)
	if err != nil {
		return &ErrTraceFile{file, pathErr(err)}
	}
	l.trace = file
	l.ep.trace.Store(w)
	return nil
}

// TraceOff stops the link's trace and closes the file; it gives the number
// of packets written.
func (s *Stack) TraceOff(link string) (file string, packets uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[link]
	if !ok {
		return "", 0, &ErrNoLink{link}
	}
	if l.trace == "" {
		return "", 0, &ErrTraceOff{link}
	}
	file = l.trace
	packets, werr := s.stopTraceLocked(l)
	if werr != nil {
		return file, packets, &ErrTraceFile{file, pathErr(werr)}
	}
	return file, packets, nil
}

func (s *Stack) stopTraceLocked(l *Link) (uint64, error) {
	if l.ep == nil { // waits for its device: never traced
		return 0, nil
	}
	w := l.ep.trace.Swap(nil)
	l.trace = ""
	if w == nil {
		return 0, nil
	}
	return w.close()
}

// TraceInfo is one running trace, as QUERY TRACES shows it.
type TraceInfo struct {
	Link, File string
	Since      time.Time
	Packets    uint64
}

// Traces lists the running traces in link order.
func (s *Stack) Traces() []TraceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TraceInfo
	for _, l := range s.sortedLinksLocked() {
		if l.trace == "" || l.ep == nil {
			continue
		}
		w := l.ep.trace.Load()
		if w == nil {
			continue
		}
		out = append(out, TraceInfo{Link: l.cfg.ID, File: l.trace, Since: w.since, Packets: w.count()})
	}
	return out
}
