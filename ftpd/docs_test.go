package ftpd

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated parts of docs/ftp.md")

func TestDocsFresh(t *testing.T) {
	path := filepath.Join("..", "docs", "ftp.md")
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := renderDoc(string(cur))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(cur) != want {
		t.Fatalf("%s is stale: run go test ./ftpd -run TestDocsFresh -update", path)
	}
}

func TestReplyTable(t *testing.T) {
	for id, r := range replies {
		if r.Code < 100 || r.Code > 599 || r.Text == "" || r.When == "" {
			t.Errorf("reply %d is incomplete: %+v", id, r)
		}
	}
}
