package v1

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// APIVersion and Kind are the only TypeMeta values a manifest may carry.
const (
	APIVersion = "lvc/v1"
	Kind       = "LDMSDCluster"
)

// Services that a cluster can run, in the order they are started.
const (
	ServiceSshd   = "sshd"
	ServiceMunged = "munged"
	ServiceSlurm  = "slurm"
	ServiceLdmsd  = "ldmsd"
)

// AllServices lists every known service in start order; it is also the
// default of spec.services.
var AllServices = []string{ServiceSshd, ServiceMunged, ServiceSlurm, ServiceLdmsd}

// Daemon restart policies.
const (
	RestartAlways = "always"
	RestartNever  = "never"
	// RestartManual: lvc starts the daemon neither at creation nor after
	// it dies, and never kills it; the user starts it (ldms-test's
	// start_daemons, once a script has prepared what it needs), and the
	// status reports it as lvc finds it.
	RestartManual = "manual"
)

// DaemonTypeSampler is the daemon type whose nodes run slurmd.
const DaemonTypeSampler = "sampler"

// TypeMeta names the schema of an object.
type TypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// ObjectMeta is the part of the Kubernetes object metadata lvc uses.
type ObjectMeta struct {
	// Name is the cluster name: Docker network and container name prefix.
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Generation is set by the controller, never by users; it grows when
	// the spec changes.
	Generation int64 `json:"generation,omitempty"`
}

// Source tells where a decoded object came from. It is not serialized.
type Source struct {
	// File is the manifest path as given; it prefixes error messages and
	// its directory anchors relative mount sources. May be empty.
	File string
	// Doc is the 1-based position of the document in File.
	Doc int
}

// LDMSDCluster is a virtual HPC cluster: containers node-1..N on one
// network, running sshd, munged, Slurm and ldmsd as its spec says.
type LDMSDCluster struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta          `json:"metadata"`
	Spec     LDMSDClusterSpec    `json:"spec"`
	Status   *LDMSDClusterStatus `json:"status,omitempty"`

	// Source is filled by Decode.
	Source Source `json:"-"`
}

// LDMSDClusterSpec is the seed's LDMSDClusterSpec with the same snake_case
// field names, plus the options later Python versions and lvc added.
//
// A spec has one of two formats. The seed format (2019) lists one daemon
// per container in Daemons, with templates in Define. The ldms-test format
// (the spec dict of ovis-hpc/ldms-test's LDMS_Test.py) lists the
// containers in Nodes, each with its daemons, with templates in Templates;
// ExpandNodes resolves it. Writing nodes or templates selects the
// ldms-test format, in which define, daemons, services and plugstack are
// errors.
type LDMSDClusterSpec struct {
	// Name, if given, must equal metadata.name (the Python spec had it).
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Type        string `json:"type,omitempty"`
	// Define holds daemon templates, referred to by a daemon's asset.
	Define []DaemonSpec `json:"define,omitempty"`
	// Daemons are one per container: daemon i runs on node-i.
	Daemons []DaemonSpec `json:"daemons,omitempty"`
	// Templates (ldms-test format) maps a template name to a dict that
	// any dict under Nodes may extend with "!extends": NAME.
	Templates *Dict `json:"templates,omitempty"`
	// Nodes (ldms-test format) are the containers, as written: see
	// NodeSpec for what ExpandNodes makes of each.
	Nodes []*Dict `json:"nodes,omitempty"`
	// IPv6 (ldms-test format) gives the cluster network IPv6 addresses
	// and makes /etc/hosts list them instead of the IPv4 ones.
	IPv6 bool `json:"ipv6,omitempty"`
	// Restart (ldms-test format) is always (the default), never or
	// manual: whether lvc starts a daemon of the nodes again when it dies,
	// and (manual) whether it starts it at all. The ldms-test runtime
	// plugin asks for manual: a script starts its daemons itself, after
	// what it prepares for them, and one it kills stays down.
	Restart string `json:"restart,omitempty"`
	// Image of every container. Default DefaultImage.
	Image string `json:"image,omitempty"`
	// OvisPrefix is the host path mounted read-only at /opt/ovis.
	OvisPrefix string `json:"ovis_prefix,omitempty"`
	// Env is the cluster-wide environment, least precedence.
	Env Env `json:"env,omitempty"`
	// Mounts are "SRC:DST:MODE" bind mounts added to every container.
	Mounts  []string `json:"mounts,omitempty"`
	CapAdd  []string `json:"cap_add,omitempty"`
	CapDrop []string `json:"cap_drop,omitempty"`
	// Services lists which of sshd, munged, slurm, ldmsd run: all four
	// when absent, none when an empty list. Not omitempty, so that a
	// defaulted empty list survives encoding.
	Services []string `json:"services"`
	// CPUPerNode is the CPUs= of every slurm node.
	CPUPerNode int `json:"cpu_per_node,omitempty"`
	// Oversubscribe is the slurm partition's OverSubscribe= value.
	Oversubscribe Oversubscribe `json:"oversubscribe,omitempty"`
	// SlurmLogLevel is SlurmctldDebug and SlurmdDebug.
	SlurmLogLevel string `json:"slurm_loglevel,omitempty"`
	// Plugstack lines make /etc/slurm/plugstack.conf.
	Plugstack []PlugstackEntry `json:"plugstack,omitempty"`
	// Subnet is the network's CIDR; empty lets Docker choose.
	Subnet string `json:"subnet,omitempty"`
	// AllowHostMounts permits mounting / or the Docker socket.
	AllowHostMounts bool `json:"allow_host_mounts,omitempty"`

	// Vars (ldms-test format) are the spec's other top-level attributes:
	// strings, numbers and booleans kept for %name% substitution (see
	// ExpandNodes for the rule that admits them). They are encoded
	// inline, at the spec's top level, as they were written.
	Vars *Dict `json:"-"`
}

