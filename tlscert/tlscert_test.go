package tlscert

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func TestSelfSignedIsKeptAndUsedAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	c1, made, err := SelfSigned(dir, []string{"stack.example", "localhost"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, now)
	if err != nil || !made {
		t.Fatalf("first: %v made %v", err, made)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, st.Mode())
	}
	if d, _ := os.Stat(dir); d.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v", d.Mode())
	}
	c2, made, err := SelfSigned(dir, []string{"other"}, nil, now.Add(time.Hour))
	if err != nil || made || c2.Fingerprint != c1.Fingerprint {
		t.Fatalf("second start: %v made %v, %s vs %s", err, made, c2.Fingerprint, c1.Fingerprint)
	}
	leaf := c1.TLS.Leaf
	if leaf.Subject.CommonName != SelfSignedCN || len(leaf.IPAddresses) != 1 || leaf.VerifyHostname("localhost") != nil {
		t.Fatalf("names: %v %v %v", leaf.Subject, leaf.DNSNames, leaf.IPAddresses)
	}
	sum := sha256.Sum256(c1.TLS.Certificate[0])
	if strings.ReplaceAll(c1.Fingerprint, ":", "") != strings.ToUpper(hex.EncodeToString(sum[:])) || len(c1.Fingerprint) != 95 {
		t.Fatalf("fingerprint %s", c1.Fingerprint)
	}
	// Near its end it is made anew.
	c3, made, err := SelfSigned(dir, []string{"stack.example"}, nil, now.Add(Lifetime-RenewBefore+time.Hour))
	if err != nil || !made || c3.Fingerprint == c1.Fingerprint {
		t.Fatalf("renewal: %v made %v", err, made)
	}
}

func TestSelfSignedInMemory(t *testing.T) {
	wd, _ := os.Getwd()
	before, _ := os.ReadDir(wd)
	c, made, err := SelfSigned("", nil, nil, now)
	if err != nil || !made || c.Subject != "ipnstack" {
		t.Fatalf("%v %v %+v", err, made, c)
	}
	if after, _ := os.ReadDir(wd); len(after) != len(before) {
		t.Fatal("a certificate without a directory was written somewhere")
	}
}

func TestSelfSignedLeavesADamagedPairAlone(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, CertFile), []byte("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n"), 0o644)
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("junk"), 0o600)
	if _, _, err := SelfSigned(dir, nil, nil, now); err == nil {
		t.Fatal("a damaged pair was replaced")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, KeyFile)); string(b) != "junk" {
		t.Fatal("the key file was overwritten")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if _, _, err := SelfSigned(a, []string{"a"}, nil, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := SelfSigned(b, []string{"b"}, nil, now); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, cert, key string
		at              time.Time
		want            error
		file            string
	}{
		{"a pair", filepath.Join(a, CertFile), filepath.Join(a, KeyFile), now, nil, ""},
		{"another's key", filepath.Join(a, CertFile), filepath.Join(b, KeyFile), now, ErrKeyMismatch, filepath.Join(b, KeyFile)},
		{"no certificate file", filepath.Join(dir, "none.pem"), filepath.Join(a, KeyFile), now, os.ErrNotExist, filepath.Join(dir, "none.pem")},
		{"no key file", filepath.Join(a, CertFile), filepath.Join(dir, "none.pem"), now, os.ErrNotExist, filepath.Join(dir, "none.pem")},
		{"a key given as the certificate", filepath.Join(a, KeyFile), filepath.Join(a, KeyFile), now, ErrNoCertificate, filepath.Join(a, KeyFile)},
		{"expired", filepath.Join(a, CertFile), filepath.Join(a, KeyFile), now.Add(Lifetime + time.Hour), ErrExpired, filepath.Join(a, CertFile)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Load(c.cert, c.key, c.at)
			if c.want == nil {
				if err != nil || got.TLS.Leaf.DNSNames[0] != "a" || got.Source != c.cert {
					t.Fatalf("%v %+v", err, got)
				}
				return
			}
			var fe *FileError
			if !errors.Is(err, c.want) || !errors.As(err, &fe) || fe.File != c.file {
				t.Fatalf("got %v, want %v on %s", err, c.want, c.file)
			}
		})
	}
}

func TestServerConfigRefusesOldProtocols(t *testing.T) {
	c, _, _ := SelfSigned("", nil, nil, time.Now())
	cfg := ServerConfig(c)
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion %x", cfg.MinVersion)
	}
	if got := Describe(tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256}); got != "TLSv1.3 TLS_AES_128_GCM_SHA256" {
		t.Fatal(got)
	}
}

// TestTLS12OnlyAEAD: a TLS 1.2 client that offers only a CBC-SHA1 suite
// gets no handshake; one that offers AES-GCM or ChaCha20-Poly1305 does
// (the stack's certificate is ECDSA).
func TestTLS12OnlyAEAD(t *testing.T) {
	c, _, _ := SelfSigned("", nil, nil, time.Now())
	srv := ServerConfig(c)
	for _, tc := range []struct {
		suite uint16
		ok    bool
	}{
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false}, {tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, false},
		{tls.TLS_RSA_WITH_AES_128_CBC_SHA, false},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true}, {tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
	} {
		a, b := net.Pipe()
		a.SetDeadline(time.Now().Add(5 * time.Second))
		b.SetDeadline(time.Now().Add(5 * time.Second))
		errc := make(chan error, 1)
		go func() {
			s := tls.Server(a, srv)
			err := s.Handshake()
			a.Close() // a refusal's alert is not waited for
			errc <- err
		}()
		cl := tls.Client(b, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tc.suite}})
		err := cl.Handshake()
		b.Close()
		serr := <-errc
		if (err == nil && serr == nil) != tc.ok {
			t.Errorf("%s: client %v, server %v; want a handshake %v", tls.CipherSuiteName(tc.suite), err, serr, tc.ok)
		}
	}
}
