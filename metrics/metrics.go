// Package metrics serves the stack's figures to Prometheus: the port pools,
// the connections by state, the FTP daemons and the consoles. It is the
// client_golang library's collector and HTTP handler over a Snapshot that
// its caller takes; this package knows nothing of the stack beyond the
// snapshot's plain figures.
//
// Every figure is read when Prometheus scrapes, from one snapshot, so the
// figures of one scrape agree with each other and with QUERY PORTRANGE,
// QUERY CONNECTIONS and QUERY FTPDS at that moment.
package metrics

import (
	"context"
	"errors"
	"io"
	"ipnstack/internal/buildinfo"
	"net"
	"net/http"
	"time"

	"ipnstack/portrange"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Snapshot is the stack's figures at one moment.
type Snapshot struct {
	Pools       []portrange.PoolInfo
	Connections map[string]int // by TCP state name
	FTPDs       []FTPD
	Consoles    int
	Commands    uint64 // commands run on every console since start
	Failed      uint64 // of which failed
	TCP         TCP
	IP          IP
	Links       []Link
	Sysplex     *Sysplex // nil when the stack is in no sysplex
}

// Sysplex is the stack's membership of a sysplex (QUERY SYSPLEX, without
// asking the store).
type Sysplex struct {
	Name, Member    string
	Coupled         bool
	Claims, Refused uint64
	VIPAs           map[string]bool // the VIPAs it is a candidate for: true when held
}

// TCP is the stack's TCP counters (QUERY STATISTICS, IPN153I).
type TCP struct {
	SegmentsIn, SegmentsOut, Retransmits uint64
	ActiveOpens, PassiveOpens, Failed    uint64
}

// IP is the stack's IP, ICMP and UDP counters (IPN155I to IPN157I).
type IP struct {
	In, Delivered, Out, Malformed, NoRoute uint64
	EchoRequestsIn, EchoRequestsOut        uint64
	EchoRepliesIn, EchoRepliesOut          uint64
	UnreachableIn, UnreachableOut          uint64
	UDPIn, UDPOut, UDPNoPort, UDPErrors    uint64
}

// Link is one link's counters (IPN154I).
type Link struct {
	ID                                       string
	PacketsIn, BytesIn, PacketsOut, BytesOut uint64
	Errors, Drops                            uint64
}

// States are the TCP states the connection gauge always shows, at 0 when
// no endpoint is in one.
var States = []string{"LISTEN", "CONNECTING", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2",
	"CLOSE_WAIT", "LAST_ACK", "CLOSING", "TIME_WAIT", "CLOSED"}

// FTPD is one FTP daemon's figures.
type FTPD struct {
	ID                        string
	Sessions                  int
	SessionsTotal             uint64
	Logins, FailedLogins      uint64
	Transfers, FailedTransfer uint64
	BytesIn, BytesOut         uint64
}

// The metrics, by name, as docs/metrics.md lists them.
var (
	poolSize     = prometheus.NewDesc("ipn_port_pool_size", "Ports in the pool's range.", []string{"pool", "tier"}, nil)
	poolInUse    = prometheus.NewDesc("ipn_port_pool_in_use", "Ports of the pool lent now.", []string{"pool", "tier"}, nil)
	poolParked   = prometheus.NewDesc("ipn_port_pool_parked", "Ports of passive listeners kept for their session's next transfer (taken back when the pool runs dry).", []string{"pool", "tier"}, nil)
	poolHeld     = prometheus.NewDesc("ipn_port_pool_held", "Ports no one may use now: the strict TIME_WAIT model's rest, or refused by the stack in the last second.", []string{"pool", "tier"}, nil)
	poolTW       = prometheus.NewDesc("ipn_port_pool_time_wait", "Connections in TIME_WAIT on the pool's ports.", []string{"pool", "tier"}, nil)
	poolReserved = prometheus.NewDesc("ipn_port_pool_reserved", "Ports of the range set aside for others.", []string{"pool", "tier"}, nil)
	poolFree     = prometheus.NewDesc("ipn_port_pool_free", "Ports the pool could lend now.", []string{"pool", "tier"}, nil)
	poolAllocs   = prometheus.NewDesc("ipn_port_pool_allocations_total", "Ports the pool lent since the stack started (one a granted listener or connection).", []string{"pool", "tier"}, nil)
	poolExh      = prometheus.NewDesc("ipn_port_pool_exhaustions_total", "Requests refused because no port of the pool could serve.", []string{"pool", "tier"}, nil)
	conns        = prometheus.NewDesc("ipn_connections", "The stack's TCP endpoints by state.", []string{"state"}, nil)
	ftpSessions  = prometheus.NewDesc("ipn_ftp_sessions_active", "FTP sessions now.", []string{"ftpd"}, nil)
	ftpSessTotal = prometheus.NewDesc("ipn_ftp_sessions_total", "FTP sessions accepted since the daemon started.", []string{"ftpd"}, nil)
	ftpLogins    = prometheus.NewDesc("ipn_ftp_logins_total", "FTP logins, by result.", []string{"ftpd", "result"}, nil)
	ftpTransfers = prometheus.NewDesc("ipn_ftp_transfers_total", "FTP transfers and listings, by result.", []string{"ftpd", "result"}, nil)
	ftpBytes     = prometheus.NewDesc("ipn_ftp_bytes_total", "FTP data bytes, by direction (in: uploads).", []string{"ftpd", "direction"}, nil)
	consoles     = prometheus.NewDesc("ipn_consoles", "Consoles attached now.", nil, nil)
	commands     = prometheus.NewDesc("ipn_console_commands_total", "Commands run on the consoles, by result.", []string{"result"}, nil)
	tcpSegments  = prometheus.NewDesc("ipn_tcp_segments_total", "TCP segments, by direction (in: valid ones received).", []string{"direction"}, nil)
	tcpRetrans   = prometheus.NewDesc("ipn_tcp_retransmits_total", "TCP segments sent again.", nil, nil)
	tcpOpens     = prometheus.NewDesc("ipn_tcp_opens_total", "TCP connections opened, by side (active: the stack connected).", []string{"side"}, nil)
	tcpFailed    = prometheus.NewDesc("ipn_tcp_failed_connections_total", "TCP connection attempts that failed.", nil, nil)
	ipPackets    = prometheus.NewDesc("ipn_ip_packets_total", "IP packets, by what befell them: received, delivered (to the stack's own protocols), sent, malformed (received), no_route (not sent).", []string{"event"}, nil)
	icmpEcho     = prometheus.NewDesc("ipn_icmp_messages_total", "ICMPv4 echo and unreachable messages, by type and direction.", []string{"type", "direction"}, nil)
	udpDatagrams = prometheus.NewDesc("ipn_udp_datagrams_total", "UDP datagrams, by event: received, sent, no_port (received for no socket), error.", []string{"event"}, nil)
	linkPackets  = prometheus.NewDesc("ipn_link_packets_total", "A link's packets, by direction.", []string{"link", "direction"}, nil)
	linkBytes    = prometheus.NewDesc("ipn_link_bytes_total", "A link's bytes, by direction.", []string{"link", "direction"}, nil)
	linkErrors   = prometheus.NewDesc("ipn_link_errors_total", "A link's errors, by kind: error, drop.", []string{"link", "kind"}, nil)
	plexCoupled  = prometheus.NewDesc("ipn_sysplex_coupled", "1 while the stack holds its lease in its sysplex's store, 0 while it has lost the store.", []string{"sysplex", "member"}, nil)
	plexClaims   = prometheus.NewDesc("ipn_sysplex_claims_total", "Sysplex-wide ports this stack asked the store for, by result: granted, or refused because another member held the port.", []string{"sysplex", "result"}, nil)
	plexVIPA     = prometheus.NewDesc("ipn_sysplex_vipa_held", "1 while this stack holds the dynamic VIPA, 0 while it is a backup.", []string{"sysplex", "vipa"}, nil)
	buildInfo    = prometheus.NewDesc("ipn_build_info", "The build the stack runs: 1, with the module version, the revision and the Go version as labels.", []string{"version", "revision", "goversion"}, nil)
)

var tiers = map[portrange.Tier]string{
	portrange.TierTCP: "ephemeral", portrange.TierUDP: "ephemeral",
	portrange.TierExplicit: "explicit", portrange.TierData: "dataports", portrange.TierSysplex: "sysplexports",
}

// collector turns a snapshot into metrics at each scrape.
type collector struct{ take func() Snapshot }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolSize, poolInUse, poolParked, poolHeld, poolTW, poolReserved, poolFree, poolAllocs, poolExh,
		conns, ftpSessions, ftpSessTotal, ftpLogins, ftpTransfers, ftpBytes, consoles, commands,
		tcpSegments, tcpRetrans, tcpOpens, tcpFailed, ipPackets, icmpEcho, udpDatagrams, linkPackets, linkBytes, linkErrors, plexCoupled, plexClaims, plexVIPA, buildInfo} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.take()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, p := range s.Pools {
		st, l := p.Stats, []string{p.Name, tiers[p.Tier]}
		gauge(poolSize, float64(st.Size), l...)
		gauge(poolInUse, float64(st.InUse), l...)
		gauge(poolParked, float64(st.Parked), l...)
		gauge(poolHeld, float64(st.Blocked), l...)
		gauge(poolTW, float64(st.TimeWaitTuples), l...)
		gauge(poolReserved, float64(st.Reserved), l...)
		gauge(poolFree, float64(max(st.Free(), 0)), l...)
		counter(poolAllocs, st.Allocations, l...)
		counter(poolExh, st.Exhaustions, l...)
	}
	for _, state := range States {
		gauge(conns, float64(s.Connections[state]), state)
	}
	for _, f := range s.FTPDs {
		gauge(ftpSessions, float64(f.Sessions), f.ID)
		counter(ftpSessTotal, f.SessionsTotal, f.ID)
		counter(ftpLogins, f.Logins, f.ID, "ok")
		counter(ftpLogins, f.FailedLogins, f.ID, "failed")
		counter(ftpTransfers, f.Transfers, f.ID, "ok")
		counter(ftpTransfers, f.FailedTransfer, f.ID, "failed")
		counter(ftpBytes, f.BytesIn, f.ID, "in")
		counter(ftpBytes, f.BytesOut, f.ID, "out")
	}
	gauge(consoles, float64(s.Consoles))
	counter(commands, s.Commands-s.Failed, "ok")
	counter(commands, s.Failed, "failed")
	t := s.TCP
	counter(tcpSegments, t.SegmentsIn, "in")
	counter(tcpSegments, t.SegmentsOut, "out")
	counter(tcpRetrans, t.Retransmits)
	counter(tcpOpens, t.ActiveOpens, "active")
	counter(tcpOpens, t.PassiveOpens, "passive")
	counter(tcpFailed, t.Failed)
	ip := s.IP
	for ev, v := range map[string]uint64{"received": ip.In, "delivered": ip.Delivered, "sent": ip.Out, "malformed": ip.Malformed, "no_route": ip.NoRoute} {
		counter(ipPackets, v, ev)
	}
	counter(icmpEcho, ip.EchoRequestsIn, "echo_request", "in")
	counter(icmpEcho, ip.EchoRequestsOut, "echo_request", "out")
	counter(icmpEcho, ip.EchoRepliesIn, "echo_reply", "in")
	counter(icmpEcho, ip.EchoRepliesOut, "echo_reply", "out")
	counter(icmpEcho, ip.UnreachableIn, "unreachable", "in")
	counter(icmpEcho, ip.UnreachableOut, "unreachable", "out")
	for ev, v := range map[string]uint64{"received": ip.UDPIn, "sent": ip.UDPOut, "no_port": ip.UDPNoPort, "error": ip.UDPErrors} {
		counter(udpDatagrams, v, ev)
	}
	for _, l := range s.Links {
		counter(linkPackets, l.PacketsIn, l.ID, "in")
		counter(linkPackets, l.PacketsOut, l.ID, "out")
		counter(linkBytes, l.BytesIn, l.ID, "in")
		counter(linkBytes, l.BytesOut, l.ID, "out")
		counter(linkErrors, l.Errors, l.ID, "error")
		counter(linkErrors, l.Drops, l.ID, "drop")
	}
	if p := s.Sysplex; p != nil {
		coupled := 0.0
		if p.Coupled {
			coupled = 1
		}
		gauge(plexCoupled, coupled, p.Name, p.Member)
		counter(plexClaims, p.Claims, p.Name, "granted")
		counter(plexClaims, p.Refused, p.Name, "refused")
		for v, held := range p.VIPAs {
			h := 0.0
			if held {
				h = 1
			}
			gauge(plexVIPA, h, p.Name, v)
		}
	}
	b := buildinfo.Read()
	gauge(buildInfo, 1, b.Version, b.Revision, b.Go)
}

// Server serves /metrics on a host address.
type Server struct {
	srv     *http.Server
	ln      net.Listener
	onError func(error)
	done    chan struct{}
}

// Listen opens the listener on addr (host:port; port 0 takes a free one)
// and builds the handler; Serve starts it. onError hears a failure of the
// listener, after which nothing is served.
func Listen(addr string, take func() Snapshot, onError func(error)) (*Server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{take}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!DOCTYPE html><html><head><title>ipnstack metrics</title></head>`+
			`<body><h1>TCP/IP stack</h1><p><a href="/metrics">Metrics</a> (Prometheus text format)</p></body></html>`+"\n")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln,
		onError: onError, done: make(chan struct{})}, nil
}

// Addr is the address it listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve starts serving in a goroutine that Close ends and awaits.
func (s *Server) Serve() {
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.onError(err)
		}
	}()
}

// Close stops serving, lets running scrapes end for up to 5 s, and waits.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		s.srv.Close()
	}
	<-s.done
}
