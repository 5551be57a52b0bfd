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

	mu      sync.RWMutex
	nodes   []SwarmNode
	engines map[string]*Engine // swarm node ID → engine
	where   map[string]string  // container ID → swarm node ID
	closers []func() error
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
	s := &Swarm{manager: manager, opts: opts, engines: map[string]*Engine{}, where: map[string]string{}}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Refresh re-reads the swarm's nodes and connects to engines not yet
// reached. A node whose engine does not answer is left out until the
// next Refresh, so its containers are re-created elsewhere.
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
	var nodes []SwarmNode
	engines := map[string]*Engine{}
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
		s.mu.RLock()
		e, ok := s.engines[n.ID]
		s.mu.RUnlock()
		if ok {
			if _, err := e.cli.Ping(ctx); err == nil {
				engines[n.ID] = e
				continue
			}
		}
		if sn.Engine == "" && n.ID == info.Swarm.NodeID {
			engines[n.ID] = s.manager.view(s.owner, sn.Hostname)
			continue
		}
		if sn.Engine == "" {
			log.Info("swarm node has no engine endpoint: label it "+LabelEngine+"=tcp://HOST:2376 or pass its endpoint", "node", sn.Hostname)
			continue
		}
		e, err := Dial(ctx, sn.Engine, s.certDir(sn.Hostname))
		if err != nil {
			log.Error(err, "swarm node's engine does not answer", "node", sn.Hostname, "engine", sn.Engine)
			continue
		}
		s.mu.Lock()
		s.closers = append(s.closers, e.Close)
		s.mu.Unlock()
		engines[n.ID] = e.view(s.owner, sn.Hostname)
	}
	s.mu.Lock()
	s.nodes, s.engines = nodes, engines
	s.mu.Unlock()
	return nil
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
	v := &Swarm{manager: s.manager.WithOwner(owner), opts: s.opts, owner: owner, nodes: s.nodes,
		engines: map[string]*Engine{}, where: map[string]string{}}
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

// Close closes the node connections this Swarm opened (not the manager's).
func (s *Swarm) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	s.closers = nil
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
// out (its containers are then re-created elsewhere); any other failure
// is an error, so that a blip never moves containers.
func (s *Swarm) Containers(ctx context.Context, cluster string) ([]Container, error) {
	out, failed, err := s.listAll(ctx, cluster)
	if len(failed) == 0 {
		return out, err
	}
	if rerr := s.Refresh(ctx); rerr != nil {
		return out, errors.Join(err, rerr)
	}
	engines := s.engineList()
	for _, id := range failed {
		if _, still := engines[id]; still {
			return out, err
		}
	}
	logr.FromContextOrDiscard(ctx).Info("swarm nodes lost: their containers will be re-created elsewhere", "error", err.Error())
	return out, nil
}

// listAll lists on every engine in parallel; failed names the nodes
// whose engine failed.
func (s *Swarm) listAll(ctx context.Context, cluster string) (out []Container, failed []string, err error) {
	type res struct {
		node string
		cs   []Container
		err  error
	}
	engines := s.engineList()
	ch := make(chan res, len(engines))
	for id, e := range engines {
		go func() {
			cs, err := e.Containers(ctx, cluster)
			ch <- res{id, cs, err}
		}()
	}
	var errs []error
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
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, failed, errors.Join(errs...)
}

// ImageMissingError says a node lacks the image a container needs: with
// no registry, images reach nodes only by `lvc image load`.
type ImageMissingError struct {
	Image, Node string
}

func (e *ImageMissingError) Error() string {
	return fmt.Sprintf("image %s is not on swarm node %s: distribute it with lvc image load %s", e.Image, e.Node, e.Image)
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
	id, e, err := s.place(ctx, spec, engines)
	if err != nil {
		return Container{}, err
	}
	return s.ensureOn(ctx, id, e, spec)
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

// place picks the node for a new container: among ready nodes matching
// the spec's placement, the one running the fewest containers.
func (s *Swarm) place(ctx context.Context, spec ContainerSpec, engines map[string]*Engine) (string, *Engine, error) {
	type cand struct {
		id      string
		e       *Engine
		running int
	}
	var cands []cand
	var missing []string
	for _, n := range s.Nodes() {
		e, ok := engines[n.ID]
		if !ok || !spec.Placement.matches(n) {
			continue
		}
		if _, err := e.cli.ImageInspect(ctx, spec.Image); err != nil {
			if cerrdefs.IsNotFound(err) {
				missing = append(missing, n.Hostname)
				continue
			}
			return "", nil, fmt.Errorf("swarm node %s: %w", n.Hostname, err)
		}
		running, err := e.cli.ContainerList(ctx, container.ListOptions{})
		if err != nil {
			return "", nil, fmt.Errorf("swarm node %s: %w", n.Hostname, err)
		}
		cands = append(cands, cand{n.ID, e, len(running)})
	}
	if len(cands) == 0 {
		if len(missing) > 0 {
			return "", nil, &ImageMissingError{Image: spec.Image, Node: strings.Join(missing, ", ")}
		}
		return "", nil, fmt.Errorf("no ready swarm node matches the placement of %s (%s)", spec.Name, spec.Placement)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].running < cands[j].running })
	return cands[0].id, cands[0].e, nil
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

// Events merges the events of every engine reachable now.
func (s *Swarm) Events(ctx context.Context) <-chan Event {
	out := make(chan Event, 256)
	var wg sync.WaitGroup
	for _, e := range s.engineList() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range e.Events(ctx) {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
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
