package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// The FTPS end-to-end tests: stock clients with TLS (curl, lftp, Python's
// ftplib, openssl s_client) against the real stackd, through a USER link
// and a RAW link.

// ftpsDeck defines three daemons on one link: FTPT (TLS=ALLOWED, the
// default: data must resume the control's TLS session), FTPI (implicit
// TLS) and FTPQ (TLS=REQUIRED, TLSREUSE=NO).
func ftpsDeck(link, pub, ro string, ports [3]int, data [3][2]int, pasv string) string {
	return fmt.Sprintf(`* FTPS
%s
DEFINE FILE PUBLIC=PUB,DLBL=%s,READONLY=NO
DEFINE FILE PUBLIC=RO,DLBL=%s,READONLY=YES
DEFINE USER ID=%s,PASSWORD='%s'
DEFINE FTPD ID=FTPT,PORT=%d,DATAPORTS=(%d,%d)%s
DEFINE FTPD ID=FTPI,PORT=%d,DATAPORTS=(%d,%d)%s,TLS=IMPLICIT
DEFINE FTPD ID=FTPQ,PORT=%d,DATAPORTS=(%d,%d)%s,TLS=REQUIRED,TLSREUSE=NO
`, link, pub, ro, ftpUser, ftpPass, ports[0], data[0][0], data[0][1], pasv,
		ports[1], data[1][0], data[1][1], pasv, ports[2], data[2][0], data[2][1], pasv)
}

// pyFTPS is Python's ftplib with TLS. "reuse" gives the data connections
// the control connection's TLS session (what FileZilla, lftp and curl do;
// stock ftplib does not), "reuse-active" the same in active mode (curl
// 7.88's active mode fails with TLS on its side, before any byte reaches
// the daemon); "stock" is ftplib as it comes.
const pyFTPS = `
import ftplib, io, ssl, sys
host, port, user, pw, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
class Reuse(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ftp = (ftplib.FTP_TLS if mode == "stock" else Reuse)(context=ctx, timeout=20)
ftp.connect(host, port)
ftp.auth()
ftp.login(user, pw)
ftp.prot_p()
ftp.cwd("/PUB")
if mode == "reuse-active":
    ftp.set_pasv(False)
try:
    data = bytes(range(256)) * 400
    ftp.storbinary("STOR py-tls.bin", io.BytesIO(data))
    got = io.BytesIO()
    ftp.retrbinary("RETR py-tls.bin", got.write)
    assert got.getvalue() == data, "download differs"
    assert "py-tls.bin" in ftp.nlst()
    print("OK", ftp.sock.version())
except ftplib.Error as e:
    print("REFUSED", e)
except OSError:
    # The daemon closed the data connection; its reply says why.
    try:
        ftp.voidresp()
    except ftplib.Error as e:
        print("REFUSED", e)
ftp.quit()
`

