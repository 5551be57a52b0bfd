package enginetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ovis-hpc/lvc/engine"
)

// Fake is an in-memory engine.Runtime (see the package documentation).
// The zero value is not usable: make one with NewFake. It is safe for
// concurrent use.
type Fake struct {
	w     *world
	owner string // LabelOwner of this view; "" sees every owner's objects
}

var (
	_ engine.Runtime = (*Fake)(nil)
	_ engine.Ownable = (*Fake)(nil)
)

// world is the state every view of one Fake shares.
type world struct {
	mu      sync.Mutex
	nets    map[string]*engine.Network // by name
	ctrs    map[string]*container      // by name
	calls   map[string]int
	log     []string
	nextID  int
	nextPID int
	nextNet int
	nextIP  int

	slow      map[string]time.Duration
	noStart   map[string]bool
	swarmNode string
	hook      func(context.Context, Call) error

	subs map[*subscriber]bool
}

type container struct {
	c       engine.Container
	files   map[string][]byte
	scripts []string // the sh -s scripts run, in order
	procs   []proc
}

// proc is one row of a container's process table.
type proc struct {
	engine.Process
	exec string   // the command of the Start that runs it, "" for init
	env  []string // the Start's environment
}

// Call describes a call of the Fake, as a hook sees it.
type Call struct {
	// Op is the Runtime method: EnsureNetwork, Networks, RemoveNetwork,
	// Containers, EnsureContainer, RemoveContainer, Exec, Start or Top
	// (WriteFiles and ReadFile are Execs).
	Op string
	// Container is the container's name (for EnsureContainer, the spec's)
	// and Node its hostname, when the call concerns a known container.
	Container, Node string
	// Cluster is the cluster of Containers and Networks ("" for all), of
	// EnsureNetwork and of a known container.
	Cluster string
	// Argv is the command of Exec and Start.
	Argv []string
}

// NewFake returns an empty engine.
func NewFake() *Fake {
	return &Fake{w: &world{
		nets: map[string]*engine.Network{}, ctrs: map[string]*container{}, calls: map[string]int{},
		nextPID: 100, slow: map[string]time.Duration{}, noStart: map[string]bool{}, subs: map[*subscriber]bool{},
	}}
}

// Owner implements engine.Ownable.
func (f *Fake) Owner() string { return f.owner }

// ForOwner implements engine.Ownable: a view over the same state that
// labels what it creates with owner and lists only owner's objects.
func (f *Fake) ForOwner(owner string) engine.Runtime { return &Fake{w: f.w, owner: owner} }

// SetHook makes h run at the start of every Runtime call, outside the
// fake's lock: an error fails the call with it (nothing is done or
// counted), and h may block to make the call slow (it should return when
// ctx ends). nil removes it.
func (f *Fake) SetHook(h func(ctx context.Context, c Call) error) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.hook = h
}

// SetSlow delays by d the creation of the containers whose hostname is
// name, and the start of the daemons named name (as the start script's
// engine.DaemonTag names them). 0 removes the delay.
func (f *Fake) SetSlow(name string, d time.Duration) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.slow[name] = d
}

// SetNoStart makes the starts of daemon on the container of hostname node
// leave no process, as a daemon that exits at once: its log file says so
// and its exec_die is sent.
func (f *Fake) SetNoStart(node, daemon string, on bool) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.noStart[node+"/"+daemon] = on
}

// SetSwarmNode sets the swarm node that the containers created from now
// on run on ("" at first).
func (f *Fake) SetSwarmNode(node string) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.swarmNode = node
}

// before runs the hook, if any.
func (f *Fake) before(ctx context.Context, c Call) error {
	f.w.mu.Lock()
	h := f.w.hook
	f.w.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(ctx, c)
}

// callFor describes a call on the container id.
func (f *Fake) callFor(op, id string, argv []string) Call {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	c := Call{Op: op, Argv: argv}
	if ct := f.w.byID(id); ct != nil {
		c.Container, c.Node, c.Cluster = ct.c.Name, ct.c.Node, ct.c.Cluster
	}
	return c
}

