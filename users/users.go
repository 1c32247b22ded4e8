// Package users is the stack's one registry of user ids: their password
// hashes (argon2id), what each may do at the FTP daemons and the SOCKS
// doors, the console authority they log on with, and each account's recent
// failed logins (Login): the FTP daemons, the SOCKS doors and the console
// logons all check passwords through it, so an account's lockout holds at
// every door and from every address.
package users

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"path"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Authority is what a console may do: a user's CONSOLE= authority, the
// authority of an attached console, and the authority a command row needs.
type Authority int

// Authorities, from least to most.
const (
	None  Authority = iota // CONSOLE=NO: may not log on to a console
	Query                  // CONSOLE=QUERY: QUERY and HELP; looks, changes nothing
	Full                   // CONSOLE=YES: any command
)

// consoleValues are the CONSOLE= values of DEFINE USER, by authority.
var consoleValues = [...]string{None: "NO", Query: "QUERY", Full: "YES"}

// String gives the CONSOLE= value: NO, QUERY or YES.
func (a Authority) String() string {
	if a >= 0 && int(a) < len(consoleValues) {
		return consoleValues[a]
	}
	return "NO"
}

// Level names the authority as a console display shows it: NONE, QUERY or
// FULL.
func (a Authority) Level() string {
	switch a {
	case Query:
		return "QUERY"
	case Full:
		return "FULL"
	}
	return "NONE"
}

// ParseConsole reads a CONSOLE= value (NO, QUERY or YES).
func ParseConsole(v string) (Authority, bool) {
	for a, name := range consoleValues {
		if strings.EqualFold(name, v) {
			return Authority(a), true
		}
	}
	return None, false
}

// User is a DEFINE USER definition as given, with its password in clear.
// The registry keeps only a salted hash of the password.
type User struct {
	ID       string    // 1-16 characters; stored upper case, matched in any case
	Password string    // never stored, logged or shown
	Root     string    // path in the FTP tree where the user starts and is confined; "" means "/"
	ReadOnly bool      // no writes of any kind
	Console  Authority // console authority, for the console logon
	FTP      bool      // may log in to the FTP daemons (FTP=)
	SOCKS    bool      // may use a SOCKS door with AUTH=USER (SOCKS=)
}

// Info is what the registry shows of a user: never the password.
type Info struct {
	ID       string
	Root     string
	ReadOnly bool
	Console  Authority
	FTP      bool
	SOCKS    bool
}

// The password hash: argon2id with these parameters (docs/ftp.md says why
// they are this small). They are stored with each hash, so they can change
// without invalidating users already defined.
const (
	kdfTime    = 3
	kdfMemory  = 1024 // KiB
	kdfThreads = 1
	kdfKeyLen  = 32
	kdfSaltLen = 16
)

type passwordHash struct {
	time, memory uint32
	threads      uint8
	salt, key    []byte
}

func hashPassword(password string) (passwordHash, error) {
	salt := make([]byte, kdfSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return passwordHash{}, err
	}
	h := passwordHash{time: kdfTime, memory: kdfMemory, threads: kdfThreads, salt: salt}
	h.key = argon2.IDKey([]byte(password), salt, h.time, h.memory, h.threads, kdfKeyLen)
	return h, nil
}

func (h passwordHash) matches(password string) bool {
	k := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(k, h.key) == 1
}

// String never shows the hash itself.
func (h passwordHash) String() string {
	return fmt.Sprintf("argon2id(t=%d,m=%dKiB,p=%d)", h.time, h.memory, h.threads)
}

type userRec struct {
	info Info
	hash passwordHash
}

// Registry is the stack-wide user registry. It is safe for concurrent use.
// Password checks run at most GOMAXPROCS at a time, so a burst of logins
// costs time in turn instead of memory all at once.
//
// Each check makes kdfMemory of garbage; a burst of them leaves the Go heap
// grown by many times what the sessions need, and the runtime gives such
// memory back to the system only slowly. So when the last check of a burst
// ends, and at least releaseAfter KiB were hashed since the last time, the
// memory is returned at once (debug.FreeOSMemory): the process's size
// follows its sessions, not its past logins. The return forces a
// collection, whose cost grows with the heap (tens of milliseconds at
// thousands of sessions), so it runs at most once every releaseEvery,
// however often bursts end (a stream of failed logons included); a burst
// that ends sooner is returned for when that time is up (a timer, which
// Close stops).
//
// Lock order: relMu alone, log.mu alone (nothing else is taken under
// either).
type Registry struct {
	mu     sync.RWMutex
	users  map[string]*userRec
	sem    chan struct{}
	dummy  passwordHash  // checked for unknown users, so timing does not tell who exists
	flight atomic.Int32  // checks waiting or running
	hashed atomic.Uint64 // KiB hashed since memory was last returned

	relMu       sync.Mutex
	lastRelease time.Time   // under relMu
	stopTimer   func() bool // stops a return put off, nil when none is; under relMu
	closed      bool        // under relMu
	timers      sync.WaitGroup
	clock       func() time.Time
	release     func()                                             // debug.FreeOSMemory
	after       func(d time.Duration, f func()) (stop func() bool) // time.AfterFunc

	log logins // failed logins by id: the account lockout (logins.go)
}

