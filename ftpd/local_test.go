package ftpd

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalFiles: the client's local files through the definitions: a
// write is all or nothing, a read-only definition is refused, a path
// cannot leave its directory, and globs list files only.
func TestLocalFiles(t *testing.T) {
	dir, ro := t.TempDir(), t.TempDir()
	files := NewFiles(nil)
	files.Define(File{Public: "PUB", Dir: dir})
	files.Define(File{Public: "RO", Dir: ro, ReadOnly: true})
	os.WriteFile(filepath.Join(dir, "old.txt"), []byte("old"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)

	in, err := files.CreateLocal("pub/old.txt")
	if err != nil {
		t.Fatal(err)
	}
	in.Write([]byte("new"))
	if b, _ := os.ReadFile(filepath.Join(dir, "old.txt")); string(b) != "old" {
		t.Fatalf("before Commit the file is %q", b)
	}
	in.Abort()
	if b, _ := os.ReadFile(filepath.Join(dir, "old.txt")); string(b) != "old" {
		t.Fatalf("after Abort the file is %q", b)
	}
	in, _ = files.CreateLocal("/PUB/old.txt")
	in.Write([]byte("new"))
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "old.txt")); string(b) != "new" {
		t.Fatalf("after Commit the file is %q", b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Fatalf("a temporary file is left: %s", e.Name())
		}
	}
	if _, err := files.CreateLocal("RO/x"); !errors.Is(err, ErrReadOnlyFile) {
		t.Fatalf("a read-only definition: %v", err)
	}
	if _, err := files.CreateLocal("NOSUCH/x"); !errors.Is(err, ErrNoSuchFile) {
		t.Fatalf("an unknown definition: %v", err)
	}
	// ".." is cleaned inside the definition: PUB/../old.txt is PUB/old.txt.
	f, err := files.OpenLocal("PUB/../../old.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "new" {
		t.Fatalf("read %q", b)
	}
	os.WriteFile(filepath.Join(dir, "a.txt"), nil, 0o644)
	got, err := files.GlobLocal("PUB/*.txt")
	if err != nil || strings.Join(got, " ") != "PUB/a.txt PUB/old.txt" {
		t.Fatalf("glob: %q %v", got, err)
	}
	if got, _ := files.GlobLocal("PUB/*"); strings.Contains(strings.Join(got, " "), "sub") {
		t.Fatalf("glob lists a directory: %q", got)
	}
	if !files.IsLocalDir("PUB/sub") || files.IsLocalDir("PUB/a.txt") {
		t.Fatal("IsLocalDir")
	}
}
