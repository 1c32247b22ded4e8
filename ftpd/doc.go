// Package ftpd is the FTP daemon protocol engine of the stack: the daemons
// that DEFINE FTPD starts, their users (DEFINE USER) and the host directories
// they publish (DEFINE FILE).
//
// A Daemon serves one control address. It talks to the network only through
// a Transport: in the product the stack's netstack, in this package's tests
// the host's sockets on 127.0.0.1 (HostTransport). Every passive data port
// comes from the *portrange.Pool the caller gives it and from nowhere else;
// when the pool is dry a PASV or EPSV gets reply 425, the session goes on,
// and the console gets one warning per burst (IPN410W) and a message when
// ports flow again (IPN411I).
//
// One goroutine serves a session. It reads the control connection, also
// while a transfer runs (ABOR, STAT and the Telnet IP/Synch bytes clients
// send before ABOR), and a second goroutine owned by the session moves the
// data of one transfer at a time. Uploads go to a temporary file in the
// target directory and are renamed into place only when complete, so an
// aborted, reset or failed upload leaves the previous file as it was.
//
// Paths are confined twice: lexically (the user's root is the top of the
// tree the session sees, and ".." stops there), and on the host by os.Root,
// which refuses any path or symbolic link that leads out of a published
// directory or out of the user's root inside it.
//
// Every reply text is in one table (replies.go) and every command in another
// (commands.go); docs/ftp.md is generated from both, and a test fails when it
// is stale (go test ./ftpd -update rewrites it).
package ftpd
