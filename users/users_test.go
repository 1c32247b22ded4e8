package users

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	u := New()
	must(t, u.Define(User{ID: "joe", Password: "Secret1", Root: "/pub/home", Console: Query}))
	for _, c := range []struct {
		def  User
		want string
	}{
		{User{ID: "JOE", Password: "x"}, "already"},
		{User{ID: "", Password: "x"}, "ID="},
		{User{ID: "a b", Password: "x"}, "ID="},
		{User{ID: "anonymous", Password: "x"}, "anonymous"},
		{User{ID: "ok", Password: ""}, "PASSWORD"},
		{User{ID: "ok", Password: "x", Root: "rel"}, "ROOT"},
		{User{ID: "ok", Password: "x", Root: "/a/../b"}, "ROOT"},
	} {
		if err := u.Define(c.def); err == nil || !strings.Contains(strings.ToUpper(err.Error()), strings.ToUpper(c.want)) {
			t.Errorf("%+v: %v", c.def, err)
		}
	}
	info, ok := u.Get("Joe")
	if !ok || info.ID != "JOE" || info.Root != "/PUB/home" || info.Console != Query {
		t.Fatalf("%+v", info)
	}
	if _, err := u.Authenticate("jOe", "Secret1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{"joe", "secret1"}, {"joe", ""}, {"nobody", "Secret1"}} {
		if _, err := u.Authenticate(c[0], c[1]); !errors.Is(err, ErrLoginFailed) {
			t.Errorf("%v: %v", c, err)
		}
	}
	// The password is nowhere in what the registry shows.
	rec := u.users["JOE"]
	if s := fmt.Sprintf("%v %+v %v", u.List(), info, rec.hash); strings.Contains(s, "Secret1") || !strings.Contains(s, "argon2id") {
		t.Fatalf("shown: %s", s)
	}
	if len(rec.hash.salt) != kdfSaltLen || len(rec.hash.key) != kdfKeyLen {
		t.Fatal("hash shape")
	}
	must(t, u.Define(User{ID: "ann", Password: "Secret1"}))
	if bytesEqual(u.users["ANN"].hash.key, rec.hash.key) {
		t.Fatal("same password, same hash: the salt is not used")
	}
	if l := u.List(); len(l) != 2 || l[0].ID != "ANN" {
		t.Fatalf("%+v", l)
	}
	must(t, u.Delete("ann"))
	if err := u.Delete("ann"); !errors.Is(err, ErrNoSuchUser) {
		t.Fatal(err)
	}
	// Concurrent logins are safe.
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); u.Authenticate("joe", "Secret1") }()
	}
	wg.Wait()
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// BenchmarkLogin300 measures 300 concurrent password checks (the CPU part
// of 300 concurrent logins).
func BenchmarkLogin300(b *testing.B) {
	u := New()
	must(b, u.Define(User{ID: "joe", Password: "Secret1"}))
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for j := 0; j < 300; j++ {
			wg.Add(1)
			go func() { defer wg.Done(); u.Authenticate("joe", "Secret1") }()
		}
		wg.Wait()
	}
}

