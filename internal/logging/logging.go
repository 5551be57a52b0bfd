// Package logging builds the logr logger lvc's commands share: zap
// underneath, human-readable on a terminal-like stderr, -v N for detail.
package logging

import (
	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns a logger at verbosity v (0 actions, 1 decisions, 2 exec
// output) writing to stderr, and a function that flushes it.
func New(v int, json bool) (logr.Logger, func()) {
	cfg := zap.NewDevelopmentConfig()
	if json {
		cfg = zap.NewProductionConfig()
		cfg.Sampling = nil
	}
	cfg.Level = zap.NewAtomicLevelAt(zapcore.Level(-v))
	cfg.DisableStacktrace = true
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	z, err := cfg.Build()
	if err != nil {
		return logr.Discard(), func() {}
	}
	return zapr.NewLogger(z), func() { _ = z.Sync() }
}
