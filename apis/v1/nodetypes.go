package v1

// The typed result of ExpandNodes: the ldms-test format's nodes with
// their templates applied and their %NAME% references replaced. The
// fields are what LDMS_Test.py (and its docker runtime) read from a node,
// a daemon and the objects in them; the comments say how the Python
// module uses each.

// Daemon types of the ldms-test format (NodeDaemon.Type).
const (
	DaemonSshd      = "sshd"
	DaemonMunged    = "munged"
	DaemonSlurmd    = "slurmd"
	DaemonSlurmctld = "slurmctld"
	DaemonLdmsd     = "ldmsd"
	DaemonEtcd      = "etcd"
)

// DaemonTypes lists the daemon types a node may run.
var DaemonTypes = []string{DaemonSshd, DaemonMunged, DaemonSlurmd, DaemonSlurmctld, DaemonLdmsd, DaemonEtcd}

// DefaultSamplerInterval is a sampler's interval when it sets none, as
// the Python module's config generation has it. (An ldmsd daemon's
// defaults are DefaultLogFile, DefaultLogLevel, DefaultListenAuth and
// DefaultConfigFile, the same as the seed format's.)
const DefaultSamplerInterval = "2000000"

// Param is one attribute of an object that becomes an ldmsd config
// command: its name and its value as Python's str() prints it (True,
// 1000000, 1.5).
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// NodeSpec is one node of an ldms-test format cluster: one container,
// named after Hostname, and the daemons it runs, in the order they start.
type NodeSpec struct {
	// Hostname is the container's hostname; the Python module names the
	// container "CLUSTER-HOSTNAME". Required, unique in the cluster.
	Hostname string `json:"hostname"`
	// Aliases are more names of the node in every node's /etc/hosts (a
	// single string in the spec is one alias).
	Aliases []string `json:"aliases,omitempty"`
	// Image is the node's image, or spec.image when the node sets none.
	Image string `json:"image"`
	// Env is the container's environment: spec.env overridden by the
	// node's env (added last, in the node's order). The Python runtime
	// puts its OVIS variables (PATH, LD_LIBRARY_PATH, ...) under it.
	Env Env `json:"env,omitempty"`
	// Mounts are the node's own "SRC:DST:MODE" bind mounts, relative
	// sources made absolute like spec.mounts. The Python docker runtime
	// uses them instead of the cluster's (spec.mounts and ovis_prefix),
	// not in addition.
	Mounts []string `json:"mounts,omitempty"`
	// Binds publish container ports on the Docker host (the Python
	// runtime's "ports").
	Binds []PortBind `json:"binds,omitempty"`
	// Tmpfs are "PATH" or "PATH:OPTIONS" tmpfs mounts.
	Tmpfs []string `json:"tmpfs,omitempty"`
	// Atstart is a host script copied to /atstart.sh in the container
	// and run once it starts.
	Atstart string `json:"atstart,omitempty"`
	// Daemons run on the node, started in this order.
	Daemons []NodeDaemon `json:"daemons,omitempty"`
	// Vars are the node's other attributes (component_id, ...), kept
	// for substitution, in spec order, as str() prints them.
	Vars []Param `json:"vars,omitempty"`
}

// PortBind publishes a container port on the Docker host.
type PortBind struct {
	// ContainerPort is "PORT" or "PORT/PROTO" (tcp, udp, sctp).
	ContainerPort string `json:"container_port"`
	// HostIP is the host address to bind, empty for all.
	HostIP string `json:"host_ip,omitempty"`
	// HostPort is the host port, 0 for one Docker picks.
	HostPort int `json:"host_port,omitempty"`
}

