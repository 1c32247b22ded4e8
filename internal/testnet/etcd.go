package testnet

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Etcd is a store of n members (Debian's etcd) on 127.0.0.1 for a test:
// each member's client and peer ports proved free on the host, its data in
// the test's directory; every member is killed when the test ends, and a
// member left by a test process that died is killed by the next sweep.
type Etcd struct {
	t       testing.TB
	bin     string
	dir     string
	names   []string
	clients []string // host:port
	peers   []string // http://host:port
	mu      sync.Mutex
	procs   []*exec.Cmd
	done    []chan struct{} // closed when member i's process has ended
	logs    []*SyncBuffer
}

// StartEtcd starts an etcd cluster of n members and waits until it
// answers.
func StartEtcd(t testing.TB, n int) *Etcd {
	t.Helper()
	Sweep()
	e := &Etcd{t: t, bin: RequireTool(t, "etcd"), dir: t.TempDir()}
	base := HostPorts(t, 2*n)
	var cluster []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("e%d", i)
		e.names = append(e.names, name)
		e.clients = append(e.clients, fmt.Sprintf("127.0.0.1:%d", base+2*i))
		e.peers = append(e.peers, fmt.Sprintf("http://127.0.0.1:%d", base+2*i+1))
		cluster = append(cluster, name+"="+e.peers[i])
	}
	e.procs = make([]*exec.Cmd, n)
	e.done = make([]chan struct{}, n)
	e.logs = make([]*SyncBuffer, n)
	for i := range e.names {
		e.start(i, strings.Join(cluster, ","))
	}
	t.Cleanup(func() {
		for i := range e.names {
			e.Kill(i)
		}
		if t.Failed() {
			for i, l := range e.logs {
				if l != nil {
					t.Logf("etcd %s (last lines):\n%s", e.names[i], tail(l.String(), 20))
				}
			}
		}
	})
	e.WaitReady(0, 20*time.Second)
	return e
}

func tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

func (e *Etcd) start(i int, cluster string) {
	e.t.Helper()
	args := []string{
		"--name", e.names[i],
		"--data-dir", filepath.Join(e.dir, e.names[i]),
		"--listen-client-urls", "http://" + e.clients[i],
		"--advertise-client-urls", "http://" + e.clients[i],
		"--listen-peer-urls", e.peers[i],
		"--initial-advertise-peer-urls", e.peers[i],
		"--initial-cluster", cluster,
		"--initial-cluster-state", "new",
		"--initial-cluster-token", filepath.Base(e.dir),
		"--heartbeat-interval", "50", "--election-timeout", "500",
		"--logger", "zap", "--log-level", "warn",
	}
	cmd := exec.Command(e.bin, args...)
	log := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("etcd: %v", err)
	}
	done := make(chan struct{})
	e.mu.Lock()
	e.procs[i], e.done[i], e.logs[i] = cmd, done, log
	e.mu.Unlock()
	go func() { // ended by Kill, which every member gets at the test's end
		cmd.Wait()
		close(done)
	}()
}

// Endpoints gives the members' client addresses.
func (e *Etcd) Endpoints() []string { return append([]string(nil), e.clients...) }

// Kill kills member i (SIGKILL), as a crash would.
func (e *Etcd) Kill(i int) {
	e.mu.Lock()
	cmd, done := e.procs[i], e.done[i]
	e.procs[i] = nil
	e.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		cmd.Process.Kill()
		<-done // its Wait has returned: the process is gone
	}
}

// Restart starts member i again on its data (after Kill).
func (e *Etcd) Restart(i int) {
	e.t.Helper()
	var cluster []string
	for j, n := range e.names {
		cluster = append(cluster, n+"="+e.peers[j])
	}
	e.start(i, strings.Join(cluster, ","))
}

// WaitReady waits until member i accepts client connections.
func (e *Etcd) WaitReady(i int, within time.Duration) {
	e.t.Helper()
	if Until(within, func() bool {
		c, err := net.DialTimeout("tcp", e.clients[i], 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		return
	}
	e.t.Fatalf("etcd %s does not answer on %s", e.names[i], e.clients[i])
}

// PID gives member i's process id (0 when killed).
func (e *Etcd) PID(i int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.procs[i] == nil || e.procs[i].Process == nil {
		return 0
	}
	return e.procs[i].Process.Pid
}
