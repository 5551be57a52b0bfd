// Package kind is what every daemon kind implements: the daemons and the
// files a kind adds to each node of a cluster's plan. Each kind lives in
// its own package under drivers/ and is listed once, in start order, in
// drivers/kinds.
package kind

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// Kind makes the daemons and files of one kind of daemon.
type Kind interface {
	// Name is the kind's name: sshd, munged, slurmctld, slurmd, ldmsd.
	Name() string
	// Service is the spec.services entry that turns the kind on.
	Service() string
	// Plan returns the kind's daemons and files on node n of cluster c
	// (none where the kind does not run).
	Plan(c *Cluster, n *Node) ([]Daemon, []File)
}

// Cluster is what a kind sees of the cluster it plans for.
type Cluster struct {
	Spec *v1.LDMSDClusterSpec
	// Nodes are in order; ServiceNode is the last one's hostname.
	Nodes       []Node
	ServiceNode string
	// SlurmNodes are the hostnames running slurmd, in order.
	SlurmNodes []string
	// NodeFormat is true for a spec in the ldms-test format (spec.nodes):
	// a kind runs only the daemons a node declares (Node.Declared).
	NodeFormat bool
}

// Node is what a kind sees of one node.
type Node struct {
	Hostname string
	Aliases  []string
	// SlurmRole is "", "slurmd" or "slurmctld".
	SlurmRole string
	// LDMSD is the node's ldmsd as the seed format declares it, nil when
	// the node runs none.
	LDMSD *v1.DaemonSpec
	// Declared are the node's daemons in the ldms-test format, in order.
	Declared []v1.NodeDaemon
}

// Declares returns the daemons of type typ the node declares.
func (n *Node) Declares(typ string) []v1.NodeDaemon {
	var out []v1.NodeDaemon
	for _, d := range n.Declared {
		if d.Type == typ {
			out = append(out, d)
		}
	}
	return out
}

// Daemon is one daemon on one node: everything the reconciler starts and
// checks it by, and render, diff, logs and stop/start show.
type Daemon struct {
	// Name identifies the daemon on its node; the kind's name for the
	// only daemon of its kind there.
	Name string
	Kind string
	// Exe is the program's name in the process table.
	Exe string
	// Pre is sh run as root before the daemon starts; may be empty.
	Pre  string
	Argv []string
	// Env is the daemon's own env, given to its exec on top of the
	// container's.
	Env v1.Env
	// Restart is v1.RestartAlways, v1.RestartNever or v1.RestartManual.
	Restart string
	// Logs are its log files in the node: the stdio lvc redirects
	// (Logs[0]), then its own.
	Logs []string
	// Listen is the TCP port it serves, 0 for none.
	Listen int
	// After are the kinds that must run first, listening when they
	// serve a port (slurmd after slurmctld).
	After []string
	// Xprt and Auth are the transport and authentication of Listen
	// (ldmsd's).
	Xprt, Auth string
	// Peers are the cluster hosts whose addresses it resolves once, when
	// it starts (an aggregator's producers, Slurm's nodes): new addresses
	// restart it, and an ldmsd's peers start before it.
	Peers []string
	// ConfigFile and Config are its configuration file, also in the
	// node's files.
	ConfigFile, Config string
	// Hash identifies everything it was started with: when it changes,
	// the daemon is restarted.
	Hash string
}

// LogFile is where lvc sends the daemon's stdio.
func (d *Daemon) LogFile() string {
	if len(d.Logs) == 0 {
		return ""
	}
	return d.Logs[0]
}

// File is a file written on a node before its daemons start.
type File struct {
	Path    string
	Content string
	Mode    uint32
	Owner   string // user[:group]; empty means root
}

// LogDir holds the stdio of the daemons lvc starts.
const LogDir = "/var/log/lvc"

// HashArgv identifies argument lists, each length-prefixed.
func HashArgv(parts ...[]string) string {
	var all []string
	for _, p := range parts {
		all = append(all, strconv.Itoa(len(p)))
		all = append(all, p...)
	}
	return HashStrings(all...)
}

// HashStrings is Hash cut to 24 hex digits, for peers and argv hashes.
func HashStrings(parts ...string) string { return Hash(parts...)[:24] }

// Hash is the hex SHA-256 of the parts, each length-prefixed so that
// moving text between parts changes it.
func Hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
