package metrics

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"ipnstack/portrange"
)

// TestServeScrape: one scrape of a served snapshot shows its figures under
// the names docs/metrics.md gives, and Close ends the server's goroutine
// (goleak checks at the end).
func TestServeScrape(t *testing.T) {
	snap := Snapshot{
		Pools: []portrange.PoolInfo{{Name: "TCP", Tier: portrange.TierTCP,
			Stats: portrange.Stats{Size: 100, InUse: 7, Parked: 2, Allocations: 42, Exhaustions: 3}}},
		Connections: map[string]int{"ESTABLISHED": 5},
		FTPDs:       []FTPD{{ID: "FTP01", Sessions: 1, Logins: 4, FailedLogins: 1, BytesIn: 10}},
		Consoles:    2, Commands: 9, Failed: 1,
		Sysplex: &Sysplex{Name: "PLEX1", Member: "STKA", Coupled: true, Claims: 12, Refused: 2,
			VIPAs: map[string]bool{"10.77.60.1": true, "10.77.60.2": false}},
	}
	var failed error
	s, err := Listen("127.0.0.1:0", func() Snapshot { return snap }, func(err error) { failed = err })
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	defer s.Close()
	resp, err := http.Get("http://" + s.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`ipn_port_pool_size{pool="TCP",tier="ephemeral"} 100`,
		`ipn_port_pool_in_use{pool="TCP",tier="ephemeral"} 7`,
		`ipn_port_pool_parked{pool="TCP",tier="ephemeral"} 2`,
		`ipn_port_pool_allocations_total{pool="TCP",tier="ephemeral"} 42`,
		`ipn_port_pool_exhaustions_total{pool="TCP",tier="ephemeral"} 3`,
		`ipn_connections{state="ESTABLISHED"} 5`,
		`ipn_ftp_logins_total{ftpd="FTP01",result="failed"} 1`,
		`ipn_ftp_bytes_total{direction="in",ftpd="FTP01"} 10`,
		`ipn_consoles 2`,
		`ipn_console_commands_total{result="ok"} 8`,
		`ipn_connections{state="CLOSE_WAIT"} 0`,
		`ipn_tcp_segments_total{direction="in"} 0`,
		`ipn_sysplex_coupled{member="STKA",sysplex="PLEX1"} 1`,
		`ipn_sysplex_claims_total{result="granted",sysplex="PLEX1"} 12`,
		`ipn_sysplex_claims_total{result="refused",sysplex="PLEX1"} 2`,
		`ipn_sysplex_vipa_held{sysplex="PLEX1",vipa="10.77.60.1"} 1`,
		`ipn_sysplex_vipa_held{sysplex="PLEX1",vipa="10.77.60.2"} 0`,
		`ipn_build_info{`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the scrape has no %q", want)
		}
	}
	if failed != nil {
		t.Fatal(failed)
	}
	resp, err = http.Get("http://" + s.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `<a href="/metrics">`) {
		t.Fatalf("the / page: %s", page)
	}
}
