// Package store reads the manifests directory and reads and writes the
// status directory: one status file per cluster, written atomically, and a
// JSON-lines event log per cluster.
package store
