// Package console is everything that talks to an operator: the hub that
// attaches consoles, runs their commands through the command table and
// sends unsolicited messages to every console that hears their class and
// to the hardcopy log; each console's output queue (outq.go), written to
// its sink by one writer so that a slow console never blocks a command or
// the stack; the hardcopy log; the console socket (its server and the
// client ipnconsole uses); the telnet console server with its logon; the
// line editor of interactive consoles (chzyer/readline); and the deck
// runner.
//
// It sits above package command: the system it commands is the
// command.Executor the hub is given (Hub.Exec) before any console
// attaches, and the handlers reach the consoles only through
// command.Consoles, which the hub passes with every request.
package console
