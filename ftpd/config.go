package ftpd

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"ipnstack/ftptype"
	"ipnstack/internal/guard"
	"ipnstack/internal/xferlog"
	"ipnstack/portrange"
	"ipnstack/tlscert"
)

// Anonymous says whether the anonymous users (anonymous, ftp) may log in.
type Anonymous int

// The ANONYMOUS= values of DEFINE FTPD.
const (
	AnonNo    Anonymous = iota // no anonymous login
	AnonRead                   // anonymous users may read
	AnonWrite                  // anonymous users may also upload new files and make directories
)

func (a Anonymous) String() string {
	switch a {
	case AnonRead:
		return "READ"
	case AnonWrite:
		return "WRITE"
	}
	return "NO"
}

// ParseAnonymous reads an ANONYMOUS= value (NO, READ or WRITE, any case).
func ParseAnonymous(s string) (Anonymous, error) {
	switch strings.ToUpper(s) {
	case "NO":
		return AnonNo, nil
	case "READ":
		return AnonRead, nil
	case "WRITE":
		return AnonWrite, nil
	}
	return AnonNo, fmt.Errorf("ANONYMOUS=%s is not NO, READ or WRITE", s)
}

// TLSMode is a daemon's TLS policy (TLS= of DEFINE FTPD).
type TLSMode int

// The TLS= values. The zero value is TLSNo, so that a Config without a
// certificate is complete; DEFINE FTPD's default is ALLOWED.
const (
	TLSNo       TLSMode = iota // no AUTH TLS: every session in clear
	TLSAllowed                 // AUTH TLS offered; clear sessions too
	TLSRequired                // logins and data only under TLS (AUTH TLS, PROT P)
	TLSImplicit                // the control port speaks TLS from its first byte (FTPS, port 990)
)

var tlsModes = []string{"NO", "ALLOWED", "REQUIRED", "IMPLICIT"}

func (m TLSMode) String() string { return tlsModes[m] }

// ParseTLSMode reads a TLS= value (NO, ALLOWED, REQUIRED or IMPLICIT).
func ParseTLSMode(s string) (TLSMode, error) {
	for i, n := range tlsModes {
		if strings.EqualFold(s, n) {
			return TLSMode(i), nil
		}
	}
	return TLSNo, fmt.Errorf("TLS=%s is not NO, ALLOWED, REQUIRED or IMPLICIT", s)
}

// Defaults of a Config's zero fields.
const (
	DefaultCount       = 20
	DefaultTimeout     = 300 * time.Second
	DefaultPasvTimeout = 60 * time.Second
	DefaultLoginDelay  = time.Second
	MaxFailedLogins    = 3
)

