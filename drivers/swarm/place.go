package swarm

import (
	"context"
	"fmt"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/ovis-hpc/lvc/engine"
)

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
	if spec.NetworkIPv6 {
		return s.ensureOnManager(ctx, spec, engines)
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

// ensureOnManager makes a container of an IPv6 network on the manager's
// host, where that network is a bridge (see Engine.EnsureNetwork).
func (s *Swarm) ensureOnManager(ctx context.Context, spec ContainerSpec, engines map[string]*Engine) (Container, error) {
	if spec.Placement.Node != "" || len(spec.Placement.Labels) > 0 {
		return Container{}, fmt.Errorf("container %q: a placement (%s) on an IPv6 network, which is a bridge on the swarm manager's host: %w", spec.Name, spec.Placement, engine.ErrPlacement)
	}
	s.mu.RLock()
	node := s.managerNode
	s.mu.RUnlock()
	e := engines[node]
	if e == nil {
		return Container{}, fmt.Errorf("container %q: an IPv6 network's containers run on the swarm manager's host, whose engine does not answer: %w", spec.Name, engine.ErrPlacement)
	}
	return s.ensureOn(ctx, node, e, spec)
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
	reachable := func(id string) bool { _, ok := engines[id]; return ok }
	probe := func(n SwarmNode) (running int, missing bool, err error) {
		e := engines[n.ID]
		if _, err := e.cli.ImageInspect(ctx, spec.Image); err != nil {
			return 0, cerrdefs.IsNotFound(err), err
		}
		cs, err := e.cli.ContainerList(ctx, container.ListOptions{})
		return len(cs), false, err
	}
	return candidatesOf(spec, s.Nodes(), reachable, probe)
}

// candidatesOf is the decision of candidates, without engines: of nodes,
// in order, those reachable (ready nodes whose engine answered at the
// last Refresh) and matching the spec's placement are probed; a node
// the probe finds missing the image is left out, any other probe error
// fails the whole. With no candidate left the error is an
// ImageMissingError naming the nodes that lack the image, if any, else
// one naming the container and its placement.
func candidatesOf(spec ContainerSpec, nodes []SwarmNode, reachable func(id string) bool,
	probe func(SwarmNode) (running int, missing bool, err error)) ([]candidate, error) {
	var cands []candidate
	var missing []string
	for _, n := range nodes {
		if !reachable(n.ID) || !placementMatches(spec.Placement, n) {
			continue
		}
		running, lacks, err := probe(n)
		if lacks {
			missing = append(missing, n.Hostname)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("swarm node %s: %w", n.Hostname, err)
		}
		cands = append(cands, candidate{n.ID, running})
	}
	if len(cands) == 0 {
		if len(missing) > 0 {
			return nil, &ImageMissingError{Image: spec.Image, Node: strings.Join(missing, ", ")}
		}
		return nil, fmt.Errorf("%w: no ready swarm node matches the placement of %s (%s)", engine.ErrPlacement, spec.Name, spec.Placement)
	}
	return cands, nil
}

// placementMatches tells whether swarm node n meets p.
func placementMatches(p Placement, n SwarmNode) bool {
	if p.Node != "" && p.Node != n.Hostname {
		return false
	}
	for k, v := range p.Labels {
		if n.Labels[k] != v {
			return false
		}
	}
	return true
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
	node := cands[leastLoaded(cands, p.pending)].node
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

// leastLoaded is the index of the candidate with the fewest running and
// pending containers (ties: the first listed), -1 when there is none.
func leastLoaded(cands []candidate, pending map[string]int) int {
	best := -1
	for i, c := range cands {
		if best < 0 || c.running+pending[c.node] < cands[best].running+pending[cands[best].node] {
			best = i
		}
	}
	return best
}
