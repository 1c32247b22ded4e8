package ftpd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestVisiblePath(t *testing.T) {
	for _, c := range [][3]string{
		{"/", "..", "/"}, {"/", "../../..", "/"}, {"/a/b", "..", "/a"}, {"/a", "/x/../../y", "/y"},
		{"/a", "b//c/./d", "/a/b/c/d"}, {"/", "/etc/passwd", "/etc/passwd"}, {"/a", "", "/a"},
	} {
		if got := visiblePath(c[0], c[1]); got != c[2] {
			t.Errorf("visiblePath(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

// TestConfinement resolves paths for users with the root "/" and a root
// inside a published directory, over a host tree with symbolic links that
// stay inside and that lead out.
func TestConfinement(t *testing.T) {
	base := t.TempDir()
	pub := filepath.Join(base, "pub")
	outside := filepath.Join(base, "outside")
	must(t, os.MkdirAll(filepath.Join(pub, "home", "joe", "sub"), 0o755))
	must(t, os.MkdirAll(filepath.Join(pub, "home", "ann"), 0o755))
	must(t, os.MkdirAll(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644))
	must(t, os.WriteFile(filepath.Join(pub, "home", "ann", "annfile"), []byte("a"), 0o644))
	must(t, os.WriteFile(filepath.Join(pub, "home", "joe", "f"), []byte("f"), 0o644))
	must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(pub, "abs-out")))
	must(t, os.Symlink("../outside/secret", filepath.Join(pub, "rel-out")))
	must(t, os.Symlink("home/joe/f", filepath.Join(pub, "in-link")))
	must(t, os.Symlink("../ann/annfile", filepath.Join(pub, "home", "joe", "to-ann")))
	must(t, os.Symlink("/", filepath.Join(pub, "home", "joe", "to-root")))
	files := NewFiles(nil)
	mustDefine(t, files, File{Public: "pub", Dir: pub})

	cases := []struct {
		root, cwd, arg string
		want           replyID // -1: readable
	}{
		{"/", "/", "PUB/home/joe/f", -1},
		{"/", "/", "pub/home/joe/f", -1}, // public names match in any case
		{"/", "/PUB", "../../../PUB/in-link", -1},
		{"/", "/", "/PUB/abs-out", rEscape},
		{"/", "/", "/PUB/rel-out", rEscape},
		{"/", "/", "/PUB/../../outside/secret", rNoSuch},
		{"/", "/", "/NOPE/x", rNoSuch},
		{"/", "/", "/PUB/home/joe/to-ann", -1}, // stays in PUB: allowed for a user rooted at /
		{"/PUB/home/joe", "/", "f", -1},
		{"/PUB/home/joe", "/", "../../ann/annfile", rNoSuch}, // lexically stops at joe
		{"/PUB/home/joe", "/", "to-ann", rEscape},            // the link leaves joe's root
		{"/PUB/home/joe", "/", "to-root/etc/passwd", rEscape},
		{"/PUB/home/joe", "/sub", "../../../../f", -1},
		{"/PUB/home/joe", "/", "/" + tempPrefix + "x", rNoSuch},
	}
	for _, c := range cases {
		s := &session{d: &Daemon{files: files}, root: c.root, cwd: c.cwd}
		l, err := s.resolve(c.arg)
		if err == nil {
			_, err = statLoc(files, l)
		}
		if c.want < 0 {
			if err != nil {
				t.Errorf("root %s cwd %s %q: %v", c.root, c.cwd, c.arg, err)
			}
			continue
		}
		pe, ok := err.(*pathError)
		if !ok || pe.reply != c.want {
			t.Errorf("root %s cwd %s %q: got %v, want reply %q", c.root, c.cwd, c.arg, err, replies[c.want].Text)
		}
	}
	// Listings leave out the links that lead out.
	l, _ := resolve(files, "/", "/", "/PUB")
	es, err := listDir(files, l)
	must(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.name)
	}
	if len(names) != 2 || names[0] != "home" || names[1] != "in-link" {
		t.Fatalf("listing %v", names)
	}
}

func TestVirtualRoot(t *testing.T) {
	files := NewFiles(nil)
	mustDefine(t, files, File{Public: "b", Dir: t.TempDir(), ReadOnly: true})
	mustDefine(t, files, File{Public: "A", Dir: t.TempDir()})
	l, err := resolve(files, "/", "/", "..")
	if err != nil || !l.top {
		t.Fatalf("%+v %v", l, err)
	}
	es, _ := listDir(files, l)
	if len(es) != 2 || es[0].name != "A" || es[1].name != "B" || !es[1].dir || es[1].mode.Perm() != 0o555 {
		t.Fatalf("%+v", es)
	}
}
