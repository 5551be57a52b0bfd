// Package sshd makes the SSH material of a cluster: one root key pair per
// cluster, one host key per node and a known_hosts that names every node
// by hostname, aliases and IP, so that `ssh node-2` works from every node
// without a password or a prompt. Keys are derived from the cluster's
// secret, so they are the same after a controller restart.
package sshd
