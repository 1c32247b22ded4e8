package ftpd

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestFilesRegistry(t *testing.T) {
	f := NewFiles(nil)
	dir := t.TempDir()
	mustDefine(t, f, File{Public: "prd2", Dir: dir, ReadOnly: true})
	for _, c := range []File{
		{Public: "PRD2", Dir: dir},
		{Public: "a/b", Dir: dir},
		{Public: "..", Dir: dir},
		{Public: "X", Dir: "relative"},
		{Public: "Z", Dir: plainFile(t, dir)},
	} {
		if _, err := f.Define(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	// A directory that does not exist yet is defined (the product resolves
	// a DLBL when the file is opened), and cannot be opened until it does.
	mustDefine(t, f, File{Public: "Y", Dir: dir + "/missing"})
	if _, err := fs.ReadDir(f.FS("Y"), "."); err == nil {
		t.Error("a missing directory could be listed")
	}
	must(t, os.Mkdir(dir+"/missing", 0o755))
	if _, err := fs.ReadDir(f.FS("Y"), "."); err != nil {
		t.Errorf("once made: %v", err)
	}
	must(t, f.Delete("Y"))
	got, ok := f.Get("Prd2")
	if !ok || got.Public != "PRD2" || !got.ReadOnly {
		t.Fatalf("%+v", got)
	}
	must(t, f.Delete("prd2"))
	if len(f.List()) != 0 {
		t.Fatal("not deleted")
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

// plainFile makes a file that is not a directory and gives its path.
func plainFile(t *testing.T, dir string) string {
	p := filepath.Join(dir, "plain")
	if err := os.WriteFile(p, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
