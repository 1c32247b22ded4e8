package users

import (
	"errors"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"
)

// Need is what a login is for: the right the user must have.
type Need int

// The needs.
const (
	NeedFTP     Need = iota // an FTP daemon: FTP=YES
	NeedSOCKS               // a SOCKS door with AUTH=USER: SOCKS=YES
	NeedConsole             // a remote console: CONSOLE=YES or QUERY
)

// Door is where a login comes from.
type Door struct {
	Name string     // for the record: "FTPD FTP01", "SOCKSD S1", "console TEL1"
	From netip.Addr // the client's address
	Need Need
}

// ErrAccountLocked says the account is locked out after too many failed
// logins; the right password is refused too until the lock ends.
var ErrAccountLocked = errors.New("the account is locked out after failed logins")

// The account lockout: AccountFailures failed logins of one user id within
// AccountWindow, from any doors and addresses, lock the id for
// AccountLock. A failed login is answered after a delay that doubles with
// the id's recent failures, from FirstDelay to MaxDelay, so that guessing
// costs time at every door however many connections the guesser opens.
const (
	AccountFailures = 10
	AccountWindow   = 5 * time.Minute
	AccountLock     = 5 * time.Minute
	FirstDelay      = time.Second
	MaxDelay        = 8 * time.Second
)

// maxAccounts bounds the user ids whose failures are remembered (unknown
// ids too, so that a guess tells nothing of which ids exist); past it,
// those with no failure in the window and no lock are forgotten first.
const maxAccounts = 8192

// AccountLockout is a locked account, as QUERY LOCKOUTS shows it and as
// the registry reports it when the lock begins.
type AccountLockout struct {
	ID        string
	Until     time.Time
	Failures  int        // failed logins that led to the lock
	Addresses int        // the distinct client addresses they came from
	LastFrom  netip.Addr // the last of them
	LastDoor  string
}

// account is one user id's recent failed logins.
type account struct {
	times []time.Time             // failures within the window, oldest first
	from  map[netip.Addr]struct{} // their addresses (bounded)
	until time.Time               // locked until then
	lock  AccountLockout          // the lock in force
}

// logins is the registry's record of failed logins. Lock order: logins.mu
// alone.
type logins struct {
	mu       sync.Mutex
	accounts map[string]*account
	onLock   func(AccountLockout)
}

// SetClock sets the registry's time (the stack's clock; tests: a fixed
// one).
func (u *Registry) SetClock(f func() time.Time) {
	u.log.mu.Lock()
	u.clock = f
	u.log.mu.Unlock()
}

// SetOnLock sets what the registry does when an account becomes locked
// (the stack raises a warning on the consoles). It is called without any
// lock of the registry held.
func (u *Registry) SetOnLock(f func(AccountLockout)) {
	u.log.mu.Lock()
	u.log.onLock = f
	u.log.mu.Unlock()
}

// Login checks a login at a door: the id (any case) and password, the
// right the door needs, and the id's lockout. It gives the user, or
// ErrLoginFailed (unknown id, wrong password, or a user without the right,
// alike) or ErrAccountLocked, with the delay the door waits before it
// answers a failure.
func (u *Registry) Login(id, password string, d Door) (Info, time.Duration, error) {
	key := strings.ToUpper(id)
	now := u.clock()
	if locked, _ := u.AccountLocked(key); locked {
		return Info{}, u.delay(key, now), ErrAccountLocked
	}
	info, err := u.Authenticate(id, password)
	if err == nil && !has(info, d.Need) {
		err = ErrLoginFailed
	}
	if err == nil {
		u.log.mu.Lock()
		delete(u.log.accounts, key) // the right password ends the record
		u.log.mu.Unlock()
		return info, 0, nil
	}
	return Info{}, u.failed(key, now, d), err
}

func has(i Info, n Need) bool {
	switch n {
	case NeedSOCKS:
		return i.SOCKS
	case NeedConsole:
		return i.Console != None
	}
	return i.FTP
}

// failed records a failed login of key and gives the delay before the
// door answers; the failure that reaches AccountFailures locks the id.
func (u *Registry) failed(key string, now time.Time, d Door) time.Duration {
	l := &u.log
	l.mu.Lock()
	if l.accounts == nil {
		l.accounts = map[string]*account{}
	}
	a := l.accounts[key]
	if a == nil {
		if len(l.accounts) >= maxAccounts {
			l.pruneLocked(now)
		}
		a = &account{from: map[netip.Addr]struct{}{}}
		l.accounts[key] = a
	}
	a.times = append(trimTimes(a.times, now.Add(-AccountWindow)), now)
	if len(a.from) < 1024 {
		a.from[d.From] = struct{}{}
	}
	var report *AccountLockout
	if len(a.times) >= AccountFailures && !now.Before(a.until) {
		a.until = now.Add(AccountLock)
		a.lock = AccountLockout{ID: key, Until: a.until, Failures: len(a.times), Addresses: len(a.from), LastFrom: d.From, LastDoor: d.Name}
		r := a.lock
		report = &r
	}
	delay := delayFor(len(a.times))
	onLock := l.onLock
	l.mu.Unlock()
	if report != nil && onLock != nil {
		onLock(*report)
	}
	return delay
}

// delay is the delay of a refusal of key now (a locked id).
func (u *Registry) delay(key string, now time.Time) time.Duration {
	u.log.mu.Lock()
	defer u.log.mu.Unlock()
	if a := u.log.accounts[key]; a != nil {
		return delayFor(len(trimTimes(a.times, now.Add(-AccountWindow))))
	}
	return FirstDelay
}

// delayFor doubles from FirstDelay with each recent failure, up to MaxDelay.
func delayFor(failures int) time.Duration {
	d := FirstDelay
	for i := 1; i < failures && d < MaxDelay; i++ {
		d *= 2
	}
	return min(d, MaxDelay)
}

func trimTimes(ts []time.Time, since time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(since) {
		i++
	}
	return ts[i:]
}

// pruneLocked forgets the ids with no failure in the window and no lock.
func (l *logins) pruneLocked(now time.Time) {
	for k, a := range l.accounts {
		if a.times = trimTimes(a.times, now.Add(-AccountWindow)); len(a.times) == 0 && !now.Before(a.until) {
			delete(l.accounts, k)
		}
	}
}

// AccountLocked says whether an id is locked out now, and until when.
func (u *Registry) AccountLocked(id string) (bool, time.Time) {
	u.log.mu.Lock()
	defer u.log.mu.Unlock()
	a := u.log.accounts[strings.ToUpper(id)]
	if a == nil || !u.clock().Before(a.until) {
		return false, time.Time{}
	}
	return true, a.until
}

// AccountLockouts lists the locked ids, by id.
func (u *Registry) AccountLockouts() []AccountLockout {
	u.log.mu.Lock()
	defer u.log.mu.Unlock()
	now := u.clock()
	var out []AccountLockout
	for _, a := range u.log.accounts {
		if now.Before(a.until) {
			out = append(out, a.lock)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// UnlockAccount ends an id's lockout and forgets its failures; false if it
// was not locked.
func (u *Registry) UnlockAccount(id string) bool {
	u.log.mu.Lock()
	defer u.log.mu.Unlock()
	key := strings.ToUpper(id)
	a := u.log.accounts[key]
	if a == nil || !u.clock().Before(a.until) {
		return false
	}
	delete(u.log.accounts, key)
	return true
}
