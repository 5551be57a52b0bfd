package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
	"github.com/ovis-hpc/lvc/drivers/kinds"
	"github.com/ovis-hpc/lvc/drivers/sshd"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/plan"
)

// phase is one ordered step of convergence. A failing phase stops the
// reconcile; its condition says why.
type phase struct {
	name      string
	condition string                // set False with reason when run fails
	reason    string                // default reason on failure
	wanted    func(*plan.Plan) bool // whether condition counts towards Ready
	run       func(context.Context, *state) error
}

// phases in order. The daemon phases follow the files phase: the
// built-in kinds' own, then one per other kind in drivers/kinds.
var phases = append([]phase{
	{name: "network", condition: v1.ConditionNetworkReady, reason: "NetworkError", run: ensureNetwork},
	{name: "containers", condition: v1.ConditionNodesReady, reason: "ContainerError", run: ensureContainers},
	{name: "files", condition: v1.ConditionNodesReady, reason: "FilesError", run: ensureFiles},
	{name: "sshd", condition: v1.ConditionSshdReady, reason: "SshdError", wanted: wants(v1.ServiceSshd), run: ifService(v1.ServiceSshd, ensureSshd)},
	{name: "munged", condition: v1.ConditionMungeReady, reason: "MungeError", wanted: wants(v1.ServiceMunged), run: ifService(v1.ServiceMunged, ensureMunged)},
	{name: "slurm", condition: v1.ConditionSlurmReady, reason: "SlurmError", wanted: wants(v1.ServiceSlurm), run: ifService(v1.ServiceSlurm, ensureSlurm)},
	{name: "ldmsd", condition: v1.ConditionLdmsdReady, reason: "LdmsdError", wanted: wants(v1.ServiceLdmsd), run: ifService(v1.ServiceLdmsd, ensureLdmsd)},
}, otherKindPhases(kinds.All())...)

// otherKindPhases runs each kind no built-in phase runs, under the
// condition <Kind>Ready.
func otherKindPhases(all []kind.Kind) []phase {
	builtin := []string{sshdKind, mungedKind, slurmctldKind, slurmdKind, ldmsdKind}
	var out []phase
	for _, k := range all {
		if slices.Contains(builtin, k.Name()) {
			continue
		}
		title := strings.ToUpper(k.Name()[:1]) + k.Name()[1:]
		out = append(out, phase{name: k.Name(), condition: title + "Ready", reason: title + "Error",
			wanted: wants(k.Service()), run: ifService(k.Service(), kindPhase(k.Name(), title+"Ready"))})
	}
	return out
}

// ifService runs a daemon phase only when the spec asks for the service.
func ifService(service string, run func(context.Context, *state) error) func(context.Context, *state) error {
	return func(ctx context.Context, s *state) error {
		if !wants(service)(s.plan) {
			return nil
		}
		return run(ctx, s)
	}
}

func ensureNetwork(ctx context.Context, s *state) error {
	n, err := s.r.Runtime.EnsureNetwork(ctx, engine.NetworkSpec{Name: s.plan.Network, Cluster: s.name(), Subnet: s.plan.Subnet, IPv6: s.plan.IPv6})
	if err != nil {
		return err
	}
	s.network = n
	if n.IPv6 != s.plan.IPv6 {
		// A network is not changed in place: its containers would lose it.
		s.setCondition(v1.ConditionNetworkReady, v1.ConditionFalse, "IPv6Differs", fmt.Sprintf("network %s was made with ipv6: %v and the spec says %v: lvc delete and up again to remake it", n.Name, n.IPv6, s.plan.IPv6))
		return nil
	}
	what := "overlay network "
	if n.IPv6 {
		what = "IPv6 bridge network "
	}
	s.setCondition(v1.ConditionNetworkReady, v1.ConditionTrue, "Exists", what+n.Name)
	return nil
}

