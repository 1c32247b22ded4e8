package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// TestHTTPD: the HTTP daemon through a USER link, with curl: a file, a
// byte range (206), a conditional GET (304), HEAD, the listing of the
// public names, 405 for POST, 404 outside and for upload temporaries;
// QUERY HTTPDS counts them.
func TestHTTPD(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	pub, ro := ftpDirs(t)
	body := strings.Repeat("0123456789", 100)
	os.WriteFile(filepath.Join(pub, "page.txt"), []byte(body), 0o644)
	os.WriteFile(filepath.Join(pub, ".ipn-upload-x"), []byte("half"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(pub, "page.txt"), old, old)
	port := testnet.HostPorts(t, 1)
	d := startDeck(t, strings.Join([]string{
		fmt.Sprintf("DEFINE LINK ID=USERH,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:80)", port),
		"DEFINE FILE PUBLIC=PUB,DLBL=" + pub + ",READONLY=YES",
		"DEFINE FILE PUBLIC=RO,DLBL=" + ro + ",READONLY=YES",
		"DEFINE HTTPD,ID=HTTP1,PORT=80",
	}, "\n"))
	s := &ftpSite{d: d}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	get := func(args ...string) string {
		t.Helper()
		return s.mustClient(t, 30*time.Second, curl, append([]string{"-sS", "--max-time", "20"}, args...)...)
	}
	code := func(args ...string) string {
		t.Helper()
		return get(append([]string{"-o", "/dev/null", "-w", "%{http_code}"}, args...)...)
	}
	if got := get(base + "/PUB/page.txt"); got != body {
		t.Fatalf("GET: %d bytes", len(got))
	}
	if got := get("-r", "10-19", base+"/PUB/page.txt"); got != "0123456789" {
		t.Fatalf("range: %q", got)
	}
	if c := code("-r", "10-19", base+"/PUB/page.txt"); c != "206" {
		t.Fatalf("range status %s", c)
	}
	if c := code("-z", time.Now().UTC().Format(time.RFC1123), base+"/PUB/page.txt"); c != "304" {
		t.Fatalf("If-Modified-Since status %s", c)
	}
	if h := get("-I", base+"/PUB/page.txt"); !strings.Contains(h, "Content-Length: 1000") || !strings.Contains(h, "Server: TCP/IP FOR VSE HTTPD HTTP1") {
		t.Fatalf("HEAD:\n%s", h)
	}
	if l := get(base + "/"); !strings.Contains(l, `href="PUB/"`) || !strings.Contains(l, `href="RO/"`) {
		t.Fatalf("the listing of the public names:\n%s", l)
	}
	if l := get(base + "/PUB/"); !strings.Contains(l, "page.txt") || strings.Contains(l, ".ipn-upload") {
		t.Fatalf("the listing of /PUB:\n%s", l)
	}
	for path, want := range map[string]string{"/PUB/.ipn-upload-x": "404", "/NOSUCH/x": "404", "/PUB/../../etc/passwd": "404"} {
		if c := code("--path-as-is", base+path); c != want {
			t.Fatalf("%s: %s, want %s", path, c, want)
		}
	}
	if c := code("-X", "POST", "-d", "x", base+"/PUB/page.txt"); c != "405" {
		t.Fatalf("POST: %s", c)
	}
	out := mustConsole(t, d.socket, "QUERY HTTPDS\n")
	if !strings.Contains(out, "IPN685I HTTPD HTTP1 on [::]:80: requests ") || !strings.Contains(out, "refused 1") {
		t.Fatalf("QUERY HTTPDS:\n%s", out)
	}
}
