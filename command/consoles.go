package command

import (
	"errors"
	"net"
	"strings"
	"time"

	"ipnstack/internal/guard"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// Consoles is what a command may ask of the console layer that runs it
// (package console implements it; a Request carries it): the attached
// consoles, the telnet console listeners, the command counters. A session
// outside any console layer (a syntax check, a unit test) has NoConsoles.
type Consoles interface {
	// List gives the attached consoles, by id.
	List() []ConsoleStatus
	// SetHears chooses the message classes console id hears; false if no
	// such console is attached.
	SetHears(id string, m msgcat.ClassMask) bool
	// SetLook gives console id the VSE look with its partition id, or
	// (vse false) the plain look; false if no such console is attached.
	SetLook(id string, vse bool, partition string) bool
	// End ends console id once its running command (which may be the
	// one asking) has finished; false if no such console is attached.
	End(id string, why EndReason, by string) bool
	// EndFrom ends every console that came through listener, as End
	// does, and gives how many.
	EndFrom(listener string, why EndReason, by string) int
	// Quiesce lets no console start a command or attach any more
	// (SHUTDOWN); the commands running now finish.
	Quiesce(by string)
	// Counts gives the commands run and failed (return code 8 or more).
	Counts() (commands, failed uint64)
	// ServeTelnet serves remote operator consoles on a listener until the
	// door it gives is closed.
	ServeTelnet(cfg TelnetConfig) (ConsoleServer, error)
}

// ConsoleStatus is what QUERY CONSOLES shows of one console.
type ConsoleStatus struct {
	Info     ConsoleInfo
	Addr     string // "terminal", "local", "10.77.0.2:40001"
	Since    time.Time
	Listener string // the console listener it came through, if remote
	Hears    msgcat.ClassMask
}

// EndReason says why the stack ends a console; the console layer says it
// to the console as a catalogued message.
type EndReason int

// Why a console is ended.
const (
	EndStopped         EndReason = iota // STOP CONSOLE= from console by
	EndListenerDeleted                  // DELETE CONSOLE of its listener
	EndShutdown                         // SHUTDOWN from console by
	EndLogoff                           // LOGOFF (EXIT, QUIT, END) of the console itself
)

// TelnetConfig is a telnet console listener of DEFINE CONSOLE.
type TelnetConfig struct {
	Name        string       // the listener's id
	Listener    net.Listener // on the host or in the stack; the door closes it
	Logon       Logon        // checks the operators' logons
	IdleTimeout time.Duration
	Guard       *guard.Guard // per-client limits and lockout; nil: guard.Default
	// Owner says which host user owns a local client's socket, so that
	// each local user counts apart; nil: by address alone.
	Owner func(net.Conn) (uint32, bool)
}

// Logon checks an operator's logon at a remote console (users.Registry
// does).
type Logon interface {
	// Logon checks an operator's id and password at door d; on a failure
	// it gives how long the console waits before it answers.
	Logon(id, password string, d users.Door) (auth users.Authority, delay time.Duration, ok bool)
}

// ConsoleServer is a console listener as its owner sees it.
type ConsoleServer interface {
	// Addr is where it listens.
	Addr() net.Addr
	// Fault says why its Accept fails now, or "".
	Fault() string
	// Close stops listening and waits for the connections that have not
	// logged on; logged-on consoles stay until ended.
	Close()
}

// ErrNoConsoles is what NoConsoles gives for a listener.
var ErrNoConsoles = errors.New("no console layer runs this session")

// NoConsoles is the console layer of a session without one: no consoles,
// no listeners, no counters.
type NoConsoles struct{}

// List implements Consoles.
func (NoConsoles) List() []ConsoleStatus { return nil }

// SetHears implements Consoles.
func (NoConsoles) SetHears(string, msgcat.ClassMask) bool { return false }

// ValidPartition says whether p is a VSE partition id for LOOK VSE: two
// letters or digits (BG, F1 to FB, dynamic ones like C1), in any case.
func ValidPartition(p string) bool {
	if len(p) != 2 {
		return false
	}
	for _, r := range strings.ToUpper(p) {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// SetLook implements Consoles.
func (NoConsoles) SetLook(string, bool, string) bool { return false }

// End implements Consoles.
func (NoConsoles) End(string, EndReason, string) bool { return false }

// EndFrom implements Consoles.
func (NoConsoles) EndFrom(string, EndReason, string) int { return 0 }

// Quiesce implements Consoles.
func (NoConsoles) Quiesce(string) {}

// Counts implements Consoles.
func (NoConsoles) Counts() (uint64, uint64) { return 0, 0 }

// ServeTelnet implements Consoles.
func (NoConsoles) ServeTelnet(TelnetConfig) (ConsoleServer, error) { return nil, ErrNoConsoles }