// count records one call of kind; the caller holds the lock.
func (w *world) count(kind string) { w.calls[kind]++ }

// Calls returns how many calls of each kind the fake served since
// NewFake or ResetCalls. The kinds: ensureNetwork, createNetwork,
// listNetworks, removeNetwork; ensureContainer, createContainer,
// startContainer (a stopped one started again), list (Containers),
// removeContainer; start (daemon starts), top; and the execs by command:
// write (the script of WriteFiles), read (cat), kill (pkill), pgrep,
// tail, sinfo, check (any sh -c) and exec (anything else).
func (f *Fake) Calls() map[string]int {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	return maps.Clone(f.w.calls)
}

// mutationKinds are the calls that change something.
var mutationKinds = []string{"createNetwork", "removeNetwork", "createContainer", "startContainer", "removeContainer", "write", "start", "kill"}

// Mutations returns the counts of the calls that changed something
// (creations, removals, starts, file writes, kills), without zeros: an
// idle reconcile leaves it empty.
func (f *Fake) Mutations() map[string]int {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	out := map[string]int{}
	for _, k := range mutationKinds {
		if f.w.calls[k] > 0 {
			out[k] = f.w.calls[k]
		}
	}
	return out
}

// ResetCalls sets every count to zero.
func (f *Fake) ResetCalls() {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.calls = map[string]int{}
}

