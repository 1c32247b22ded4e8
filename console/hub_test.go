package console

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/users"
)

func TestEscapeControls(t *testing.T) {
	for in, want := range map[string]string{
		"QUERY LINKS":        "QUERY LINKS",
		"Q\x00LINKS":         `Q\x00LINKS`,
		"a\x1b[2Jb\r\nc\x7f": `a\x1b[2Jb\x0d\x0ac\x7f`,
		`back\slash`:         `back\\slash`,
	} {
		if got := EscapeControls(in); got != want {
			t.Errorf("EscapeControls(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHistoryFileMode: the editor's history is created 0600, and an older
// file is made 0600.
func TestHistoryFileMode(t *testing.T) {
	dir := t.TempDir()
	for _, pre := range []bool{false, true} {
		path := filepath.Join(dir, "hist")
		os.Remove(path)
		if pre {
			if err := os.WriteFile(path, []byte("q links\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, w, _ := os.Pipe()
		out, ow, _ := os.Pipe()
		go io.Copy(io.Discard, out)
		e, err := NewEditor(EditorConfig{Table: command.Commands, HistoryFile: path, Stdin: r, Stdout: ow})
		if err != nil {
			t.Fatal(err)
		}
		// A line read first: the line editor's own goroutines are up
		// before Close (closing it at once races inside it).
		go io.WriteString(w, "q links\n")
		if _, err := e.ReadLine(); err != nil {
			t.Fatal(err)
		}
		e.Close()
		w.Close()
		ow.Close()
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("pre-existing %v: %v %v", pre, st.Mode(), err)
		}
	}
}

// TestHistoryMasksSecrets: lines read by the editor go to the history file
// with every secret-looking value masked.
func TestHistoryMasksSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hist")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, ow, _ := os.Pipe()
	go io.Copy(io.Discard, out)
	e, err := NewEditor(EditorConfig{Table: command.Commands, HistoryFile: path, Stdin: r, Stdout: ow})
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{"define user id=t7,passw=Leak7", "DEFINE USER ID=A,PASSWORD='Leak7 two',CONSOLE=YES", "q links"}
	go func() {
		for _, l := range lines {
			io.WriteString(w, l+"\n")
		}
	}()
	for range lines {
		if _, err := e.ReadLine(); err != nil {
			t.Fatal(err)
		}
	}
	e.Close()
	w.Close()
	ow.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Leak7") || !strings.Contains(string(b), "passw=********") || !strings.Contains(string(b), "q links") {
		t.Fatalf("history:\n%s", b)
	}
}

// TestHubRoutesByClass: a console hears the informational messages of the
// classes it chose (all but SESSION until it chooses), and every warning.
func TestHubRoutesByClass(t *testing.T) {
	hub := newHubFor(nil, nil)
	var mu sync.Mutex
	var heard []string
	c, err := hub.Attach("L", "", "local", users.Full, hearSink{func(l string) { mu.Lock(); heard = append(heard, l[:7]); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Detach()
	say := func() {
		hub.Broadcast(msgcat.IPN402I("FTP01", "U", "127.0.0.1:1"))           // SESSION
		hub.Broadcast(msgcat.IPN414W("FTP01", "127.0.0.1", 10, time.Time{})) // a warning
		hub.Broadcast(msgcat.IPN165I("OSA1", "eth1"))                        // LINK
	}
	wait := func(n int) []string {
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := append([]string(nil), heard...)
			mu.Unlock()
			if len(got) >= n || time.Now().After(deadline) {
				return got
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	say()
	if got := wait(2); strings.Join(got, " ") != "IPN414W IPN165I" {
		t.Fatalf("by default: %v", got)
	}
	m, _ := msgcat.MaskOf(msgcat.ClassSession)
	c.SetHears(m)
	say()
	if got := wait(4); strings.Join(got[2:], " ") != "IPN402I IPN414W" {
		t.Fatalf("SESSION only: %v", got)
	}
}

// TestHardcopyMasksSecrets: a console's input goes to the hardcopy log with
// every secret masked, however the operand was spelt.
func TestHardcopyMasksSecrets(t *testing.T) {
	for _, line := range []string{
		"define user id=t7,password=Leak7",
		"define user id=t7,passwrd=Leak7",
		"DEFINE USER ID=A,PASSWORD='Leak7 two',CONSOLE=YES",
	} {
		var hc syncBuf
		hub := newHubFor(NewHardcopy(&hc, func() time.Time { return time.Unix(0, 0) }), nil)
		c, err := hub.Attach("L", "", "local", users.Full, hearSink{func(string) {}})
		if err != nil {
			t.Fatal(err)
		}
		c.Run(c.Session(), line)
		c.Detach()
		hub.Hardcopy.Flush()
		if s := hc.String(); strings.Contains(s, "Leak7") || !strings.Contains(s, "< "+command.MaskSecrets(line)) {
			t.Errorf("%q: hardcopy\n%s", line, s)
		}
	}
}
