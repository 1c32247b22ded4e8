package ftpd

import (
	"fmt"
	"strings"
)

// docSections are the parts of docs/ftp.md generated from this package's
// tables, by the name of their markers.
func docSections() map[string]string {
	return map[string]string{
		"compliance": complianceTable(),
		"replies":    replyTable(),
		"features":   featList(),
	}
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func complianceTable() string {
	var b strings.Builder
	b.WriteString("| Command | RFC | Supported | Login | Syntax | Notes |\n|---|---|---|---|---|---|\n")
	for _, c := range commandList() {
		sup := "yes"
		if c.notes != "" && strings.HasPrefix(c.notes, "Not implemented") {
			sup = "no (502)"
		}
		login := "yes"
		if !c.login {
			login = "no"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` | %s |\n", c.name, c.rfc, sup, login, mdEscape(c.syntax), mdEscape(c.notes))
	}
	for _, f := range featureRows {
		fmt.Fprintf(&b, "| %s | %s | yes | | | %s |\n", f.name, f.rfc, mdEscape(f.notes))
	}
	return b.String()
}

func replyTable() string {
	var b strings.Builder
	b.WriteString("| Code | Text | When |\n|---|---|---|\n")
	for _, r := range replies {
		text := template(r.Text)
		if r.End != "" {
			text += " … " + r.End
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s |\n", r.Code, mdEscape(text), mdEscape(r.When))
	}
	return b.String()
}

func featList() string {
	lines := featLines(TLSAllowed, factAll)
	var b strings.Builder
	b.WriteString("```\n211-Features:\n")
	for _, l := range lines {
		b.WriteString(" " + l + "\n")
	}
	b.WriteString("211 End\n```\n")
	return b.String()
}

// renderDoc fills the generated sections of a document: each lies between
// "<!-- BEGIN GENERATED name -->" and "<!-- END GENERATED name -->".
func renderDoc(doc string) (string, error) {
	for name, body := range docSections() {
		begin := "<!-- BEGIN GENERATED " + name + " -->\n"
		end := "<!-- END GENERATED " + name + " -->"
		i := strings.Index(doc, begin)
		j := strings.Index(doc, end)
		if i < 0 || j < i {
			return "", fmt.Errorf("markers of section %q missing", name)
		}
		doc = doc[:i+len(begin)] + body + doc[j:]
	}
	return doc, nil
}
