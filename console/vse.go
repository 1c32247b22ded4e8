package console

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"ipnstack/command"
	"ipnstack/grammar"
	"ipnstack/msgcat"
)

// The VSE look (LOOK VSE): every line a console is sent reads as on the
// VSE system console, "F7 0098 IPN237I ...": the partition id, then the
// reply id of the command the line answers (0000 for a line nobody asked
// for); the stack asks for a command with "F7-0102 IPN300I Enter TCP/IP
// Command", the hyphen marking a reply outstanding. What the operator
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
	current   int            // the id the running command's lines carry
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
// "F7 0098 line" in the VSE look (0000 when unsolicited).
func (c *Console) frame(line string, unsolicited bool) string {
	v := c.vse()
	if v == nil {
		return line
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	id := v.current
	if unsolicited {
		id = 0
	}
	return FrameVSE(v.partition, id, line)
}

// vseInput takes a line typed on a console in the VSE look: it gives the
// command to run (run false: the line was MSG or a refused reply, its
// answer is queued already, and rc is its return code).
func (c *Console) vseInput(v *vseLook, line string) (cmd string, run, echo bool, rc int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.current = 0
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
			c.vseSay(FrameVSE(v.partition, 0, ""), msgcat.IPN259E(part, v.partition))
			return "", false, false, 8
		}
		if m[2] != "" {
			v.current = v.nextLocked()
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
			c.vseSay(FrameVSE(v.partition, 0, ""), msgcat.IPN260E(fmt.Sprintf("%04d", id)))
			return "", false, false, 8
		}
		// A reply typed by its id is answered, not echoed: the operator's
		// own line on the VSE console is the echo.
		v.pending, v.current = 0, id
		return m[2], true, false, 0
	}
	if !grammar.IsComment(line) {
		v.current = v.nextLocked()
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
// plain message: "F7 0098 line".
func FrameVSE(partition string, id int, line string) string {
	return fmt.Sprintf("%s %04d %s", partition, id, line)
}
