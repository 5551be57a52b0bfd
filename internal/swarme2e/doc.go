// Package swarme2e is lvc's end-to-end suite on a real multi-node swarm
// (TestSwarmE2E, run by make swarm-e2e; skipped unless LVC_SWARM_E2E=1):
// lvc-controller and lvc, built from this tree, drive the swarm that
// hack/swarm-up.sh builds as a remote one, through its env file.
package swarme2e
