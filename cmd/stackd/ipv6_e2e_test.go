package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// The IPv6 end-to-end tests: dual-stack RAW and TAP links in namespaces the
// test makes (fd77::/16), the kernel's ping -6 against the stack, the
// stack's PING against the kernel, and what QUERY LINKS, ROUTES and ARP
// show of it.

// checkIPv6 runs what both link types share: ping -6 both ways, the
// addresses, routes and neighbours, an IPv6 static route.
func checkIPv6(t *testing.T, d *daemon, ns, link, stack6, peer6 string) {
	t.Helper()
	testnet.Must(t, ns, "ping", "-6", "-c", "2", "-W", "2", stack6)
	ping := mustConsole(t, d.socket, "PING "+peer6+",COUNT=2\n")
	if !strings.Contains(ping, "IPN132I Ping "+peer6+": 2 sent, 2 received, 0% loss") {
		t.Fatalf("PING over IPv6:\n%s", ping)
	}
	links := mustConsole(t, d.socket, "QUERY LINKS ID="+link+"\n")
	if !regexp.MustCompile(`IPN193I +IPv6 ` + regexp.QuoteMeta(stack6) + `/64, fe80::[0-9a-f:]+/64`).MatchString(links) {
		t.Fatalf("QUERY LINKS:\n%s", links)
	}
	routes := mustConsole(t, d.socket, "QUERY ROUTES\n")
	prefix := strings.TrimSuffix(stack6, "10") // fd77:NN::
	if !strings.Contains(routes, prefix+"/64") || !strings.Contains(routes, "fe80::/64") {
		t.Fatalf("QUERY ROUTES:\n%s", routes)
	}
	if arp := mustConsole(t, d.socket, "QUERY ARP\n"); !strings.Contains(arp, peer6) {
		t.Fatalf("QUERY ARP (the NDP cache):\n%s", arp)
	}
	// A network behind the peer, reached through it; the kernel in the
	// namespace answers for an address it owns there.
	testnet.Must(t, ns, "sh", "-c", "ip addr add fd77:99::1/128 dev lo && sysctl -qw net.ipv6.conf.all.forwarding=0")
	out := mustConsole(t, d.socket, "DEFINE ROUTE ID=R6,LINKID="+link+",IP6NET=fd77:99::/64,GATEWAY="+peer6+"\nPING fd77:99::1,COUNT=1\n")
	if !strings.Contains(out, "IPN100I") || !strings.Contains(out, "IPN132I Ping fd77:99::1: 1 sent, 1 received") {
		t.Fatalf("an IPv6 route:\n%s", out)
	}
	out, _ = runConsole(t, d.socket, "DEFINE ROUTE ID=R7,LINKID="+link+",IP6NET=fd77:98::/64,GATEWAY=10.77.0.1\n")
	if !strings.Contains(out, "IPN195E Gateway 10.77.0.1 is not of the family of network fd77:98::/64") {
		t.Fatalf("a gateway of the other family:\n%s", out)
	}
}

// TestIPv6RawLink: a dual-stack RAW link and an IPv6-only one (IP6ADDR=
// without IPADDR=).
func TestIPv6RawLink(t *testing.T) {
	testnet.RequireRoot(t)
	testnet.RequireTool(t, "ping")
	for i, only := range []bool{false, true} {
		t.Run(map[bool]string{false: "dual", true: "only"}[only], func(t *testing.T) {
			net := 72 + 5*i // 72, 77
			ns := testnet.Netns(t)
			dev, peer := testnet.Veth(t, ns, fmt.Sprintf("10.77.%d.2/24", net))
			stack6, peer6 := fmt.Sprintf("fd77:%d::10", net), fmt.Sprintf("fd77:%d::2", net)
			testnet.Must(t, ns, "ip", "addr", "add", peer6+"/64", "dev", peer, "nodad")
			v4 := fmt.Sprintf("IPADDR=10.77.%d.10,MASK=255.255.255.0,", net)
			if only {
				v4 = ""
			}
			d := startDaemon(t, "--deck", writeDeck(t, "DEFINE LINK ID=OSA6,TYPE=RAW,DEV="+dev+","+v4+"IP6ADDR=("+stack6+"/64)"))
			requireDeckOK(t, d)
			if !strings.Contains(d.stdout.String(), "IPN192I Link OSA6 IPv6 addresses: "+stack6+"/64") {
				t.Fatalf("no IPN192I:\n%s", d.stdout)
			}
			checkIPv6(t, d, ns, "OSA6", stack6, peer6)
			if !only {
				// IPv4 goes on beside it.
				testnet.Must(t, ns, "ping", "-c", "1", "-W", "2", fmt.Sprintf("10.77.%d.10", net))
			} else if links := mustConsole(t, d.socket, "QUERY LINKS ID=OSA6\n"); !regexp.MustCompile(`OSA6 +RAW +ACTIVE +\S+ +- `).MatchString(links) {
				t.Fatalf("an IPv6-only link:\n%s", links)
			}
		})
	}
}

