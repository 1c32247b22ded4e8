package console

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine they started is
// still running at the end, but for two of the line editor's
// (chzyer/readline): its SIGWINCH watcher, one per process, and the input
// loop of a closed editor, which readline leaves blocked sending the end
// of input that nobody reads (it has no way to stop it; docs/console.md
// says what a character-mode console costs).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/chzyer/readline.(*Operation).ioloop"),
		goleak.IgnoreAnyFunction("github.com/chzyer/readline.DefaultOnWidthChanged.func1.1"),
	)
}
