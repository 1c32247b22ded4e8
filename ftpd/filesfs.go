package ftpd

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// FS is a read-only view of the published directories for other servers
// of the stack (the HTTP daemon): at its top one directory per public name
// (or, with root, that directory's contents alone), each confined to its
// host directory (os.Root: no way out by .. or links), upload temporaries
// hidden. Public names match in any case.
func (f *Files) FS(root string) fs.FS { return &filesFS{files: f, root: strings.ToUpper(root)} }

type filesFS struct {
	files *Files
	root  string // "" for the tree of public names
}

func (v *filesFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	public, rest := v.root, name
	if public == "" {
		if name == "." {
			return v.top(), nil
		}
		public, rest, _ = strings.Cut(name, "/")
		if rest == "" {
			rest = "."
		}
	}
	for _, el := range strings.Split(rest, "/") {
		if strings.HasPrefix(el, tempPrefix) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
	}
	def, ok := v.files.Get(public)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	r, err := os.OpenRoot(def.Dir)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	file, err := r.FS().Open(rest)
	if err != nil {
		r.Close()
		return nil, err
	}
	if d, ok := file.(fs.ReadDirFile); ok {
		if st, err := d.Stat(); err == nil && st.IsDir() {
			h := &hideTemps{ReadDirFile: d, root: r, rel: rest}
			if rest == "." && v.root == "" {
				h.name = def.Public // the directory is the public name
			}
			return h, nil
		}
	}
	r.Close()
	return file, nil // a file keeps its Seek (ranges)
}

// top is the directory of public names.
func (v *filesFS) top() fs.File {
	var entries []fs.DirEntry
	for _, d := range v.files.List() {
		if st, err := os.Stat(d.Dir); err == nil && st.IsDir() {
			entries = append(entries, fs.FileInfoToDirEntry(renamed{FileInfo: st, name: d.Public}))
		}
	}
	return &topDir{entries: entries}
}

// hideTemps is a directory whose listing leaves out upload temporaries
// and links that lead out of the published directory (which could not be
// opened); name, when set, is the name its Stat gives (a public name).
type hideTemps struct {
	fs.ReadDirFile
	root *os.Root
	rel  string
	name string
}

func (h *hideTemps) Stat() (fs.FileInfo, error) {
	st, err := h.ReadDirFile.Stat()
	if err != nil || h.name == "" {
		return st, err
	}
	return renamed{FileInfo: st, name: h.name}, nil
}

func (h *hideTemps) Close() error {
	h.root.Close()
	return h.ReadDirFile.Close()
}

func (h *hideTemps) ReadDir(n int) ([]fs.DirEntry, error) {
	for {
		es, err := h.ReadDirFile.ReadDir(n)
		out := es[:0]
		for _, e := range es {
			if strings.HasPrefix(e.Name(), tempPrefix) {
				continue
			}
			if e.Type()&fs.ModeSymlink != 0 {
				if _, serr := h.root.Stat(path.Join(h.rel, e.Name())); serr != nil {
					continue
				}
			}
			out = append(out, e)
		}
		if len(out) > 0 || err != nil || n <= 0 {
			return out, err
		}
	}
}

// topDir is the synthetic top directory.
type topDir struct {
	entries []fs.DirEntry
	off     int
}

func (t *topDir) Stat() (fs.FileInfo, error) { return dirInfo{name: ".", mod: time.Time{}}, nil }
func (t *topDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: errors.New("is a directory")}
}
func (t *topDir) Close() error { return nil }
func (t *topDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := t.entries[t.off:]
	sort.Slice(rest, func(i, j int) bool { return rest[i].Name() < rest[j].Name() })
	if n <= 0 {
		t.off = len(t.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	t.off += n
	return rest[:n], nil
}

// renamed is a FileInfo under another name.
type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }

type dirInfo struct {
	name string
	mod  time.Time
}

func (d dirInfo) Name() string       { return path.Base(d.name) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (d dirInfo) ModTime() time.Time { return d.mod }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }
