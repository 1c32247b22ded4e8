package ops

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/internal/testnet"
	"ipnstack/msgcat"
	"ipnstack/portrange"
	"ipnstack/sysplex"
)

// TestSysplexStoreAway: a stack whose path to the store is cut, with
// another member on the store: QUERY SYSPLEX says the store does not
// answer while the lease lives (IPN291W), the stack says it lost the store
// (IPN276W) and QUERY SYSPLEX since when (IPN280W); the other member is
// given the SYSPLEXPORTS port the stack's connection holds; when the path
// is back the stack says so (IPN277I) and names the port as the other's
// (IPN278W).
func TestSysplexStoreAway(t *testing.T) {
	e := testnet.StartEtcd(t, 1)
	proxy := testnet.NewProxy(t, e.Endpoints()[0])
	var mu sync.Mutex
	var said []string
	sys, err := New(Config{Clock: testClock, Sink: func(m msgcat.Msg) { mu.Lock(); said = append(said, m.String()); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	heard := func(prefix string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range said {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	do(t, sys, "SET SYSPLEXPORTS=(40000,40009)")
	if got := do(t, sys, "DEFINE SYSPLEX,ID=PLEX1,MEMBER=STKA,STORE=("+proxy.Addr()+"),TTL=2"); !strings.HasPrefix(got[len(got)-1], "IPN270I") {
		t.Fatal(got)
	}
	ls, err := sys.Ports.SysplexPorts().Lend(time.Now(), portrange.Request{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Drop(time.Now(), portrange.Closing{})

	reg, _ := portrange.NewRegistry(nil)
	reg.SetSysplexPorts(40000, 40009)
	other, err := sysplex.Join(sysplex.Config{Name: "PLEX1", Member: "OTHER", Endpoints: e.Endpoints(), TTL: 2 * time.Second}, reg, func(sysplex.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Leave)

	proxy.Cut()
	if got := strings.Join(do(t, sys, "QUERY SYSPLEX"), "\n"); !strings.Contains(got, "IPN291W The store does not answer now") {
		t.Fatalf("QUERY SYSPLEX, the path cut:\n%s", got)
	}
	if !testnet.Until(10*time.Second, func() bool { return heard("IPN276W Sysplex PLEX1: the store cannot be reached") }) {
		t.Fatalf("no IPN276W: %q", said)
	}
	if got := strings.Join(do(t, sys, "QUERY SYSPLEX"), "\n"); !strings.Contains(got, "IPN280W This stack has had no lease since 2026-11-22 08:30:00") {
		t.Fatalf("QUERY SYSPLEX, the store lost:\n%s", got)
	}
	// The other member is given the port once the store forgot this stack.
	gotIt := false
	if !testnet.Until(10*time.Second, func() bool {
		for i := 0; i < 10 && !gotIt; i++ {
			l, err := reg.SysplexPorts().Lend(time.Now(), portrange.Request{}, nil)
			if err != nil {
				break
			}
			gotIt = l.Port() == ls.Port()
		}
		return gotIt
	}) {
		t.Fatalf("the other member was never given port %d", ls.Port())
	}
	proxy.Mend()
	if !testnet.Until(20*time.Second, func() bool {
		return heard("IPN277I Sysplex PLEX1: the store is back; 0 ports claimed again") &&
			heard(fmt.Sprintf("IPN278W Sysplex PLEX1: SYSPLEX port %d, held here, was taken by member OTHER while the store was gone", ls.Port()))
	}) {
		t.Fatalf("not back with the conflict: %q", said)
	}
}
