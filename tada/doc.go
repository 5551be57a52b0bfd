// Package tada reports test results to a TADA daemon (tadad) as UDP JSON
// datagrams, byte-compatible with the TADA Test class of the Python
// LDMS_Test suite: test-start, one assert-status per assertion (those
// declared but never asserted are sent as skipped) and test-finish.
package tada
