package swarm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	swarmtypes "github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/go-logr/logr"
)

// LabelEngine, on a swarm node, is the endpoint of that node's engine,
// e.g. tcp://10.1.2.3:2376. The node the manager connection runs on needs
// none.
const LabelEngine = "lvc.engine"

// Swarm is a Runtime over a multi-node swarm: the cluster network lives
// on the manager; containers are placed over the nodes, each reached
// through its own engine, and every call about a container goes to the
// engine that hosts it.
type Swarm struct {
	manager *Engine
	opts    SwarmOptions
	owner   string
	shared  *swarmShared // with the views WithOwner makes

	mu      sync.RWMutex
	nodes   []SwarmNode
	engines map[string]*Engine // swarm node ID → engine that answers
	// unreachable are nodes the manager reports ready whose engine does
	// not answer: swarm node ID → why. Their containers are neither
	// listed nor given up (see Containers).
	unreachable map[string]error
	where       map[string]string // container ID → swarm node ID
	changed     chan struct{}     // closed when Refresh changes engines
	refreshed   time.Time         // when Refresh last read the nodes
}

// swarmShared is what a Swarm and its owner views share: the connections
// to close, and the placements under way.
type swarmShared struct {
	mu      sync.Mutex
	closers []func() error
	placer  placer
}

func (sh *swarmShared) addCloser(f func() error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.closers = append(sh.closers, f)
}

var _ Runtime = (*Swarm)(nil)

// SwarmOptions tell how to reach the nodes' engines.
type SwarmOptions struct {
	// Endpoints maps a node's hostname to its engine endpoint; it wins
	// over the node's LabelEngine.
	Endpoints map[string]string
	// CertDir holds ca.pem, cert.pem and key.pem for TLS endpoints, as
	// DOCKER_CERT_PATH does; CertDir/<hostname>/ wins when it exists.
	CertDir string
}

// SwarmNode is one node of the swarm as the manager reports it.
type SwarmNode struct {
	ID       string
	Hostname string
	Labels   map[string]string
	Ready    bool
	Engine   string // endpoint, "" for the manager connection's own node
}