func ftpsMatrix(t *testing.T, s *ftpSite, implicitPort, requiredPort int) {
	curl := testnet.RequireTool(t, "curl")
	t.Run("curl", func(t *testing.T) {
		curlMatrix(t, s, []curlMode{
			{"PASV-TLS", []string{"--ssl-reqd", "-k", "--disable-epsv"}},
			{"EPSV-TLS", []string{"--ssl-reqd", "-k"}},
		})
	})
	t.Run("curl-implicit", func(t *testing.T) {
		want := s.mustClient(t, 40*time.Second, curl, "-sS", "--max-time", "30", "--ssl-reqd", "-k", s.url("/RO/"))
		url := fmt.Sprintf("ftps://%s:%s@%s:%d/RO/", s.user, s.pass, s.host, implicitPort)
		if got := s.mustClient(t, 40*time.Second, curl, "-sS", "--max-time", "30", "-k", url); got != want || !strings.Contains(got, "readme") {
			t.Fatalf("ftps:// listing %q, want %q", got, want)
		}
	})
	t.Run("lftp", func(t *testing.T) { lftpMirrorN(t, s, 200, true) })
	t.Run("python", func(t *testing.T) {
		py := testnet.RequireTool(t, "python3")
		out := s.mustClient(t, 60*time.Second, py, "-c", pyFTPS, s.host, fmt.Sprint(s.port), s.user, s.pass, "reuse")
		if !strings.HasPrefix(out, "OK TLSv1.3") {
			t.Fatalf("ftplib with session reuse: %s", out)
		}
		out = s.mustClient(t, 60*time.Second, py, "-c", pyFTPS, s.host, fmt.Sprint(s.port), s.user, s.pass, "reuse-active")
		if !strings.HasPrefix(out, "OK TLSv1.3") {
			t.Fatalf("ftplib with session reuse, active mode: %s", out)
		}
		// Stock ftplib makes a new TLS session for each data connection:
		// refused where reuse is required (522, IPN420W), served where it
		// is not (TLSREUSE=NO).
		out = s.mustClient(t, 60*time.Second, py, "-c", pyFTPS, s.host, fmt.Sprint(s.port), s.user, s.pass, "stock")
		if !strings.Contains(out, "REFUSED 522 ") {
			t.Fatalf("stock ftplib at TLSREUSE=YES: %s", out)
		}
		if !strings.Contains(s.d.stdout.String(), "IPN420W FTP FTPT: protected data connection from") {
			t.Fatal("no IPN420W")
		}
		out = s.mustClient(t, 60*time.Second, py, "-c", pyFTPS, s.host, fmt.Sprint(requiredPort), s.user, s.pass, "stock")
		if !strings.HasPrefix(out, "OK TLSv1.3") {
			t.Fatalf("stock ftplib at TLSREUSE=NO: %s", out)
		}
	})
	t.Run("required", func(t *testing.T) {
		// A clear login is refused (530) at TLS=REQUIRED; with TLS it works.
		url := fmt.Sprintf("ftp://%s:%s@%s:%d/RO/", s.user, s.pass, s.host, requiredPort)
		out, err := s.client(40*time.Second, curl, "-sS", "--max-time", "30", url)
		if err == nil || !strings.Contains(out, "530") && !strings.Contains(out, "denied") {
			t.Fatalf("a clear login at TLS=REQUIRED: %v %s", err, out)
		}
		if got := s.mustClient(t, 40*time.Second, curl, "-sS", "--max-time", "30", "--ssl-reqd", "-k", url); !strings.Contains(got, "readme") {
			t.Fatalf("with TLS: %q", got)
		}
	})
	t.Run("openssl", func(t *testing.T) {
		openssl := testnet.RequireTool(t, "openssl")
		before := sayField(s.console(t, "QUERY FTPDS ID=FTPT\n"), "IPN422I", "failed negotiations")
		hostport := fmt.Sprintf("%s:%d", s.host, s.port)
		for _, c := range []struct {
			args []string
			ok   bool
		}{
			{[]string{"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"}, false},
			{[]string{"-tls1_2"}, true},
			{[]string{"-tls1_3"}, true},
		} {
			args := append([]string{"s_client", "-starttls", "ftp", "-connect", hostport, "-brief"}, c.args...)
			out, err := s.clientInput(30*time.Second, "QUIT\r\n", openssl, args...)
			if ok := err == nil && strings.Contains(out, "CONNECTION ESTABLISHED"); ok != c.ok {
				t.Fatalf("openssl %v: %v\n%s", c.args, err, out)
			}
		}
		if after := sayField(s.console(t, "QUERY FTPDS ID=FTPT\n"), "IPN422I", "failed negotiations"); after != before+1 {
			t.Fatalf("failed negotiations %d -> %d: TLS 1.1 was not refused by the daemon", before, after)
		}
	})
	out := s.console(t, "QUERY FTPDS ID=FTPT\n")
	if sayField(out, "IPN422I", "protected sessions") < 5 || !strings.Contains(out, "IPN423I          certificate ipnstack (self-signed") {
		t.Errorf("QUERY FTPDS:\n%s", out)
	}
}

// TestFTPSUserLink: FTPS through the USER link, every client on the host.
func TestFTPSUserLink(t *testing.T) {
	pub, ro := ftpDirs(t)
	base := testnet.HostPorts(t, 63)
	ports := [3]int{base, base + 1, base + 2}
	data := [3][2]int{{base + 3, base + 22}, {base + 23, base + 42}, {base + 43, base + 62}}
	link := fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d,%d,%d,%d-%d)",
		ports[0], ports[1], ports[2], base+3, base+62)
	d := startDeck(t, ftpsDeck(link, pub, ro, ports, data, ",PASVADDR=127.0.0.1"))
	s := &ftpSite{d: d, id: "FTPT", host: "127.0.0.1", port: ports[0], user: ftpUser, pass: ftpPass, pub: pub, ro: ro}
	ftpsMatrix(t, s, ports[1], ports[2])
}

// TestFTPSRawLink: FTPS from a network namespace over a RAW link.
func TestFTPSRawLink(t *testing.T) {
	testnet.RequireRoot(t)
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.52.2/24")
	pub, ro := ftpDirs(t)
	link := fmt.Sprintf("DEFINE LINK ID=OSA1,TYPE=RAW,DEV=%s,IPADDR=10.77.52.10,MASK=255.255.255.0", dev)
	d := startDeck(t, ftpsDeck(link, pub, ro, [3]int{21, 990, 2121},
		[3][2]int{{40000, 40019}, {40020, 40039}, {40040, 40059}}, ""))
	s := &ftpSite{d: d, id: "FTPT", ns: ns, host: "10.77.52.10", port: 21, user: ftpUser, pass: ftpPass, pub: pub, ro: ro}
	ftpsMatrix(t, s, 990, 2121)
}
