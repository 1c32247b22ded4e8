// Package xferlog writes the transfer log: one line per file moved by the
// stack's FTP daemons, HTTP daemons and FTP client, in the xferlog format
// of wu-ftpd and vsftpd (which FTP administrators' tools read) or as JSON
// lines. It is a leaf: the servers hand it Records.
package xferlog

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Record is one file moved.
type Record struct {
	End      time.Time      // when the transfer ended
	Duration time.Duration  // how long it took
	Service  string         // "FTPD FTP01", "HTTPD WEB1", "FTPC"
	Client   netip.AddrPort // the other end (the server, for the FTP client)
	User     string         // "" for none (HTTP)
	Anon     bool           // an anonymous login
	File     string         // the path as the client named it
	Bytes    int64
	Upload   bool // into the stack (STOR, the client's GET)
	ASCII    bool // TYPE A (or E): converted; else binary
	Complete bool
	TLS      bool // the data went encrypted
}

// Format is how lines are written.
type Format int

// The formats.
const (
	Xferlog Format = iota // wu-ftpd's and vsftpd's xferlog
	JSON                  // one JSON object a line
)

// ParseFormat reads a format's name: "xferlog" or "json".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "xferlog":
		return Xferlog, nil
	case "json":
		return JSON, nil
	}
	return 0, fmt.Errorf("transfer log format %q is not xferlog or json", s)
}

// Log writes records to w, one line each; it is safe for concurrent use.
type Log struct {
	mu     sync.Mutex
	w      io.Writer
	format Format
}

// New makes a log writing to w in format f.
func New(w io.Writer, f Format) *Log { return &Log{w: w, format: f} }

// Write writes one record.
func (l *Log) Write(r Record) {
	var line string
	if l.format == JSON {
		line = jsonLine(r)
	} else {
		line = xferLine(r)
	}
	l.mu.Lock()
	io.WriteString(l.w, line)
	l.mu.Unlock()
}

// xferLine is the xferlog line: current-time transfer-time remote-host
// file-size filename transfer-type special-action-flag direction
// access-mode username service-name authentication-method
// authenticated-user-id completion-status.
func xferLine(r Record) string {
	secs := int64(r.Duration.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1 // as vsftpd: a transfer takes at least a second
	}
	typ, dir, mode, status := "b", "o", "r", "i"
	if r.ASCII {
		typ = "a"
	}
	if r.Upload {
		dir = "i"
	}
	if r.Anon {
		mode = "a"
	}
	if r.Complete {
		status = "c"
	}
	user := r.User
	if user == "" {
		user = "*"
	}
	service := "ftp"
	if strings.HasPrefix(r.Service, "HTTPD") {
		service = "http"
	}
	return fmt.Sprintf("%s %d %s %d %s %s _ %s %s %s %s 0 * %s\n",
		r.End.Format("Mon Jan _2 15:04:05 2006"), secs, r.Client.Addr().Unmap(), r.Bytes,
		strings.Map(noBlank, r.File), typ, dir, mode, strings.Map(noBlank, user), service, status)
}

// noBlank keeps a field one word, as vsftpd writes a file name with
// blanks.
func noBlank(c rune) rune {
	if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
		return '_'
	}
	return c
}

func jsonLine(r Record) string {
	b, _ := json.Marshal(struct {
		Time     string  `json:"time"`
		Seconds  float64 `json:"seconds"`
		Service  string  `json:"service"`
		Client   string  `json:"client"`
		User     string  `json:"user,omitempty"`
		Anon     bool    `json:"anonymous,omitempty"`
		File     string  `json:"file"`
		Bytes    int64   `json:"bytes"`
		Dir      string  `json:"direction"`
		Type     string  `json:"type"`
		Complete bool    `json:"complete"`
		TLS      bool    `json:"tls"`
	}{r.End.UTC().Format(time.RFC3339Nano), r.Duration.Seconds(), r.Service, r.Client.String(), r.User, r.Anon, r.File, r.Bytes,
		map[bool]string{true: "in", false: "out"}[r.Upload], map[bool]string{true: "ascii", false: "binary"}[r.ASCII], r.Complete, r.TLS})
	return string(b) + "\n"
}