// NewSwarm connects to every ready node's engine through the manager.
func NewSwarm(ctx context.Context, manager *Engine, opts SwarmOptions) (*Swarm, error) {
	s := &Swarm{manager: manager, opts: opts, shared: &swarmShared{}, engines: map[string]*Engine{},
		unreachable: map[string]error{}, where: map[string]string{}, changed: make(chan struct{})}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Refresh re-reads the swarm's nodes and connects to engines not yet
// reached. A node the manager no longer reports ready is left out, so
// its containers are re-created elsewhere. A node the manager reports
// ready whose engine does not answer is unreachable: its containers are
// not given up (Containers fails until it answers or the manager reports
// it down), so that a blip never moves containers.
func (s *Swarm) Refresh(ctx context.Context) error {
	log := logr.FromContextOrDiscard(ctx)
	info, err := s.manager.cli.Info(ctx)
	if err != nil {
		return fmt.Errorf("swarm manager: %w", err)
	}
	list, err := s.manager.cli.NodeList(ctx, swarmtypes.NodeListOptions{})
	if err != nil {
		return fmt.Errorf("list swarm nodes (is %s a manager?): %w", s.manager.cli.DaemonHost(), err)
	}
	var (
		nodes []SwarmNode
		wg    sync.WaitGroup
		mu    sync.Mutex
	)
	found := map[string]reached{}
	s.mu.RLock()
	old := maps.Clone(s.engines)
	s.mu.RUnlock()
	// Engines are probed in parallel, each for at most EngineTimeout: a
	// node whose host is gone answers nothing, and one such node must not
	// hold up the others (nor a CLI command) for the dialer's timeout.
	for _, n := range list {
		sn := SwarmNode{ID: n.ID, Hostname: n.Description.Hostname, Labels: n.Spec.Labels,
			Ready: n.Status.State == swarmtypes.NodeStateReady && n.Spec.Availability == swarmtypes.NodeAvailabilityActive}
		sn.Engine = s.opts.Endpoints[sn.Hostname]
		if sn.Engine == "" {
			sn.Engine = n.Spec.Labels[LabelEngine]
		}
		nodes = append(nodes, sn)
		if !sn.Ready {
			continue
		}
		if sn.Engine == "" {
			if n.ID == info.Swarm.NodeID {
				found[n.ID] = reached{e: s.manager.view(s.owner, sn.Hostname)}
			} else {
				log.Info("swarm node has no engine endpoint: label it "+LabelEngine+"=tcp://HOST:2376 or pass its endpoint", "node", sn.Hostname)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.reach(ctx, sn, old[n.ID])
			mu.Lock()
			found[n.ID] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	engines := map[string]*Engine{}
	unreachable := map[string]error{}
	for _, sn := range nodes {
		r, ok := found[sn.ID]
		switch {
		case !ok:
		case r.err != nil:
			log.Error(r.err, "swarm node's engine does not answer", "node", sn.Hostname, "engine", sn.Engine)
			unreachable[sn.ID] = fmt.Errorf("swarm node %s is ready in the swarm but its engine does not answer: %w", sn.Hostname, r.err)
		default:
			engines[sn.ID] = r.e
		}
	}
	s.mu.Lock()
	if !maps.Equal(engines, s.engines) {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.nodes, s.engines, s.unreachable, s.refreshed = nodes, engines, unreachable, time.Now()
	s.mu.Unlock()
	return nil
}

// EngineTimeout bounds a probe of a swarm node's engine (a ping, or a
// connection and its first request); a listing on it may take twice as
// long.
const EngineTimeout = 5 * time.Second

// reached is a node's engine, or why it cannot be reached.
type reached struct {
	e   *Engine
	err error
}

// reach returns a node's engine: known, if it still answers at the same
// endpoint, else a new connection.
func (s *Swarm) reach(ctx context.Context, sn SwarmNode, known *Engine) (r reached) {
	ctx, cancel := context.WithTimeout(ctx, EngineTimeout)
	defer cancel()
	if known != nil && known.cli.DaemonHost() == sn.Engine {
		if _, err := known.cli.Ping(ctx); err != nil {
			r.err = fmt.Errorf("engine %s: %w", sn.Engine, err)
			return r
		}
		r.e = known
		return r
	}
	e, err := Dial(ctx, sn.Engine, s.certDir(sn.Hostname))
	if err != nil {
		r.err = err
		return r
	}
	s.shared.addCloser(e.Close)
	r.e = e.view(s.owner, sn.Hostname)
	return r
}

func (s *Swarm) certDir(hostname string) string {
	if s.opts.CertDir == "" {
		return ""
	}
	if st, err := os.Stat(filepath.Join(s.opts.CertDir, hostname)); err == nil && st.IsDir() {
		return filepath.Join(s.opts.CertDir, hostname)
	}
	return s.opts.CertDir
}

// Dial connects to one engine endpoint, with TLS material from certDir
// (ca.pem, cert.pem, key.pem) when it is set. The caller closes it.
func Dial(ctx context.Context, host, certDir string) (*Engine, error) {
	if err := checkEndpoint(host, certDir != "", os.Getenv(EnvAllowInsecureTCP) == "1"); err != nil {
		return nil, err
	}
	e := newEngine(nil, "")
	opts := []client.Opt{client.WithHost(host), client.WithAPIVersionNegotiation(), e.countRequests}
	if certDir != "" {
		opts = append(opts, client.WithTLSClientConfig(filepath.Join(certDir, "ca.pem"), filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem")))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", host, err)
	}
	info, err := cli.Info(ctx)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("engine %s does not answer: %w", host, err)
	}
	e.cli, e.swarmNode = cli, info.Name
	return e, nil
}

// view is e for one owner, naming its swarm node by the swarm's hostname.
func (e *Engine) view(owner, swarmNode string) *Engine {
	v := e.WithOwner(owner)
	v.swarmNode = swarmNode
	return v
}

// WithOwner returns a view of the swarm for one owner (see Engine.WithOwner).
func (s *Swarm) WithOwner(owner string) *Swarm {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := &Swarm{manager: s.manager.WithOwner(owner), opts: s.opts, owner: owner, shared: s.shared, nodes: s.nodes,
		engines: map[string]*Engine{}, unreachable: maps.Clone(s.unreachable), where: map[string]string{}, changed: make(chan struct{})}
	for id, e := range s.engines {
		v.engines[id] = e.view(owner, e.swarmNode)
	}
	return v
}

// Owner is the view's owner.
func (s *Swarm) Owner() string { return s.owner }

// Nodes lists the swarm's nodes as of the last Refresh.
func (s *Swarm) Nodes() []SwarmNode {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.nodes)
}

// Engines returns the reachable engines by swarm node hostname.
func (s *Swarm) Engines() map[string]*Engine {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]*Engine{}
	for _, e := range s.engines {
		out[e.swarmNode] = e
	}
	return out
}

// Unreachable lists, by hostname, the nodes the manager reported ready at
// the last Refresh whose engine did not answer.
func (s *Swarm) Unreachable() map[string]error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]error{}
	for _, n := range s.nodes {
		if err, ok := s.unreachable[n.ID]; ok {
			out[n.Hostname] = err
		}
	}
	return out
}

// Close closes the node connections this Swarm and its views opened
// (not the manager's).
func (s *Swarm) Close() error {
	s.shared.mu.Lock()
	defer s.shared.mu.Unlock()
	var errs []error
	for _, c := range s.shared.closers {
		errs = append(errs, c())
	}
	s.shared.closers = nil
	return errors.Join(errs...)
}

func (s *Swarm) EnsureNetwork(ctx context.Context, spec NetworkSpec) (Network, error) {
	return s.manager.EnsureNetwork(ctx, spec)
}

func (s *Swarm) Networks(ctx context.Context, cluster string) ([]Network, error) {
	return s.manager.Networks(ctx, cluster)
}

func (s *Swarm) RemoveNetwork(ctx context.Context, id string) error {
	return s.manager.RemoveNetwork(ctx, id)
}

// engineList snapshots the reachable engines by node ID.
func (s *Swarm) engineList() map[string]*Engine {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.engines)
}