// IsNodeFormat tells whether s is in the ldms-test format: it has nodes
// or templates.
func (s *LDMSDClusterSpec) IsNodeFormat() bool {
	return s.Nodes != nil || s.Templates != nil
}

// specFields is LDMSDClusterSpec without its JSON methods.
type specFields LDMSDClusterSpec

// MarshalJSON encodes the fields, then Vars inline in their order.
func (s LDMSDClusterSpec) MarshalJSON() ([]byte, error) {
	data, err := json.Marshal(specFields(s))
	if err != nil || s.Vars.Len() == 0 {
		return data, err
	}
	vars, err := s.Vars.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// Both are JSON objects: join {fields} and {vars}.
	out := append([]byte(nil), data[:len(data)-1]...)
	if len(data) > 2 {
		out = append(out, ',')
	}
	return append(out, vars[1:]...), nil
}

// UnmarshalJSON decodes the fields (templates and nodes keep their key
// order); the other keys become Vars. (Decode reports the keys that may
// not be there; this only reads.)
func (s *LDMSDClusterSpec) UnmarshalJSON(data []byte) error {
	var f specFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	var d Dict
	if err := d.UnmarshalJSON(data); err != nil {
		return err
	}
	known := jsonFields(reflect.TypeFor[specFields]())
	for _, k := range d.Keys() {
		if _, ok := known[k]; ok {
			continue
		}
		if f.Vars == nil {
			f.Vars = NewDict()
		}
		f.Vars.Set(k, d.vals[k])
	}
	*s = LDMSDClusterSpec(f)
	return nil
}

// DaemonSpec is a daemon template (in define) or a daemon (in daemons).
type DaemonSpec struct {
	// Name names a template; a daemon's name is kept but unused.
	Name string `json:"name,omitempty"`
	// Host is the alias of the daemon's node.
	Host string `json:"host,omitempty"`
	// Asset names the template in define this daemon extends.
	Asset      string    `json:"asset,omitempty"`
	Type       string    `json:"type,omitempty"`
	ListenPort int       `json:"listen_port,omitempty"`
	ListenXprt string    `json:"listen_xprt,omitempty"`
	ListenAuth string    `json:"listen_auth,omitempty"`
	Env        Env       `json:"env,omitempty"`
	Samplers   []Sampler `json:"samplers,omitempty"`
	// Config lines, when present, are the whole ldmsd config file.
	Config     []string `json:"config,omitempty"`
	LogFile    string   `json:"log_file,omitempty"`
	LogLevel   string   `json:"log_level,omitempty"`
	ConfigFile string   `json:"config_file,omitempty"`
	// Restart is always, never or manual: whether a dead ldmsd is started
	// again, and (manual) whether lvc starts it at all (RestartManual).
	Restart string `json:"restart,omitempty"`
	// Placement picks the swarm node of the daemon's container on a
	// multi-node swarm; without it the least loaded node is used.
	Placement *Placement `json:"placement,omitempty"`
}

// Placement restricts the swarm nodes a daemon's container may run on.
type Placement struct {
	// Node is a swarm node's hostname.
	Node string `json:"node,omitempty"`
	// Labels must all be on the swarm node (docker node update --label-add).
	Labels map[string]string `json:"labels,omitempty"`
}

// Sampler is a sampler plugin that ldmsd loads and configures.
type Sampler struct {
	Plugin string   `json:"plugin"`
	Config []string `json:"config,omitempty"`
	Start  bool     `json:"start,omitempty"`
}

// PlugstackEntry is one line of plugstack.conf.
type PlugstackEntry struct {
	Required bool     `json:"required,omitempty"`
	Path     string   `json:"path"`
	Args     []string `json:"args,omitempty"`
}

