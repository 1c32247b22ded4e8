package ftpd

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// The published directories are also the local files of the stack's own
// programs (its FTP client): a local path is "PUBLIC/sub/name", read and
// written inside the definition's directory only (os.Root), and written
// all or nothing, as an upload to the daemon is.

// ErrReadOnlyFile says a local path lies in a READONLY=YES definition.
var ErrReadOnlyFile = errors.New("the file definition is read only")

// splitLocal gives the definition and the path inside it ("." for its
// top) of a local path.
func (f *Files) splitLocal(p string) (File, string, error) {
	p = strings.TrimPrefix(p, "/")
	pub, rel, _ := strings.Cut(p, "/")
	def, ok := f.Get(pub)
	if !ok {
		return File{}, "", ErrNoSuchFile
	}
	rel = path.Clean("/" + rel)[1:]
	if rel == "" {
		rel = "."
	}
	return def, rel, nil
}

// openLocal opens the directory of a local path's definition, which
// confines every name under it; the caller closes it.
func (f *Files) openLocal(p string) (*os.Root, File, string, error) {
	def, rel, err := f.splitLocal(p)
	if err != nil {
		return nil, File{}, "", err
	}
	r, err := os.OpenRoot(def.Dir)
	return r, def, rel, err
}

// OpenLocal opens a local file for reading.
func (f *Files) OpenLocal(p string) (*os.File, error) {
	r, _, rel, err := f.openLocal(p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Open(rel)
}

// GlobLocal gives the local paths that match a pattern in its last element
// ("PUB/out/*.txt"), files only, in name order.
func (f *Files) GlobLocal(p string) ([]string, error) {
	r, def, rel, err := f.openLocal(p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	matches, err := fs.Glob(r.FS(), rel)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		if st, err := r.Stat(m); err == nil && st.Mode().IsRegular() {
			out = append(out, def.Public+"/"+m)
		}
	}
	return out, nil
}

// IsLocalDir says whether a local path is a directory.
func (f *Files) IsLocalDir(p string) bool {
	r, _, rel, err := f.openLocal(p)
	if err != nil {
		return false
	}
	defer r.Close()
	st, err := r.Stat(rel)
	return err == nil && st.IsDir()
}

// Incoming is a local file being written: a temporary file beside its
// final name, which no sweep removes while it is written; Commit makes it
// durable and renames it into place, Abort removes it. Until Commit, the
// file of that name, if any, is as it was.
type Incoming struct {
	files   *Files
	root    *os.Root
	f       *os.File
	rel     string // the final name, inside the definition
	tmpRel  string
	tmpHost string
	done    bool
}

// CreateLocal starts writing a local file.
func (f *Files) CreateLocal(p string) (*Incoming, error) {
	def, rel, err := f.splitLocal(p)
	if err != nil {
		return nil, err
	}
	if def.ReadOnly {
		return nil, ErrReadOnlyFile
	}
	if rel == "." {
		return nil, errors.New("a file name is needed after the public name")
	}
	r, err := os.OpenRoot(def.Dir) // kept open until Commit or Abort
	if err != nil {
		return nil, err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmpRel := path.Join(path.Dir(rel), tempPrefix+hex.EncodeToString(rnd[:]))
	tmpHost := filepath.Join(def.Dir, filepath.FromSlash(tmpRel))
	f.uploadStarted(tmpHost)
	file, err := r.OpenFile(tmpRel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		f.uploadEnded(tmpHost)
		r.Close()
		return nil, err
	}
	return &Incoming{files: f, root: r, f: file, rel: rel, tmpRel: tmpRel, tmpHost: tmpHost}, nil
}

// Write writes to the temporary file.
func (in *Incoming) Write(b []byte) (int, error) { return in.f.Write(b) }

// Commit makes the file durable and puts it in place.
func (in *Incoming) Commit() error {
	if in.done {
		return errors.New("already committed or aborted")
	}
	in.done = true
	defer in.release()
	if err := syncClose(in.f); err != nil {
		in.root.Remove(in.tmpRel)
		return err
	}
	if err := in.root.Rename(in.tmpRel, in.rel); err != nil {
		in.root.Remove(in.tmpRel)
		return err
	}
	syncDir(in.root, path.Dir(in.rel))
	return nil
}

// Abort removes the temporary file; the final name is untouched. After
// Commit it does nothing.
func (in *Incoming) Abort() {
	if in.done {
		return
	}
	in.done = true
	in.f.Close()
	in.root.Remove(in.tmpRel)
	in.release()
}

func (in *Incoming) release() {
	in.files.uploadEnded(in.tmpHost)
	in.root.Close()
}
