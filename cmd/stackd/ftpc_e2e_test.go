package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// TestFTPClientVsftpd: the stack's FTP client against Debian's vsftpd in a
// namespace over a RAW link, passive and active: MGET of 100 files, PUT
// and GET in binary and ASCII (vsftpd converting both ways), DIR, DELETE;
// TYPE E, which vsftpd does not offer, ends the session with vsftpd's own
// reply.
func TestFTPClientVsftpd(t *testing.T) {
	testnet.RequireRoot(t)
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.73.2/24")
	root := t.TempDir() // anon_root: not writable, as vsftpd wants
	os.Chmod(root, 0o755)
	pub, in := filepath.Join(root, "pub"), filepath.Join(root, "incoming")
	os.Mkdir(pub, 0o755)
	os.Mkdir(in, 0o777)
	os.Chmod(in, 0o777)
	want := map[string][]byte{}
	for i := range 100 {
		b := bytes.Repeat([]byte(fmt.Sprintf("file %03d\n", i)), 100+i)
		name := fmt.Sprintf("f%03d.txt", i)
		os.WriteFile(filepath.Join(pub, name), b, 0o644)
		want[name] = b
	}
	startVsftpd(t, ns, "10.77.73.2", root, "ascii_upload_enable=YES", "ascii_download_enable=YES")

	loc := t.TempDir()
	upBin := bytes.Repeat([]byte{0, 1, 2, '\r', '\n', 255}, 50000)
	upTxt := "one\ntwo\nthree\n"
	deck := writeDeck(t,
		"PORTRANGE LOW=50000,HIGH=51100",
		"DEFINE LINK ID=OSA1,TYPE=OSAX,DEV="+dev+",IPADDR=10.77.73.10,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=LOC,DLBL="+loc+",READONLY=NO",
		"DEFINE NAME,NAME=vsftp,IPADDR=10.77.73.2",
	)
	d := startDaemon(t, "--deck", deck)
	requireDeckOK(t, d)
	for _, mode := range []string{"PASSIVE", "ACTIVE"} {
		m := strings.ToLower(mode)
		dir := filepath.Join(loc, m) // LOCAL=LOC/passive, LOC/active
		os.Mkdir(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "up.bin"), upBin, 0o644)
		os.WriteFile(filepath.Join(dir, "up.txt"), []byte(upTxt), 0o644)
		out, rc := runConsole(t, d.socket, fmt.Sprintf("FTP HOST=10.77.73.2,USER=anonymous,PASSWORD=test@example.org,"+
			"LOCAL=LOC/%s,MODE=%s,CMD=('CD /pub','MGET f*.txt','CD /incoming','PUT up.bin up-%[1]s.bin',"+
			"'GET up-%[1]s.bin back.bin','TYPE A','PUT up.txt up-%[1]s.txt','GET up-%[1]s.txt back.txt','DIR','DELETE up-%[1]s.txt')\n", m, mode))
		if rc != 0 {
			t.Fatalf("%s: rc %d:\n%s", mode, rc, out)
		}
		for name, b := range want {
			if got, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(got, b) {
				t.Fatalf("%s: MGET %s: %d bytes, want %d", mode, name, len(got), len(b))
			}
		}
		if n := strings.Count(out, "IPN652I FTP client: MGET"); n != 100 {
			t.Fatalf("%s: %d MGET messages", mode, n)
		}
		if !bytes.Equal(mustRead(t, filepath.Join(dir, "back.bin")), upBin) || !bytes.Equal(mustRead(t, filepath.Join(in, "up-"+m+".bin")), upBin) {
			t.Fatalf("%s: the binary file changed on its way", mode)
		}
		if b := mustRead(t, filepath.Join(dir, "back.txt")); string(b) != upTxt {
			t.Fatalf("%s: ASCII round trip: %q", mode, b)
		}
		if !regexp.MustCompile(`IPN653I FTP client: .*up-` + m + `\.txt`).MatchString(out) {
			t.Fatalf("%s: DIR:\n%s", mode, out)
		}
		if _, err := os.Stat(filepath.Join(in, "up-"+m+".txt")); err == nil {
			t.Fatalf("%s: DELETE left the file", mode)
		}
	}
	out, rc := runConsole(t, d.socket, "FTP HOST=vsftp,USER=anonymous,PASSWORD=x@example.org,LOCAL=LOC,CMD=('TYPE E','DIR')\n")
	if rc != 8 || !strings.Contains(out, "IPN670I Host vsftp is 10.77.73.2") ||
		!strings.Contains(out, "IPN654E FTP client: TYPE E refused by the server: 500 ") || strings.Contains(out, "IPN653I") {
		t.Fatalf("TYPE E against vsftpd: rc %d\n%s", rc, out)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFTPProxyWithVsftpd: the transfer between two servers with a real
// peer: vsftpd in a namespace and the daemon of one stack, moved by the
// FTP client of a second stack on the same veth end (so that the client's
// stack lends ports to its two control connections only, which the test
// counts), both ways, byte for byte. The daemon lets
// vsftpd join with PROXYPEERS=; vsftpd is told to with port_promiscuous and
// pasv_promiscuous. Without PROXYPEERS= the daemon refuses (bounce
// protection stays the default).
func TestFTPProxyWithVsftpd(t *testing.T) {
	testnet.RequireRoot(t)
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.78.2/24")
	root := t.TempDir()
	os.Chmod(root, 0o755)
	in := filepath.Join(root, "incoming")
	os.Mkdir(in, 0o777)
	os.Chmod(in, 0o777)
	data := bytes.Repeat([]byte("from vsftpd to the stack and back\n"), 30000)
	os.WriteFile(filepath.Join(root, "src.bin"), data, 0o644)
	startVsftpd(t, ns, "10.77.78.2", root, "port_promiscuous=YES", "pasv_promiscuous=YES")

	// The stack whose daemon takes part.
	pub := t.TempDir()
	server := startDaemon(t, "--deck", writeDeck(t,
		"DEFINE LINK ID=OSA1,TYPE=OSAX,DEV="+dev+",IPADDR=10.77.78.20,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		"DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(30300,30319)",
	))
	requireDeckOK(t, server)
	// The stack whose client moves the file.
	loc := t.TempDir()
	client := startDaemon(t, "--deck", writeDeck(t,
		"DEFINE LINK ID=OSA1,TYPE=OSAX,DEV="+dev+",IPADDR=10.77.78.30,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=LOC,DLBL="+loc+",READONLY=NO",
	))
	requireDeckOK(t, client)
	ftp := "FTP HOST=10.77.78.2,USER=anonymous,PASSWORD=x@example.org,HOST2=10.77.78.20,USER2=TESTER,PASSWORD2=T3ster,LOCAL=LOC," +
		"CMD=('CD2 /PUB','COPY src.bin dst.bin','CD /incoming','COPYBACK dst.bin back.bin')\n"
	if out, rc := runConsole(t, client.socket, ftp); rc != 8 || !strings.Contains(out, "IPN654E FTP client: COPY src.bin dst.bin refused by the server: 501 ") {
		t.Fatalf("without PROXYPEERS: rc %d\n%s", rc, out)
	}
	mustConsole(t, server.socket, "ALTER FTPD ID=FTP01,PROXYPEERS=(10.77.78.2)\n")
	out, rc := runConsole(t, client.socket, ftp)
	if rc != 0 {
		t.Fatalf("rc %d:\n%s", rc, out)
	}
	for _, want := range []string{
		`IPN658I FTP client: COPY 10.77.78.2:21 src.bin to 10.77.78.20:21 dst.bin: 1,020,000 bytes in .* server to server`,
		`IPN658I FTP client: COPYBACK 10.77.78.20:21 dst.bin to 10.77.78.2:21 back.bin: .* server to server`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Fatalf("no %q in\n%s", want, out)
		}
	}
	if !bytes.Equal(mustRead(t, filepath.Join(pub, "dst.bin")), data) || !bytes.Equal(mustRead(t, filepath.Join(in, "back.bin")), data) {
		t.Fatal("the file changed on its way between the servers")
	}
	// The data went between the servers: the client's stack lent ports
	// only to its two control connections.
	q := mustConsole(t, client.socket, "QUERY PORTRANGE\n")
	if a := poolLine(t, q, "TCP")["allocations"]; a != 4 {
		t.Fatalf("the client's stack lent %d ports for two sessions of two control connections:\n%s", a, q)
	}
}

// startVsftpd runs Debian's vsftpd in namespace ns on addr:21, anonymous
// with uploads, anon_root root (not writable, as vsftpd wants), plus the
// extra settings given, and waits until it listens.
func startVsftpd(t *testing.T, ns, addr, root string, extra ...string) {
	t.Helper()
	vsftpd := testnet.RequireTool(t, "vsftpd")
	conf := filepath.Join(t.TempDir(), "vsftpd.conf")
	os.WriteFile(conf, []byte(strings.Join(append([]string{
		"listen=YES", "listen_ipv6=NO", "listen_address=" + addr, "listen_port=21", "background=NO",
		"seccomp_sandbox=NO", "anonymous_enable=YES", "no_anon_password=YES", "anon_root=" + root,
		"local_enable=NO", "write_enable=YES", "anon_upload_enable=YES", "anon_other_write_enable=YES",
		"anon_umask=022", "pasv_enable=YES", "port_enable=YES",
		"xferlog_enable=NO", "dirmessage_enable=NO", "connect_from_port_20=NO", "secure_chroot_dir=" + t.TempDir(),
	}, extra...), "\n")+"\n"), 0o644)
	srv := exec.Command("ip", "netns", "exec", ns, vsftpd, conf)
	var out bytes.Buffer
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	if !waitFor(5*time.Second, func() bool {
		l, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Htln", "sport = :21").Output()
		return len(l) > 0
	}) {
		t.Fatalf("vsftpd did not start: %s", out.String())
	}
}

