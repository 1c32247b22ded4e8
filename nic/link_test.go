package nic

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/internal/testnet"
	"ipnstack/msgcat"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

type sink struct {
	mu   sync.Mutex
	msgs []string
}

func (k *sink) say(m msgcat.Msg) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.msgs = append(k.msgs, m.String())
}

func (k *sink) has(prefix string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, m := range k.msgs {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serveHTTP runs an HTTP server inside the stack, a server that curl can
// reach.
func serveHTTP(t *testing.T, s *Stack, addr netip.Addr, port uint16) {
	t.Helper()
	ln, err := gonet.ListenTCP(s.NS(), tcpip.FullAddress{Addr: tcpip.AddrFrom4(addr.As4()), Port: port}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from the stack to %s\n", r.RemoteAddr)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func linkState(s *Stack, id string) LinkState {
	for _, l := range s.Links() {
		if l.Config.ID == id {
			return l.State
		}
	}
	return ""
}

// TestRawLink drives a veth end through an AF_PACKET socket: the kernel's
// ping and curl in another namespace reach the stack, the stack's PING
// reaches them, TRACE writes a pcap tshark reads, and the link fails and
// comes back with its interface.
func TestRawLink(t *testing.T) {
	testnet.RequireRoot(t)
	testnet.RequireTool(t, "ping")
	testnet.RequireTool(t, "curl")
	ns := testnet.Netns(t)
	dev, peer := testnet.Veth(t, ns, "10.77.1.2/24")
	k := &sink{}
	s, err := New(Options{Sink: k.say})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := netip.MustParsePrefix("10.77.1.10/24")
	if err := s.DefineLink(LinkConfig{ID: "OSA1", Type: TypeRaw, Dev: dev, Addr: addr}); err != nil {
		t.Fatal(err)
	}
	serveHTTP(t, s, addr.Addr(), 8080)

	// The kernel's ping and a real TCP client from the namespace.
	testnet.Must(t, ns, "ping", "-c", "2", "-W", "2", "10.77.1.10")
	out := testnet.Must(t, ns, "curl", "-sS", "--max-time", "10", "http://10.77.1.10:8080/")
	if !strings.Contains(out, "hello from the stack to 10.77.1.2:") {
		t.Fatalf("curl: %q", out)
	}
	// The neighbour is in the ARP cache, with the MAC it has in the namespace.
	peerMAC := strings.Fields(testnet.Must(t, "", "ip", "-n", ns, "-br", "link", "show", "dev", peer))[2]
	found := false
	for _, n := range s.Neighbors() {
		if n.Addr.String() == "10.77.1.2" && n.MAC == peerMAC && n.Link == "OSA1" {
			found = true
		}
	}
	if !found {
		t.Errorf("ARP cache %+v lacks 10.77.1.2 at %s", s.Neighbors(), peerMAC)
	}
	// The stack's own PING.
	var replies int
	err = s.Ping(context.Background(), netip.MustParseAddr("10.77.1.2"), 2, 56, 2*time.Second, func(e Echo) {
		if e.Reply && e.Bytes == 56 {
			replies++
		}
	})
	if err != nil || replies != 2 {
		t.Fatalf("PING: %d replies, %v", replies, err)
	}
	// A trace of a connection.
	if tshark, err := exec.LookPath("tshark"); err == nil || os.Getenv("CI") != "" {
		pcap := filepath.Join(t.TempDir(), "osa1.pcap")
		if err := s.TraceOn("OSA1", pcap); err != nil {
			t.Fatal(err)
		}
		testnet.Must(t, ns, "curl", "-sS", "--max-time", "10", "http://10.77.1.10:8080/")
		_, packets, err := s.TraceOff("OSA1")
		if err != nil || packets < 6 {
			t.Fatalf("trace: %d packets, %v", packets, err)
		}
		out, err := exec.Command(tshark, "-r", pcap, "-Y", "tcp.flags.syn==1", "-T", "fields",
			"-e", "ip.src", "-e", "ip.dst", "-e", "tcp.flags.ack").Output()
		if err != nil {
			t.Fatalf("tshark: %v %s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "10.77.1.2\t10.77.1.10\t0") ||
			!strings.HasPrefix(lines[1], "10.77.1.10\t10.77.1.2\t1") {
			t.Fatalf("handshake in the trace:\n%s", out)
		}
	}

	// The interface loses carrier: the link fails, and comes back with it.
	testnet.Must(t, "", "ip", "link", "set", dev, "down")
	// The state changes before the message is said: wait for both.
	waitFor(t, "the link to fail and say so", func() bool {
		return linkState(s, "OSA1") == StateFailed && k.has("IPN164W Link OSA1 on "+dev+" failed")
	})
	testnet.Must(t, "", "ip", "link", "set", dev, "up")
	waitFor(t, "the link to recover and say so", func() bool {
		return linkState(s, "OSA1") == StateActive && k.has("IPN165I Link OSA1 on "+dev+" recovered")
	})
	testnet.Must(t, ns, "ping", "-c", "1", "-W", "2", "10.77.1.10")

	// STOP LINK and START LINK.
	if err := s.StopLink("OSA1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Exec(ns, "ping", "-c", "1", "-W", "1", "10.77.1.10"); err == nil {
		t.Error("a stopped link answered ping")
	}
	if err := s.StopLink("OSA1"); err == nil {
		t.Error("STOP of a stopped link")
	}
	if err := s.StartLink("OSA1"); err != nil {
		t.Fatal(err)
	}
	testnet.Must(t, ns, "ping", "-c", "1", "-W", "2", "10.77.1.10")

	// A live connection keeps the link from being deleted.
	c, err := net.DialTimeout("tcp", "127.0.0.1:1", time.Millisecond)
	if err == nil {
		c.Close()
	}
	if err := s.DefineLink(LinkConfig{ID: "OSA2", Type: TypeRaw, Dev: dev, Addr: netip.MustParsePrefix("10.77.9.10/24")}); err == nil {
		t.Error("a second link on the same device")
	}
	if err := s.DefineLink(LinkConfig{ID: "OSA3", Type: TypeRaw, Dev: "ipnnosuchdev", Addr: netip.MustParsePrefix("10.77.9.10/24")}); err == nil {
		t.Error("a link on a device that does not exist")
	}
	if err := s.DeleteLink("OSA1"); err == nil {
		t.Error("deleted a link with a listener on it")
	}
}

func Exec(ns string, args ...string) (string, error) { return testnet.Exec(ns, args...) }
