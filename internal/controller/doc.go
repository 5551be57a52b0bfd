// Package controller runs lvc-controller: it watches the manifests
// directory and Docker events, resyncs periodically, and feeds cluster
// names to reconcile.Reconciler through a deduplicating, rate-limited
// work queue.
package controller