// TestFTPProxyOwnDaemon: one stack's FTP client moves a file between
// vsftpd in a namespace and the same stack's own daemon, reached at its
// RAW link's address, both ways, byte for byte: the stack reaches its own
// address, and the daemon's passive address is one vsftpd reaches.
func TestFTPProxyOwnDaemon(t *testing.T) {
	testnet.RequireRoot(t)
	ns := testnet.Netns(t)
	dev, _ := testnet.Veth(t, ns, "10.77.97.2/24")
	root := t.TempDir()
	os.Chmod(root, 0o755)
	in := filepath.Join(root, "incoming")
	os.Mkdir(in, 0o777)
	os.Chmod(in, 0o777)
	data := bytes.Repeat([]byte("from vsftpd to this stack's own daemon and back\n"), 20000)
	os.WriteFile(filepath.Join(root, "src.bin"), data, 0o644)
	startVsftpd(t, ns, "10.77.97.2", root, "port_promiscuous=YES", "pasv_promiscuous=YES")
	pub, loc := t.TempDir(), t.TempDir()
	d := startDaemon(t, "--deck", writeDeck(t,
		"DEFINE LINK ID=OSA1,TYPE=OSAX,DEV="+dev+",IPADDR=10.77.97.20,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=PUB,DLBL="+pub+",READONLY=NO",
		"DEFINE FILE PUBLIC=LOC,DLBL="+loc+",READONLY=NO",
		"DEFINE USER ID=TESTER,PASSWORD=T3ster",
		"DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(30400,30419),PROXYPEERS=(10.77.97.2)",
	))
	requireDeckOK(t, d)
	ftp := "FTP HOST=10.77.97.2,USER=anonymous,PASSWORD=x@example.org,HOST2=10.77.97.20,USER2=TESTER,PASSWORD2=T3ster,LOCAL=LOC," +
		"CMD=('CD2 /PUB','COPY src.bin dst.bin','CD /incoming','COPYBACK dst.bin back.bin')\n"
	out, rc := runConsole(t, d.socket, ftp)
	if rc != 0 {
		t.Fatalf("rc %d:\n%s", rc, out)
	}
	for _, want := range []string{
		`IPN650I FTP client: connected to 10.77.97.20:21 from 10.77.97.20:`,
		`IPN658I FTP client: COPY 10.77.97.2:21 src.bin to 10.77.97.20:21 dst.bin: 960,000 bytes in .* server to server`,
		`IPN658I FTP client: COPYBACK 10.77.97.20:21 dst.bin to 10.77.97.2:21 back.bin: .* server to server`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Fatalf("no %q in\n%s", want, out)
		}
	}
	if !bytes.Equal(mustRead(t, filepath.Join(pub, "dst.bin")), data) || !bytes.Equal(mustRead(t, filepath.Join(in, "back.bin")), data) {
		t.Fatal("the file changed on its way between the servers")
	}
}
