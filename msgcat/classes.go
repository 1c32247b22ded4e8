package msgcat

// Class is the kind of event an unsolicited message reports. A console
// chooses the classes of informational messages it hears (the MESSAGES
// command); warnings, errors, action and severe messages reach every
// console whatever their class, and the hardcopy log keeps everything.
type Class string

// The classes.
const (
	ClassStack   Class = "STACK"   // the stack's life
	ClassLink    Class = "LINK"    // links and forwarded ports
	ClassFTPD    Class = "FTPD"    // FTP daemons start, end, recover
	ClassSession Class = "SESSION" // FTP sessions: a line per login and per end
	ClassPool    Class = "POOL"    // port pools
	ClassConsole Class = "CONSOLE" // console listeners and logons
)

// Classes lists the classes in the order displays show them.
var Classes = [...]Class{ClassStack, ClassLink, ClassFTPD, ClassSession, ClassPool, ClassConsole}

// classOf gives the class of each message that may be said unsolicited;
// any other is of class STACK.
var classOf = map[string]Class{
	"IPN164W": ClassLink, "IPN165I": ClassLink, "IPN186W": ClassLink, "IPN187I": ClassLink, "IPN188E": ClassLink,
	"IPN400I": ClassFTPD, "IPN401I": ClassFTPD, "IPN404E": ClassFTPD, "IPN405W": ClassFTPD, "IPN406I": ClassFTPD,
	"IPN402I": ClassSession, "IPN403I": ClassSession, "IPN412W": ClassSession, "IPN413W": ClassSession, "IPN414W": ClassSession, "IPN420W": ClassSession,
	"IPN410W": ClassPool, "IPN411I": ClassPool,
	"IPN505W": ClassConsole, "IPN506I": ClassConsole, "IPN519I": ClassConsole, "IPN522W": ClassConsole,
	"IPN523I": ClassConsole, "IPN526W": ClassConsole,
}

// Class is the message's class.
func (m Msg) Class() Class {
	if c, ok := classOf[m.ID]; ok {
		return c
	}
	return ClassStack
}

// ClassMask is a set of classes.
type ClassMask uint32

// AllClasses is every class.
const AllClasses = ClassMask(1)<<len(Classes) - 1

// MaskOf gives the set of the classes named; ok is false for a name that is
// no class.
func MaskOf(names ...Class) (m ClassMask, ok bool) {
	for _, n := range names {
		i := indexOf(n)
		if i < 0 {
			return 0, false
		}
		m |= 1 << i
	}
	return m, true
}

func indexOf(c Class) int {
	for i, x := range Classes {
		if x == c {
			return i
		}
	}
	return -1
}

// Has says whether the set holds a class.
func (m ClassMask) Has(c Class) bool {
	i := indexOf(c)
	return i >= 0 && m&(1<<i) != 0
}

// Without gives the set less the classes named.
func (m ClassMask) Without(cs ...Class) ClassMask {
	for _, c := range cs {
		if i := indexOf(c); i >= 0 {
			m &^= 1 << i
		}
	}
	return m
}

// Names lists the classes of the set, in display order.
func (m ClassMask) Names() []Class {
	var out []Class
	for _, c := range Classes {
		if m.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// Hears says whether a console that chose the classes of m hears message
// msg: any message that is not informational, and an informational one of
// a class it chose.
func (m ClassMask) Hears(msg Msg) bool {
	return msg.Severity() != Info || m.Has(msg.Class())
}
