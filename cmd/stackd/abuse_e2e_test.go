package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// openFDs counts a process's open descriptors.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestHeldSocketsPinNothing: stackd runs under a limit of 1,024
// descriptors; a local process opens 1,100 connections to a USER link's
// forward of an FTP daemon and never reads nor closes them. The daemon
// takes 16 (PERCLIENT=) and ends the others; the gateway ends the host's
// side of those 10 s later (a half-close lingers no longer), and resets at
// once what comes past its share of the descriptors. Meanwhile the
// operator's console answers and another local client downloads; after the
// linger stackd holds no more descriptors than before, less what the
// daemon's 16 sessions keep.
func TestHeldSocketsPinNothing(t *testing.T) {
	testnet.RequireRoot(t) // 127.0.0.3 as a source address, and prlimit on a child
	curl := testnet.RequireTool(t, "curl")
	prlimit := testnet.RequireTool(t, "prlimit")
	pub := helloDir(t, "still served\n")
	port := testnet.HostPorts(t, 21)
	deck := writeDeck(t,
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:21,%d-%d)", port, port+1, port+20),
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		fmt.Sprintf("DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1", port+1, port+20))
	d := startDaemonWith(t, "", []string{prlimit, "--nofile=1024:1024", "--"}, "--deck", deck)
	requireDeckOK(t, d)
	pid := d.cmd.Process.Pid
	before := openFDs(t, pid)

	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	resetAtOnce := 0 // by the gateway, before connect returned
	for i := range 1100 {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if errors.Is(err, syscall.ECONNRESET) {
			resetAtOnce++
			continue
		}
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		held = append(held, c)
	}
	// The console answers while they are held.
	out, rc := runConsole(t, d.socket, "QUERY LINKS,ID=USER1\n")
	if rc != 0 || !strings.Contains(out, "IPN199I") {
		t.Fatalf("the console with 1,100 connections held: rc %d\n%s", rc, out)
	}
	full := sayField(out, "IPN199I", "reset when full")
	if full < 1 {
		t.Errorf("no host connection was reset for want of descriptors:\n%s", out)
	}
	// Another local user is served meanwhile.
	got, err := exec.Command(curl, "-sS", "--max-time", "20", "--interface", "127.0.0.3",
		fmt.Sprintf("ftp://TESTER:T3ster@127.0.0.1:%d/PUB/hello.txt", port)).CombinedOutput()
	if err != nil || string(got) != "still served\n" {
		t.Errorf("curl while 1,100 connections are held: %v\n%s", err, got)
	}
	// Past the linger, the connections the daemon ended are ended on the
	// host too: each held client reads its end.
	time.Sleep(11 * time.Second)
	ended := 0
	for _, c := range held {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		buf := make([]byte, 4096)
		for {
			_, err := c.Read(buf)
			if err == nil {
				continue
			}
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				ended++
			}
			break
		}
	}
	now := openFDs(t, pid)
	if ended < len(held)-16 || now > before+16+8 {
		t.Errorf("after the linger %d of %d held connections were ended (want all but the daemon's 16); stackd holds %d descriptors, %d before", ended, len(held), now, before)
	}
	out = mustConsole(t, d.socket, "QUERY LINKS,ID=USER1\n")
	if sayField(out, "IPN199I", "lingered") < 1 {
		t.Errorf("no carried connection ended after lingering:\n%s", out)
	}
	t.Logf("1,100 opened, %d reset before connect returned: %d reset for want of descriptors, %d ended after the linger; descriptors %d before, %d after", resetAtOnce, full, sayField(out, "IPN199I", "lingered"), before, now)
}
