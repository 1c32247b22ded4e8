package ftpd

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// loc is a resolved path of a session's tree.
//
// The tree a session sees starts at its user's root. If that root is "/",
// the top is the virtual root, which lists the public names as directories;
// else the top is a directory inside one published host directory. Either
// way every path is cleaned lexically against the session's "/" first (so
// ".." stops at the top, like a chroot), and every host access goes through
// an os.Root opened at the deepest host directory the user may reach, which
// refuses symbolic links and paths that lead out of it.
type loc struct {
	vpath    string // the path as the session sees it: absolute and clean
	top      bool   // the virtual root
	file     File   // the published directory
	base     string // path inside file.Dir where the user's confinement starts ("." for file.Dir)
	rel      string // path under base ("." for base itself)
	readOnly bool   // the published directory is READONLY=YES
}

// pathError is a resolution or file-system failure, with the reply it
// gives.
type pathError struct {
	reply replyID
	vpath string
	err   error
}

func (e *pathError) Error() string {
	if e.err != nil {
		return e.vpath + ": " + e.err.Error()
	}
	return e.vpath + ": " + replies[e.reply].Text
}

func (e *pathError) Unwrap() error { return e.err }

// visiblePath cleans arg against the current directory cwd; both are in
// the session's own view, so the result never climbs above "/".
func visiblePath(cwd, arg string) string {
	if strings.HasPrefix(arg, "/") {
		return path.Clean(arg)
	}
	return path.Clean(path.Join(cwd, arg))
}

// resolve finds arg (relative to cwd) in the tree of a user whose root is
// userRoot.
func resolve(files *Files, userRoot, cwd, arg string) (loc, error) {
	if strings.IndexByte(arg, 0) >= 0 {
		return loc{}, &pathError{reply: rNoSuch, vpath: arg}
	}
	vp := visiblePath(cwd, arg)
	l := loc{vpath: vp, base: ".", rel: "."}
	var public string
	if userRoot == "/" {
		if vp == "/" {
			l.top = true
			return l, nil
		}
		first, rest, _ := strings.Cut(vp[1:], "/")
		public = first
		if rest != "" {
			l.rel = rest
		}
	} else {
		first, base, _ := strings.Cut(userRoot[1:], "/")
		public = first
		if base != "" {
			l.base = base
		}
		if vp != "/" {
			l.rel = vp[1:]
		}
	}
	f, ok := files.Get(public)
	if !ok {
		return loc{}, &pathError{reply: rNoSuch, vpath: vp}
	}
	l.file, l.readOnly = f, f.ReadOnly
	return l, nil
}

// name is the last element of the visible path.
func (l loc) name() string { return path.Base(l.vpath) }

// atPublic says whether the path is a public name directly under the
// virtual root.
func (l loc) atPublic(userRoot string) bool {
	return userRoot == "/" && !l.top && l.rel == "."
}

// openBase opens the os.Root that confines every host access of l.
// hostPath is the host path of rel under the location's base.
func (l loc) hostPath(rel string) string {
	return filepath.Join(l.file.Dir, l.base, rel)
}

func (l loc) openBase() (*os.Root, error) {
	r, err := os.OpenRoot(l.file.Dir)
	if err != nil {
		return nil, l.fail(err)
	}
	if l.base == "." {
		return r, nil
	}
	sub, err := r.OpenRoot(l.base)
	r.Close()
	if err != nil {
		return nil, l.fail(err)
	}
	return sub, nil
}

// parentRel and baseName split rel into the directory and the name.
func (l loc) parentRel() string { return path.Dir(l.rel) }

// fail maps a host error to the reply it gives.
func (l loc) fail(err error) error {
	var pe *pathError
	if errors.As(err, &pe) {
		return err
	}
	return &pathError{reply: fsReply(err), vpath: l.vpath, err: err}
}

// fsReply chooses the reply for a host file-system error.
func fsReply(err error) replyID {
	switch {
	case isEscape(err):
		return rEscape
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return rNoSuch
	case errors.Is(err, fs.ErrExist):
		return rExists
	case errors.Is(err, syscall.ENOTEMPTY):
		return rNotEmpty
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return rDenied
	case errors.Is(err, syscall.EISDIR):
		return rNotFile
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return rDiskFull
	case errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EINVAL):
		return rNameBad
	case errors.Is(err, syscall.ELOOP):
		return rEscape
	}
	return rFailed
}

// isEscape recognises os.Root's refusal of a path that leaves it. Go does
// not export that error; TestConfinement fails if its text ever changes.
func isEscape(err error) bool {
	for err != nil {
		if err.Error() == "path escapes from parent" {
			return true
		}
		err = errors.Unwrap(err)
	}
	return false
}
