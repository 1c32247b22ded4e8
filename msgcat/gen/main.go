// Command gen writes msgcat/constructors.go: one constructor per catalogue
// entry, named by its id, with one typed parameter per insert, so that a
// message id is never a string at a call site and an insert of the wrong
// kind does not compile. Run it with go generate ./msgcat after changing the
// catalogue; a test fails while the file is stale.
package main

import (
	"fmt"
	"go/format"
	"os"

	"ipnstack/msgcat"
)

func main() {
	out := "constructors.go"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	src, err := msgcat.Constructors()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	b, err := format.Source(src)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen: format:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
