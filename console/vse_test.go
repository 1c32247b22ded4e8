package console

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// TestVSELook: in the VSE look a console reads as the VSE system console of
// the verified transcript: MSG F7 is answered by the attention routine and
// the stack's prompt with a reply id, the reply runs the command and its
// lines carry the command task's 0100, as in the verified transcript; MSG
// F7,DATA= and a bare command run at once and take no reply id; a wrong
// partition or reply id is refused; unsolicited lines carry 0000.
func TestVSELook(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	exec := funcExec(func(_ context.Context, req *command.Request, out command.Out) {
		out.Say(msgcat.IPN127I(32768, 65535))
	})
	var hc syncBuf
	hub := newHubFor(NewHardcopy(&hc, func() time.Time { return time.Unix(0, 0) }), exec)
	c, err := hub.Attach("L", "", "local", users.Full, hearSink{func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Detach()
	c.SetLook(true, "F7")
	for _, step := range []struct {
		in   string
		want []string
	}{
		{"msg f7", []string{"AR 0015 1I40I  READY", "F7-0001 IPN300I Enter TCP/IP Command"}},
		{"msg F7", []string{"AR 0015 1I40I  READY", "F7-0001 IPN300I Enter TCP/IP Command"}}, // still the same reply
		// A reply typed by its id is not echoed: the operator's line is.
		{"1 portrange low=32768,high=65535", []string{"F7 0100 IPN127I Port range changed to 32,768 65,535"}},
		{"1 portrange low=32768,high=65535", []string{"F7 0100 IPN260E No reply 0001 is outstanding: MSG asks for a command"}},
		{"msg bg", []string{"AR 0015 1I40I  READY", "F7 0100 IPN259E MSG BG: the stack's partition here is F7"}},
		{"msg f7,data=portrange low=32768,high=65535", []string{"AR 0015 1I40I  READY", "F7 0100 IPN237I portrange low=32768,high=65535", "F7 0100 IPN127I Port range changed to 32,768 65,535"}},
		{"msg f7", []string{"AR 0015 1I40I  READY", "F7-0002 IPN300I Enter TCP/IP Command"}},
		{"0002 portrange low=32768,high=65535", []string{"F7 0100 IPN127I Port range changed to 32,768 65,535"}},
		// The attention routine's and POWER's commands are VSE's.
		{"STATUS 0D00", []string{"AR 0015 IPN263E STATUS is a command of VSE's attention routine or POWER, not of the TCP/IP partition"}},
		{"r rdr,tcpip00", []string{"AR 0015 IPN263E R is a command of VSE's attention routine or POWER, not of the TCP/IP partition"}},
		{"portrange low=32768,high=65535", []string{"F7 0100 IPN237I portrange low=32768,high=65535", "F7 0100 IPN127I Port range changed to 32,768 65,535"}},
		{"* a comment", nil},
	} {
		mu.Lock()
		lines = nil
		mu.Unlock()
		c.Run(c.Session(), step.in)
		mu.Lock()
		got := append([]string(nil), lines...)
		mu.Unlock()
		if strings.Join(got, "\n") != strings.Join(step.want, "\n") {
			t.Fatalf("%q:\ngot  %q\nwant %q", step.in, got, step.want)
		}
	}
	mu.Lock()
	lines = nil
	mu.Unlock()
	hub.Broadcast(msgcat.IPN164W("OSA1", "eth1", "gone"))
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), lines...)
		mu.Unlock()
		if len(got) == 1 {
			if got[0] != "F7 0000 IPN164W Link OSA1 on eth1 failed: gone" {
				t.Fatalf("unsolicited: %q", got[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no unsolicited line")
		}
		time.Sleep(5 * time.Millisecond)
	}
	hub.Hardcopy.Flush()
	for _, want := range []string{"> IPN300I Enter TCP/IP Command", "> IPN259E MSG BG", "> IPN260E No reply 0001", "> IPN127I Port range"} {
		if !strings.Contains(hc.String(), want) {
			t.Errorf("the hardcopy log has no %q, in the plain form:\n%s", want, hc.String())
		}
	}
	c.SetLook(false, "")
	mu.Lock()
	lines = nil
	mu.Unlock()
	c.Run(c.Session(), "portrange low=32768,high=65535")
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 2 || lines[0] != "IPN237I portrange low=32768,high=65535" {
		t.Fatalf("plain again: %q", lines)
	}
}

// TestPlainLookMSG: MSG works in the plain look too, so that a deck
// written for VSE runs on any console.
func TestPlainLookMSG(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	exec := funcExec(func(_ context.Context, req *command.Request, out command.Out) {
		out.Say(msgcat.IPN127I(32768, 65535))
	})
	hub := newHubFor(nil, exec)
	c, err := hub.Attach("L", "", "local", users.Full, hearSink{func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Detach()
	for _, step := range []struct {
		in   string
		want string
	}{
		{"msg f7", "IPN300I Enter TCP/IP Command"},
		{"MSG F7,DATA=PORTRANGE LOW=32768,HIGH=65535", "IPN237I PORTRANGE LOW=32768,HIGH=65535\nIPN127I Port range changed to 32,768 65,535"},
	} {
		mu.Lock()
		lines = nil
		mu.Unlock()
		c.Run(c.Session(), step.in)
		mu.Lock()
		got := strings.Join(lines, "\n")
		mu.Unlock()
		if got != step.want {
			t.Fatalf("%q:\ngot  %q\nwant %q", step.in, got, step.want)
		}
	}
}
