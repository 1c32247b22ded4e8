package console

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"ipnstack/command"
	"ipnstack/msgcat"
)

// The VSE look (LOOK VSE): every line a console is sent reads as on the
// VSE system console, "F7 0100 IPN237I ...": the partition id, then the
// number of the partition's task that wrote the line (0100, the stack's
// command task, for every answer to a console's input; 0000 for a line
// nobody asked for); the stack asks for a command with "F7-0102 IPN300I
// Enter TCP/IP Command", the hyphen marking a reply outstanding, whose id
// comes from one sequence for the whole system. The verified transcript
// answers reply 0102 with "F7 0100 IPN264I ...". What the operator
// types is taken as VSE's attention routine and the partition take it:
//
//	MSG F7             the routine answers READY; the partition asks (IPN300I)
//	MSG F7,DATA=cmd    the routine answers READY; the command runs
//	102 cmd            the reply to id 0102 (leading zeros may be dropped)
//	cmd                a command without the ceremony, for decks and habits
//
// It is a framing of the console's lines only: the messages, their order,
// the return codes and the hardcopy log are those of the plain look.

// arReady is the attention routine's answer to MSG, as VSE prints it.
const arReady = "AR 0015 1I40I  READY"

// commandTask is the number the stack's answers carry in the VSE look, as
// the verified transcript shows it; unsolicited lines carry 0000.
const commandTask = 100

// DefaultPartition is the partition id of the stack unless LOOK says.
const DefaultPartition = "F7"

// CheckLook checks a --look flag and its --partition: for the programs.
func CheckLook(look, partition string) error {
	switch look {
	case "plain":
	case "vse":
		if !command.ValidPartition(partition) {
			return fmt.Errorf("--partition must be a VSE partition id of two letters or digits (F7, BG), not %q", partition)
		}
	default:
		return fmt.Errorf("--look must be plain or vse, not %q", look)
	}
	return nil
}

// vseLook is a console's VSE framing state.
//
// Lock order: vseLook.mu is a leaf.
type vseLook struct {
	mu        sync.Mutex
	partition string
	ids       *atomic.Uint64 // the hub's reply ids (1 to 9999, then 1 again)
	pending   int            // the id IPN300I asked with and nobody answered; 0: none
}

// nextLocked gives the next reply id. The ids are the system's, as VSE's
// are: one sequence for every console of the hub.
func (v *vseLook) nextLocked() int {
	return int(v.ids.Add(1)-1)%9999 + 1
}

var (
	msgPattern   = regexp.MustCompile(`(?i)^\s*MSG\s+([A-Z0-9]{2})\s*(?:,\s*DATA\s*=\s*(.*))?$`)
	replyPattern = regexp.MustCompile(`^\s*(\d{1,4})(?:\s+(.*))?$`)
)

// SetLook gives a console the VSE look with its partition id, or (vse
// false) the plain look back.
func (c *Console) SetLook(vse bool, partition string) {
	if !vse {
		c.look.Store(nil)
		return
	}
	c.look.Store(&vseLook{partition: strings.ToUpper(partition), ids: &c.hub.replyIDs})
}

// vse gives the console's VSE framing, or nil in the plain look.
func (c *Console) vse() *vseLook {
	return c.look.Load()
}

// frame writes a line as the console shows it: as is in the plain look,
// "F7 0100 line" in the VSE look ("F7 0000 line" when unsolicited).
func (c *Console) frame(line string, unsolicited bool) string {
	v := c.vse()
	if v == nil {
		return line
	}
	task := commandTask
	if unsolicited {
		task = 0
	}
	return FrameVSE(v.partition, task, line)
}