// Config is one daemon, as DEFINE FTPD describes it.
type Config struct {
	ID   string         // daemon id (ID=)
	Addr netip.AddrPort // control address (IPADDR= and PORT=)
	// Count is the most sessions served at once (COUNT=); the next client
	// gets 421. Zero means DefaultCount.
	Count int
	// Timeout ends a session idle this long with 421 (TIMEOUT=). Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// DataPorts is the pool passive data ports come from: the daemon's own
	// DATAPORTS= pool if it has one, else the stack's ephemeral pool.
	DataPorts *portrange.Pool
	// PasvAddr is the IPv4 address a 227 reply advertises (PASVADDR=, for a
	// daemon behind NAT). The zero value advertises the control
	// connection's local address. EPSV never needs it.
	PasvAddr netip.Addr
	// Active allows PORT and EPRT (ACTIVE=YES).
	Active bool
	// ProxyPeers are the servers a third-party transfer may join
	// (PROXYPEERS=): PORT and EPRT may name them, and a passive data
	// connection may come from them, besides the control connection's
	// client. Empty: only the client (RFC 2577's bounce protection).
	ProxyPeers []netip.Addr
	// Anonymous allows the anonymous users (ANONYMOUS=).
	Anonymous Anonymous
	// Banner is the text of the 220 greeting (BANNER=); empty gives a
	// default naming the daemon.
	Banner string
	// PasvTimeout gives a passive listener's port back when no transfer
	// command used it within this time. Zero means DefaultPasvTimeout.
	PasvTimeout time.Duration
	// PasvWait is how long PASV and EPSV wait for a port of a dry pool
	// before answering 425 (PASVWAIT=); zero answers at once.
	PasvWait time.Duration
	// LoginDelay is how long a failed login waits before its 530 at least
	// (the account's delay, users.Login, is longer after repeated
	// failures). Zero means DefaultLoginDelay; a negative value means no
	// delay at all (tests).
	LoginDelay time.Duration
	// Guard is what one client address may do: sessions at once, the time
	// to log in, and the lockout after failed logins (PERCLIENT=,
	// LOGINTIME=, LOCKOUT=). The zero value means guard.Default.
	Guard guard.Policy
	// TLS is the daemon's TLS policy (TLS=); anything but TLSNo needs Cert.
	TLS TLSMode
	// Cert is the certificate the daemon's TLS sessions present (CERT= and
	// KEY=, or the stack's own).
	Cert *tlscert.Cert
	// ReuseOptional lets a protected data connection make a TLS session of
	// its own (TLSREUSE=NO). By default its session must resume one the
	// control connection's TLS gave, which a thief of the passive port
	// cannot.
	ReuseOptional bool
	// AnonClear exempts the anonymous user from TLS=REQUIRED (ANONCLEAR=).
	AnonClear bool
	// CCC allows the client to clear the control connection after login
	// (CCC=YES, for firewalls that must read PORT and PASV).
	CCC bool
	// Clock gives the time (tests pass a fake); nil means time.Now.
	Clock func() time.Time
	// Transfers hears each file moved, complete or not (the transfer
	// log); nil: none.
	Transfers func(xferlog.Record)
	// CodePage is TYPE E's EBCDIC code page (CODEPAGE=); nil: 037. A
	// session may choose another (SITE CODEPAGE=).
	CodePage *ftptype.CodePage
	// Rate bounds each session's transfers, uploads and downloads, in
	// bytes a second (RATE=); AnonRate an anonymous session's instead
	// (ANONRATE=); TotalRate all the daemon's sessions together
	// (TOTALRATE=). Zero: no bound.
	Rate, AnonRate, TotalRate int64
}

// ConfigError says what is wrong with a Config.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return "FTPD " + e.Field + ": " + e.Reason }

// withDefaults checks a Config and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.ID == "" {
		return c, &ConfigError{"ID", "is required"}
	}
	if !c.Addr.IsValid() || c.Addr.Port() == 0 {
		return c, &ConfigError{"PORT", "the control address needs an address and a port"}
	}
	if c.DataPorts == nil {
		return c, &ConfigError{"DATAPORTS", "a data-port pool is required"}
	}
	if c.PasvAddr.IsValid() && !c.PasvAddr.Unmap().Is4() {
		return c, &ConfigError{"PASVADDR", "must be an IPv4 address"}
	}
	if c.TLS < TLSNo || c.TLS > TLSImplicit {
		return c, &ConfigError{"TLS", "must be NO, ALLOWED, REQUIRED or IMPLICIT"}
	}
	if c.TLS != TLSNo && c.Cert == nil {
		return c, &ConfigError{"CERT", "TLS needs a certificate"}
	}
	if c.Count < 0 || c.Timeout < 0 || c.PasvTimeout < 0 {
		return c, &ConfigError{"COUNT", "COUNT and TIMEOUT cannot be negative"}
	}
	if c.Count == 0 {
		c.Count = DefaultCount
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.PasvTimeout == 0 {
		c.PasvTimeout = DefaultPasvTimeout
	}
	if c.LoginDelay == 0 {
		c.LoginDelay = DefaultLoginDelay
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.CodePage == nil {
		c.CodePage = ftptype.CP037
	}
	if c.Guard == (guard.Policy{}) {
		c.Guard = guard.Default
	}
	if c.Guard.LoginTime <= 0 {
		c.Guard.LoginTime = guard.DefaultLoginTime
	}
	if c.Banner == "" {
		c.Banner = "TCP/IP FOR VSE FTP daemon " + c.ID + " ready"
	}
	c.Banner = strings.NewReplacer("\r", " ", "\n", " ").Replace(c.Banner)
	return c, nil
}
