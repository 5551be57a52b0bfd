// Package plan turns a validated LDMSDCluster into its desired state, per
// node and per daemon, with pure functions: what the reconciler creates,
// writes and starts, and the hashes that tell what changed.
package plan
