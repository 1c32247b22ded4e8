// Package telnet is the telnet protocol layer of the remote operator
// console: the server side of RFC 854 (the NVT), RFC 855 option
// negotiation, and the options a console needs: ECHO (RFC 857), SGA
// (RFC 858), NAWS (RFC 1073), TTYPE (RFC 1091) and, if asked for, BINARY
// (RFC 856). It is written by hand, on the standard library only, because
// no Go telnet library could be reached from the module registry this
// project builds from.
//
// # Negotiation
//
// Every option, on both sides (what we do, "us", and what the peer does,
// "him"), follows the RFC 1143 Q method: states NO, YES, WANTNO and
// WANTYES with a one-slot queue for the opposite request. A command is sent
// only when a state changes, so two peers never loop on WILL/DO, a DONT or
// WONT for an option already off gets no answer, and an option we do not
// support is refused with WONT (to DO) or DONT (to WILL). We never ask to
// turn SGA off; SGA is always agreed to, since the server never sends GA.
// After 8 refusals of the same option, further requests for it are
// ignored: only a broken peer asks that often, and two such automata would
// otherwise ping-pong for as long as the connection lasts.
//
// The server starts the negotiation (Negotiate): Debian's inetutils telnet
// sends no options of its own on a port other than 23. Negotiate waits for
// the answers at most Options.NegotiationTimeout and then goes on with
// whatever was agreed, so a client that answers nothing works too.
//
// # Modes
//
// When the peer agreed to WILL ECHO and WILL SGA the connection is in
// character mode: keys arrive one at a time and the server echoes and
// edits, typically with a line editor such as readline running over the
// Conn as an io.Reader and io.Writer of data bytes. Otherwise it is in line
// mode: the client edits and echoes and whole lines arrive; ReadLine reads
// them. ReadLine works in both modes and echoes when the server does ECHO.
// ReadPassword hides a line in either mode, in line mode by negotiating
// WILL ECHO for the time of the line and echoing nothing.
//
// # The data stream
//
// Input: CR NUL is CR, CR LF is LF, IAC IAC is the byte 255. IAC EC, EL and
// IP become DEL, Ctrl-U and Ctrl-C in the data, where they arrived; IP
// also calls Options.OnInterrupt. AYT is answered with "[Yes]". NOP, GA,
// DM, AO and BRK are ignored (Go cannot see TCP urgent data, so a Synch is
// just its DM). A subnegotiation longer than 64 bytes is read to its IAC SE
// and ignored; IAC and any command but IAC or SE inside one ends it. The
// reader holds at most a few KiB however the peer behaves.
//
// Output: Write doubles IAC, turns LF into CR LF and a lone CR into CR NUL.
// Wrap splits a line to the window width the peer reported (Size).
//
// # Goroutines
//
// The package starts none. One goroutine reads (Negotiate, Read, ReadLine,
// ReadPassword); the replies that reading calls for are written by that
// goroutine. Any goroutine may Write at any time, for example unsolicited
// console messages while a read is pending; each Write goes out whole.
// Close from any goroutine ends a pending read with an error.
package telnet
