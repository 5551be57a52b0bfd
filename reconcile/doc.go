// Package reconcile converges one cluster at a time, level-triggered as in
// controller-runtime: a trigger only names a cluster; Reconcile re-reads its
// manifest and the live Docker objects (by label) and acts in ordered
// phases, then writes the cluster's status.
package reconcile
