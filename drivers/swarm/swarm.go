package swarm

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"
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
	managerNode string            // the manager connection's own swarm node ID
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
	v := &Swarm{manager: s.manager.WithOwner(owner), opts: s.opts, owner: owner, shared: s.shared, nodes: s.nodes, managerNode: s.managerNode,
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
