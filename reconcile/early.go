package reconcile

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-logr/logr"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/plan"
)

// Starting ldmsd early: Docker attaches containers to an overlay network
// one at a time (about 0.2 s each here), so the first nodes of a new
// cluster wait seconds for the last. A new node's ldmsd needs only its own
// files, so it starts as soon as its container runs and its producers'
// ldmsd have started, while the other containers are still coming up:
// aggregation begins that much earlier, and an aggregator's first connect
// finds its producers listening (a refused one is retried only after the
// prdcr's reconnect interval). The ldmsd phase then finds these daemons
// running and checks them as usual.

// configHosts lists the names d's config gives as hosts (host=NAME, as
// in prdcr_add), once each.
func configHosts(d plan.Daemon) []string {
	var out []string
	for _, w := range strings.Fields(d.Config) {
		if host, ok := strings.CutPrefix(w, "host="); ok && !slices.Contains(out, host) {
			out = append(out, host)
		}
	}
	return out
}

// producers lists the other cluster nodes that d's config names as
// hosts, by hostname.
func producers(p *plan.Plan, self string, d plan.Daemon) []string {
	var out []string
	for _, host := range configHosts(d) {
		if n := p.Node(host); n != nil && n.Hostname != self && !slices.Contains(out, n.Hostname) {
			out = append(out, n.Hostname)
		}
	}
	return out
}

// ldmsdRanks orders nodes so that an ldmsd's producers rank below it:
// samplers 0, their aggregators 1, and so on. Nodes on a cycle share a
// rank after every other ldmsd node; nodes without ldmsd rank last.
func ldmsdRanks(p *plan.Plan) map[string]int {
	deps := map[string][]string{} // ldmsd nodes → their producers
	for _, n := range p.Nodes {
		if len(n.Daemons) > 0 {
			deps[n.Hostname] = []string{}
		}
		for _, d := range n.Daemons {
			deps[n.Hostname] = append(deps[n.Hostname], producers(p, n.Hostname, d)...)
		}
	}
	rank := map[string]int{}
	for level := 0; len(rank) < len(deps); level++ {
		var ready []string
		for node, ps := range deps {
			if _, done := rank[node]; done {
				continue
			}
			if !slices.ContainsFunc(ps, func(q string) bool { _, ranked := rank[q]; _, ldmsd := deps[q]; return ldmsd && !ranked }) {
				ready = append(ready, node)
			}
		}
		if len(ready) == 0 { // a cycle: the rest start together
			for node := range deps {
				if _, done := rank[node]; !done {
					rank[node] = level
				}
			}
			break
		}
		for _, node := range ready {
			rank[node] = level
		}
	}
	last := len(deps) + 1
	for _, n := range p.Nodes {
		if _, ok := rank[n.Hostname]; !ok {
			rank[n.Hostname] = last
		}
	}
	return rank
}

// earlyStarts runs the early ldmsd starts of one reconcile.
type earlyStarts struct {
	wg     sync.WaitGroup
	rank   map[string]int
	done   map[string]chan struct{} // by hostname; closed when its start is over
	mu     sync.Mutex
	up     map[string]bool  // hosts nodeUp was called for
	failed map[string]error // by daemon key
}

// planEarly prepares early starts for the new nodes among hosts, or
// returns nil when ldmsd cannot start before the other services: it is
// not asked for, OVIS is missing, or some ldmsd uses munge (munged and
// its key come later).
func (s *state) planEarly(hosts []string, rank map[string]int) *earlyStarts {
	if !wants(v1.ServiceLdmsd)(s.plan) || !fileExists(ovisLdmsd(s.obj)) {
		return nil
	}
	e := &earlyStarts{rank: rank, done: map[string]chan struct{}{}, up: map[string]bool{}, failed: map[string]error{}}
	for _, h := range hosts {
		n := s.plan.Node(h)
		if !s.created[h] || len(n.Daemons) == 0 {
			continue
		}
		for _, d := range n.Daemons {
			if strings.Contains(strings.Join(d.Argv, " ")+" "+d.Config, "munge") {
				return nil
			}
		}
		e.done[h] = make(chan struct{})
	}
	if len(e.done) == 0 {
		return nil
	}
	return e
}