// Containers lists the cluster's containers on every reachable engine,
// each with the swarm node it runs on. When an engine fails, the node
// list is read again: a node the manager no longer reports ready is left
// out (its containers are then re-created elsewhere); a node it still
// reports ready is an error, so that a blip never moves containers.
func (s *Swarm) Containers(ctx context.Context, cluster string) ([]Container, error) {
	out, failed, err := s.listAll(ctx, cluster)
	if len(failed) == 0 {
		return out, err
	}
	// Unless a Refresh just said so (as one does when a CLI connects).
	s.mu.RLock()
	fresh := time.Since(s.refreshed) < time.Second && s.allUnreachable(failed)
	s.mu.RUnlock()
	if fresh {
		return out, err
	}
	if rerr := s.Refresh(ctx); rerr != nil {
		return out, errors.Join(err, rerr)
	}
	if !s.allLost(failed) {
		return out, err
	}
	logr.FromContextOrDiscard(ctx).Info("swarm nodes lost: their containers will be re-created elsewhere", "error", err.Error())
	return out, nil
}

// allUnreachable tells whether the last Refresh found every one of the
// nodes unreachable; the caller holds s.mu.
func (s *Swarm) allUnreachable(ids []string) bool {
	for _, id := range ids {
		if _, ok := s.unreachable[id]; !ok {
			return false
		}
	}
	return true
}

// allLost tells whether the manager no longer reports any of the nodes
// ready (as of the last Refresh).
func (s *Swarm) allLost(ids []string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range ids {
		if _, ok := s.engines[id]; ok {
			return false
		}
		if _, ok := s.unreachable[id]; ok {
			return false
		}
	}
	return true
}

// listAll lists on every engine in parallel; failed names the nodes
// whose engine failed, unreachable ones included.
func (s *Swarm) listAll(ctx context.Context, cluster string) (out []Container, failed []string, err error) {
	type res struct {
		node string
		cs   []Container
		err  error
	}
	s.mu.RLock()
	engines := maps.Clone(s.engines)
	var errs []error
	for id, uerr := range s.unreachable {
		failed = append(failed, id)
		errs = append(errs, uerr)
	}
	s.mu.RUnlock()
	ch := make(chan res, len(engines))
	for id, e := range engines {
		go func() {
			ctx, cancel := context.WithTimeout(ctx, 2*EngineTimeout)
			defer cancel()
			cs, err := e.Containers(ctx, cluster)
			ch <- res{id, cs, err}
		}()
	}
	for range engines {
		r := <-ch
		if r.err != nil {
			failed = append(failed, r.node)
			errs = append(errs, fmt.Errorf("swarm node %s: %w", engines[r.node].swarmNode, r.err))
			continue
		}
		s.mu.Lock()
		for _, c := range r.cs {
			s.where[c.ID] = r.node
		}
		s.mu.Unlock()
		out = append(out, r.cs...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].SwarmNode < out[j].SwarmNode
	})
	return out, failed, errors.Join(errs...)
}

