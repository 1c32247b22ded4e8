package telnet

// Telnet command bytes (RFC 854). Each follows IAC on the wire.
const (
	cmdSE   byte = 240 // end of subnegotiation
	cmdNOP  byte = 241 // no operation
	cmdDM   byte = 242 // data mark (the data-stream half of a Synch)
	cmdBRK  byte = 243 // break
	cmdIP   byte = 244 // interrupt process
	cmdAO   byte = 245 // abort output
	cmdAYT  byte = 246 // are you there
	cmdEC   byte = 247 // erase character
	cmdEL   byte = 248 // erase line
	cmdGA   byte = 249 // go ahead
	cmdSB   byte = 250 // start of subnegotiation
	cmdWILL byte = 251
	cmdWONT byte = 252
	cmdDO   byte = 253
	cmdDONT byte = 254
	cmdIAC  byte = 255 // interpret as command
)

// Option codes the package knows by name.
const (
	optBinary byte = 0  // RFC 856
	optEcho   byte = 1  // RFC 857
	optSGA    byte = 3  // RFC 858
	optTTYPE  byte = 24 // RFC 1091
	optNAWS   byte = 31 // RFC 1073
)

// Subnegotiation verbs of TTYPE (RFC 1091).
const (
	ttypeIS   byte = 0
	ttypeSEND byte = 1
)

// Bytes the reader puts into the data stream in place of the NVT commands
// EC, EL and IP, at the place in the stream where the command arrived, so a
// line editor reading data (this package's ReadLine, or readline over Read)
// sees the keys it already knows.
const (
	keyErase     byte = 0x7f // IAC EC: DEL, what a terminal's Backspace sends
	keyKill      byte = 0x15 // IAC EL: Ctrl-U
	keyInterrupt byte = 0x03 // IAC IP: Ctrl-C
)

// aytReply is written when the peer sends IAC AYT.
const aytReply = "\r\n[Yes]\r\n"
