// Package tlscert gives the stack's servers their TLS certificates: a pair
// of PEM files an operator names (CERT=, KEY=), or the stack's own
// self-signed certificate, made on first need for its names and addresses,
// kept in the data directory and used again at the next start. Every
// certificate carries its SHA-256 fingerprint, which the consoles show so a
// client can pin it.
//
// The certificates themselves are Go's crypto/x509 and crypto/tls; this
// package only chooses the files, the key type and the policy (TLS 1.2 and
// 1.3 only).
package tlscert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Cert is a certificate ready to serve, with what an operator needs to know
// of it.
type Cert struct {
	TLS         tls.Certificate
	Fingerprint string    // SHA-256 of the leaf certificate, AB:CD:... (as openssl x509 -fingerprint -sha256 prints it)
	Subject     string    // the leaf's subject common name
	NotAfter    time.Time // when the leaf expires
	Source      string    // the certificate file, or SelfSignedSource
}

// SelfSignedSource is the Source of the stack's own certificate, and
// SelfSignedCN its subject's common name.
const (
	SelfSignedSource = "self-signed"
	SelfSignedCN     = "ipnstack"
)

// The self-signed certificate's files in its directory, its lifetime, and
// how long before it expires it is made anew.
const (
	CertFile    = "stack-cert.pem"
	KeyFile     = "stack-key.pem"
	Lifetime    = 398 * 24 * time.Hour
	RenewBefore = 30 * 24 * time.Hour
)

// FileError says which file could not be used, and why.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Errors of a certificate pair.
var (
	ErrNoCertificate = errors.New("no certificate in the file")
	ErrKeyMismatch   = errors.New("the key does not belong to the certificate")
	ErrExpired       = errors.New("the certificate has expired")
)

// Load reads a certificate (with its chain) and its private key from PEM
// files. now is checked against the leaf's validity.
func Load(certFile, keyFile string, now time.Time) (*Cert, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, &FileError{certFile, unwrapPath(err)}
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, &FileError{keyFile, unwrapPath(err)}
	}
	if !bytes.Contains(cb, []byte("CERTIFICATE")) {
		return nil, &FileError{certFile, ErrNoCertificate}
	}
	pair, err := tls.X509KeyPair(cb, kb)
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return nil, &FileError{keyFile, ErrKeyMismatch}
		}
		return nil, &FileError{certFile, errors.New(strings.TrimPrefix(err.Error(), "tls: "))}
	}
	c, err := fromPair(pair, certFile)
	if err != nil {
		return nil, err
	}
	if now.After(c.NotAfter) {
		return nil, &FileError{certFile, ErrExpired}
	}
	return c, nil
}

// unwrapPath drops the path from an os error (the FileError names it).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func fromPair(pair tls.Certificate, source string) (*Cert, error) {
	if len(pair.Certificate) == 0 {
		return nil, &FileError{source, ErrNoCertificate}
	}
	leaf := pair.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, &FileError{source, err}
		}
		pair.Leaf = leaf
	}
	return &Cert{TLS: pair, Fingerprint: Fingerprint(pair.Certificate[0]), Subject: leaf.Subject.CommonName,
		NotAfter: leaf.NotAfter, Source: source}, nil
}

// Fingerprint is the SHA-256 of a DER certificate, as upper-case hex
// pairs joined by colons.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// SelfSigned gives the stack's own certificate. With a directory, it is
// read from CertFile and KeyFile there when they hold a valid pair that is
// not about to expire; else a new one is made and written there (the key
// 0600, the directory 0700), and made says so. Without a directory (""),
// the certificate lives in memory only. names and addrs are the subject
// alternative names of a new certificate; its common name is SelfSignedCN.
func SelfSigned(dir string, names []string, addrs []netip.Addr, now time.Time) (c *Cert, made bool, err error) {
	if dir != "" {
		c, err := Load(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), now)
		if err == nil && c.NotAfter.Sub(now) > RenewBefore {
			c.Source = SelfSignedSource
			return c, false, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, ErrExpired) {
			return nil, false, err // a damaged pair is the operator's to look at, not to overwrite
		}
	}
	certPEM, keyPEM, err := generate(names, addrs, now)
	if err != nil {
		return nil, false, err
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, false, &FileError{dir, unwrapPath(err)}
		}
		// The key first, each file whole or not at all.
		if err := writeFile(filepath.Join(dir, KeyFile), keyPEM, 0o600); err != nil {
			return nil, false, err
		}
		if err := writeFile(filepath.Join(dir, CertFile), certPEM, 0o644); err != nil {
			return nil, false, err
		}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, false, err
	}
	c, err = fromPair(pair, SelfSignedSource)
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// writeFile writes a file through a temporary file and a rename.
func writeFile(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return &FileError{path, unwrapPath(err)}
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return &FileError{path, unwrapPath(err)}
	}
	return nil
}

// generate makes an ECDSA P-256 key and a self-signed certificate for it.
func generate(names []string, addrs []netip.Addr, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	cn := SelfSignedCN
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"TCP/IP FOR VSE stack"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(Lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
	}
	for _, a := range addrs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.Unmap().AsSlice()))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// ServerConfig is the TLS configuration of a server with this
// certificate: TLS 1.2 and 1.3 only, and under TLS 1.2 only the AEAD
// suites with forward secrecy (AES-GCM, ChaCha20-Poly1305 over ECDHE): Go's
// defaults would also take the CBC-SHA1 suites. TLS 1.3's suites are all
// AEAD.
func ServerConfig(c *Cert) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.TLS}, MinVersion: tls.VersionTLS12, CipherSuites: AEADSuites}
}

// AEADSuites are the TLS 1.2 suites a server of the stack takes.
var AEADSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Describe says which protocol and cipher a connection uses, e.g.
// "TLSv1.3 TLS_AES_128_GCM_SHA256".
func Describe(cs tls.ConnectionState) string {
	return strings.Replace(tls.VersionName(cs.Version), "TLS 1", "TLSv1", 1) + " " + tls.CipherSuiteName(cs.CipherSuite)
}

// String is the certificate's line for an operator.
func (c *Cert) String() string {
	return fmt.Sprintf("%s (%s, expires %s) SHA-256 %s", c.Subject, c.Source, c.NotAfter.UTC().Format("2006-01-02"), c.Fingerprint)
}
