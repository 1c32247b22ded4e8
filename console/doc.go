// Package console is everything that talks to an operator: the hub that
// attaches consoles and runs their commands through the command table, the
// board that sends unsolicited messages to every console that hears their
// class and writes the hardcopy log, the console socket (its server and the
// client ipnconsole uses), the telnet console server with its logon, the
// line editor of interactive consoles (chzyer/readline), and the deck
// runner.
//
// It sits above package command: the system it commands is a
// command.Executor given at construction, and the handlers reach the
// consoles only through command.Consoles, which the hub passes with every
// request.
package console
