package telnet

import "unicode/utf8"

// ReadLine reads one line of data and returns it without its end. A line
// ends with CR LF, CR NUL, a bare CR or a bare LF, so it works in both
// modes (a character-mode client sends CR NUL or CR LF for Return).
//
// It edits as it reads: DEL, Backspace and IAC EC erase the last character
// (a whole UTF-8 sequence), Ctrl-U and IAC EL erase the line, Ctrl-C and
// IAC IP discard the line and return ErrInterrupted. Tab and every byte
// from 0x20 up (UTF-8 included, not validated) are kept; other control
// bytes, such as NUL and ESC, are dropped, so the rest of an escape
// sequence stays as text. A line longer than Options.MaxLine is read to
// its end, discarded, and ErrLineTooLong returned.
//
// While the server does ECHO (character mode, or a peer that asked for it),
// ReadLine echoes what it keeps and erases, and CR LF at the end. At the
// end of the connection it returns what was typed so far with the error.
func (c *Conn) ReadLine() (string, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.readLine()
}

func (c *Conn) readLine() (string, error) {
	var line, echo []byte
	over := false
	for {
		echoing := c.e.us[optEcho].state == qYes && !c.hidden
		for i, b := range c.in {
			switch {
			case b == '\r' || b == '\n':
				c.consume(i + 1)
				if echoing {
					c.echo(append(echo, '\r', '\n'))
				}
				if over {
					return "", ErrLineTooLong
				}
				return string(line), nil
			case b == keyInterrupt:
				c.consume(i + 1)
				if echoing {
					c.echo(append(echo, "^C\r\n"...))
				}
				return "", ErrInterrupted
			case over:
			case b == keyErase || b == '\b':
				if len(line) > 0 {
					_, size := utf8.DecodeLastRune(line)
					line = line[:len(line)-size]
					echo = append(echo, "\b \b"...)
				}
			case b == keyKill:
				for len(line) > 0 {
					_, size := utf8.DecodeLastRune(line)
					line = line[:len(line)-size]
					echo = append(echo, "\b \b"...)
				}
			case b == '\t' || b >= ' ':
				if len(line) >= c.opts.MaxLine {
					over, line = true, nil
					continue
				}
				line = append(line, b)
				echo = append(echo, b)
			}
		}
		c.consume(len(c.in))
		if echoing {
			c.echo(echo)
		}
		echo = echo[:0]
		if err := c.fill(); err != nil && len(c.in) == 0 {
			if over {
				return "", err
			}
			return string(line), err
		}
	}
}

// echo writes what ReadLine echoes, if anything.
func (c *Conn) echo(p []byte) {
	if len(p) > 0 {
		c.Write(p)
	}
}

// ReadPassword writes prompt and reads a line like ReadLine, with nothing
// shown. In line mode it first asks WILL ECHO and waits for the answer (at
// most Options.NegotiationTimeout), so the client stops echoing while the
// server echoes nothing; after the line it asks WONT ECHO again. A client
// that refuses (or never answers) shows what is typed: telnet offers
// nothing better. In character mode the server already does the echo and
// just leaves it out. It ends the line on the terminal with CR LF.
func (c *Conn) ReadPassword(prompt string) (string, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	asked := false
	if c.e.us[optEcho].state != qYes {
		c.e.askUs(optEcho, true)
		asked = true
		c.flush()
		if err := c.await(func() bool { return !c.e.us[optEcho].pending() }); err != nil {
			return "", err
		}
	}
	if prompt != "" {
		if _, err := c.Write([]byte(prompt)); err != nil {
			return "", err
		}
	}
	c.hidden = true
	line, err := c.readLine()
	c.hidden = false
	if asked {
		c.e.askUs(optEcho, false)
		c.flush()
	}
	c.Write([]byte("\r\n"))
	return line, err
}
