package plan

import (
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
	"github.com/ovis-hpc/lvc/drivers/kinds"
	"github.com/ovis-hpc/lvc/drivers/slurm"
)

// Node roles.
const (
	RoleCompute = "compute"
	RoleService = "service"
)

// Slurm roles of a node.
const (
	SlurmNone = ""
	Slurmd    = "slurmd"
	Slurmctld = "slurmctld"
)

// OvisMount is where ovis_prefix is mounted in every container.
const OvisMount = "/opt/ovis"

// ovisEnv is the container env that lets OVIS programs run from the
// read-only /opt/ovis mount, lib or lib64 as the build has it, with its
// Python bindings when the host's build has them; spec env goes on top.
func ovisEnv(prefix string) v1.Env {
	env := v1.Env{
		{Name: "PATH", Value: "/opt/ovis/bin:/opt/ovis/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		{Name: "LD_LIBRARY_PATH", Value: "/opt/ovis/lib:/opt/ovis/lib64"},
		{Name: "ZAP_LIBPATH", Value: "/opt/ovis/lib/ovis-ldms:/opt/ovis/lib64/ovis-ldms:/opt/ovis/lib/ovis-lib:/opt/ovis/lib64/ovis-lib"},
		{Name: "LDMSD_PLUGIN_LIBPATH", Value: "/opt/ovis/lib/ovis-ldms:/opt/ovis/lib64/ovis-ldms"},
	}
	// The bindings' directory names the Python that built them
	// (lib/python3.11/site-packages): found on the host, mounted here.
	var py []string
	for _, pat := range []string{"lib*/python3*/site-packages", "lib*/python3*/dist-packages"} {
		m, _ := filepath.Glob(filepath.Join(prefix, pat))
		for _, d := range m {
			rel, err := filepath.Rel(prefix, d)
			if err == nil {
				py = append(py, path.Join(OvisMount, filepath.ToSlash(rel)))
			}
		}
	}
	if len(py) > 0 {
		slices.Sort(py)
		env = append(env, v1.EnvVar{Name: "PYTHONPATH", Value: strings.Join(py, ":")})
	}
	return env
}

// Plan is the desired state of one cluster, resolved down to what each
// container and daemon needs. It is computed by Build and never changed.
type Plan struct {
	Cluster string
	// Network is the cluster network's name (the cluster name).
	Network string
	// Subnet is the network's CIDR, or empty to let Docker choose.
	Subnet string
	// IPv6 gives the network IPv6 addresses, which /etc/hosts then lists.
	IPv6     bool
	Image    string
	Services []string
	// Nodes are node-1..node-N in order; the last is the service node.
	Nodes []Node
	// SlurmNodes are the hostnames running slurmd: the nodes of daemons of
	// type sampler, in order; empty without the slurm service.
	SlurmNodes []string
	// ServiceNode is the hostname of the last node (slurmctld, ldms_ls).
	ServiceNode string
	// SlurmConf is slurm.conf, written to every node with a SlurmRole;
	// empty when slurm is not a service.
	SlurmConf string
	// SlurmHash changes exactly when the slurm files change.
	SlurmHash  string
	slurmFiles []File
}

// Node is one container.
type Node struct {
	Index int // 1-based
	// ContainerName is <cluster>-<Index>.
	ContainerName string
	// Hostname is node-<Index>.
	Hostname string
	// Aliases are the daemon's host, if it has one.
	Aliases []string
	Role    string
	Image   string
	// Env is the container env: OVIS paths, then spec env on top.
	Env     v1.Env
	Mounts  []Mount
	CapAdd  []string
	CapDrop []string
	// Ports are published on the Docker host (ldms-test's binds).
	Ports []v1.PortBind
	// Tmpfs are "PATH" or "PATH:OPTIONS" tmpfs mounts.
	Tmpfs []string
	// Placement restricts the swarm node of the container, or is nil.
	Placement *v1.Placement
	// Atstart is the host path of ldms-test's atstart script, or "": it
	// is written to AtstartPath and run once in the container, before
	// its daemons start (AtstartRun).
	Atstart     string
	atstartHash string // of the script, in ContainerHash
	// Daemons are every daemon of the node, of every kind the spec's
	// services turn on, in start order (drivers/kinds).
	Daemons []Daemon
	// SlurmRole is SlurmNone, Slurmd or Slurmctld.
	SlurmRole string
	// Files are the daemons' files (the ldmsd config, the slurm files);
	// NodeFiles adds what every node gets.
	Files []File
	// ContainerHash is the hex SHA-256 of exactly what creating the
	// container depends on (image, hostname, env, mounts, capabilities):
	// when it changes, the container must be recreated. Role and aliases
	// are not in it: when a cluster grows, its old service node becomes a
	// compute node with an alias in place (/etc/hosts carries aliases; the
	// DNS aliases given at creation are not updated).
	ContainerHash string
}

// Mount is a bind mount.
type Mount struct {
	Source   string
	Target   string
	ReadOnly bool
}

// String returns SRC:DST:MODE.
func (m Mount) String() string {
	mode := "rw"
	if m.ReadOnly {
		mode = "ro"
	}
	return m.Source + ":" + m.Target + ":" + mode
}

// File is a file written on a node before its daemons start.
type File = kind.File

// Daemon is one daemon on one node (see kind.Daemon).
type Daemon = kind.Daemon

// Build computes the plan of a cluster that went through v1.Load (or
// v1.SetDefaults). It validates c again and returns the v1.ErrorList if it
// is not valid. It does not change c.
func Build(c *v1.LDMSDCluster) (*Plan, error) {
	if err := v1.Validate(c); err != nil {
		return nil, err
	}
	build := seedNodes
	if c.Spec.IsNodeFormat() {
		build = declaredNodes
	}
	p, kc, err := build(c)
	if err != nil {
		return nil, err
	}
	addDaemons(p, kc)
	if kc.NodeFormat && c.Spec.Restart != "" {
		for i := range p.Nodes {
			for j := range p.Nodes[i].Daemons {
				p.Nodes[i].Daemons[j].Restart = c.Spec.Restart
			}
		}
	}
	if kc.NodeFormat {
		// The services are those of the daemons the nodes declare.
		p.Services = nil
		for _, k := range kinds.All() {
			if svc := k.Service(); !slices.Contains(p.Services, svc) && slices.ContainsFunc(p.Nodes, func(n Node) bool { return len(n.DaemonsOf(k.Name())) > 0 }) {
				p.Services = append(p.Services, svc)
			}
		}
	}
	return p, nil
}

// newPlan is what every plan of c starts with.
func newPlan(c *v1.LDMSDCluster) *Plan {
	s := &c.Spec
	return &Plan{
		Cluster:  c.Metadata.Name,
		Network:  c.Metadata.Name,
		Subnet:   s.Subnet,
		IPv6:     s.IPv6,
		Image:    s.Image,
		Services: slices.Clone(s.Services),
	}
}

// seedNodes are the nodes of a seed-format spec: node-1..N, daemon i on
// node-i, the last one the service node.
func seedNodes(c *v1.LDMSDCluster) (*Plan, *kind.Cluster, error) {
	daemons, err := v1.Expand(c)
	if err != nil {
		return nil, nil, err
	}
	s := &c.Spec
	name := c.Metadata.Name
	has := func(svc string) bool { return slices.Contains(s.Services, svc) }
	p := newPlan(c)
	env := ovisEnv(s.OvisPrefix).Merge(s.Env)
	mounts, err := specMounts(s)
	if err != nil {
		return nil, nil, err
	}
	n := len(daemons) + 1
	p.ServiceNode = hostname(n)
	kc := &kind.Cluster{Spec: s, ServiceNode: p.ServiceNode}
	for i := 1; i <= n; i++ {
		node := Node{
			Index:         i,
			ContainerName: name + "-" + strconv.Itoa(i),
			Hostname:      hostname(i),
			Role:          RoleCompute,
			Image:         s.Image,
			Env:           slices.Clone(env),
			Mounts:        slices.Clone(mounts),
			CapAdd:        slices.Clone(s.CapAdd),
			CapDrop:       slices.Clone(s.CapDrop),
		}
		kn := kind.Node{Hostname: node.Hostname}
		if i == n {
			node.Role = RoleService
			if has(v1.ServiceSlurm) {
				node.SlurmRole = Slurmctld
			}
		} else {
			d := daemons[i-1]
			if d.Host != "" {
				node.Aliases = []string{d.Host}
			}
			node.Placement = d.Placement
			if has(v1.ServiceSlurm) && d.Type == v1.DaemonTypeSampler {
				node.SlurmRole = Slurmd
				p.SlurmNodes = append(p.SlurmNodes, node.Hostname)
			}
			kn.LDMSD = &d
		}
		kn.Aliases, kn.SlurmRole = node.Aliases, node.SlurmRole
		kc.Nodes = append(kc.Nodes, kn)
		node.ContainerHash = containerHash(&node)
		p.Nodes = append(p.Nodes, node)
	}
	kc.SlurmNodes = p.SlurmNodes
	return p, kc, nil
}

// addDaemons asks every kind whose service is on for each node's daemons
// and files.
func addDaemons(p *Plan, kc *kind.Cluster) {
	// A node-format spec's nodes say which daemons run, not services.
	has := func(svc string) bool { return kc.NodeFormat || slices.Contains(p.Services, svc) }
	for i := range p.Nodes {
		node := &p.Nodes[i]
		for _, k := range kinds.All() {
			if !has(k.Service()) {
				continue
			}
			ds, files := k.Plan(kc, &kc.Nodes[i])
			node.Daemons = append(node.Daemons, ds...)
			for _, f := range files {
				if !slices.ContainsFunc(node.Files, func(g File) bool { return g.Path == f.Path }) {
					node.Files = append(node.Files, f)
				}
			}
		}
	}
	if len(p.SlurmNodes) > 0 || slices.ContainsFunc(p.Nodes, func(n Node) bool { return n.SlurmRole == Slurmctld }) {
		p.slurmFiles, p.SlurmHash = slurm.Files(kc)
		p.SlurmConf = p.slurmFiles[0].Content
	}
}

// Hash is the hex SHA-256 of everything the node depends on: its
// container, its daemons and its files.
func (n *Node) Hash() string {
	parts := []string{n.ContainerHash, n.SlurmRole}
	for _, d := range n.Daemons {
		parts = append(parts, d.Hash)
	}
	for _, f := range n.Files {
		parts = append(parts, f.Path, f.Content, strconv.FormatUint(uint64(f.Mode), 8))
	}
	return kind.Hash(parts...)
}

// SlurmFiles returns the slurm files every slurm node gets.
func (p *Plan) SlurmFiles() []File { return slices.Clone(p.slurmFiles) }

// DaemonsOf returns the node's daemons of kind k.
func (n *Node) DaemonsOf(k string) []Daemon {
	var out []Daemon
	for _, d := range n.Daemons {
		if d.Kind == k {
			out = append(out, d)
		}
	}
	return out
}

// Daemon returns the node's daemon named name, or nil.
func (n *Node) Daemon(name string) *Daemon {
	for i := range n.Daemons {
		if n.Daemons[i].Name == name {
			return &n.Daemons[i]
		}
	}
	return nil
}

// Node returns the node with the given hostname or alias, or nil.
func (p *Plan) Node(name string) *Node {
	for i := range p.Nodes {
		if p.Nodes[i].Hostname == name || slices.Contains(p.Nodes[i].Aliases, name) {
			return &p.Nodes[i]
		}
	}
	return nil
}

// HostsFile returns /etc/hosts for every node, given each node's IP by
// hostname; nodes without an IP are left out. On an IPv6 network, as
// ldms-test writes it, localhost is ::1 alone.
func (p *Plan) HostsFile(ips map[string]string) string {
	var b strings.Builder
	if !p.IPv6 {
		b.WriteString("127.0.0.1 localhost\n")
	}
	b.WriteString("::1 localhost ip6-localhost ip6-loopback\n")
	for _, n := range p.Nodes {
		ip, ok := ips[n.Hostname]
		if !ok || ip == "" {
			continue
		}
		b.WriteString(strings.Join(append([]string{ip, n.Hostname}, n.Aliases...), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func hostname(i int) string { return "node-" + strconv.Itoa(i) }

// specMounts returns ovis_prefix at /opt/ovis read-only, then the spec's.
func specMounts(s *v1.LDMSDClusterSpec) ([]Mount, error) {
	out := []Mount{{Source: s.OvisPrefix, Target: OvisMount, ReadOnly: true}}
	for _, m := range s.Mounts {
		mt, err := parseMount(m)
		if err != nil {
			return nil, err
		}
		out = append(out, mt)
	}
	return out, nil
}

// parseMount reads SRC:DST:MODE.
func parseMount(m string) (Mount, error) {
	parts := strings.Split(m, ":")
	if len(parts) != 3 {
		return Mount{}, fmt.Errorf("mount %q: not SRC:DST:MODE", m)
	}
	return Mount{Source: parts[0], Target: parts[1], ReadOnly: parts[2] == "ro"}, nil
}

func containerHash(n *Node) string {
	mounts := make([]string, len(n.Mounts))
	for i, m := range n.Mounts {
		mounts[i] = m.String()
	}
	return hashJSON(struct {
		Image    string
		Hostname string
		Env      []string
		Mounts   []string
		CapAdd   []string
		CapDrop  []string
		// A placement moves the container; nil keeps old hashes as they were.
		Placement *v1.Placement `json:",omitempty"`
		Ports     []v1.PortBind `json:",omitempty"`
		Tmpfs     []string      `json:",omitempty"`
		// The container it ran in is made again when the script changes.
		Atstart string `json:",omitempty"`
	}{n.Image, n.Hostname, n.Env.Strings(), mounts, n.CapAdd, n.CapDrop, n.Placement, n.Ports, n.Tmpfs, n.atstartHash})
}

// hashJSON hashes v's JSON encoding, which is stable for structs and
// slices (no maps are hashed).
func hashJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic("plan: hash: " + err.Error()) // only plain structs are hashed
	}
	return kind.Hash(string(data))
}

// FromStatus is the plan of the spec a status object was computed from
// (its status left out).
func FromStatus(st *v1.LDMSDCluster) (*Plan, error) {
	obj := st.DeepCopy()
	obj.Status = nil
	return Build(obj)
}
