package console

import (
	"testing"

	"ipnstack/command"
)

func TestCompleter(t *testing.T) {
	c := completer{command.NewTable([]command.Spec{
		{Verb: "Query", Object: "CONnections", Summary: "s"},
		{Verb: "Query", Object: "CONSoles", Summary: "s"},
		{Verb: "Query", Object: "CONFig", Summary: "s"},
	})}
	line := []rune("q con")
	got, n := c.Do(line, len(line))
	if n != 3 || len(got) != 3 {
		t.Fatalf("Do = %q, %d", got, n)
	}
	if string(got[0]) != "fig " {
		t.Errorf("suffix %q: completion follows the case typed", string(got[0]))
	}
	line = []rune("Q CON")
	if got, _ = c.Do(line, len(line)); string(got[0]) != "FIG " {
		t.Errorf("suffix %q", string(got[0]))
	}
}
