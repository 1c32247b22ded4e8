package telnet

import (
	"errors"
	"fmt"
	"io"
)

var (
	// ErrLineTooLong is returned by ReadLine for a line longer than
	// Options.MaxLine. The whole line has been read and discarded; the
	// connection can go on.
	ErrLineTooLong = errors.New("telnet: line too long")

	// ErrInterrupted is returned by ReadLine when the peer sent IAC IP or
	// Ctrl-C. The line typed so far is discarded; the connection can go on.
	ErrInterrupted = errors.New("telnet: interrupted")

	// ErrTruncated is the read error when the connection ended inside a
	// telnet command or subnegotiation. It matches io.ErrUnexpectedEOF
	// with errors.Is.
	ErrTruncated = fmt.Errorf("telnet: connection ended inside a telnet command: %w", io.ErrUnexpectedEOF)
)