// EnsureContainer starts a known container where it is, or places a new
// one on the eligible node with the fewest running containers.
func (s *Swarm) EnsureContainer(ctx context.Context, spec ContainerSpec) (Container, error) {
	engines := s.engineList()
	for id, e := range engines { // a stopped container stays where it is
		cs, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", "^/"+spec.Name+"$"))})
		if err == nil && len(cs) > 0 {
			return s.ensureOn(ctx, id, e, spec)
		}
	}
	var c Container
	err := s.shared.placer.place(func() ([]candidate, error) { return s.candidates(ctx, spec, engines) },
		func(node string) error {
			var err error
			c, err = s.ensureOn(ctx, node, engines[node], spec)
			return err
		})
	return c, err
}

func (s *Swarm) ensureOn(ctx context.Context, node string, e *Engine, spec ContainerSpec) (Container, error) {
	c, err := e.EnsureContainer(ctx, spec)
	if err != nil {
		return c, err
	}
	s.mu.Lock()
	s.where[c.ID] = node
	s.mu.Unlock()
	return c, nil
}

// candidate is a node a new container may go to, with its load.
type candidate struct {
	node    string // swarm node ID
	running int    // containers running there
}

// candidates lists the ready nodes matching the spec's placement that
// have its image, with the number of containers running on each.
func (s *Swarm) candidates(ctx context.Context, spec ContainerSpec, engines map[string]*Engine) ([]candidate, error) {
	// Bounded: it runs under the placer's lock, which every placement waits for.
	ctx, cancel := context.WithTimeout(ctx, 2*EngineTimeout)
	defer cancel()
	var cands []candidate
	var missing []string
	for _, n := range s.Nodes() {
		e, ok := engines[n.ID]
		if !ok || !placementMatches(spec.Placement, n) {
			continue
		}
		if _, err := e.cli.ImageInspect(ctx, spec.Image); err != nil {
			if cerrdefs.IsNotFound(err) {
				missing = append(missing, n.Hostname)
				continue
			}
			return nil, fmt.Errorf("swarm node %s: %w", n.Hostname, err)
		}
		running, err := e.cli.ContainerList(ctx, container.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("swarm node %s: %w", n.Hostname, err)
		}
		cands = append(cands, candidate{n.ID, len(running)})
	}
	if len(cands) == 0 {
		if len(missing) > 0 {
			return nil, &ImageMissingError{Image: spec.Image, Node: strings.Join(missing, ", ")}
		}
		return nil, fmt.Errorf("no ready swarm node matches the placement of %s (%s)", spec.Name, spec.Placement)
	}
	return cands, nil
}

// placer spreads the containers of many EnsureContainer calls at once: a
// container being created counts on its node as if it ran there already,
// so that parallel creations of a cluster (or of the containers of a lost
// node) do not all pick the node that was least loaded before any of them.
type placer struct {
	mu      sync.Mutex
	pending map[string]int // swarm node ID → containers being created there
}

// place picks the node with the fewest running and pending containers
// among those list returns (ties: the first listed), then runs create on
// it. list runs under the placer's lock, so what it counts and what is
// pending never miss each other.
func (p *placer) place(list func() ([]candidate, error), create func(node string) error) error {
	p.mu.Lock()
	cands, err := list()
	if err != nil {
		p.mu.Unlock()
		return err
	}
	if p.pending == nil {
		p.pending = map[string]int{}
	}
	best := -1
	for i, c := range cands {
		if best < 0 || c.running+p.pending[c.node] < cands[best].running+p.pending[cands[best].node] {
			best = i
		}
	}
	node := cands[best].node
	p.pending[node]++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.pending[node]--; p.pending[node] <= 0 {
			delete(p.pending, node)
		}
		p.mu.Unlock()
	}()
	return create(node)
}

// engineFor routes a container ID to its engine, listing all engines once
// when the ID is not known yet.
func (s *Swarm) engineFor(ctx context.Context, id string) (*Engine, error) {
	s.mu.RLock()
	node, ok := s.where[id]
	e := s.engines[node]
	s.mu.RUnlock()
	if ok && e != nil {
		return e, nil
	}
	if _, err := s.Containers(ctx, ""); err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("listing containers to route a call", "error", err.Error())
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e := s.engines[s.where[id]]; e != nil {
		return e, nil
	}
	return nil, fmt.Errorf("container %s is on no reachable swarm node", id)
}