// NodeDaemon is one daemon of a node. Type says which fields apply: the
// others are empty (a field of another type is an error in the spec).
type NodeDaemon struct {
	// Name names the daemon; unique in its node when set. The Python
	// module finds a munged by it.
	Name string `json:"name,omitempty"`
	// Type is one of DaemonTypes: sshd (/usr/sbin/sshd), munged,
	// slurmd and slurmctld (the node's role in the cluster's slurm.conf,
	// whose controller is the node with slurmctld), ldmsd, etcd (an
	// etcd member; the cluster's etcd daemons form one etcd cluster).
	Type string `json:"type"`
	// Requires names daemons this one needs (mt-slurm-test writes it;
	// the Python module does not read it).
	Requires []string `json:"requires,omitempty"`

	// Dom (munged) is the munge domain: the daemon then keeps its key,
	// socket and pid file under /munge/DOM (key, sock, pid). Empty is
	// the default domain: /etc/munge/munge.key and /run/munge.
	Dom string `json:"dom,omitempty"`
	// Key (munged) is the domain's key. Empty is the cluster's munge key
	// (ldms-test's module used 4096 "0"s): keyless domains trust each
	// other either way.
	Key string `json:"key,omitempty"`

	// Plugstack (slurmd, slurmctld) is written to
	// /etc/slurm/plugstack.conf before the daemon starts.
	Plugstack []PlugstackEntry `json:"plugstack,omitempty"`

	// Listen (ldmsd) are "listen" config commands. The first one is the
	// port ldmsd_controller and the readiness check use when ListenPort
	// is not set.
	Listen []Listen `json:"listen,omitempty"`
	// ListenPort, ListenXprt (ldmsd): the older listener, on the
	// command line (-x XPRT:PORT) when both are set.
	ListenPort int    `json:"listen_port,omitempty"`
	ListenXprt string `json:"listen_xprt,omitempty"`
	// ListenAuth (ldmsd) is the command line's -a; "none" when not set.
	ListenAuth string `json:"listen_auth,omitempty"`
	// Auth (ldmsd) are authentication domains (auth_add).
	Auth []AuthDomain `json:"auth,omitempty"`
	// Samplers (ldmsd) are sampler plugins to load, configure and start.
	Samplers []NodeSampler `json:"samplers,omitempty"`
	// Prdcrs (ldmsd) are producers (prdcr_add); the spec's config lines
	// start them.
	Prdcrs []Prdcr `json:"prdcrs,omitempty"`
	// PrdcrListen (ldmsd) are prdcr_listen_add commands.
	PrdcrListen []PrdcrListen `json:"prdcr_listen,omitempty"`
	// Advertisers (ldmsd) are advertiser_add commands.
	Advertisers []Advertiser `json:"advertisers,omitempty"`
	// Quota (ldmsd) makes a "default_quota quota=QUOTA" command; empty
	// (or a false value in the spec: 0) makes none.
	Quota string `json:"quota,omitempty"`
	// Config (ldmsd) lines follow the generated commands in the config
	// file.
	Config []string `json:"config,omitempty"`
	// LogFile, LogLevel, ConfigFile (ldmsd) are the command line's -l,
	// -v and -c, with the module's defaults (DefaultLogFile,
	// DefaultLogLevel as written, DefaultConfigFile) when not set.
	LogFile    string `json:"log_file,omitempty"`
	LogLevel   string `json:"log_level,omitempty"`
	ConfigFile string `json:"config_file,omitempty"`
	// Env (ldmsd) is the environment the Python module runs ldmsd with:
	// spec.env overridden by the daemon's env. (The node's env reaches
	// ldmsd only through the container, under these.)
	Env Env `json:"env,omitempty"`

	// Vars are the daemon's other attributes (offset, ...), kept for
	// substitution, in spec order, as str() prints them.
	Vars []Param `json:"vars,omitempty"`
}

// Listen is one "listen" command of an ldmsd.
type Listen struct {
	Xprt string `json:"xprt"`
	Port int    `json:"port"`
	// Host is the address to bind, empty for all.
	Host string `json:"host,omitempty"`
	// Auth names an auth domain of the daemon.
	Auth string `json:"auth,omitempty"`
	// Params are all the entry's attributes in spec order: the command is
	// "listen " followed by " NAME=VALUE" for each.
	Params []Param `json:"params"`
}

// AuthDomain is one "auth_add" command of an ldmsd: a named
// authentication domain that listen, prdcrs and advertisers refer to.
type AuthDomain struct {
	Name string `json:"name"`
	// Plugin is none, ovis, munge, naive, ...; ldmsd's default when
	// empty.
	Plugin string `json:"plugin,omitempty"`
	// Params are all the entry's attributes in spec order, name
	// included; the plugin's options (conf, socket, uid, ...) are any
	// further ones. The command is "auth_add name=NAME" followed by
	// " NAME=VALUE" for each but name.
	Params []Param `json:"params"`
}

// NodeSampler is one sampler plugin of an ldmsd.
type NodeSampler struct {
	Plugin string `json:"plugin"`
	// Interval is the sample interval; DefaultSamplerInterval when not
	// set, and none at all when set to "".
	Interval string `json:"interval"`
	// Offset is the sample offset; none when empty.
	Offset string `json:"offset,omitempty"`
	// ExclusiveThread, when set, goes on the config line of the older
	// syntax (exclusive_thread=VALUE).
	ExclusiveThread string `json:"exclusive_thread,omitempty"`
	// Start tells whether the plugin is started (sampled on a timer).
	Start bool `json:"start,omitempty"`
	// Config are the NAME=VALUE attributes of its config command.
	Config []string `json:"config"`
}

// Prdcr is one "prdcr_add" command of an ldmsd (an aggregator).
type Prdcr struct {
	Name string `json:"name"`
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
	Xprt string `json:"xprt,omitempty"`
	// Type is active or passive.
	Type string `json:"type,omitempty"`
	// Auth names an auth domain of the daemon.
	Auth string `json:"auth,omitempty"`
	// Params are all the entry's attributes in spec order, name
	// included. The command is "prdcr_add name=NAME" followed by
	// " NAME=VALUE" for each but name.
	Params []Param `json:"params"`
}

// PrdcrListen is one "prdcr_listen_add" command of an ldmsd.
type PrdcrListen struct {
	Name string `json:"name"`
	// Params are all the entry's attributes in spec order, name
	// included. The command is "prdcr_listen_add name=NAME" followed by
	// " NAME=VALUE" for each, name too (the Python module writes it
	// twice).
	Params []Param `json:"params"`
}

// Advertiser is one "advertiser_add" command of an ldmsd.
type Advertiser struct {
	Name string `json:"name"`
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
	Xprt string `json:"xprt,omitempty"`
	Auth string `json:"auth,omitempty"`
	// Params are all the entry's attributes in spec order, name
	// included. The command is "advertiser_add name=NAME" followed by
	// " NAME=VALUE" for each but name.
	Params []Param `json:"params"`
}
