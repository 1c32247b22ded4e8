package ftpd

import (
	"io/fs"
	"testing"
	"time"
)

func TestFacts(t *testing.T) {
	mt := time.Date(2026, 11, 22, 1, 30, 32, 0, time.FixedZone("X", 3600))
	f := entry{name: "a b.txt", size: 42, mtime: mt, mode: 0o644, unique: "801g2a"}
	d := entry{name: "sub", dir: true, mtime: mt, mode: fs.ModeDir | 0o755, unique: "801g2b"}
	cases := []struct {
		e    entry
		kind string
		mask int
		rt   rights
		want string
	}{
		{f, "", factAll, rights{write: true}, "type=file;size=42;modify=20261122003032;perm=radfw;unique=801g2a; a b.txt"},
		{f, "", factAll, rights{}, "type=file;size=42;modify=20261122003032;perm=r;unique=801g2a; a b.txt"},
		{d, "", factAll, rights{createNew: true}, "type=dir;modify=20261122003032;perm=elcm;unique=801g2b; sub"},
		{d, "cdir", factType | factPerm, rights{write: true}, "type=cdir;perm=elcdfmp; sub"},
		{f, "", parseFacts("Size;TYPE;bogus"), rights{}, "type=file;size=42; a b.txt"},
	}
	for _, c := range cases {
		if got := string(appendFacts(nil, c.e, c.kind, c.mask, c.rt, c.e.name)); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	if got := factList(factType|factSize, true); got != "type*;size*;modify;perm;unique;" {
		t.Errorf("FEAT facts %q", got)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	line := string(appendLIST(nil, entry{name: "x", size: 7, mtime: now.Add(-time.Hour), mode: 0o640}, now))
	if line != "-rw-r----- 1 vse      vse                 7 Nov 22 11:00 x" {
		t.Errorf("LIST %q", line)
	}
	line = string(appendLIST(nil, entry{name: "old", dir: true, mtime: now.AddDate(-2, 0, 0), mode: fs.ModeDir | 0o755}, now))
	if line != "drwxr-xr-x 1 vse      vse                 0 Nov 22  2024 old" {
		t.Errorf("LIST %q", line)
	}
}

func TestReplyFormat(t *testing.T) {
	cases := []struct {
		code int
		sep  byte
		text string
		args []any
		want string
	}{
		{257, ' ', "{qpath} created", []any{quotePath(`/a "b"`)}, "257 \"/a \"\"b\"\"\" created\r\n"},
		{550, ' ', "{path}: no", []any{"evil\r\n226 ok"}, "550 evil  226 ok: no\r\n"},
		{213, ' ', "{size}", []any{int64(12345)}, "213 12345\r\n"},
		{211, '-', "Features:", nil, "211-Features:\r\n"},
		{550, ' ', "{path}: x", []any{"a\xffb"}, "550 a\xff\xffb: x\r\n"},
		{425, ' ', "No data port free in {low}-{high}: try again later", []any{uint16(5), uint16(6)}, "425 No data port free in 5-6: try again later\r\n"},
	}
	for _, c := range cases {
		if got := string(appendReply(nil, c.code, c.sep, c.text, c.args...)); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	if template("Restarting at {offset}: send") != "Restarting at <offset>: send" {
		t.Error("template")
	}
}
