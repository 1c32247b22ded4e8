package ftpd

import (
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempPrefix starts the names of uploads in progress; listings hide them.
const tempPrefix = ".ipn-upload-"

// entry is one file or directory as the listings show it.
type entry struct {
	name   string
	dir    bool
	size   int64
	mtime  time.Time
	mode   fs.FileMode
	unique string
}

func entryOf(name string, fi fs.FileInfo) entry {
	e := entry{name: name, dir: fi.IsDir(), size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.unique = strconv.FormatUint(uint64(st.Dev), 16) + "g" + strconv.FormatUint(uint64(st.Ino), 16)
	}
	if e.dir {
		e.size = 0
	}
	return e
}

// topEntries lists the virtual root: one directory per public name.
func topEntries(files *Files) []entry {
	var out []entry
	for _, f := range files.List() {
		mode := fs.ModeDir | 0o755
		if f.ReadOnly {
			mode = fs.ModeDir | 0o555
		}
		out = append(out, entry{name: f.Public, dir: true, mtime: f.Defined, mode: mode, unique: "ipn." + f.Public})
	}
	return out
}

// statLoc gives the entry of one location.
func statLoc(files *Files, l loc) (entry, error) {
	if l.top {
		return entry{name: "/", dir: true, mode: fs.ModeDir | 0o555, unique: "ipn.root"}, nil
	}
	r, err := l.openBase()
	if err != nil {
		return entry{}, err
	}
	defer r.Close()
	fi, err := r.Stat(l.rel)
	if err != nil {
		return entry{}, l.fail(err)
	}
	return entryOf(l.name(), fi), nil
}

// listDir gives the entries of a directory, by name. Entries whose
// symbolic links lead out of the tree, dangle or loop are left out, and so
// are uploads in progress.
func listDir(files *Files, l loc) ([]entry, error) {
	if l.top {
		return topEntries(files), nil
	}
	r, err := l.openBase()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	d, err := r.Open(l.rel)
	if err != nil {
		return nil, l.fail(err)
	}
	defer d.Close()
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, l.fail(err)
	}
	out := make([]entry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tempPrefix) {
			continue
		}
		var fi fs.FileInfo
		if de.Type()&fs.ModeSymlink != 0 {
			fi, err = r.Stat(path.Join(l.rel, name))
		} else {
			fi, err = de.Info()
		}
		if err != nil {
			continue
		}
		out = append(out, entryOf(name, fi))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// rights says what a session may do in a place, for the MLSx perm fact.
type rights struct {
	write     bool // change anything
	createNew bool // only create new files and directories (anonymous WRITE)
}

// Facts of MLST and MLSD (RFC 3659), in the order they are shown.
const (
	factType = 1 << iota
	factSize
	factModify
	factPerm
	factUnique
	factAll = factType | factSize | factModify | factPerm | factUnique
)

var factNames = []struct {
	bit  int
	name string
}{{factType, "type"}, {factSize, "size"}, {factModify, "modify"}, {factPerm, "perm"}, {factUnique, "unique"}}

// parseFacts reads the argument of OPTS MLST ("type;size;"); unknown facts
// are ignored (RFC 3659 7.9).
func parseFacts(s string) int {
	mask := 0
	for _, f := range strings.Split(s, ";") {
		for _, fn := range factNames {
			if strings.EqualFold(f, fn.name) {
				mask |= fn.bit
			}
		}
	}
	return mask
}

// factList shows a fact set as OPTS MLST and FEAT do; star marks the
// selected facts in FEAT.
func factList(mask int, star bool) string {
	var b strings.Builder
	for _, fn := range factNames {
		if star || mask&fn.bit != 0 {
			b.WriteString(fn.name)
			if star && mask&fn.bit != 0 {
				b.WriteByte('*')
			}
			b.WriteByte(';')
		}
	}
	return b.String()
}

// appendFacts writes "type=file;size=3;...; name" (without line end). kind
// overrides the type fact ("cdir").
func appendFacts(b []byte, e entry, kind string, mask int, rt rights, name string) []byte {
	if mask&factType != 0 {
		if kind == "" {
			kind = "file"
			if e.dir {
				kind = "dir"
			}
		}
		b = append(b, "type="...)
		b = append(b, kind...)
		b = append(b, ';')
	}
	if mask&factSize != 0 && !e.dir {
		b = append(b, "size="...)
		b = strconv.AppendInt(b, e.size, 10)
		b = append(b, ';')
	}
	if mask&factModify != 0 && !e.mtime.IsZero() {
		b = append(b, "modify="...)
		b = e.mtime.UTC().AppendFormat(b, "20060102150405")
		b = append(b, ';')
	}
	if mask&factPerm != 0 {
		b = append(b, "perm="...)
		b = append(b, permFact(e.dir, rt)...)
		b = append(b, ';')
	}
	if mask&factUnique != 0 && e.unique != "" {
		b = append(b, "unique="...)
		b = append(b, e.unique...)
		b = append(b, ';')
	}
	b = append(b, ' ')
	return append(b, name...)
}

func permFact(dir bool, rt rights) string {
	switch {
	case dir && rt.write:
		return "elcdfmp"
	case dir && rt.createNew:
		return "elcm"
	case dir:
		return "el"
	case rt.write:
		return "radfw"
	}
	return "r"
}

// appendLIST writes one line of LIST in the form of ls -l.
func appendLIST(b []byte, e entry, now time.Time) []byte {
	if e.dir {
		b = append(b, 'd')
	} else {
		b = append(b, '-')
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if e.mode.Perm()&(1<<(8-i)) != 0 {
			b = append(b, rwx[i])
		} else {
			b = append(b, '-')
		}
	}
	b = append(b, " 1 vse      vse      "...)
	size := strconv.FormatInt(e.size, 10)
	for i := len(size); i < 12; i++ {
		b = append(b, ' ')
	}
	b = append(b, size...)
	b = append(b, ' ')
	mt := e.mtime
	if mt.IsZero() {
		mt = now
	}
	if d := now.Sub(mt); d < 180*24*time.Hour && d > -24*time.Hour {
		b = mt.AppendFormat(b, "Jan _2 15:04")
	} else {
		b = mt.AppendFormat(b, "Jan _2  2006")
	}
	b = append(b, ' ')
	return append(b, e.name...)
}

// isDirLoc says whether a location is a directory.
func isDirLoc(l loc) (bool, error) {
	if l.top {
		return true, nil
	}
	r, err := l.openBase()
	if err != nil {
		return false, err
	}
	defer r.Close()
	fi, err := r.Stat(l.rel)
	if err != nil {
		return false, l.fail(err)
	}
	return fi.IsDir(), nil
}

// statRel is os.Root.Stat with the error mapped.
func statRel(r *os.Root, l loc, rel string) (fs.FileInfo, error) {
	fi, err := r.Stat(rel)
	if err != nil {
		return nil, l.fail(err)
	}
	return fi, nil
}