// TestUsersAlter: a new password serves the next logins and the old one no
// more; a bad change changes nothing.
func TestUsersAlter(t *testing.T) {
	u := New()
	must(t, u.Define(User{ID: "ann", Password: "Old-pw1", FTP: true}))
	np, ro := "New-pw2", true
	info, err := u.Alter("ANN", Change{Password: &np, ReadOnly: &ro})
	if err != nil || !info.ReadOnly || !info.FTP {
		t.Fatalf("%+v %v", info, err)
	}
	if _, err := u.Authenticate("ann", "Old-pw1"); err == nil {
		t.Fatal("the old password still logs in")
	}
	if _, err := u.Authenticate("ann", "New-pw2"); err != nil {
		t.Fatal("the new password does not log in")
	}
	bad, empty := "relative", ""
	if _, err := u.Alter("ann", Change{Root: &bad, Password: &np}); err == nil {
		t.Fatal("a bad root accepted")
	}
	if _, err := u.Alter("ann", Change{Password: &empty}); err == nil {
		t.Fatal("an empty password accepted")
	}
	if _, err := u.Alter("nobody", Change{ReadOnly: &ro}); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("no such user: %v", err)
	}
	if got, _ := u.Get("ann"); got.Root != "/" {
		t.Fatalf("a failed change changed the root: %+v", got)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLogon: a console logon needs a console authority; every refusal
// looks the same to the caller.
func TestLogon(t *testing.T) {
	u := New()
	must(t, u.Define(User{ID: "op", Password: "pw1", Console: Full}))
	must(t, u.Define(User{ID: "look", Password: "pw2", Console: Query}))
	must(t, u.Define(User{ID: "ftp1", Password: "pw3", FTP: true}))
	for _, c := range []struct {
		id, pw string
		auth   Authority
		ok     bool
	}{
		{"OP", "pw1", Full, true},
		{"look", "pw2", Query, true},
		{"ftp1", "pw3", None, false},
		{"op", "wrong", None, false},
		{"nobody", "pw1", None, false},
	} {
		if a, _, ok := u.Logon(c.id, c.pw, Door{Name: "console T", From: netip.MustParseAddr("127.0.0.1")}); a != c.auth || ok != c.ok {
			t.Errorf("Logon(%s, %s) = %v %v, want %v %v", c.id, c.pw, a, ok, c.auth, c.ok)
		}
	}
	for _, v := range []string{"NO", "query", "YES"} {
		if a, ok := ParseConsole(v); !ok || !strings.EqualFold(a.String(), v) {
			t.Errorf("ParseConsole(%s) = %v %v", v, a, ok)
		}
	}
	if _, ok := ParseConsole("MAYBE"); ok {
		t.Error("ParseConsole(MAYBE)")
	}
}

// TestMemoryRelease: the end of a burst of password checks returns the
// heap's free memory once at least four checks' worth was hashed since the
// last return, never twice within releaseEvery; a burst that ends sooner
// is returned when that time is up; Close stops a return put off.
func TestMemoryRelease(t *testing.T) {
	type step struct {
		at       time.Duration // since the start
		checks   int           // one after another, each the end of a burst
		fire     bool          // then the timer of a return put off fires (it must be set)
		releases int           // returns wanted after the step, in all
		pending  bool          // a return put off after the step
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"three checks: not enough hashed", []step{{0, 3, false, 0, false}}},
		{"four checks: one return", []step{{0, 4, false, 1, false}}},
		{"a stream within a second: one return, the rest put off", []step{
			{0, 4, false, 1, false}, {100 * time.Millisecond, 40, false, 1, true}, {900 * time.Millisecond, 40, false, 1, true},
			{time.Second, 0, true, 2, false}}},
		{"a check after the second ends the wait itself", []step{
			{0, 4, false, 1, false}, {500 * time.Millisecond, 8, false, 1, true}, {1100 * time.Millisecond, 1, false, 2, true},
			{1100 * time.Millisecond, 0, true, 2, false}}},
		{"not enough hashed since the last: nothing put off", []step{{0, 4, false, 1, false}, {300 * time.Millisecond, 3, false, 1, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := New()
			start := time.Unix(1_000_000, 0)
			var now time.Time
			u.clock = func() time.Time { return now }
			released := 0
			u.release = func() { released++ }
			var timer func()
			u.after = func(d time.Duration, f func()) func() bool {
				if d <= 0 || d > releaseEvery {
					t.Errorf("a return put off by %v", d)
				}
				timer = f
				return func() bool { had := timer != nil; timer = nil; return had }
			}
			for i, s := range tc.steps {
				now = start.Add(s.at)
				for j := 0; j < s.checks; j++ {
					u.flight.Add(1)
					u.checked(kdfMemory)
				}
				if s.fire {
					f := timer
					if f == nil {
						t.Fatalf("step %d: no return was put off", i)
					}
					timer = nil
					f()
				}
				u.relMu.Lock()
				pending := u.stopTimer != nil
				u.relMu.Unlock()
				if released != s.releases || pending != s.pending {
					t.Fatalf("step %d: %d returns, one put off %v; want %d, %v", i, released, pending, s.releases, s.pending)
				}
			}
			u.Close()
			if timer != nil {
				t.Fatal("Close left a return put off")
			}
		})
	}
}

// TestAccountLockout: failed logins of one id from many addresses and
// doors lock that id alone, once (one report), with a delay that doubles
// from 1 s to 8 s; while locked the right password fails too; the right
// password before the lock clears the record; a user needs the door's
// right (SOCKS=YES for a door); the lock ends after AccountLock, or when
// the operator unlocks it.
func TestAccountLockout(t *testing.T) {
	u := New()
	now := time.Unix(1_800_000_000, 0)
	u.clock = func() time.Time { return now }
	must(t, u.Define(User{ID: "alice", Password: "right", FTP: true, SOCKS: true}))
	must(t, u.Define(User{ID: "bob", Password: "bobs", FTP: true}))
	must(t, u.Define(User{ID: "oper", Password: "opers", Console: Full}))
	var reports []AccountLockout
	u.SetOnLock(func(l AccountLockout) { reports = append(reports, l) })
	door := func(i int, n Need) Door {
		return Door{Name: []string{"FTPD FTP01", "SOCKSD S1", "console T"}[n], From: netip.AddrFrom4([4]byte{127, 0, byte(i >> 8), byte(i)}), Need: n}
	}
	// Rights: the operator is no SOCKS or FTP user; bob no SOCKS user.
	for _, c := range []struct {
		id, pw string
		need   Need
		ok     bool
	}{
		{"oper", "opers", NeedSOCKS, false}, {"oper", "opers", NeedFTP, false}, {"oper", "opers", NeedConsole, true},
		{"bob", "bobs", NeedSOCKS, false}, {"bob", "bobs", NeedFTP, true}, {"ALICE", "right", NeedSOCKS, true},
	} {
		if _, _, err := u.Login(c.id, c.pw, door(1, c.need)); (err == nil) != c.ok {
			t.Errorf("Login(%s, need %d): %v, want ok %v", c.id, c.need, err, c.ok)
		}
	}
	// Nine failures from nine addresses and three doors: delays 1, 2, 4, 8, 8, ...
	var delays []time.Duration
	for i := range 9 {
		_, d, err := u.Login("alice", "guess", door(100+i, Need(i%3)))
		if !errors.Is(err, ErrLoginFailed) {
			t.Fatalf("guess %d: %v", i, err)
		}
		delays = append(delays, d)
		now = now.Add(time.Second)
	}
	if fmt.Sprint(delays) != "[1s 2s 4s 8s 8s 8s 8s 8s 8s]" {
		t.Errorf("delays %v", delays)
	}
	if len(reports) != 0 {
		t.Fatalf("locked after 9: %+v", reports)
	}
	// The tenth locks alice, not bob; then the right password fails too.
	u.Login("alice", "guess", door(200, NeedFTP))
	if len(reports) != 1 || reports[0].ID != "ALICE" || reports[0].Failures != 10 || reports[0].Addresses != 10 || reports[0].LastDoor != "FTPD FTP01" {
		t.Fatalf("reports %+v", reports)
	}
	if _, _, err := u.Login("alice", "right", door(1, NeedSOCKS)); !errors.Is(err, ErrAccountLocked) {
		t.Fatalf("the right password while locked: %v", err)
	}
	if _, _, err := u.Login("bob", "bobs", door(200, NeedFTP)); err != nil {
		t.Fatalf("bob from the guesser's address: %v", err)
	}
	if ls := u.AccountLockouts(); len(ls) != 1 || ls[0].ID != "ALICE" {
		t.Fatalf("lockouts %+v", ls)
	}
	u.Login("alice", "guess", door(201, NeedFTP)) // while locked: no second report
	if len(reports) != 1 {
		t.Fatalf("a second report while locked: %+v", reports)
	}
	// The lock ends after AccountLock.
	now = now.Add(AccountLock)
	if _, _, err := u.Login("alice", "right", door(1, NeedSOCKS)); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// The right password cleared the record: nine more failures lock nothing.
	for i := range 9 {
		u.Login("alice", "guess", door(i, NeedFTP))
	}
	if locked, _ := u.AccountLocked("alice"); locked || len(reports) != 1 {
		t.Fatalf("locked %v, reports %d", locked, len(reports))
	}
	u.Login("alice", "guess", door(9, NeedFTP))
	if !u.UnlockAccount("ALICE") || u.UnlockAccount("alice") {
		t.Fatal("unlock: want true once")
	}
	if _, _, err := u.Login("alice", "right", door(1, NeedFTP)); err != nil {
		t.Fatalf("after the operator's unlock: %v", err)
	}
}