// releaseAfter is how much hashing (KiB) makes the end of a burst of
// password checks return the heap's free memory to the system: four
// checks, so that one login in four at most pays for it (a collection and
// the return, about a millisecond on a small heap), and at most three
// checks' garbage waits for the runtime to give it back.
const releaseAfter = 4 * kdfMemory

// releaseEvery is the least time between two returns of memory.
const releaseEvery = time.Second

// New makes an empty registry.
func New() *Registry {
	dummy, _ := hashPassword("\x00no user\x00")
	return &Registry{users: map[string]*userRec{}, sem: make(chan struct{}, runtime.GOMAXPROCS(0)), dummy: dummy,
		clock: time.Now, release: debug.FreeOSMemory,
		after: func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }}
}

// Registry errors.
var (
	ErrUserExists   = errors.New("user is already defined")
	ErrNoSuchUser   = errors.New("user is not defined")
	ErrLoginFailed  = errors.New("user id or password is wrong")
	ErrReservedUser = errors.New("ANONYMOUS and FTP are the anonymous users; ANONYMOUS= of DEFINE FTPD allows them")
)

// FieldError says which operand of a definition is wrong.
type FieldError struct {
	Field, Value, Reason string
}

func (e *FieldError) Error() string { return e.Field + "=" + e.Value + ": " + e.Reason }

// CheckUserID checks a user id: 1-16 characters, letters, digits, @ # $ - _ .
func CheckUserID(id string) error {
	if len(id) == 0 || len(id) > 16 {
		return &FieldError{"ID", id, "must be 1 to 16 characters"}
	}
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("@#$-_.", r)) {
			return &FieldError{"ID", id, "may hold only letters, digits and @ # $ - _ ."}
		}
	}
	return nil
}

// cleanRoot makes a user's root an absolute, clean virtual path.
func cleanRoot(root string) (string, error) {
	if root == "" {
		return "/", nil
	}
	if !strings.HasPrefix(root, "/") || strings.ContainsAny(root, "\x00\r\n") {
		return "", &FieldError{"ROOT", root, "must be an absolute path of the FTP tree, such as /PUB/HOME"}
	}
	c := path.Clean(root)
	if c != root && c+"/" != root {
		return "", &FieldError{"ROOT", root, "must be a clean path (no . or .. or double slashes)"}
	}
	if c == "/" {
		return c, nil
	}
	// The public name (first component) matches in any case; keep it upper case.
	first, rest, _ := strings.Cut(c[1:], "/")
	c = "/" + strings.ToUpper(first)
	if rest != "" {
		c += "/" + rest
	}
	return c, nil
}

// Define adds a user. The id is stored upper case.
func (u *Registry) Define(def User) error {
	if err := CheckUserID(def.ID); err != nil {
		return err
	}
	id := strings.ToUpper(def.ID)
	if id == "ANONYMOUS" || id == "FTP" {
		return ErrReservedUser
	}
	if def.Password == "" {
		return &FieldError{"PASSWORD", "", "is required"}
	}
	root, err := cleanRoot(def.Root)
	if err != nil {
		return err
	}
	h, err := hashPassword(def.Password)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.users[id]; ok {
		return ErrUserExists
	}
	u.users[id] = &userRec{info: Info{ID: id, Root: root, ReadOnly: def.ReadOnly, Console: def.Console, FTP: def.FTP, SOCKS: def.SOCKS}, hash: h}
	return nil
}

// Change is what ALTER USER changes; a nil field stays.
type Change struct {
	Password *string
	Root     *string
	ReadOnly *bool
	Console  *Authority
	FTP      *bool
	SOCKS    *bool
}

