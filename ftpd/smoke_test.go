package ftpd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t, nil)
	c := dial(t, e.addr)
	c.read()
	c.login("user1", "secret")
	c.expect("TYPE I", 200)
	c.expect("CWD /PUB", 250)
	c.stor("STOR", "a.txt", []byte("hello\n"))
	if got := string(c.retr("a.txt")); got != "hello\n" {
		t.Fatalf("got %q", got)
	}
	b, _ := os.ReadFile(filepath.Join(e.pub, "a.txt"))
	if string(b) != "hello\n" {
		t.Fatalf("disk %q", b)
	}
	t.Log(c.list("LIST"))
	t.Log(c.list("MLSD"))
	c.expect("QUIT", 221)
}
