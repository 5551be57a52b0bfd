// Package engine is the seam between lvc and a container engine: the
// Runtime interface and the values it takes and returns. Only the driver
// that implements it (drivers/swarm) knows the Docker API.
package engine

import (
	"context"
	"io"
	"path"
	"strings"
	"time"
)

// Runtime is the seam between lvc and a container engine. The Docker and
// swarm implementation is drivers/swarm; unit tests use enginetest.Fake.
type Runtime interface {
	// EnsureNetwork returns the cluster's network, creating it when missing.
	// Idempotent and safe to call concurrently.
	EnsureNetwork(ctx context.Context, spec NetworkSpec) (Network, error)
	// Networks lists lvc's networks of cluster ("" for all clusters).
	Networks(ctx context.Context, cluster string) ([]Network, error)
	// RemoveNetwork removes a network; a missing one is not an error.
	RemoveNetwork(ctx context.Context, id string) error

	// Containers lists lvc's containers of cluster ("" for all), running or not.
	Containers(ctx context.Context, cluster string) ([]Container, error)
	// EnsureContainer creates and starts the container when missing, starts
	// it when stopped, and returns it. Idempotent and safe to call concurrently.
	EnsureContainer(ctx context.Context, spec ContainerSpec) (Container, error)
	// RemoveContainer force-removes a container; a missing one is not an error.
	RemoveContainer(ctx context.Context, id string) error

	// Exec runs argv in a container and waits for it. A non-zero exit code
	// is data in the result, not an error.
	Exec(ctx context.Context, id string, opts ExecOptions) (ExecResult, error)
	// Start runs argv in a container detached, with stdio going nowhere
	// (callers redirect inside argv).
	Start(ctx context.Context, id string, argv, env []string, user string) error
	// WriteFiles writes files in one exec, in place, contents on stdin.
	WriteFiles(ctx context.Context, id string, files []File) error
	// ReadFile returns a file of a container.
	ReadFile(ctx context.Context, id, path string) ([]byte, error)
	// Top lists a container's processes without starting an exec.
	Top(ctx context.Context, id string) ([]Process, error)

	// Events streams lvc's container events, and network events that cut
	// containers off (Event.Network set), until ctx ends, reconnecting
	// without losing events. The channel is closed when ctx ends.
	Events(ctx context.Context) <-chan Event
}

// NetworkSpec describes a cluster network.
type NetworkSpec struct {
	Name    string
	Cluster string
	Subnet  string // optional CIDR
	// IPv6 gives the network IPv6 addresses beside the IPv4 ones.
	IPv6   bool
	Labels map[string]string
}

// Network is an observed network.
type Network struct {
	ID      string
	Name    string
	Cluster string
	IPv6    bool
	Labels  map[string]string
}

// Mount is a bind mount of a host path.
type Mount struct {
	Source   string
	Target   string
	ReadOnly bool
}

// ContainerSpec describes one node container.
type ContainerSpec struct {
	Name     string
	Hostname string
	Image    string
	Network  string
	// NetworkIPv6 says the network has IPv6 (NetworkSpec.IPv6): a bridge
	// on the swarm manager's host, where the container then goes.
	NetworkIPv6 bool
	Aliases     []string // extra DNS names on the network
	Env         []string
	Mounts      []Mount
	CapAdd      []string
	CapDrop     []string
	// Ports are published on the engine's host.
	Ports []PortBinding
	// Tmpfs maps a path in the container to its tmpfs mount options ("").
	Tmpfs  map[string]string
	Labels map[string]string // must include LabelCluster
	// Placement restricts the swarm nodes a new container may go to.
	Placement Placement
	// BeforeStart, when set, is called once the container exists and
	// before it is started; an error stops EnsureContainer. The engine
	// attaches starting containers to an overlay network about one at a
	// time, so callers use it to order starts.
	BeforeStart func(context.Context) error
}

// PortBinding publishes a container port on the engine's host.
type PortBinding struct {
	ContainerPort string // "PORT" or "PORT/PROTO"
	HostIP        string // "" for every address
	HostPort      int    // 0 for one the engine picks
}

// Placement restricts where a container may run on a multi-node swarm:
// a node hostname, node labels, or both; empty means anywhere.
type Placement struct {
	Node   string
	Labels map[string]string
}

func (p Placement) String() string {
	var parts []string
	if p.Node != "" {
		parts = append(parts, "node "+p.Node)
	}
	for k, v := range p.Labels {
		parts = append(parts, k+"="+v)
	}
	if len(parts) == 0 {
		return "anywhere"
	}
	return strings.Join(parts, ", ")
}

// Container is an observed container.
type Container struct {
	ID        string
	Name      string
	Cluster   string
	Node      string // lvc hostname, node-<i>
	Hash      string
	Running   bool
	State     string
	IP        string // address on the cluster network, when attached
	IPv6      string // IPv6 address on the cluster network, when it has one
	Network   string // the cluster network's name, when attached
	SwarmNode string
	Labels    map[string]string
	// InitPID is the host PID of the container's init while it runs, when
	// known (EnsureContainer knows it; a listing does not).
	InitPID int
}

// ExecOptions configures Exec.
type ExecOptions struct {
	Argv  []string
	Env   []string
	User  string
	Stdin io.Reader // optional
}

// ExecResult is the outcome of a finished exec.
type ExecResult struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
}

// Process is one row of a container's process table.
type Process struct {
	PID     int
	PPID    int
	Command string // full command line
}

// DaemonTag is in the command line of every daemon lvc starts, so that
// the exec_die of a daemon can be told from that of a probe.
const DaemonTag = "lvc-daemon:"

// Event is a container event of one of lvc's clusters, or a network
// event that may concern one.
type Event struct {
	// Cluster is the container's cluster label; empty for network events.
	Cluster string
	// Network is the network's name for network events (lvc names a
	// cluster's network after the cluster, but other networks' events
	// come too: the receiver tells them apart).
	Network   string
	Container string // container name; a network event's container ID
	Action    string // e.g. die, start, destroy, exec_die; disconnect, destroy, remove for networks
	// Exec is the command of an exec_die's exec, when its exec_create
	// was seen; ExecUnseen is true when it was not (the exec began before
	// the stream did: a daemon a previous controller started, say).
	Exec       string
	ExecUnseen bool
	Time       time.Time
}

// Program is the program name of a process command line, as Top gives
// it; sshd's "sshd: /usr/sbin/sshd -D [listener]" title counts as sshd.
func Program(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return ""
	}
	return strings.TrimSuffix(path.Base(f[0]), ":")
}