// containerSpec is the engine side of a plan node (see plan.HostMounts).
func containerSpec(p *plan.Plan, n *plan.Node) engine.ContainerSpec {
	hostMounts, hash := plan.HostMounts(n)
	var mounts []engine.Mount
	for _, m := range hostMounts {
		mounts = append(mounts, engine.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	var place engine.Placement
	if n.Placement != nil {
		place = engine.Placement{Node: n.Placement.Node, Labels: n.Placement.Labels}
	}
	return engine.ContainerSpec{
		Placement:   place,
		Name:        n.ContainerName,
		Hostname:    n.Hostname,
		Image:       n.Image,
		Network:     p.Network,
		NetworkIPv6: p.IPv6,
		Aliases:     n.Aliases,
		Env:         n.Env.Strings(),
		Mounts:      mounts,
		CapAdd:      n.CapAdd,
		CapDrop:     n.CapDrop,
		Ports:       ports(n.Ports),
		Tmpfs:       tmpfs(n.Tmpfs),
		Labels: map[string]string{
			engine.LabelCluster: p.Cluster,
			engine.LabelNode:    n.Hostname,
			engine.LabelIndex:   strconv.Itoa(n.Index),
			engine.LabelHash:    hash,
		},
	}
}

func ports(ps []v1.PortBind) []engine.PortBinding {
	var out []engine.PortBinding
	for _, p := range ps {
		out = append(out, engine.PortBinding{ContainerPort: p.ContainerPort, HostIP: p.HostIP, HostPort: p.HostPort})
	}
	return out
}

// tmpfs maps each "PATH[:OPTIONS]" to its options.
func tmpfs(ts []string) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, t := range ts {
		p, opts, _ := strings.Cut(t, ":")
		out[p] = opts
	}
	return out
}

// ensureContainers creates missing nodes, recreates those whose hash
// changed or that lost the network, and removes extras, in parallel.
func ensureContainers(ctx context.Context, s *state) error {
	// Docker would make a missing bind source an empty directory.
	for i := range s.plan.Nodes {
		if src := plan.MissingSources(&s.plan.Nodes[i]); len(src) > 0 {
			return fmt.Errorf("%w: %s of %s does not exist on the host: create it or change spec.mounts", engine.ErrMountSource, strings.Join(src, ", "), s.plan.Nodes[i].Hostname)
		}
	}
	live, err := s.r.Runtime.Containers(ctx, s.name())
	if err != nil {
		return err
	}
	want := map[string]engine.ContainerSpec{}
	for i := range s.plan.Nodes {
		n := &s.plan.Nodes[i]
		want[n.ContainerName] = containerSpec(s.plan, n)
	}
	var remove []engine.Container
	kept := map[string]engine.Container{}
	// Of two containers with one name (a swarm node came back after its
	// containers were re-created elsewhere, and its engine restarted the
	// old ones), the running one stays, and of two running ones the one
	// the last status recorded: the returning copy has stale files and
	// daemons, and its node may be lost again.
	rank := func(c engine.Container) int {
		r := 0
		if !c.Running {
			r += 2
		}
		if !s.wasCurrent(c) {
			r++
		}
		return r
	}
	slices.SortStableFunc(live, func(a, b engine.Container) int { return rank(a) - rank(b) })
	for _, c := range live {
		spec, ok := want[c.Name]
		_, dup := kept[c.Name]
		switch {
		case dup:
			s.r.event(ctx, s.name(), "Warning", "RemoveDuplicate", c.Node, "container %s also runs on swarm node %s: removing this copy on %s", c.Name, kept[c.Name].SwarmNode, c.SwarmNode)
			remove = append(remove, c)
		case !ok:
			s.r.event(ctx, s.name(), "Normal", "RemoveNode", c.Node, "container %s is not in the spec: removing", c.Name)
			remove = append(remove, c)
		case c.Hash != spec.Labels[engine.LabelHash]:
			s.r.event(ctx, s.name(), "Normal", "RecreateNode", c.Node, "container %s changed: recreating", c.Name)
			remove = append(remove, c)
		case c.Running && c.Network == "":
			s.r.event(ctx, s.name(), "Warning", "RecreateNode", c.Node, "container %s lost the cluster network: recreating", c.Name)
			remove = append(remove, c)
		default:
			kept[c.Name] = c
		}
	}
	if err := forEach(ctx, s.r.workers(), remove, func(ctx context.Context, c engine.Container) error {
		return s.r.Runtime.RemoveContainer(ctx, c.ID)
	}); err != nil {
		return err
	}
	var todo []engine.ContainerSpec
	for _, n := range s.plan.Nodes {
		c, ok := kept[n.ContainerName]
		if ok && c.Running {
			s.containers[n.Hostname] = c
			continue
		}
		if !ok {
			s.r.event(ctx, s.name(), "Normal", "CreateNode", n.Hostname, "creating container %s", n.ContainerName)
			s.created[n.Hostname] = true
		} else {
			s.r.event(ctx, s.name(), "Warning", "StartNode", n.Hostname, "container %s was %s: starting", n.ContainerName, c.State)
		}
		todo = append(todo, want[n.ContainerName])
	}
	order := plan.LdmsdRanks(s.plan)
	hosts := make([]string, len(todo))
	for i := range todo {
		hosts[i] = todo[i].Hostname
	}
	s.early = s.planEarly(hosts, order)
	first := map[string]bool{} // the first wave (early.go), when ldmsd starts early
	if s.early != nil {
		first = feeders(s.plan, order)
		slices.SortStableFunc(todo, func(a, b engine.ContainerSpec) int { return boolInt(!first[a.Hostname]) - boolInt(!first[b.Hostname]) })
	}
	n := 0
	for _, c := range todo {
		if first[c.Hostname] {
			n++
		}
	}
	firstWave := newWave(n)
	outer := ctx
	results := make([]engine.Container, len(todo))
	idx := make([]int, len(todo))
	for i := range idx {
		idx[i] = i
	}
	err = forAll(ctx, s.r.workers(), idx, func(ctx context.Context, i int) error {
		spec := todo[i]
		if !first[spec.Hostname] {
			spec.BeforeStart = firstWave.wait
		}
		c, err := s.r.Runtime.EnsureContainer(ctx, spec)
		if first[spec.Hostname] {
			firstWave.started()
		}
		s.early.nodeUp(outer, s, todo[i].Hostname, c)
		if err != nil {
			return err
		}
		results[i] = c
		return nil
	})
	for i, c := range results {
		if c.ID == "" {
			continue
		}
		s.containers[todo[i].Hostname] = c
		if was := s.prevSwarmNode(todo[i].Hostname); was != "" && c.SwarmNode != "" && was != c.SwarmNode {
			s.r.event(ctx, s.name(), "Warning", "MovedNode", todo[i].Hostname, "%s moved from swarm node %s to %s", todo[i].Hostname, was, c.SwarmNode)
		}
	}
	if err != nil {
		return err
	}
	var missing []string
	for _, n := range s.plan.Nodes {
		if c := s.containers[n.Hostname]; !c.Running || c.IP == "" {
			missing = append(missing, n.Hostname)
		}
	}
	if len(missing) > 0 {
		return withReason("NodesNotRunning", fmt.Errorf("nodes not running on the network: %s", strings.Join(missing, ", ")))
	}
	return probe(ctx, s)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wasCurrent tells whether the last status recorded c as its node's
// container.
func (s *state) wasCurrent(c engine.Container) bool {
	if s.prev == nil || s.prev.Status == nil {
		return false
	}
	for _, n := range s.prev.Status.Nodes {
		if n.Hostname == c.Node {
			return n.ContainerID != "" && strings.HasPrefix(c.ID, n.ContainerID)
		}
	}
	return false
}

// prevSwarmNode is where the last status saw a node's container.
func (s *state) prevSwarmNode(hostname string) string {
	if p := s.prevNode(hostname); p != nil {
		return p.SwarmNode
	}
	return ""
}

// prevNode is the last status of a node, nil when there is none.
func (s *state) prevNode(hostname string) *v1.NodeStatus {
	if s.prev == nil || s.prev.Status == nil {
		return nil
	}
	for i := range s.prev.Status.Nodes {
		if s.prev.Status.Nodes[i].Hostname == hostname {
			return &s.prev.Status.Nodes[i]
		}
	}
	return nil
}

// probe reads every node's process table once (docker top: no exec). The
// PID of the container's init tells one container boot from the next.
func probe(ctx context.Context, s *state) error {
	type row struct {
		host  string
		procs []engine.Process
	}
	hosts := make([]string, 0, len(s.containers))
	for h := range s.containers {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	rows := make([]row, len(hosts))
	idx := make([]int, len(hosts))
	for i := range idx {
		idx[i] = i
	}
	err := forEach(ctx, s.r.workers(), idx, func(ctx context.Context, i int) error {
		ps, err := s.r.Runtime.Top(ctx, s.containers[hosts[i]].ID)
		rows[i] = row{hosts[i], ps}
		return err
	})
	if err != nil {
		return err
	}
	for _, r := range rows {
		s.setProcs(r.host, r.procs)
		s.boots[r.host] = s.containers[r.host].ID + "@" + strconv.Itoa(initPID(r.procs))
	}
	return nil
}

// initPID is the process whose parent is outside the container.
func initPID(ps []engine.Process) int {
	in := map[int]bool{}
	for _, p := range ps {
		in[p.PID] = true
	}
	for _, p := range ps {
		if !in[p.PPID] {
			return p.PID
		}
	}
	return 0
}

// nodeFiles is everything written to a node (plan.NodeFiles).
func nodeFiles(p *plan.Plan, n *plan.Node, ips map[string]string) []engine.File {
	var files []engine.File
	for _, f := range p.NodeFiles(n, ips) {
		files = append(files, engine.File{Path: f.Path, Content: []byte(f.Content), Mode: f.Mode, Owner: f.Owner})
	}
	return files
}

// ensureFiles writes each node's files in one exec, only when they differ
// from what was written to that container boot before.
func ensureFiles(ctx context.Context, s *state) error {
	// Early ldmsd starts write files too; they are over before these.
	s.early.wait()
	ips := map[string]string{}
	for h, c := range s.containers {
		ips[h] = c.IP
		if s.plan.IPv6 && c.IPv6 != "" {
			ips[h] = c.IPv6
		}
	}
	var kept []engine.Container
	for _, n := range s.plan.Nodes {
		if !s.created[n.Hostname] {
			kept = append(kept, s.containers[n.Hostname])
		}
	}
	secret, err := s.r.secrets.get(ctx, s.r.Runtime, s.name(), kept)
	if err != nil {
		return err
	}
	s.secret = secret
	sshHosts := make([]sshd.Host, 0, len(s.plan.Nodes))
	for _, n := range s.plan.Nodes {
		sshHosts = append(sshHosts, sshd.Host{Names: append([]string{n.Hostname}, n.Aliases...), IP: ips[n.Hostname]})
	}
	nodes := make([]*plan.Node, len(s.plan.Nodes))
	for i := range s.plan.Nodes {
		nodes[i] = &s.plan.Nodes[i]
	}
	err = forEach(ctx, s.r.workers(), nodes, func(ctx context.Context, n *plan.Node) error {
		files := nodeFiles(s.plan, n, ips)
		more, err := s.serviceFiles(n, sshHosts)
		if err != nil {
			return err
		}
		files = append(files, more...)
		return s.writeFiles(ctx, n.Hostname, s.containers[n.Hostname], s.boots[n.Hostname], files, atstart(n)+manualPre(n))
	})
	if err != nil {
		return err
	}
	s.setCondition(v1.ConditionNodesReady, v1.ConditionTrue, "Running", fmt.Sprintf("%d nodes running, /etc/hosts written", len(s.plan.Nodes)))
	return nil
}

// writeFiles writes those of files that changed since the last write to
// the container boot, in one exec, with ldconfig when the OVIS library
// path is among them, then the sh lines of then.
func (s *state) writeFiles(ctx context.Context, host string, c engine.Container, boot string, files []engine.File, then string) error {
	files = s.r.files.changed(boot, files)
	if len(files) == 0 {
		return nil
	}
	if slices.ContainsFunc(files, func(f engine.File) bool { return f.Path == plan.LdsoConfPath }) {
		then = "ldconfig\n" + then
	}
	if _, err := engine.Run(ctx, s.r.Runtime, c.ID, engine.WriteFilesExec(files, then)); err != nil {
		return fmt.Errorf("%s: %w", host, err)
	}
	s.r.files.written(boot, files)
	return nil
}

// atstart runs n's atstart script, once per container, with its files:
// before any daemon starts, as under ldms-test's docker runtime.
func atstart(n *plan.Node) string {
	if n.Atstart == "" {
		return ""
	}
	return plan.AtstartRun
}

// manualPre is what the restart: manual daemons of n need before they
// start (/run/sshd, munge's and Slurm's directories), as sh lines: their
// user starts them, from a node that has what an image made for them would.
// It runs with each boot's first files, and again when files change.
func manualPre(n *plan.Node) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, d := range n.Daemons {
		if d.Restart == v1.RestartManual && d.Pre != "" && !seen[d.Pre] {
			seen[d.Pre] = true
			b.WriteString(d.Pre + "\n")
		}
	}
	return b.String()
}

// fillNodeStatus records what was observed per node.
func (s *state) fillNodeStatus() {
	st := s.obj.Status
	st.Nodes = st.Nodes[:0]
	for _, n := range s.plan.Nodes {
		c, ok := s.containers[n.Hostname]
		ns := v1.NodeStatus{Hostname: n.Hostname, Aliases: n.Aliases, Role: n.Role, Container: n.ContainerName}
		if ok {
			ns.ContainerID, ns.IP, ns.SwarmNode, ns.State = shortID(c.ID), c.IP, c.SwarmNode, c.State
		} else if p := s.prevNode(n.Hostname); p != nil {
			// Not observed this time (listing failed, say while a swarm
			// node's engine does not answer): keep what was seen last, so
			// that where the container was, and what ran in it, are not
			// forgotten before it moves or is seen again.
			ns.ContainerID, ns.IP, ns.SwarmNode, ns.State = p.ContainerID, p.IP, p.SwarmNode, p.State
			ns.Daemons = slices.Clone(p.Daemons)
		}
		if !ok {
			st.Nodes = append(st.Nodes, ns)
			continue
		}
		ns.Daemons = s.daemons[n.Hostname]
		if ns.Daemons == nil {
			// Phases that did not run keep what was seen last time.
			for _, d := range n.Daemons {
				if p := s.prevDaemon(n.Hostname, d.Name); p != nil {
					ns.Daemons = append(ns.Daemons, *p)
				}
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
