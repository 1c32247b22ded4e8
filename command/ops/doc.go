// Package ops binds the command table's rows to the stack: one handler per
// row, each calling one room and saying catalogued messages. It is the
// only part of package command that links the network stack; ipnconsole
// does not import it. The rooms' errors are mapped to messages in
// errors.go, one mapper per room; the doors the servers of lower rooms
// declare are given them in adapters.go.
//
// # Lock order
//
// The one order of the whole stack, from the command lock down to a
// pool's lock. A lock may be taken while holding only locks above it in
// this list; the locks marked "alone" are taken with no other lock of the
// stack held, or hold none while held.
//
//  1. System.cmdMu: the command lock (read for commands that only look,
//     write for commands that change the stack; a long command, the FTP
//     client, holds it only to start).
//  2. console.Console.busy (a console's running command), then
//     console.Console.mu (its writes to the sink). console.Hub.mu and a
//     console's output queue lock are taken alone: Broadcast copies the roll
//     and queues after letting go, so any room may say an unsolicited
//     message holding its own locks.
//  3. The servers: ftpd.Daemon.mu, then a session's mu; socksd.Door.mu (it
//     closes connections after copying them out); httpd's and the
//     telnet console server's locks are leaves.
//  4. conn.Table.mu, then netstack's endpoint locks; conn.Table's closingMu
//     alone. No lock of the table is held while a lease or a pool is asked.
//  5. portrange: a Lease's mu, then Registry.mu, then a Pool's mu. A pool
//     calls no lease, tester or reclaim while it holds its own lock; a
//     bind's last Drop takes Registry.mu after letting go of the others.
//     A shared pool's Claim (the sysplex's store) is asked with no pool
//     lock held; its Release is called under a Pool's mu and takes only
//     sysplex.Member.relMu, a leaf. sysplex.Member.mu is taken alone: the
//     member's goroutines call the registry, the pools and nic (a VIPA's
//     address) holding none of their own locks.
//  6. nic.Stack.mu, then netstack's own locks; a USER link's
//     userGateway.mu, then its hostListener.mu. The stack's sink is never
//     called with Stack.mu held.
//  7. Leaves: users.Registry's locks and its logins' (alone),
//     guard.Guard.mu, resolve.Resolver.mu, the VSE look.
//
// # Time
//
// Each daemon is given one clock (the System's Clock, a fake in the golden
// decks): what is shown and counted by time (a session's start, lockouts,
// the pools' holds, the hardcopy's stamps) reads it. Socket deadlines are
// the network's own timers and read the wall clock.
package ops
