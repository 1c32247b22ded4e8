package ftpd

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"ipnstack/users"
)

// File is a DEFINE FILE definition: a host directory published in the FTP
// tree as /Public.
type File struct {
	Public   string // name in the FTP root; stored upper case, matched in any case
	Dir      string // host directory (DLBL=), absolute
	ReadOnly bool   // READONLY=YES
	Defined  time.Time
}

// Registry errors of DEFINE FILE and DELETE FILE.
var (
	ErrFileExists = errors.New("public name is already defined")
	ErrNoSuchFile = errors.New("public name is not defined")
)

// Files is the stack-wide registry of published directories. It is safe
// for concurrent use.
type Files struct {
	mu      sync.RWMutex
	files   map[string]File
	uploads map[string]int // host paths of the temporary files of uploads running now
	clock   func() time.Time
}

// NewFiles makes an empty registry; clock may be nil (time.Now).
func NewFiles(clock func() time.Time) *Files {
	if clock == nil {
		clock = time.Now
	}
	return &Files{files: map[string]File{}, uploads: map[string]int{}, clock: clock}
}

// CheckPublic checks a public name: 1-32 characters, letters, digits,
// @ # $ - _ . and not "." or "..".
func CheckPublic(name string) error {
	if len(name) == 0 || len(name) > 32 || name == "." || name == ".." {
		return &users.FieldError{Field: "PUBLIC", Value: name, Reason: "must be 1 to 32 characters"}
	}
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("@#$-_.", r)) {
			return &users.FieldError{Field: "PUBLIC", Value: name, Reason: "may hold only letters, digits and @ # $ - _ ."}
		}
	}
	return nil
}

// Define publishes a host directory, which must exist. Temporary upload
// files left there by a stack that ended mid-upload are removed; removed
// says how many.
func (f *Files) Define(def File) (removed int, err error) {
	if err := CheckPublic(def.Public); err != nil {
		return 0, err
	}
	if !filepath.IsAbs(def.Dir) {
		return 0, &users.FieldError{Field: "DLBL", Value: def.Dir, Reason: "must be an absolute host path"}
	}
	// A directory that does not exist yet is defined all the same, as
	// the product resolves a DLBL when the file is opened: the caller
	// warns, and the public name fails to open until the directory exists.
	st, err := os.Stat(def.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, &users.FieldError{Field: "DLBL", Value: def.Dir, Reason: "cannot be reached: " + err.Error()}
	}
	if err == nil && !st.IsDir() {
		return 0, &users.FieldError{Field: "DLBL", Value: def.Dir, Reason: "is not a directory"}
	}
	def.Public = strings.ToUpper(def.Public)
	def.Dir = filepath.Clean(def.Dir)
	def.Defined = f.clock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.files[def.Public]; ok {
		return 0, ErrFileExists
	}
	f.files[def.Public] = def
	return f.sweepLocked(def.Dir), nil
}

// sweepLocked removes the temporary upload files under dir that no running
// upload owns (a stack killed mid-upload leaves them). Symbolic links are
// not followed.
func (f *Files) sweepLocked(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable subtree is left alone
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), tempPrefix) && f.uploads[p] == 0 {
			if os.Remove(p) == nil {
				n++
			}
		}
		return nil
	})
	return n
}

// uploadStarted and uploadEnded bracket a running upload's temporary file
// (its host path), which no sweep may remove meanwhile.
func (f *Files) uploadStarted(path string) {
	f.mu.Lock()
	f.uploads[path]++
	f.mu.Unlock()
}

func (f *Files) uploadEnded(path string) {
	f.mu.Lock()
	if f.uploads[path]--; f.uploads[path] <= 0 {
		delete(f.uploads, path)
	}
	f.mu.Unlock()
}

// clearStale removes the temporary upload files directly in the directory
// rel of r (the host directory hostDir) that no running upload owns, so
// that RMD of a directory that lists empty is not refused for them.
func (f *Files) clearStale(r *os.Root, rel, hostDir string) {
	d, err := r.Open(rel)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, name := range names {
		if strings.HasPrefix(name, tempPrefix) && f.uploads[filepath.Join(hostDir, name)] == 0 {
			r.Remove(path.Join(rel, name))
		}
	}
}

// Delete withdraws a public name. Transfers already running finish.
func (f *Files) Delete(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = strings.ToUpper(name)
	if _, ok := f.files[name]; !ok {
		return ErrNoSuchFile
	}
	delete(f.files, name)
	return nil
}

// Get finds a public name in any case.
func (f *Files) Get(name string) (File, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	d, ok := f.files[strings.ToUpper(name)]
	return d, ok
}

// List shows every published directory, by name.
func (f *Files) List() []File {
	f.mu.RLock()
	out := make([]File, 0, len(f.files))
	for _, d := range f.files {
		out = append(out, d)
	}
	f.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Public < out[j].Public })
	return out
}
