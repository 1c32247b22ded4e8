package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// TestPulseTime: SET PULSE_TIME=1 makes the stack probe an idle connection
// (a kernel client's FTP session over a RAW link): the probes, and the
// kernel's answers, are in the link's TRACE; QUERY STATISTICS shows it.
func TestPulseTime(t *testing.T) {
	testnet.RequireRoot(t)
	tshark := testnet.RequireTool(t, "tshark")
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.81.2/24")
	pub, ro := ftpDirs(t)
	d := startDeck(t, strings.Join([]string{
		"DEFINE LINK ID=OSAK,TYPE=RAW,DEV=" + dev + ",IPADDR=10.77.81.10,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=PUB,DLBL=" + pub + ",READONLY=NO",
		"DEFINE USER ID=" + ftpUser + ",PASSWORD='" + ftpPass + "'",
		"DEFINE FTPD ID=FTPK,PORT=21,DATAPORTS=(40000,40019)",
	}, "\n"))
	s := &ftpSite{d: d, id: "FTPK", ns: ns, host: "10.77.81.10", port: 21, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}
	out := mustConsole(t, d.socket, "SET PULSE_TIME=1\nQUERY STATISTICS\n")
	if !strings.Contains(out, "IPN138I TCP keepalive on: PULSE_TIME 00:00:01") || !strings.Contains(out, "IPN159I TCP keepalive (PULSE_TIME): 1 s") {
		t.Fatalf("SET PULSE_TIME:\n%s", out)
	}
	pcap := filepath.Join(t.TempDir(), "osak.pcap")
	mustConsole(t, d.socket, "TRACE ON,LINKID=OSAK,FILE="+pcap+"\n")
	h := holdSession(t, s) // logged in, then silent
	time.Sleep(3500 * time.Millisecond)
	mustConsole(t, d.socket, "TRACE OFF,LINKID=OSAK\n")
	h.quit(t)
	fields, err := exec.Command(tshark, "-r", pcap, "-Y", "tcp.analysis.keep_alive && ip.src==10.77.81.10 && tcp.srcport==21",
		"-T", "fields", "-e", "frame.time_relative").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if n := len(strings.Fields(string(fields))); n < 2 {
		t.Fatalf("%d keepalive probes from the stack in 3.5 s idle at PULSE_TIME=1 (want 2 or more):\n%s", n, fields)
	}
}