// Condition types written by the controller.
const (
	ConditionReady        = "Ready"
	ConditionNetworkReady = "NetworkReady"
	ConditionNodesReady   = "NodesReady"
	ConditionSshdReady    = "SshdReady"
	ConditionMungeReady   = "MungeReady"
	ConditionSlurmReady   = "SlurmReady"
	ConditionLdmsdReady   = "LdmsdReady"
	// ConditionStalled is True, as in kstatus, while the cluster cannot
	// progress until its manifest or the host changes; its reason names
	// the cause. It is absent otherwise.
	ConditionStalled = "Stalled"
)

// Condition statuses.
const (
	ConditionTrue    = "True"
	ConditionFalse   = "False"
	ConditionUnknown = "Unknown"
)

// Cluster phases.
const (
	PhasePending     = "Pending"
	PhaseProgressing = "Progressing"
	PhaseReady       = "Ready"
	PhaseDegraded    = "Degraded"
	PhaseFailed      = "Failed"
	PhaseDeleting    = "Deleting"
)

// LDMSDClusterStatus is written by the controller to the status file.
type LDMSDClusterStatus struct {
	// Manifest is the file the cluster was last read from.
	Manifest           string       `json:"manifest,omitempty"`
	ObservedGeneration int64        `json:"observedGeneration,omitempty"`
	Phase              string       `json:"phase,omitempty"`
	Conditions         []Condition  `json:"conditions,omitempty"`
	Nodes              []NodeStatus `json:"nodes,omitempty"`
}

// Condition is one observed aspect of the cluster, as in Kubernetes.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
	// ObservedGeneration is the generation the condition was computed
	// for (set on Stalled).
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// NodeStatus is the observed state of one container.
type NodeStatus struct {
	Hostname    string         `json:"hostname"`
	Aliases     []string       `json:"aliases,omitempty"`
	Role        string         `json:"role,omitempty"`
	State       string         `json:"state,omitempty"`
	Container   string         `json:"container,omitempty"`
	ContainerID string         `json:"containerID,omitempty"`
	IP          string         `json:"ip,omitempty"`
	SwarmNode   string         `json:"swarmNode,omitempty"`
	Daemons     []DaemonStatus `json:"daemons,omitempty"`
}

// DaemonStatus is the observed state of one daemon process on a node.
type DaemonStatus struct {
	Name string `json:"name"`
	// State is Running, Stopped (on purpose), Exited (restart: never),
	// BackOff (waiting to restart) or Failed (could not start).
	State string `json:"state,omitempty"`
	// PID is the daemon's process ID as the Docker host sees it.
	PID      int `json:"pid,omitempty"`
	Restarts int `json:"restarts,omitempty"`
	// QuickDeaths counts its deaths in a row that came soon after a start
	// (a crash loop): it sets the back-off before the next start.
	QuickDeaths int       `json:"quickDeaths,omitempty"`
	StartTime   time.Time `json:"startTime,omitempty"`
	// Hash identifies the inputs (command, env, config) it was started
	// with; a different hash in the plan restarts it.
	Hash string `json:"hash,omitempty"`
	// Listening and Sets are ldmsd's: whether its port listens, and how
	// many sets its own ldms_ls lists.
	Listening bool   `json:"listening,omitempty"`
	Sets      int    `json:"sets,omitempty"`
	LastError string `json:"lastError,omitempty"`
}

// Oversubscribe is the slurm partition's OverSubscribe value: "NO", "YES",
// "FORCE", "EXCLUSIVE" (YES and FORCE may take ":COUNT"). A YAML boolean is
// accepted too, since an unquoted no/yes may come from a YAML 1.1 writer:
// false is "NO" and true is "YES".
type Oversubscribe string

// UnmarshalJSON accepts a string or a boolean.
func (o *Oversubscribe) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var b bool
	if err := json.Unmarshal(data, &b); err == nil {
		*o = "NO"
		if b {
			*o = "YES"
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("expected string or boolean")
	}
	*o = Oversubscribe(s)
	return nil
}

// Event is one line of a cluster's event log: what lvc did and why.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"` // Normal or Warning
	Reason  string    `json:"reason"`
	Object  string    `json:"object,omitempty"` // node or node/daemon
	Message string    `json:"message"`
}

// ManifestEntry is what the manifests directory says about one cluster name.
type ManifestEntry struct {
	Name string
	// File declares the cluster; the owner when several files do.
	File string
	// Cluster is the decoded, defaulted cluster; nil when Errs is set
	// and the document could not be decoded.
	Cluster *LDMSDCluster
	// Errs is non-empty when the manifest is invalid: the running
	// cluster must then be left alone.
	Errs ErrorList
	// Duplicates are other files that declare the same name; they are
	// ignored.
	Duplicates []string
	// Hash identifies the entry's content, to tell changes.
	Hash string
}

// Valid tells whether the entry can be applied.
func (e *ManifestEntry) Valid() bool { return e.Cluster != nil && len(e.Errs) == 0 }
