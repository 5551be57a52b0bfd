// Package chaos is lvc's fault-injection and soak suite on the real
// engine (TestChaos*, run by make chaos and make soak; skipped unless
// LVC_CHAOS=1), and the writer of the generated sections of
// docs/reliability.md.
package chaos
