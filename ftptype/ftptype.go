// Package ftptype holds the FTP representation types (TYPE A, E and I of
// RFC 959) and the conversions between a file as it is kept on disk and as
// it travels on a data connection, for the daemon and the client alike.
package ftptype

import (
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Type is a representation type (TYPE).
type Type int

// The types. TYPE L 8 is the same as TYPE I.
const (
	A Type = iota // ASCII: CRLF on the wire, LF on disk
	E             // EBCDIC on the wire (code page 037 unless chosen), UTF-8 text on disk
	I             // image: bytes as they are
)

func (t Type) String() string {
	switch t {
	case A:
		return "A"
	case E:
		return "E"
	}
	return "I"
}

// ModeName is how a 150 reply names the type.
func (t Type) ModeName() string {
	switch t {
	case A:
		return "ASCII"
	case E:
		return "EBCDIC"
	}
	return "BINARY"
}

// EBCDIC code page 037 bytes with a meaning of their own on the FTP wire.
const (
	ebcdicNL  = 0x15 // NEW LINE: the end of a line in TYPE E (RFC 959)
	ebcdicSUB = 0x3F // SUBSTITUTE: for a character code page 037 lacks
)

// Converter turns a stream from one representation into another. It may
// keep a few bytes of state between calls (a CR, a partial UTF-8
// character); flush gives out what is left at the end.
type Converter interface {
	Conv(dst, src []byte) []byte
	Flush(dst []byte) []byte
}

// CodePage is an EBCDIC code page TYPE E may speak: 037 (the default, US
// and Canada), 1047 (z/OS's and USS's default: [ ] and ^ where C and
// Unix want them) and 1140 (037 with the euro), as golang.org/x/text's
// charmaps have them. NL (0x15) is the end of a line in each.
type CodePage struct {
	Name string // "037", "1047", "1140"
	cm   *charmap.Charmap
}

// The code pages.
var (
	CP037  = &CodePage{"037", charmap.CodePage037}
	CP1047 = &CodePage{"1047", charmap.CodePage1047}
	CP1140 = &CodePage{"1140", charmap.CodePage1140}
	// CodePages lists them, the default first.
	CodePages = []*CodePage{CP037, CP1047, CP1140}
)

// LookupCodePage finds a code page by its number, written as z/OS and
// other systems write it: 1047, IBM-1047, IBM1047, CP1047 (any case);
// 37 for 037.
func LookupCodePage(name string) (*CodePage, bool) {
	n := strings.ToUpper(strings.TrimSpace(name))
	for _, p := range []string{"IBM-", "IBM", "CP"} {
		n = strings.TrimPrefix(n, p)
	}
	n = strings.TrimLeft(n, "0")
	for _, cp := range CodePages {
		if strings.TrimLeft(cp.Name, "0") == n {
			return cp, true
		}
	}
	return nil, false
}

// NewConverter gives the converter of a type in one direction, or nil for
// TYPE I; TYPE E speaks code page 037.
func NewConverter(t Type, toWire bool) Converter { return NewConverterCP(t, toWire, CP037) }

// NewConverterCP is NewConverter with TYPE E in code page cp (nil: 037).
func NewConverterCP(t Type, toWire bool, cp *CodePage) Converter {
	if cp == nil {
		cp = CP037
	}
	switch {
	case t == A && toWire:
		return &asciiOut{}
	case t == A:
		return &asciiIn{}
	case t == E && toWire:
		return &ebcdicOut{cm: cp.cm}
	case t == E:
		return &ebcdicIn{cm: cp.cm}
	}
	return nil
}

// asciiOut: LF becomes CRLF; a CRLF already on disk is left alone.
type asciiOut struct{ lastCR bool }

func (c *asciiOut) Conv(dst, src []byte) []byte {
	for _, b := range src {
		if b == '\n' && !c.lastCR {
			dst = append(dst, '\r')
		}
		dst = append(dst, b)
		c.lastCR = b == '\r'
	}
	return dst
}

func (c *asciiOut) Flush(dst []byte) []byte { return dst }

// asciiIn: CRLF becomes LF; a CR alone is kept.
type asciiIn struct{ pendingCR bool }

func (c *asciiIn) Conv(dst, src []byte) []byte {
	for _, b := range src {
		if c.pendingCR {
			c.pendingCR = false
			if b != '\n' {
				dst = append(dst, '\r')
			}
		}
		if b == '\r' {
			c.pendingCR = true
			continue
		}
		dst = append(dst, b)
	}
	return dst
}

func (c *asciiIn) Flush(dst []byte) []byte {
	if c.pendingCR {
		c.pendingCR = false
		dst = append(dst, '\r')
	}
	return dst
}

// ebcdicOut: UTF-8 text to code page 037; LF (and NEL) become NL, a
// character the code page lacks (or bytes that are not UTF-8) becomes SUB.
type ebcdicOut struct {
	cm   *charmap.Charmap
	part [utf8.UTFMax]byte
	n    int
}

func (c *ebcdicOut) Conv(dst, src []byte) []byte {
	for len(src) > 0 {
		if c.n > 0 {
			// Complete the partial character carried over.
			need := min(utf8.UTFMax-c.n, len(src))
			var tmp [2 * utf8.UTFMax]byte
			buf := append(append(tmp[:0], c.part[:c.n]...), src[:need]...)
			if !utf8.FullRune(buf) { // then need == len(src)
				c.n = copy(c.part[:], buf)
				return dst
			}
			r, size := utf8.DecodeRune(buf)
			dst = append(dst, ebcdicByte(c.cm, r))
			if size >= c.n {
				src = src[size-c.n:]
				c.n = 0
			} else { // not UTF-8: the rest of the carried bytes go round again
				c.n = copy(c.part[:], c.part[size:c.n])
			}
			continue
		}
		b := src[0]
		if b < utf8.RuneSelf {
			dst = append(dst, ebcdicByte(c.cm, rune(b)))
			src = src[1:]
			continue
		}
		if !utf8.FullRune(src) {
			c.n = copy(c.part[:], src)
			return dst
		}
		r, size := utf8.DecodeRune(src)
		dst = append(dst, ebcdicByte(c.cm, r))
		src = src[size:]
	}
	return dst
}

func (c *ebcdicOut) Flush(dst []byte) []byte {
	for i := 0; i < c.n; i++ {
		dst = append(dst, ebcdicSUB)
	}
	c.n = 0
	return dst
}

func ebcdicByte(cm *charmap.Charmap, r rune) byte {
	if r == '\n' || r == 0x85 {
		return ebcdicNL
	}
	if r == utf8.RuneError {
		return ebcdicSUB
	}
	if b, ok := cm.EncodeRune(r); ok {
		return b
	}
	return ebcdicSUB
}

// ebcdicIn: an EBCDIC code page to UTF-8 text; NL (and LF) become LF.
type ebcdicIn struct{ cm *charmap.Charmap }

func (c ebcdicIn) Conv(dst, src []byte) []byte {
	for _, b := range src {
		if b == ebcdicNL {
			dst = append(dst, '\n')
			continue
		}
		dst = utf8.AppendRune(dst, c.cm.DecodeByte(b))
	}
	return dst
}

func (ebcdicIn) Flush(dst []byte) []byte { return dst }

// Writer converts what is written to it into w; Close writes what the
// converter still holds.
type Writer struct {
	w   io.Writer
	c   Converter
	buf []byte
}

func (cw *Writer) Write(p []byte) (int, error) {
	if cw.c == nil { // TYPE I
		return cw.w.Write(p)
	}
	cw.buf = cw.c.Conv(cw.buf[:0], p)
	if _, err := cw.w.Write(cw.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes what the converter still holds.
func (cw *Writer) Close() error {
	if cw.c == nil {
		return nil
	}
	cw.buf = cw.c.Flush(cw.buf[:0])
	if len(cw.buf) == 0 {
		return nil
	}
	_, err := cw.w.Write(cw.buf)
	return err
}

// ConvertAll converts a whole byte slice (listings, tests).
func ConvertAll(t Type, toWire bool, src []byte) []byte { return ConvertAllCP(t, toWire, src, CP037) }

// ConvertAllCP is ConvertAll with TYPE E in code page cp.
func ConvertAllCP(t Type, toWire bool, src []byte, cp *CodePage) []byte {
	c := NewConverterCP(t, toWire, cp)
	if c == nil {
		return src
	}
	return c.Flush(c.Conv(nil, src))
}

// NewWriter converts what is written to it with t's converter in one
// direction into w.
func NewWriter(w io.Writer, t Type, toWire bool) *Writer {
	return &Writer{w: w, c: NewConverter(t, toWire)}
}

// NewWriterCP is NewWriter with TYPE E in code page cp.
func NewWriterCP(w io.Writer, t Type, toWire bool, cp *CodePage) *Writer {
	return &Writer{w: w, c: NewConverterCP(t, toWire, cp)}
}