// Alter changes a user: all of the change, or (if any of it is wrong)
// nothing. Sessions already logged in keep what they logged in with.
func (u *Registry) Alter(id string, c Change) (Info, error) {
	id = strings.ToUpper(id)
	var h passwordHash
	if c.Password != nil {
		if *c.Password == "" {
			return Info{}, &FieldError{"PASSWORD", "", "cannot be empty"}
		}
		var err error
		if h, err = hashPassword(*c.Password); err != nil {
			return Info{}, err
		}
	}
	var root string
	if c.Root != nil {
		var err error
		if root, err = cleanRoot(*c.Root); err != nil {
			return Info{}, err
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	r, ok := u.users[id]
	if !ok {
		return Info{}, ErrNoSuchUser
	}
	nr := *r
	if c.Password != nil {
		nr.hash = h
	}
	if c.Root != nil {
		nr.info.Root = root
	}
	if c.ReadOnly != nil {
		nr.info.ReadOnly = *c.ReadOnly
	}
	if c.Console != nil {
		nr.info.Console = *c.Console
	}
	if c.FTP != nil {
		nr.info.FTP = *c.FTP
	}
	if c.SOCKS != nil {
		nr.info.SOCKS = *c.SOCKS
	}
	u.users[id] = &nr
	return nr.info, nil
}

// Delete removes a user. Sessions already logged in go on.
func (u *Registry) Delete(id string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	id = strings.ToUpper(id)
	if _, ok := u.users[id]; !ok {
		return ErrNoSuchUser
	}
	delete(u.users, id)
	return nil
}

// Get shows one user.
func (u *Registry) Get(id string) (Info, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	r, ok := u.users[strings.ToUpper(id)]
	if !ok {
		return Info{}, false
	}
	return r.info, true
}

// List shows every user, by id.
func (u *Registry) List() []Info {
	u.mu.RLock()
	out := make([]Info, 0, len(u.users))
	for _, r := range u.users {
		out = append(out, r.info)
	}
	u.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Authenticate checks a user id (any case) and password. It returns
// ErrLoginFailed for an unknown user or a wrong password alike, after the
// same amount of work.
func (u *Registry) Authenticate(id, password string) (Info, error) {
	u.mu.RLock()
	r, ok := u.users[strings.ToUpper(id)]
	u.mu.RUnlock()
	h := u.dummy
	if ok {
		h = r.hash
	}
	u.flight.Add(1)
	u.sem <- struct{}{}
	match := h.matches(password)
	<-u.sem
	u.checked(uint64(h.memory))
	if !ok || !match {
		return Info{}, ErrLoginFailed
	}
	return r.info, nil
}

// checked ends a check that hashed kib KiB: the last of a burst returns
// the heap's free memory if enough was hashed since the last return and
// that return is at least releaseEvery ago.
func (u *Registry) checked(kib uint64) {
	hashed := u.hashed.Add(kib)
	if u.flight.Add(-1) != 0 || hashed < releaseAfter {
		return
	}
	u.maybeRelease()
}

// maybeRelease returns the memory now, or puts it off until releaseEvery
// after the last return. A check that runs meanwhile ends the wait its
// own way (its end looks again).
func (u *Registry) maybeRelease() {
	u.relMu.Lock()
	defer u.relMu.Unlock()
	if u.closed || u.hashed.Load() < releaseAfter || u.flight.Load() != 0 {
		return
	}
	now := u.clock()
	if wait := u.lastRelease.Add(releaseEvery).Sub(now); wait > 0 {
		if u.stopTimer == nil {
			u.timers.Add(1)
			u.stopTimer = u.after(wait, func() {
				defer u.timers.Done()
				u.relMu.Lock()
				u.stopTimer = nil
				u.relMu.Unlock()
				u.maybeRelease()
			})
		}
		return
	}
	u.lastRelease = now
	u.hashed.Store(0)
	u.release()
}

// Close stops a return of memory that was put off, and waits for one
// under way. Checks may still run; their memory is no longer returned
// early.
func (u *Registry) Close() {
	u.relMu.Lock()
	u.closed = true
	if u.stopTimer != nil && u.stopTimer() {
		u.timers.Done() // it will not run
	}
	u.stopTimer = nil
	u.relMu.Unlock()
	u.timers.Wait()
}

// Logon checks the logon of an operator at a remote console: a user with
// CONSOLE=YES or CONSOLE=QUERY. ok is false for an unknown id, a wrong
// password, or a user without console authority alike.
func (u *Registry) Logon(id, password string, d Door) (auth Authority, delay time.Duration, ok bool) {
	d.Need = NeedConsole
	info, delay, err := u.Login(id, password, d)
	if err != nil {
		return None, delay, false
	}
	return info.Console, 0, true
}
