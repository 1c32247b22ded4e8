package msgcat

import (
	"fmt"
	"strings"
)

// Markdown renders the message manual, docs/messages.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# IPN messages\n\n")
	b.WriteString("Generated from the message catalogue (`msgcat/catalog*.go`) by `go test ./msgcat -update`; a test fails when this file is stale.\n\n")
	b.WriteString("Every line the stack says is one of these messages: `IPN`, three digits, and a severity letter.\n\n")
	b.WriteString("| Letter | Severity | Return code of a deck |\n|---|---|---|\n")
	for _, s := range []Severity{Info, Warning, Action, Error, Severe} {
		fmt.Fprintf(&b, "| %c | %s | %d |\n", s, s.Name(), s.RC())
	}
	b.WriteString("\n`<name>` in a text is an insert. Numbers print with thousands separators (`32,768`); quoted inserts are in apostrophes.\n")
	b.WriteString("Origin: **manual** — id and text from the PORTRANGE command page of the vendor's manual; **vendor** — seen in a source of the real product; all others are this project's choice.\n\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "## %s\n\n", g.Title)
		for i := range g.Entries {
			e := byID[g.Entries[i].ID]
			origin := ""
			if e.Origin != Project {
				origin = " *(" + string(e.Origin) + ")*"
			}
			fmt.Fprintf(&b, "### %s%s\n\n", e.ID, origin)
			fmt.Fprintf(&b, "`%s %s`\n\n", e.ID, e.Template())
			fmt.Fprintf(&b, "- **Explanation:** %s\n", e.Explain)
			fmt.Fprintf(&b, "- **System action:** %s\n", e.System)
			fmt.Fprintf(&b, "- **Operator action:** %s\n\n", e.Operator)
		}
	}
	return b.String()
}
