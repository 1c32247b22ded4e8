package ftpd

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// File is a DEFINE FILE definition: a host directory published in the FTP
// tree as /Public.
type File struct {
	Public   string // name in the FTP root; stored upper case, matched in any case
	Dir      string // host directory (DLBL=), absolute
	ReadOnly bool   // READONLY=YES
	Defined  time.Time
}

// Files is the stack-wide registry of published directories. It is safe
// for concurrent use.
type Files struct {
	mu    sync.RWMutex
	files map[string]File
	clock func() time.Time
}

// NewFiles makes an empty registry; clock may be nil (time.Now).
func NewFiles(clock func() time.Time) *Files {
	if clock == nil {
		clock = time.Now
	}
	return &Files{files: map[string]File{}, clock: clock}
}

// CheckPublic checks a public name: 1-32 characters, letters, digits,
// @ # $ - _ . and not "." or "..".
func CheckPublic(name string) error {
	if len(name) == 0 || len(name) > 32 || name == "." || name == ".." {
		return &FieldError{"PUBLIC", name, "must be 1 to 32 characters"}
	}
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("@#$-_.", r)) {
			return &FieldError{"PUBLIC", name, "may hold only letters, digits and @ # $ - _ ."}
		}
	}
	return nil
}

// Define publishes a host directory, which must exist.
func (f *Files) Define(def File) error {
	if err := CheckPublic(def.Public); err != nil {
		return err
	}
	if !filepath.IsAbs(def.Dir) {
		return &FieldError{"DLBL", def.Dir, "must be an absolute host path"}
	}
	st, err := os.Stat(def.Dir)
	if err != nil {
		return &FieldError{"DLBL", def.Dir, "cannot be reached: " + err.Error()}
	}
	if !st.IsDir() {
		return &FieldError{"DLBL", def.Dir, "is not a directory"}
	}
	def.Public = strings.ToUpper(def.Public)
	def.Dir = filepath.Clean(def.Dir)
	def.Defined = f.clock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.files[def.Public]; ok {
		return ErrFileExists
	}
	f.files[def.Public] = def
	return nil
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
