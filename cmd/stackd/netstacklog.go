package main

import (
	"fmt"
	"time"

	gvlog "gvisor.dev/gvisor/pkg/log"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// netstackLog carries gVisor's own log lines into the daemon log: its
// warnings as warnings, its information and debugging at their levels,
// never to a terminal.
type netstackLog struct{ l *zap.Logger }

// Emit implements gVisor's log.Emitter.
func (n netstackLog) Emit(_ int, level gvlog.Level, _ time.Time, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	switch level {
	case gvlog.Warning:
		n.l.Warn(msg)
	case gvlog.Info:
		n.l.Info(msg)
	default:
		n.l.Debug(msg)
	}
}

// logNetstack makes gVisor log through l, at the level l logs: debug
// only when the daemon log is at debug.
func logNetstack(l *zap.Logger) {
	gvlog.SetTarget(netstackLog{l.Named("netstack")})
	if l.Core().Enabled(zapcore.DebugLevel) {
		gvlog.SetLevel(gvlog.Debug)
	} else {
		gvlog.SetLevel(gvlog.Info)
	}
}