// vseInput takes a line typed on a console in the VSE look: it gives the
// command to run (run false: the line was MSG or a refused reply, its
// answer is queued already, and rc is its return code).
func (c *Console) vseInput(v *vseLook, line string) (cmd string, run, echo bool, rc int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	answer := FrameVSE(v.partition, commandTask, "")
	if w := arCommand(line); w != "" {
		// The attention routine's own commands reach VSE, never the
		// stack's partition: say so, as the attention routine answers.
		c.vseSay("AR 0015 ", msgcat.IPN263E(w))
		return "", false, false, 8
	}
	if m := msgPattern.FindStringSubmatch(line); m != nil {
		c.out.put(outItem{kind: itemReply, line: arReady})
		part := strings.ToUpper(m[1])
		if part != v.partition {
			c.vseSay(answer, msgcat.IPN259E(part, v.partition))
			return "", false, false, 8
		}
		if m[2] != "" { // a command sent, no reply asked for
			return m[2], true, true, 0
		}
		if v.pending == 0 {
			v.pending = v.nextLocked()
		}
		c.vseSay(fmt.Sprintf("%s-%04d ", v.partition, v.pending), msgcat.IPN300I())
		return "", false, false, 0
	}
	if m := replyPattern.FindStringSubmatch(line); m != nil {
		id, _ := strconv.Atoi(m[1])
		if id == 0 || id != v.pending {
			c.vseSay(answer, msgcat.IPN260E(fmt.Sprintf("%04d", id)))
			return "", false, false, 8
		}
		// A reply typed by its id is answered, not echoed: the operator's
		// own line on the VSE console is the echo.
		v.pending = 0
		return m[2], true, false, 0
	}
	return line, true, true, 0
}

// arCommands are VSE attention routine and POWER commands an operator
// types on the system console; none is the TCP/IP partition's.
var arCommands = map[string]bool{"STATUS": true, "MAP": true, "PRTY": true, "D": true, "R": true, "CANCEL": true,
	"PAUSE": true, "SIZE": true, "GETVIS": true, "LIBDEF": true, "LISTDIR": true, "VOLUME": true, "QUERY_SYSTEM": true,
	"PDISPLAY": true, "PRELEASE": true, "PSTART": true, "PSTOP": true, "PALTER": true, "PDELETE": true, "PHOLD": true,
	"PFLUSH": true, "PINQUIRE": true, "PEND": true}

// arCommand gives the command word of a line that is the attention
// routine's or POWER's ("STATUS 0D00", "r rdr,tcpip00"), else "".
func arCommand(line string) string {
	f := strings.FieldsFunc(strings.TrimSpace(line), func(r rune) bool { return r == ' ' || r == ',' })
	if len(f) == 0 {
		return ""
	}
	w := strings.ToUpper(f[0])
	if arCommands[w] {
		return w
	}
	return ""
}

// plainMSG takes MSG in the plain look, so that a deck written for VSE
// runs on any console: "MSG F7,DATA=command" is the command; "MSG F7"
// alone asks for one (IPN300I) and the next line is it. It gives the
// command to run, or "" when nothing is to run.
func (c *Console) plainMSG(line string) (cmd string, handled bool) {
	m := msgPattern.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	if m[2] != "" {
		return m[2], true
	}
	line = msgcat.IPN300I().String()
	if h := c.hub.Hardcopy; h != nil {
		h.Line(c.Info.ID, '>', line)
	}
	c.out.put(outItem{kind: itemReply, line: line})
	return "", true
}

// vseSay sends the console a message of the stack's own, after prefix
// (its partition and reply id); the hardcopy log keeps it as it keeps every
// reply, without the framing.
func (c *Console) vseSay(prefix string, m msgcat.Msg) {
	line := m.String()
	if h := c.hub.Hardcopy; h != nil {
		h.Line(c.Info.ID, '>', line)
	}
	c.out.put(outItem{kind: itemReply, line: prefix + line})
}

// FrameVSE writes a line as the VSE system console shows a partition's
// plain message: "F7 0100 line", task the number of the task that wrote
// it.
func FrameVSE(partition string, task int, line string) string {
	return fmt.Sprintf("%s %04d %s", partition, task, line)
}
