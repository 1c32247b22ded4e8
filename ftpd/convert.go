package ftpd

import "ipnstack/ftptype"

// The representation types and their conversions are package ftptype's,
// shared with the FTP client; these are the daemon's names for them.
type (
	xferType   = ftptype.Type
	converter  = ftptype.Converter
	convWriter = ftptype.Writer
)

const (
	typeA = ftptype.A
	typeE = ftptype.E
	typeI = ftptype.I
)
