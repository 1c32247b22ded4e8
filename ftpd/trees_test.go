package ftpd

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func strconvItoa(i int) string { return strconv.Itoa(i) }

// compareTrees gives "" when two host trees hold the same files with the
// same contents, else the first difference.
func compareTrees(t *testing.T, a, b string) string {
	t.Helper()
	files := func(root string) map[string]string {
		m := map[string]string{}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			b, _ := os.ReadFile(p)
			m[rel] = string(b)
			return nil
		})
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) != len(fb) {
		return "file counts differ: " + strconv.Itoa(len(fa)) + " and " + strconv.Itoa(len(fb))
	}
	for k, v := range fa {
		if w, ok := fb[k]; !ok || w != v {
			return "file " + k + " differs"
		}
	}
	return ""
}