// Log returns the starts of containers and daemons so far, in order:
// "container node-1" each time EnsureContainer returns a running node-1,
// "ldmsd node-1" for each start of daemon ldmsd on node-1.
func (f *Fake) Log() []string {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	return slices.Clone(f.w.log)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ours is the driver's check of an existing object's labels.
func (f *Fake) ours(labels map[string]string, cluster string) error {
	if labels[engine.LabelCluster] != cluster {
		return fmt.Errorf("it does not belong to cluster %q (label %s=%q): remove or rename it", cluster, engine.LabelCluster, labels[engine.LabelCluster])
	}
	if f.owner != "" && labels[engine.LabelOwner] != f.owner {
		return fmt.Errorf("it belongs to the lvc of status directory %q, not %q: a cluster name is managed by one lvc per engine", labels[engine.LabelOwner], f.owner)
	}
	return nil
}

// sees tells whether this view lists an object with labels of cluster.
func (f *Fake) sees(labels map[string]string, cluster string) bool {
	return (cluster == "" || labels[engine.LabelCluster] == cluster) && (f.owner == "" || labels[engine.LabelOwner] == f.owner)
}

// labels returns l with this view's owner label.
func (f *Fake) labels(l map[string]string) map[string]string {
	out := maps.Clone(l)
	if out == nil {
		out = map[string]string{}
	}
	if f.owner != "" {
		out[engine.LabelOwner] = f.owner
	}
	return out
}

// EnsureNetwork implements engine.Runtime.
func (f *Fake) EnsureNetwork(ctx context.Context, spec engine.NetworkSpec) (engine.Network, error) {
	if err := f.before(ctx, Call{Op: "EnsureNetwork", Cluster: spec.Cluster}); err != nil {
		return engine.Network{}, err
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count("ensureNetwork")
	if n, ok := w.nets[spec.Name]; ok {
		if err := f.ours(n.Labels, spec.Cluster); err != nil {
			return engine.Network{}, fmt.Errorf("network %q exists but %w", spec.Name, err)
		}
		return cloneNetwork(*n), nil
	}
	w.count("createNetwork")
	w.nextNet++
	labels := f.labels(spec.Labels)
	labels[engine.LabelCluster] = spec.Cluster
	n := &engine.Network{ID: fmt.Sprintf("net%d-%s", w.nextNet, spec.Name), Name: spec.Name, Cluster: spec.Cluster, IPv6: spec.IPv6, Labels: labels}
	w.nets[spec.Name] = n
	return cloneNetwork(*n), nil
}

func cloneNetwork(n engine.Network) engine.Network {
	n.Labels = maps.Clone(n.Labels)
	return n
}

// Networks implements engine.Runtime.
func (f *Fake) Networks(ctx context.Context, cluster string) ([]engine.Network, error) {
	if err := f.before(ctx, Call{Op: "Networks", Cluster: cluster}); err != nil {
		return nil, err
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count("listNetworks")
	var out []engine.Network
	for _, n := range w.nets {
		if f.sees(n.Labels, cluster) {
			out = append(out, cloneNetwork(*n))
		}
	}
	slices.SortFunc(out, func(a, b engine.Network) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RemoveNetwork implements engine.Runtime; the network's destroy event
// follows. As the engine does, it refuses while containers are attached.
func (f *Fake) RemoveNetwork(ctx context.Context, id string) error {
	if err := f.before(ctx, Call{Op: "RemoveNetwork"}); err != nil {
		return err
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count("removeNetwork")
	for name, n := range w.nets {
		if n.ID != id {
			continue
		}
		for _, c := range w.ctrs {
			if c.c.Network == name {
				return fmt.Errorf("remove network %s: network %s has active endpoints (container %s)", id, name, c.c.Name)
			}
		}
		delete(w.nets, name)
		w.emit(engine.Event{Network: name, Action: "destroy"})
	}
	return nil
}

// Containers implements engine.Runtime. As with the driver, a listing
// does not know the containers' InitPID.
func (f *Fake) Containers(ctx context.Context, cluster string) ([]engine.Container, error) {
	if err := f.before(ctx, Call{Op: "Containers", Cluster: cluster}); err != nil {
		return nil, err
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count("list")
	var out []engine.Container
	for _, c := range w.ctrs {
		if f.sees(c.c.Labels, cluster) {
			ct := c.snapshot()
			ct.InitPID = 0
			out = append(out, ct)
		}
	}
	slices.SortFunc(out, func(a, b engine.Container) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (c *container) snapshot() engine.Container {
	ct := c.c
	ct.Labels = maps.Clone(ct.Labels)
	return ct
}

// containerID is a made-up Docker ID: 64 hex digits, unique from the
// first 12 (the short ID).
func containerID(n int) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(n)))
	return hex.EncodeToString(sum[:])
}

// EnsureContainer implements engine.Runtime: a missing container is
// created (its create event sent), then spec.BeforeStart runs, then it
// starts with a fresh process table holding its init (start event). A
// running one is returned as it is.
func (f *Fake) EnsureContainer(ctx context.Context, spec engine.ContainerSpec) (engine.Container, error) {
	if err := f.before(ctx, Call{Op: "EnsureContainer", Container: spec.Name, Node: spec.Hostname, Cluster: spec.Labels[engine.LabelCluster]}); err != nil {
		return engine.Container{}, err
	}
	w := f.w
	labels := f.labels(spec.Labels)
	if labels[engine.LabelCluster] == "" {
		return engine.Container{}, fmt.Errorf("create container %q: no %s label", spec.Name, engine.LabelCluster)
	}
	w.mu.Lock()
	w.count("ensureContainer")
	_, exists := w.ctrs[spec.Name]
	slow := w.slow[spec.Hostname]
	w.mu.Unlock()
	if !exists {
		if err := sleep(ctx, slow); err != nil {
			return engine.Container{}, err
		}
	}

	w.mu.Lock()
	c, ok := w.ctrs[spec.Name]
	switch {
	case ok:
		if err := f.ours(c.c.Labels, labels[engine.LabelCluster]); err != nil {
			w.mu.Unlock()
			return engine.Container{}, fmt.Errorf("container %q exists but %w", spec.Name, err)
		}
	default:
		if _, ok := w.nets[spec.Network]; !ok {
			w.mu.Unlock()
			return engine.Container{}, fmt.Errorf("create container %q: network %s not found", spec.Name, spec.Network)
		}
		w.count("createContainer")
		w.nextID++
		c = &container{files: map[string][]byte{}, c: engine.Container{
			ID: containerID(w.nextID), Name: spec.Name, Cluster: labels[engine.LabelCluster], Node: spec.Hostname,
			Hash: labels[engine.LabelHash], State: "created", SwarmNode: w.swarmNode, Labels: labels,
		}}
		w.ctrs[spec.Name] = c
		w.emit(engine.Event{Cluster: c.c.Cluster, Container: c.c.Name, Action: "create"})
	}
	running := c.c.Running
	w.mu.Unlock()

	if !running && spec.BeforeStart != nil {
		if err := spec.BeforeStart(ctx); err != nil {
			return engine.Container{}, err
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctrs[spec.Name] != c {
		return engine.Container{}, fmt.Errorf("start container %q: %w", spec.Name, engine.ErrNotFound)
	}
	if !c.c.Running {
		if c.c.State != "created" {
			w.count("startContainer")
		}
		w.boot(c, spec.Network)
	}
	w.log = append(w.log, "container "+spec.Hostname)
	return c.snapshot(), nil
}

// boot starts c: running, attached to network (when it exists), with a
// new init; the caller holds the lock.
func (w *world) boot(c *container, network string) {
	w.nextPID++
	c.c.Running, c.c.State, c.c.InitPID = true, "running", w.nextPID
	c.procs = []proc{{Process: engine.Process{PID: w.nextPID, PPID: 1, Command: "/sbin/docker-init -- sleep infinity"}}}
	if c.c.IP == "" {
		if n, ok := w.nets[network]; ok {
			w.nextIP++
			c.c.Network, c.c.IP = network, fmt.Sprintf("10.0.%d.%d", w.nextIP/250, w.nextIP%250+2)
			if n.IPv6 {
				c.c.IPv6 = fmt.Sprintf("fd00::%x", w.nextIP+2)
			}
		}
	}
	w.emit(engine.Event{Cluster: c.c.Cluster, Container: c.c.Name, Action: "start"})
}

// byID finds a container by ID; the caller holds the lock.
func (w *world) byID(id string) *container {
	for _, c := range w.ctrs {
		if c.c.ID == id {
			return c
		}
	}
	return nil
}

// find finds a container by name or ID; the caller holds the lock.
func (w *world) find(ref string) *container {
	if c, ok := w.ctrs[ref]; ok {
		return c
	}
	return w.byID(ref)
}

// RemoveContainer implements engine.Runtime: force-removed, with its die
// (when it ran), network disconnect and destroy events.
func (f *Fake) RemoveContainer(ctx context.Context, id string) error {
	if err := f.before(ctx, f.callFor("RemoveContainer", id, nil)); err != nil {
		return err
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count("removeContainer")
	c := w.byID(id)
	if c == nil {
		return nil
	}
	if c.c.Running {
		w.stop(c)
	}
	if c.c.Network != "" {
		w.emit(engine.Event{Network: c.c.Network, Container: c.c.ID, Action: "disconnect"})
	}
	delete(w.ctrs, c.c.Name)
	w.emit(engine.Event{Cluster: c.c.Cluster, Container: c.c.Name, Action: "destroy"})
	return nil
}

// stop ends every process of c; the caller holds the lock.
func (w *world) stop(c *container) {
	c.c.Running, c.c.State, c.c.InitPID = false, "exited", 0
	c.procs = nil
	w.emit(engine.Event{Cluster: c.c.Cluster, Container: c.c.Name, Action: "die"})
}

// Top implements engine.Runtime.
func (f *Fake) Top(ctx context.Context, id string) ([]engine.Process, error) {
	if err := f.before(ctx, f.callFor("Top", id, nil)); err != nil {
		return nil, err
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count("top")
	c := w.byID(id)
	if c == nil {
		return nil, fmt.Errorf("top %s: container %w", id, engine.ErrNotFound)
	}
	if !c.c.Running {
		return nil, fmt.Errorf("top %s: container %s is not running", id, c.c.Name)
	}
	out := make([]engine.Process, len(c.procs))
	for i, p := range c.procs {
		out[i] = p.Process
	}
	return out, nil
}

// Container returns the container named ref, or whose ID is ref.
func (f *Fake) Container(ref string) (engine.Container, bool) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	c := f.w.find(ref)
	if c == nil {
		return engine.Container{}, false
	}
	return c.snapshot(), true
}

// Files returns a copy of the files written into container ref (name or
// ID), by path; nil when there is no such container.
func (f *Fake) Files(ref string) map[string][]byte {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	c := f.w.find(ref)
	if c == nil {
		return nil
	}
	out := make(map[string][]byte, len(c.files))
	for p, data := range c.files {
		out[p] = slices.Clone(data)
	}
	return out
}

// Scripts returns the sh -s scripts run in container ref (name or ID), in
// order: WriteFiles's, with what runs after the files.
func (f *Fake) Scripts(ref string) []string {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	if c := f.w.find(ref); c != nil {
		return slices.Clone(c.scripts)
	}
	return nil
}

// Processes returns the process table of container ref (name or ID).
func (f *Fake) Processes(ref string) []engine.Process {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	c := f.w.find(ref)
	if c == nil {
		return nil
	}
	out := make([]engine.Process, len(c.procs))
	for i, p := range c.procs {
		out[i] = p.Process
	}
	return out
}

// Kill ends the processes whose program is exe (as pkill -x does) in the
// given containers (names or IDs), in every container when none is
// given, with an exec_die for each daemon that ends. It returns how many
// processes ended.
func (f *Fake) Kill(exe string, refs ...string) int {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.targets(refs) {
		n += w.kill(c, exe)
	}
	return n
}

// targets are the containers refs name, all when refs is empty, in name
// order; the caller holds the lock.
func (w *world) targets(refs []string) []*container {
	var out []*container
	if len(refs) == 0 {
		for _, name := range slices.Sorted(maps.Keys(w.ctrs)) {
			out = append(out, w.ctrs[name])
		}
		return out
	}
	for _, r := range refs {
		if c := w.find(r); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// kill ends c's processes of program exe; the caller holds the lock.
func (w *world) kill(c *container, exe string) int {
	return w.killWhere(c, func(p proc) bool { return engine.Program(p.Command) == exe })
}

// killWhere ends the daemons of c that match says so of.
func (w *world) killWhere(c *container, match func(proc) bool) int {
	n := 0
	c.procs = slices.DeleteFunc(c.procs, func(p proc) bool {
		if !match(p) || p.exec == "" {
			return false
		}
		n++
		w.emit(engine.Event{Cluster: c.c.Cluster, Container: c.c.Name, Action: "exec_die", Exec: p.exec})
		return true
	})
	return n
}

// Stop stops container ref (name or ID), as a crash or docker stop does:
// its processes end and its die event is sent. EnsureContainer starts it
// again, files kept.
func (f *Fake) Stop(ref string) bool {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.find(ref)
	if c == nil || !c.c.Running {
		return false
	}
	w.stop(c)
	return true
}

// Disconnect cuts container ref (name or ID) off its network, with the
// network's disconnect event; it keeps running.
func (f *Fake) Disconnect(ref string) bool {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.find(ref)
	if c == nil || c.c.Network == "" {
		return false
	}
	name := c.c.Network
	c.c.Network, c.c.IP, c.c.IPv6 = "", "", ""
	w.emit(engine.Event{Network: name, Container: c.c.ID, Action: "disconnect"})
	return true
}

// Drop makes container ref (name or ID) vanish without an event, as the
// containers of a swarm node lost with its engine do.
func (f *Fake) Drop(ref string) bool {
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.find(ref)
	if c == nil {
		return false
	}
	delete(w.ctrs, c.c.Name)
	return true
}
