package ops

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/tlscert"
)

// tlsDir is where the stack keeps its own certificate, in the data
// directory.
const tlsDir = "tls"

// stackCert gives the stack's own self-signed certificate: the one kept in
// the data directory, or a new one (IPN424I says so). Without a data
// directory it lives in memory for the life of the System. Called with
// cmdMu held for writing.
func (s *System) stackCert(out command.Out) (*tlscert.Cert, bool) {
	if s.cert != nil {
		return s.cert, true
	}
	dir := ""
	if s.DataDir != "" {
		dir = filepath.Join(s.DataDir, tlsDir)
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append([]string{strings.ToLower(h)}, names...)
	}
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	for _, l := range s.Stack.Links() {
		if a := l.Config.Addr.Addr(); a.IsValid() && !a.IsLoopback() {
			addrs = append(addrs, a)
		}
	}
	c, made, err := tlscert.SelfSigned(dir, names, addrs, s.Clock())
	if err != nil {
		out.Say(certError(err, filepath.Join(dir, tlscert.CertFile)))
		return nil, false
	}
	if made {
		out.Say(msgcat.IPN424I(c.Fingerprint))
	}
	s.cert = c
	return c, true
}

// certFor gives the certificate of CERT= and KEY= (relative paths are
// taken from the data directory), or, when neither is given, the stack's
// own. It has said why when it gives false.
func (s *System) certFor(a command.Args, out command.Out) (*tlscert.Cert, bool) {
	switch {
	case !a.Has("CERT") && !a.Has("KEY"):
		return s.stackCert(out)
	case !a.Has("KEY"):
		out.Say(msgcat.IPN426E("CERT", "KEY"))
		return nil, false
	case !a.Has("CERT"):
		out.Say(msgcat.IPN426E("KEY", "CERT"))
		return nil, false
	}
	cert, key := s.dataPath(a.Str("CERT")), s.dataPath(a.Str("KEY"))
	c, err := tlscert.Load(cert, key, s.Clock())
	if err != nil {
		out.Say(certError(err, cert))
		return nil, false
	}
	return c, true
}

// dataPath takes a relative path from the data directory.
func (s *System) dataPath(p string) string {
	if !filepath.IsAbs(p) && s.DataDir != "" {
		return filepath.Join(s.DataDir, p)
	}
	return p
}

// certLine gives what IPN421I and IPN423I show of a certificate.
func certLine(c *tlscert.Cert) (subject, source, expires, fingerprint string) {
	return c.Subject, c.Source, c.NotAfter.UTC().Format("2006-01-02"), c.Fingerprint
}
