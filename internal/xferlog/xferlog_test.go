package xferlog

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestLines(t *testing.T) {
	end := time.Date(2026, 12, 7, 3, 4, 5, 0, time.UTC)
	r := Record{End: end, Duration: 2400 * time.Millisecond, Service: "FTPD FTP01", Client: netip.MustParseAddrPort("127.0.0.1:40001"),
		User: "TESTER", File: "/PUB/a file.txt", Bytes: 1234, Complete: true, TLS: true}
	var b strings.Builder
	New(&b, Xferlog).Write(r)
	r.Upload, r.ASCII, r.Complete, r.Anon, r.User, r.Duration = true, true, false, true, "anonymous", 0
	New(&b, Xferlog).Write(r)
	New(&b, JSON).Write(r)
	want := []string{
		"Mon Dec  7 03:04:05 2026 2 127.0.0.1 1234 /PUB/a_file.txt b _ o r TESTER ftp 0 * c",
		"Mon Dec  7 03:04:05 2026 1 127.0.0.1 1234 /PUB/a_file.txt a _ i a anonymous ftp 0 * i",
		`{"time":"2026-12-07T03:04:05Z","seconds":0,"service":"FTPD FTP01","client":"127.0.0.1:40001","user":"anonymous","anonymous":true,"file":"/PUB/a file.txt","bytes":1234,"direction":"in","type":"ascii","complete":false,"tls":true}`,
	}
	if got := strings.Split(strings.TrimSpace(b.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := ParseFormat("csv"); err == nil {
		t.Fatal("csv taken")
	}
}
