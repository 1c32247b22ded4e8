package ftpd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestUsers(t *testing.T) {
	u := NewUsers()
	must(t, u.Define(User{ID: "joe", Password: "Secret1", Root: "/pub/home", Console: ConsoleQuery}))
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
	if !ok || info.ID != "JOE" || info.Root != "/PUB/home" || info.Console != ConsoleQuery {
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

func TestFilesRegistry(t *testing.T) {
	f := NewFiles(nil)
	dir := t.TempDir()
	mustDefine(t, f, File{Public: "prd2", Dir: dir, ReadOnly: true})
	for _, c := range []File{
		{Public: "PRD2", Dir: dir},
		{Public: "a/b", Dir: dir},
		{Public: "..", Dir: dir},
		{Public: "X", Dir: "relative"},
		{Public: "Y", Dir: dir + "/missing"},
	} {
		if _, err := f.Define(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	got, ok := f.Get("Prd2")
	if !ok || got.Public != "PRD2" || !got.ReadOnly {
		t.Fatalf("%+v", got)
	}
	must(t, f.Delete("prd2"))
	if len(f.List()) != 0 {
		t.Fatal("not deleted")
	}
}

// BenchmarkLogin300 measures 300 concurrent password checks (the CPU part
// of 300 concurrent logins).
func BenchmarkLogin300(b *testing.B) {
	u := NewUsers()
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

// TestFilesSweep: DEFINE FILE removes the temporary files of uploads that a
// stack killed mid-upload left, at any depth, except those of uploads
// running now; other files, and names that only look alike, stay.
func TestFilesSweep(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	stale := []string{tempPrefix + "1", filepath.Join("a", tempPrefix+"2"), filepath.Join("a", "b", tempPrefix+"3")}
	keep := []string{"data.bin", filepath.Join("a", "x"+tempPrefix+"4"), filepath.Join("a", "b", tempPrefix+"running")}
	for _, p := range append(append([]string{}, stale...), keep...) {
		must(t, os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644))
	}
	f := NewFiles(nil)
	f.uploadStarted(filepath.Join(dir, "a", "b", tempPrefix+"running"))
	n, err := f.Define(File{Public: "P", Dir: dir})
	if err != nil || n != len(stale) {
		t.Fatalf("Define: removed %d (want %d), %v", n, len(stale), err)
	}
	for _, p := range stale {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s was left: %v", p, err)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

// TestUsersAlter: a new password serves the next logins and the old one no
// more; a bad change changes nothing.
func TestUsersAlter(t *testing.T) {
	u := NewUsers()
	must(t, u.Define(User{ID: "ann", Password: "Old-pw1", FTP: true}))
	np, ro := "New-pw2", true
	info, err := u.Alter("ANN", UserChange{Password: &np, ReadOnly: &ro})
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
	if _, err := u.Alter("ann", UserChange{Root: &bad, Password: &np}); err == nil {
		t.Fatal("a bad root accepted")
	}
	if _, err := u.Alter("ann", UserChange{Password: &empty}); err == nil {
		t.Fatal("an empty password accepted")
	}
	if _, err := u.Alter("nobody", UserChange{ReadOnly: &ro}); !errors.Is(err, ErrNoSuchUser) {
		t.Fatalf("no such user: %v", err)
	}
	if got, _ := u.Get("ann"); got.Root != "/" {
		t.Fatalf("a failed change changed the root: %+v", got)
	}
}
