package reconcile

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-logr/logr"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
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
// its key come later). A node with an atstart script starts its ldmsd
// after the script has run.
func (s *state) planEarly(hosts []string, rank map[string]int) *earlyStarts {
	if !wants(v1.ServiceLdmsd)(s.plan) || !fileExists(ovisLdmsd(s.obj)) {
		return nil
	}
	e := &earlyStarts{rank: rank, done: map[string]chan struct{}{}, up: map[string]bool{}, failed: map[string]error{}}
	for _, h := range hosts {
		n := s.plan.Node(h)
		if !s.created[h] || n.Atstart != "" || !slices.ContainsFunc(n.DaemonsOf(ldmsdKind), func(d plan.Daemon) bool { return d.Restart != v1.RestartManual }) {
			continue
		}
		for _, d := range n.DaemonsOf(ldmsdKind) {
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
func (e *earlyStarts) nodeUp(ctx context.Context, s *state, host string, c engine.Container) {
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
// node's address) and starts its ldmsd, in one exec when it can.
func (e *earlyStarts) start(ctx context.Context, s *state, n *plan.Node, c engine.Container) error {
	pid1 := c.InitPID
	if pid1 == 0 {
		procs, err := s.r.Runtime.Top(ctx, c.ID)
		if err != nil {
			return err
		}
		s.setProcs(n.Hostname, procs)
		pid1 = initPID(procs)
	}
	boot := c.ID + "@" + strconv.Itoa(pid1)
	files := s.r.files.changed(boot, slices.DeleteFunc(nodeFiles(s.plan, n, nil), func(f engine.File) bool { return f.Path == plan.HostsPath }))
	script := "( " + engine.WriteFilesScript(files) + "ldconfig\n)"
	if len(script) > maxInlineFiles {
		if err := s.writeFiles(ctx, n.Hostname, c, boot, files, ""); err != nil {
			return err
		}
		files, script = nil, ""
	}
	// An aggregator resolves its producers' names when it reads its
	// config (and exits if one does not resolve), then connects.
	for _, d := range n.DaemonsOf(ldmsdKind) {
		for _, p := range s.plan.Producers(n.Hostname, d) {
			if ch := e.done[p]; ch != nil && e.rank[p] < e.rank[n.Hostname] {
				select {
				case <-ch:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
	for _, d := range n.DaemonsOf(ldmsdKind) {
		spec := newDaemonSpec(n, d, "")
		if s.stopped[spec.key()] || d.Restart == v1.RestartManual || spec.find(s.procsOf(n.Hostname)) != nil {
			continue
		}
		spec.pre, script = script, ""
		s.r.event(ctx, s.name(), "Normal", "Starting", spec.key(), "starting %s", spec.name)
		if _, err := s.start(ctx, c, &spec); err != nil {
			e.mu.Lock()
			e.failed[spec.key()] = err
			e.mu.Unlock()
			return err
		}
		if spec.pre != "" { // it ran: the daemon runs
			s.r.files.written(boot, files)
		}
	}
	return nil
}

// maxInlineFiles bounds the files written by the daemon's own exec: the
// script is one argument, and Linux takes at most 128 KiB per argument.
const maxInlineFiles = 96 << 10

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

// feeders lists the nodes whose ldmsd is a producer of another node's
// (samplers under an aggregator, middle aggregators): their containers
// start first, and the others (top aggregators, the service node) once
// they all run. The engine attaches containers to the network about one
// at a time and in no particular order, so without this the first
// aggregation level would often wait for containers it does not need.
func feeders(p *plan.Plan, rank map[string]int) map[string]bool {
	out := map[string]bool{}
	for _, n := range p.Nodes {
		for _, d := range n.DaemonsOf(ldmsdKind) {
			for _, q := range p.Producers(n.Hostname, d) {
				if rank[q] < rank[n.Hostname] {
					out[q] = true
				}
			}
		}
	}
	return out
}

// wave is a count of container starts that others wait for.
type wave struct {
	mu   sync.Mutex
	left int
	done chan struct{} // closed when left is 0
}

func newWave(n int) *wave {
	w := &wave{left: n, done: make(chan struct{})}
	if n == 0 {
		close(w.done)
	}
	return w
}

// started counts one start of the wave as over (run or failed).
func (w *wave) started() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.left--; w.left == 0 {
		close(w.done)
	}
}

func (w *wave) wait(ctx context.Context) error {
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
