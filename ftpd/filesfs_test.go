package ftpd

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestFilesFS: the read-only view of the published directories is a
// correct fs.FS (fstest), hides upload temporaries and cannot leave a
// published directory.
func TestFilesFS(t *testing.T) {
	base := t.TempDir()
	pub, ro := filepath.Join(base, "pub"), filepath.Join(base, "ro")
	os.MkdirAll(filepath.Join(pub, "sub"), 0o755)
	os.Mkdir(ro, 0o755)
	os.WriteFile(filepath.Join(pub, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(pub, "sub", "b.txt"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(pub, tempPrefix+"x"), []byte("half"), 0o644)
	os.WriteFile(filepath.Join(ro, "readme.txt"), []byte("r"), 0o644)
	os.WriteFile(filepath.Join(base, "secret"), []byte("s"), 0o644)
	os.Symlink(filepath.Join(base, "secret"), filepath.Join(pub, "out"))
	f := NewFiles(nil)
	mustDefine(t, f, File{Public: "PUB", Dir: pub})
	mustDefine(t, f, File{Public: "RO", Dir: ro, ReadOnly: true})
	if err := fstest.TestFS(f.FS(""), "PUB/a.txt", "PUB/sub/b.txt", "RO/readme.txt"); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(f.FS("pub"), "a.txt", "sub/b.txt"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"PUB/" + tempPrefix + "x", "PUB/out", "NOSUCH/a", "PUB/../secret"} {
		if _, err := fs.ReadFile(f.FS(""), name); err == nil {
			t.Errorf("%s was served", name)
		}
	}
}
