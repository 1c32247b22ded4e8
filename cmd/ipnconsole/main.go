// Command ipnconsole is the operator console of the stack.
//
// On a terminal it is interactive: line editing, history, Ctrl-R search and
// Tab completion, with unsolicited messages shown as they come. With a deck
// piped into stdin it sends each line, prints every reply line, and exits
// with the deck's return code like a batch step:
//
//	0   every message was informational
//	4   a warning (W) or action (A) message
//	8   an error (E) message
//	12  a severe (S) message
//	16  the stack could not be reached, or the connection was lost
//
// With --check it checks a deck's syntax against the command table alone,
// without a stack.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"ipnstack/command"
	"ipnstack/console"
	"ipnstack/grammar"
	"ipnstack/internal/buildinfo"
	"ipnstack/msgcat"
	"ipnstack/users"

	"golang.org/x/term"
)

// rcUnreachable is the return code when the stack cannot be reached.
const rcUnreachable = 16

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ipnconsole", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(stdout) // asked for: the answer, not an error
		}
	}
	version := fs.Bool("version", false, "print the version (module version, revision and time of the build) and exit")
	socket := fs.String("socket", console.DefaultSocketPath(), "console socket `path` of the stack (also $"+console.SocketEnv+")")
	check := fs.Bool("check", false, "check the deck on stdin against the command table only; no stack is needed")
	decklib := fs.String("decklib", ".", "with --check: the deck library `directory` INCLUDE reads members from")
	history := fs.String("history", console.DefaultHistoryFile(), "history `file` of the interactive console")
	look := fs.String("look", "plain", "how the console's lines read: plain, or vse (as on the VSE system console: \"F7 0100 IPN237I ...\", MSG F7 and reply ids)")
	partition := fs.String("partition", console.DefaultPartition, "with --look vse: the stack's partition `id`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ipnconsole [flags] [< deck]\n\nThe operator console of the TCP/IP stack. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, buildinfo.Read().Line("ipnconsole"))
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ipnconsole: unexpected argument %q (a deck is read from stdin)\n", fs.Arg(0))
		return 2
	}
	if err := console.CheckLook(*look, *partition); err != nil {
		fmt.Fprintln(stderr, "ipnconsole:", err)
		return 2
	}
	if *check {
		return checkDeck(stdin, stdout, *decklib)
	}
	lookCmd := "" // the LOOK command the console starts with
	if *look == "vse" {
		lookCmd = "LOOK VSE,PARTITION=" + strings.ToUpper(*partition)
	}
	if term.IsTerminal(int(stdin.Fd())) {
		return interactive(*socket, *history, lookCmd, stdout)
	}
	return deck(*socket, lookCmd, stdin, stdout)
}

// deck sends each line of stdin and prints the replies; lookCmd, if any,
// goes first.
func deck(socket, lookCmd string, in io.Reader, out io.Writer) int {
	w := bufio.NewWriter(out)
	defer w.Flush()
	c, err := console.DialConsole(socket, nil)
	if err != nil {
		fmt.Fprintln(w, msgcat.IPN215S(socket, err.Error()))
		return rcUnreachable
	}
	defer c.Close()
	dr := console.NewDeckReader(in)
	worst := 0
	print := func(line string) {
		w.WriteString(line)
		w.WriteByte('\n')
		if c.Pending() == 0 { // nothing more has arrived: show what has, as it comes
			w.Flush()
		}
	}
	if lookCmd != "" {
		rc, err := c.Command(lookCmd, print)
		if err != nil {
			print(msgcat.IPN216S().String())
			return rcUnreachable
		}
		worst = rc
	}
	for {
		line, n, err := dr.Next()
		if err == io.EOF {
			return worst
		}
		if err != nil {
			// stdin failing: the rest of the deck is not run, and that is
			// severe.
			print(msgcat.IPN205S("stdin", err.Error()).String())
			return max(worst, 12)
		}
		if n > grammar.MaxLine && !grammar.IsComment(line) {
			// Not sent, not echoed; the deck goes on.
			print(msgcat.IPN206E("stdin", dr.Line, n, grammar.MaxLine).String())
			worst = max(worst, 8)
			continue
		}
		rc, err := c.Command(line, print)
		if err != nil && c.LoggedOff() {
			// The deck's own LOGOFF: the session ends there, as asked.
			print(c.Reason())
			return worst
		}
		if err != nil {
			if errors.Is(err, console.ErrStackEnded) {
				left := 0
				if !grammar.IsComment(line) {
					left++
				}
				for {
					rest, _, err := dr.Next()
					if err != nil {
						break
					}
					if !grammar.IsComment(rest) {
						left++
					}
				}
				if left > 0 {
					// The deck did not run to its end: as a lost
					// connection, whatever the stack said before.
					print(msgcat.IPN222S(left).String())
					return rcUnreachable
				}
				return worst
			}
			print(msgcat.IPN216S().String())
			return rcUnreachable
		}
		worst = max(worst, rc)
		w.Flush()
	}
}

// interactive runs the console on a terminal.
func interactive(socket, history, lookCmd string, out io.Writer) int {
	ed, err := console.NewEditor(console.EditorConfig{Table: command.Commands, HistoryFile: history})
	if err != nil {
		fmt.Fprintln(out, "ipnconsole:", err)
		return 2
	}
	defer ed.Close()
	c, err := console.DialConsole(socket, ed.Println)
	if err != nil {
		ed.Println(msgcat.IPN215S(socket, err.Error()).String())
		return rcUnreachable
	}
	defer c.Close()
	if lookCmd != "" {
		if _, err := c.Command(lookCmd, ed.Println); err != nil {
			ed.Println(msgcat.IPN216S().String())
			return rcUnreachable
		}
	} else {
		ed.Println(msgcat.IPN300I().String())
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		for {
			line, err := ed.ReadLine()
			if errors.Is(err, console.ErrInterrupt) {
				continue
			}
			if err != nil {
				return
			}
			select {
			case lines <- line:
			case <-c.Done():
				return
			}
		}
	}()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return 0
			}
			if _, err := c.Command(line, ed.Println); err != nil {
				if c.LoggedOff() {
					ed.Println(c.Reason())
					return 0
				}
				if errors.Is(err, console.ErrStackEnded) {
					ed.Println(msgcat.IPN218I().String())
					return 0
				}
				ed.Println(msgcat.IPN216S().String())
				return rcUnreachable
			}
		case <-c.Done():
			ed.Println(msgcat.IPN218I().String())
			return 0
		}
	}
}

// checkDeck checks each statement against the command table, without a
// stack: syntax, command names, operands, types and ranges.
func checkDeck(in io.Reader, out io.Writer, lib string) int {
	w := bufio.NewWriter(out)
	defer w.Flush()
	sess := &command.Session{Table: command.Commands,
		Console: command.ConsoleInfo{ID: "CHECK", Auth: users.Full},
		Out:     command.OutFunc(func(m msgcat.Msg) { fmt.Fprintln(w, m.String()) })}
	res, err := console.RunDeckLib(context.Background(), sess, "stdin", in, lib)
	if err != nil {
		return 12
	}
	return res.RC
}
