package console

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// SocketEnv is the environment variable that names the console socket.
const SocketEnv = "IPN_SOCKET"

// DefaultSocketPath is where stackd listens and ipnconsole attaches when no
// --socket is given: $IPN_SOCKET, else $XDG_RUNTIME_DIR/ipnstack/console.sock,
// else /tmp/ipnstack-<uid>/console.sock.
func DefaultSocketPath() string {
	if p := os.Getenv(SocketEnv); p != "" {
		return p
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "ipnstack", "console.sock")
	}
	return filepath.Join(os.TempDir(), "ipnstack-"+strconv.Itoa(os.Getuid()), "console.sock")
}

// DefaultHistoryFile is where the interactive console keeps its history.
func DefaultHistoryFile() string {
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".ipnconsole_history")
	}
	return ""
}

// checkPrivateDir refuses a socket directory that another user owns or that
// others may write to, so nobody can put a socket of theirs in our way.
func checkPrivateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || fi.Mode()&os.ModeSticky != 0 {
		// A sticky directory such as /tmp: others cannot replace our files.
		return nil
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("directory %s belongs to uid %d, not to uid %d", dir, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("directory %s may be written by others (mode %v)", dir, fi.Mode().Perm())
	}
	return nil
}