func (s *Swarm) RemoveContainer(ctx context.Context, id string) error {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return nil // on no reachable node: nothing to remove from here
	}
	if err := e.RemoveContainer(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.where, id)
	s.mu.Unlock()
	return nil
}

func (s *Swarm) Exec(ctx context.Context, id string, opts ExecOptions) (ExecResult, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return ExecResult{}, err
	}
	return e.Exec(ctx, id, opts)
}

func (s *Swarm) Start(ctx context.Context, id string, argv, env []string, user string) error {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return err
	}
	return e.Start(ctx, id, argv, env, user)
}

func (s *Swarm) Top(ctx context.Context, id string) ([]Process, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.Top(ctx, id)
}

func (s *Swarm) WriteFiles(ctx context.Context, id string, files []File) error {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return err
	}
	return e.WriteFiles(ctx, id, files)
}

func (s *Swarm) ReadFile(ctx context.Context, id, path string) ([]byte, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.ReadFile(ctx, id, path)
}

// Events merges the events of every reachable engine, following Refresh:
// an engine reached later (a node that joined or came back) is streamed
// from then on, and one that is gone is no longer.
func (s *Swarm) Events(ctx context.Context) <-chan Event {
	out := make(chan Event, 256)
	go func() {
		type stream struct {
			e      *Engine
			cancel context.CancelFunc
		}
		streams := map[string]stream{} // swarm node ID → its engine's stream
		var wg sync.WaitGroup
		defer func() {
			for _, st := range streams {
				st.cancel()
			}
			wg.Wait()
			close(out)
		}()
		for {
			s.mu.RLock()
			engines, changed := maps.Clone(s.engines), s.changed
			s.mu.RUnlock()
			for id, st := range streams {
				if engines[id] != st.e {
					st.cancel()
					delete(streams, id)
				}
			}
			for id, e := range engines {
				if _, ok := streams[id]; ok {
					continue
				}
				sctx, cancel := context.WithCancel(ctx)
				streams[id] = stream{e, cancel}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ev := range e.Events(sctx) {
						select {
						case out <- ev:
						case <-sctx.Done():
							return
						}
					}
				}()
			}
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
		}
	}()
	return out
}

// EnvEngines names a file of "HOSTNAME ENDPOINT" lines giving swarm
// nodes' engine endpoints (they win over the nodes' lvc.engine labels).
const EnvEngines = "LVC_ENGINES"

// Connect returns the Runtime for the engine named by the environment:
// the engine itself, or, when it manages a swarm of more than one node, a
// Swarm over every node's engine (TLS material from DOCKER_CERT_PATH,
// endpoints from node labels or the LVC_ENGINES file). close releases it.
func Connect(ctx context.Context) (rt Runtime, close func() error, err error) {
	e, err := NewFromEnv(ctx)
	if err != nil {
		return nil, nil, err
	}
	info, err := e.cli.Info(ctx)
	if err != nil || !info.Swarm.ControlAvailable || info.Swarm.Nodes <= 1 {
		return e, e.Close, nil
	}
	opts := SwarmOptions{CertDir: os.Getenv("DOCKER_CERT_PATH")}
	if f := os.Getenv(EnvEngines); f != "" {
		if opts.Endpoints, err = readEndpoints(f); err != nil {
			e.Close()
			return nil, nil, err
		}
	}
	s, err := NewSwarm(ctx, e, opts)
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	return s, func() error { return errors.Join(s.Close(), e.Close()) }, nil
}

func readEndpoints(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvEngines, err)
	}
	out := map[string]string{}
	for i, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("%s line %d: want HOSTNAME ENDPOINT, got %q", path, i+1, l)
		}
		out[f[0]] = f[1]
	}
	return out, nil
}

// EngineOf returns the engine that hosts a container, for what Runtime
// does not offer (streamed and interactive exec, copy, container logs).
func EngineOf(ctx context.Context, rt Runtime, containerID string) (*Engine, error) {
	switch r := rt.(type) {
	case *Engine:
		return r, nil
	case *Swarm:
		return r.engineFor(ctx, containerID)
	}
	return nil, fmt.Errorf("runtime %T is not a Docker engine", rt)
}