// TestIPv6TapLink: the same over a TAP link, dual-stack and IPv6 only.
func TestIPv6TapLink(t *testing.T) {
	testnet.RequireRoot(t)
	testnet.RequireTool(t, "ping")
	for i, only := range []bool{false, true} {
		t.Run(map[bool]string{false: "dual", true: "only"}[only], func(t *testing.T) {
			tapLink6(t, 73+5*i, only)
		})
	}
}

func tapLink6(t *testing.T, net int, only bool) {
	ns := testnet.Netns(t)
	tap := testnet.Name("ipntap")
	stack6, host6 := fmt.Sprintf("fd77:%d::10", net), fmt.Sprintf("fd77:%d::1", net)
	v4 := fmt.Sprintf("IPADDR=10.77.%d.10,MASK=255.255.255.0,HOSTADDR=10.77.%d.1,", net, net)
	if only {
		v4 = ""
	}
	d := startDaemonIn(t, ns, "--deck", writeDeck(t, "DEFINE LINK ID=TAP6,TYPE=TAP,DEV="+tap+","+v4+"IP6ADDR=("+stack6+"/64)"))
	requireDeckOK(t, d)
	testnet.Must(t, ns, "ip", "addr", "add", host6+"/64", "dev", tap, "nodad")
	if only {
		testnet.Must(t, ns, "ip", "link", "set", tap, "up")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(testnet.Must(t, ns, "ip", "-6", "addr", "show", "dev", tap), host6) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	checkIPv6(t, d, ns, "TAP6", stack6, host6)
}

// pyFTP6 drives Python's ftplib over IPv6: passive (ftplib sends EPSV on an
// IPv6 connection) and active (EPRT |2|) transfers, then what must be
// refused: PASV and PORT (501), EPRT |1| (522), and EPRT to a foreign
// IPv6 address (501, the bounce check).
const pyFTP6 = `
import ftplib, io, sys
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ftp = ftplib.FTP()
ftp.connect(host, port, timeout=20)
ftp.login(user, pw)
ftp.cwd("/PUB")
data = bytes(range(256)) * 300
for passive in (True, False):
    ftp.set_pasv(passive)
    name = "py6-%s.bin" % ("pasv" if passive else "active")
    ftp.storbinary("STOR " + name, io.BytesIO(data))
    got = io.BytesIO()
    ftp.retrbinary("RETR " + name, got.write)
    assert got.getvalue() == data, name
    assert name in ftp.nlst(), name
for cmd in ("PASV", "PORT 10,77,74,2,200,10", "EPRT |1|10.77.74.2|51000|", "EPRT |2|fd77:74::99|51000|"):
    try:
        ftp.sendcmd(cmd)
        print("ACCEPTED", cmd)
    except ftplib.error_perm as e:
        print(cmd.split()[0], str(e)[:3])
ftp.quit()
print("OK")
`

// TestFTPOverIPv6: the FTP daemon, listening on both families by default,
// serves stock clients over IPv6: curl (EPSV and EPRT; upload, download,
// listing, resume), lftp's mirror, Python's ftplib; over a dual-stack RAW
// link, an IPv6-only RAW link and an IPv6-only TAP link.
func TestFTPOverIPv6(t *testing.T) {
	testnet.RequireRoot(t)
	for _, c := range []struct {
		name string
		net  int
		tap  bool
		v4   bool
	}{{"raw-dual", 74, false, true}, {"raw-only", 79, false, false}, {"tap-only", 80, true, false}} {
		t.Run(c.name, func(t *testing.T) { ftpOverIPv6(t, c.net, c.tap, c.v4) })
	}
}

func ftpOverIPv6(t *testing.T, net int, tap, dual bool) {
	ns := testnet.Netns(t)
	stack6, peer6 := fmt.Sprintf("fd77:%d::10", net), fmt.Sprintf("fd77:%d::2", net)
	stack4 := fmt.Sprintf("10.77.%d.10", net)
	v4 := ""
	if dual {
		v4 = "IPADDR=" + stack4 + ",MASK=255.255.255.0,"
	}
	pub, ro := ftpDirs(t)
	rest := []string{
		"DEFINE FILE PUBLIC=PUB,DLBL=" + pub + ",READONLY=NO",
		"DEFINE FILE PUBLIC=RO,DLBL=" + ro + ",READONLY=YES",
		"DEFINE USER ID=" + ftpUser + ",PASSWORD='" + ftpPass + "'",
		"DEFINE FTPD ID=FTP6,PORT=21,DATAPORTS=(40000,40019)",
	}
	var d *daemon
	if tap {
		dev := testnet.Name("ipntap")
		d = startDaemonIn(t, ns, "--deck", writeDeck(t, append([]string{
			"DEFINE LINK ID=TAP6,TYPE=TAP,DEV=" + dev + "," + v4 + "IP6ADDR=(" + stack6 + "/64)"}, rest...)...))
		requireDeckOK(t, d)
		testnet.Must(t, ns, "ip", "addr", "add", peer6+"/64", "dev", dev, "nodad")
		testnet.Must(t, ns, "ip", "link", "set", dev, "up")
	} else {
		dev, peer := testnet.Veth(t, ns, fmt.Sprintf("10.77.%d.2/24", net))
		testnet.Must(t, ns, "ip", "addr", "add", peer6+"/64", "dev", peer, "nodad")
		d = startDeck(t, strings.Join(append([]string{
			"DEFINE LINK ID=OSA6,TYPE=RAW,DEV=" + dev + "," + v4 + "IP6ADDR=(" + stack6 + "/64)"}, rest...), "\n"))
	}
	s := &ftpSite{d: d, id: "FTP6", ns: ns, host: stack6, port: 21, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}
	t.Run("curl", func(t *testing.T) {
		curlMatrix(t, s, []curlMode{
			{"EPSV6", nil},
			{"EPRT6", []string{"-P", peer6}},
		})
	})
	t.Run("lftp", func(t *testing.T) { lftpMirrorN(t, s, 200, false) })
	t.Run("python", func(t *testing.T) {
		py := testnet.RequireTool(t, "python3")
		out := s.mustClient(t, 60*time.Second, py, "-c", strings.ReplaceAll(pyFTP6, "fd77:74::", fmt.Sprintf("fd77:%d::", net)), s.host, "21", s.user, s.pass)
		for _, want := range []string{"PASV 501", "PORT 501", "EPRT 522", "EPRT 501", "OK"} {
			if !strings.Contains(out, want) {
				t.Fatalf("ftplib over IPv6: want %q in\n%s", want, out)
			}
		}
	})
	// The connection table shows IPv6 connections in their standard form.
	h := holdSession(t, s)
	out := s.console(t, "QUERY CONNECTIONS OWNER=FTP6,STATE=ESTABLISHED\n")
	if !regexp.MustCompile(`ESTABLISHED +\[` + regexp.QuoteMeta(stack6) + `\]:21 +\[` + regexp.QuoteMeta(peer6) + `\]:\d+ +FTP6`).MatchString(out) {
		t.Fatalf("QUERY CONNECTIONS:\n%s", out)
	}
	h.quit(t)
	if dual {
		// The same daemon serves IPv4.
		s4 := *s
		s4.host = stack4
		if got := s4.mustClient(t, 40*time.Second, testnet.RequireTool(t, "curl"), "-sS", "--max-time", "30", s4.url("/RO/")); !strings.Contains(got, "readme") {
			t.Fatalf("IPv4 on the same daemon: %q", got)
		}
	}
}

// TestUserLinkIPv6: a USER link with an IPv6 address forwards its host
// ports on [::1] as on 127.0.0.1, each client keeping its own address:
// curl to ftp://[::1]:port/ in passive (EPSV) and active (EPRT |2|, the
// daemon's connection reaching the client on the host) mode. No privileges.
func TestUserLinkIPv6(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	pub, ro := ftpDirs(t)
	base := testnet.HostPorts(t, 21)
	deck := strings.Join([]string{
		fmt.Sprintf("DEFINE LINK ID=USER6,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,IP6ADDR=(fd77:75::15/64),FORWARD=(%d:21,%d-%d)", base, base+1, base+20),
		"DEFINE FILE PUBLIC=PUB,DLBL=" + pub + ",READONLY=NO",
		"DEFINE FILE PUBLIC=RO,DLBL=" + ro + ",READONLY=YES",
		"DEFINE USER ID=" + ftpUser + ",PASSWORD='" + ftpPass + "'",
		fmt.Sprintf("DEFINE FTPD ID=FTPU6,PORT=21,DATAPORTS=(%d,%d),PASVADDR=127.0.0.1", base+1, base+20),
	}, "\n")
	d := startDeck(t, deck)
	s := &ftpSite{d: d, id: "FTPU6", host: "::1", port: base, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}
	t.Run("curl", func(t *testing.T) {
		curlMatrix(t, s, []curlMode{
			{"EPSV6", nil},
			{"EPRT6", []string{"-P", "::1"}},
		})
	})
	h := holdSession(t, s)
	i := strings.LastIndex(h.local, ":")
	client := "[" + h.local[:i] + "]" + h.local[i:] // the helper prints addr:port
	if !strings.HasPrefix(client, "[::1]:") {
		t.Fatalf("the client's address is %s", h.local)
	}
	out := s.console(t, "QUERY CONNECTIONS OWNER=FTPU6,STATE=ESTABLISHED\nQUERY LINKS ID=USER6\n")
	if !strings.Contains(out, "[fd77:75::15]:21") || !strings.Contains(out, client) {
		t.Fatalf("QUERY CONNECTIONS does not show the client as it is (%s):\n%s", client, out)
	}
	if !strings.Contains(out, fmt.Sprintf("forwards 127.0.0.1:%d and [::1]:%d to port 21; gateway 10.0.2.2 and fd77:75::2", base, base)) {
		t.Fatalf("QUERY LINKS:\n%s", out)
	}
	h.quit(t)
	// IPv4 clients go on through the same forward.
	s4 := *s
	s4.host = "127.0.0.1"
	if got := s4.mustClient(t, 40*time.Second, curl, "-sS", "--max-time", "30", s4.url("/RO/")); !strings.Contains(got, "readme") {
		t.Fatalf("IPv4 through the USER link: %q", got)
	}
}
