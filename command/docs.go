package command

import (
	"fmt"
	"strings"

	"ipnstack/users"
)

// Markdown renders the command reference, docs/commands.md, from the table.
func (t *Table) Markdown() string {
	var b strings.Builder
	b.WriteString("# Commands\n\n")
	b.WriteString("Generated from the command table (`command/table*.go`) by `go test ./command -update`; a test fails when this file is stale.\n\n")
	b.WriteString("Capitals in a name are its shortest abbreviation: `PORTRange` may be typed `PORTR`, `portra` or `PORTRANGE`. ")
	b.WriteString("An abbreviation that fits two commands, objects or keywords is refused with both named. ")
	b.WriteString("Operands are `KEY=value`, `KEY=(v1,v2)`, `'quoted text'` or bare words, separated by commas or blanks; ")
	b.WriteString("blanks around `=` are allowed and case does not matter except inside values that keep it (text, paths, passwords). ")
	b.WriteString("A `*` in column 1 makes a comment line.\n\n")
	b.WriteString("Authority: **query** commands may be entered from any console; **full** commands need a console with full authority.\n\n")
	b.WriteString("Origin: **emulated** commands are the product's, done for real; **accepted** ones are the product's for what this stack ")
	b.WriteString("does not have (TN3270, VSE/POWER, LCS adapters, security exits): checked against their shape, kept, shown by their QUERY, ")
	b.WriteString("each with one warning (return code 4) so that a site's deck runs on; **own** commands are this stack's.\n\n")
	b.WriteString("| Command | Authority | Origin | Summary |\n|---|---|---|---|\n")
	specs := sortedSpecs(t.specs)
	for _, s := range specs {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", s.Name(), anchor(s.Name()), authName(s.Auth), originName(s.Origin), s.Summary)
	}
	b.WriteString("\n")
	for _, s := range specs {
		fmt.Fprintf(&b, "## %s\n\n", s.Name())
		fmt.Fprintf(&b, "```\n%s\n```\n\n", s.Syntax())
		fmt.Fprintf(&b, "*Origin: %s.* ", s.Origin)
		b.WriteString(s.Summary + ".")
		for _, h := range s.Help {
			b.WriteString(" " + h)
		}
		if n := atLeastOneNote(s); n != "" {
			b.WriteString(" " + n)
		}
		b.WriteString("\n\n")
		if lines := operandLines(s); len(lines) > 0 {
			b.WriteString("| Operand | Meaning |\n|---|---|\n")
			for _, l := range lines {
				fmt.Fprintf(&b, "| `%s` | %s |\n", l[0], strings.ReplaceAll(l[1], "|", "\\|"))
			}
			b.WriteString("\n")
		}
		if s.Example != "" {
			fmt.Fprintf(&b, "Example: `%s`\n\n", s.Example)
		}
	}
	return b.String()
}

func originName(o Origin) string {
	switch o {
	case Emulated:
		return "emulated"
	case Accepted:
		return "accepted"
	}
	return "own"
}

func authName(a users.Authority) string {
	if a == users.Query {
		return "query"
	}
	return "full"
}

func anchor(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", "-"))
}