// nodeUp is called once per host of planEarly, when its container runs
// (c) or could not be made to (c.ID empty). It returns at once; the start
// goes on in the background under ctx, which must outlive the caller's
// worker group.
func (e *earlyStarts) nodeUp(ctx context.Context, s *state, host string, c swarm.Container) {
	if e == nil || e.done[host] == nil {
		return
	}
	e.mu.Lock()
	e.up[host] = true
	e.mu.Unlock()
	if c.ID == "" {
		close(e.done[host])
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(e.done[host])
		if err := e.start(ctx, s, s.plan.Node(host), c); err != nil {
			logr.FromContextOrDiscard(ctx).V(1).Info("early ldmsd start failed; the ldmsd phase retries", "node", host, "error", err.Error())
		}
	}()
}

// start writes the node's own files (its /etc/hosts waits for every
// node's address) and starts its ldmsd.
func (e *earlyStarts) start(ctx context.Context, s *state, n *plan.Node, c swarm.Container) error {
	procs, err := s.r.Runtime.Top(ctx, c.ID)
	if err != nil {
		return err
	}
	s.setProcs(n.Hostname, procs)
	files := slices.DeleteFunc(nodeFiles(s.plan, n, ""), func(f swarm.File) bool { return f.Path == "/etc/hosts" })
	if err := s.writeFiles(ctx, n.Hostname, c, c.ID+"@"+strconv.Itoa(initPID(procs)), files); err != nil {
		return err
	}
	// An aggregator resolves its producers' names when it reads its
	// config (and exits if one does not resolve), then connects.
	for _, d := range n.Daemons {
		for _, p := range producers(s.plan, n.Hostname, d) {
			if ch := e.done[p]; ch != nil && e.rank[p] < e.rank[n.Hostname] {
				select {
				case <-ch:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
	for _, d := range n.Daemons {
		spec := ldmsdSpec(n, d, "")
		if s.stopped[spec.key()] || findDaemon(s.procsOf(n.Hostname), spec.exe) != nil {
			continue
		}
		s.r.event(ctx, s.name(), "Normal", "Starting", spec.key(), "starting %s", spec.name)
		if _, err := s.start(ctx, c, &spec); err != nil {
			e.mu.Lock()
			e.failed[spec.key()] = err
			e.mu.Unlock()
			return err
		}
	}
	return nil
}

// release lets go the nodes that waited for producers whose container
// was never made to run (the containers phase stopped at an error).
func (e *earlyStarts) release() {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for h, ch := range e.done {
		if !e.up[h] {
			e.up[h] = true
			close(ch)
		}
	}
}

// wait returns when every early start is over.
func (e *earlyStarts) wait() {
	if e != nil {
		e.release()
		e.wg.Wait()
	}
}

// failure is the error of a daemon's failed early start, if any: the
// ldmsd phase reports it rather than waiting for the daemon again.
func (e *earlyStarts) failure(key string) error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed[key]
}

// startOrder lets a container start only once every container of a lower
// rank has been sent its start: the engine then attaches them in about
// that order, so producers run first and the others (the service node,
// say) do not delay them.
type startOrder struct {
	mu      sync.Mutex
	pending map[int]int           // rank → containers not yet started
	clear   map[int]chan struct{} // rank → closed when its pending is 0
}

func newStartOrder(ranks []int) *startOrder {
	o := &startOrder{pending: map[int]int{}, clear: map[int]chan struct{}{}}
	for _, r := range ranks {
		o.pending[r]++
		if o.clear[r] == nil {
			o.clear[r] = make(chan struct{})
		}
	}
	return o
}

// wait returns when no container of a rank below r is still to start.
func (o *startOrder) wait(ctx context.Context, r int) error {
	for lower, ch := range o.clear {
		if lower >= r {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// started counts one container of rank r as started (or failed); calling
// it more than once per container is a bug the counts would hide, so the
// caller uses a sync.Once.
func (o *startOrder) started(r int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending[r]--; o.pending[r] == 0 {
		close(o.clear[r])
	}
}
