package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"go.uber.org/zap/zapcore"
)

// The service manager's side of the daemon, written by hand: systemd's
// readiness protocol is one datagram (sd_notify), and its journal stream is
// recognised by one variable (JOURNAL_STREAM); a library for these few
// lines would bring more than it saves.

// sdNotify tells the service manager a state ("READY=1", "STOPPING=1") on
// $NOTIFY_SOCKET; without one, it does nothing.
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' { // an abstract socket
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// journalStream says whether f is the stream systemd's journal reads for
// this service (JOURNAL_STREAM is its device and inode).
func journalStream(f *os.File) bool {
	js := os.Getenv("JOURNAL_STREAM")
	if js == "" || f == nil {
		return false
	}
	var st syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &st) != nil {
		return false
	}
	return js == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

// journalLevel writes a log line's level as the journal's priority prefix
// (<3> error, <4> warning, <6> info, <7> debug), which the journal takes
// off the line and keeps as its priority.
func journalLevel(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	switch {
	case l >= zapcore.ErrorLevel:
		enc.AppendString("<3>")
	case l == zapcore.WarnLevel:
		enc.AppendString("<4>")
	case l == zapcore.InfoLevel:
		enc.AppendString("<6>")
	default:
		enc.AppendString("<7>")
	}
}

// journalPriority is a console line's priority prefix by its message's
// severity (the last letter of its id).
func journalPriority(line string) string {
	id, _, _ := strings.Cut(line, " ")
	if len(id) != 7 || !strings.HasPrefix(id, "IPN") {
		return "<6>"
	}
	switch id[6] {
	case 'W', 'A':
		return "<4>"
	case 'E':
		return "<3>"
	case 'S':
		return "<2>"
	}
	return "<6>"
}
