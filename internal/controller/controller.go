package controller

import (
	"context"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/reconcile"
)

// Options configure a Controller.
type Options struct {
	ManifestsDir string
	StatusDir    string
	Resync       time.Duration
	Workers      int  // clusters reconciled at once
	Prune        bool // remove clusters whose manifest is gone
	// Debounce is how long the directory must be quiet before a rescan.
	Debounce time.Duration
	// PruneGrace is how long a manifest must stay gone before its cluster
	// is removed: a `git checkout` removes and re-creates files.
	PruneGrace time.Duration
	// Metrics, when set, registers the controller's metrics (reconciles,
	// their duration, the queue's depth).
	Metrics prometheus.Registerer
	// Clock is the controller's and its reconciler's time; tests pass
	// k8s.io/utils/clock/testing's fake. Nil means the real clock.
	Clock Clock
}

// Clock is what the controller needs of time: timers, the resync ticker
// and the delayed requeues.
type Clock interface {
	clock.WithTicker
	AfterFunc(d time.Duration, f func()) clock.Timer
}

// Controller watches manifests and Docker and reconciles clusters.
type Controller struct {
	opts Options
	rt   engine.Runtime
	rec  *reconcile.Reconciler
	q    *queue

	mu     sync.RWMutex
	index  *store.Index
	owners map[string]string // cluster name → owning file
	// missing is true while the manifests directory does not exist: the
	// last index is kept and nothing is pruned (see Authoritative).
	missing bool
	gone    map[string]time.Time // cluster name → when its manifest went

	metrics *metrics
	// synced is closed once every cluster known at start was reconciled
	// once (Ready); initial counts those not yet.
	synced  chan struct{}
	initial sync.Map // name → struct{}, until its first reconcile ends
	pending atomic.Int64
}

var (
	_ reconcile.Authority = (*Controller)(nil)
	_ reconcile.Grace     = (*Controller)(nil)
)

// PruneIn implements reconcile.Grace: a cluster whose manifest went less
// than PruneGrace ago is left alone, whatever (a resync, a Docker event)
// brings it to a reconcile meanwhile.
func (c *Controller) PruneIn(name string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	since, ok := c.gone[name]
	if !ok {
		return 0
	}
	if left := c.opts.PruneGrace - c.opts.Clock.Since(since); left > 0 {
		return left
	}
	delete(c.gone, name)
	return 0
}

// Authoritative implements reconcile.Authority: a missing manifests
// directory is no information, not an empty one. A directory removed and
// re-created (a re-clone, a remount, an unmounted volume) must not delete
// every cluster; an existing empty directory does prune.
func (c *Controller) Authoritative() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return !c.missing
}

// New builds a controller over a runtime.
func New(rt engine.Runtime, opts Options) *Controller {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 150 * time.Millisecond
	}
	if opts.PruneGrace <= 0 {
		opts.PruneGrace = 2 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	rt = reconcile.OwnedBy(rt, opts.StatusDir)
	c := &Controller{opts: opts, rt: rt, q: newQueue(opts.Clock), index: &store.Index{Entries: map[string]*v1.ManifestEntry{}}, owners: map[string]string{}, gone: map[string]time.Time{}}
	c.metrics = newMetrics(opts.Metrics, c.q)
	c.synced = make(chan struct{})
	st := store.Status{Dir: opts.StatusDir}
	c.rec = &reconcile.Reconciler{Runtime: rt, Source: c, Status: st, Events: st, Prune: opts.Prune, Now: opts.Clock.Now}
	return c
}

// Lookup implements reconcile.Source from the latest scan.
func (c *Controller) Lookup(name string) *v1.ManifestEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.index.Entries[name]
}

// Run watches and reconciles until ctx ends, then waits for the workers.
func (c *Controller) Run(ctx context.Context) error {
	log := logr.FromContextOrDiscard(ctx)
	w, err := newDirWatcher(c.opts.ManifestsDir, store.IsManifestFile)
	if err != nil {
		return err
	}
	defer w.Close()
	// Daemons stopped or started on purpose (lvc stop/start) are marked
	// in the status directory.
	sw, err := newDirWatcher(c.opts.StatusDir, func(p string) bool { return strings.HasSuffix(p, store.StoppedSuffix) })
	if err != nil {
		return err
	}
	defer sw.Close()
	// Scan only once the watches are in place, so no change falls between.
	events := c.rt.Events(ctx)
	if err := c.rescan(ctx); err != nil {
		return err
	}
	if err := c.adopt(ctx); err != nil {
		return err
	}
	if c.pending.Load() == 0 {
		close(c.synced)
	}

	var wg sync.WaitGroup
	for range c.opts.Workers {
		wg.Add(1)
		go func() { defer wg.Done(); c.worker(ctx) }()
	}
	resync := c.opts.Clock.NewTicker(c.opts.Resync)
	defer resync.Stop()
	debounce := c.opts.Clock.NewTimer(time.Hour)
	debounce.Stop()
	log.Info("controller started", "manifests", c.opts.ManifestsDir, "status", c.opts.StatusDir, "resync", c.opts.Resync, "prune", c.opts.Prune)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-w.Changes:
			restart(debounce, c.opts.Debounce)
		case p := <-sw.Changes:
			if name, ok := strings.CutSuffix(filepath.Base(p), store.StoppedSuffix); ok {
				c.q.Add(name)
			}
		case err := <-w.Errors:
			log.Error(err, "watching manifests")
			restart(debounce, c.opts.Debounce)
		case <-debounce.C():
			if err := c.rescan(ctx); err != nil {
				log.Error(err, "scanning manifests")
			}
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if name := c.eventCluster(ev); name != "" {
				log.V(1).Info("docker event", "cluster", name, "container", ev.Container, "action", ev.Action, "network", ev.Network)
				c.q.Add(name)
			}
		case <-resync.C():
			if err := c.rescan(ctx); err != nil {
				log.Error(err, "scanning manifests")
			}
			// On a multi-node swarm: nodes lost or back, engines reached.
			if s, ok := c.rt.(engine.Refresher); ok {
				if err := s.Refresh(ctx); err != nil {
					log.Error(err, "refreshing swarm nodes")
				}
			}
			c.enqueueAll(ctx)
		}
	}
	c.q.ShutDown()
	wg.Wait()
	log.Info("controller stopped")
	return nil
}

// eventCluster names the cluster a Docker event should reconcile, or "".
// A network event names a network, which is a cluster's when a manifest
// or a status file knows that name.
func (c *Controller) eventCluster(ev engine.Event) string {
	if ev.Network == "" {
		if triggers(ev) {
			return ev.Cluster
		}
		return ""
	}
	name := ev.Network
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return ""
	}
	if c.Lookup(name) != nil {
		return name
	}
	if st, err := c.rec.Status.Read(name); err == nil && st != nil {
		return name
	}
	return ""
}

// triggers tells whether a container event should reconcile its cluster.
func triggers(ev engine.Event) bool {
	if ev.Cluster == "" {
		return false
	}
	switch ev.Action {
	case "die", "destroy", "stop", "oom", "start":
		return true
	case "exec_die":
		// Only the death of a daemon lvc started matters, not its probes';
		// an exec begun before this controller may be a daemon it did not
		// see start.
		return strings.Contains(ev.Exec, engine.DaemonTag) || ev.ExecUnseen
	}
	return false
}

func (c *Controller) worker(ctx context.Context) {
	log := logr.FromContextOrDiscard(ctx)
	for {
		name, ok := c.q.Get()
		if !ok {
			return
		}
		start := c.opts.Clock.Now()
		res, err := c.rec.Reconcile(ctx, name)
		took := c.opts.Clock.Since(start)
		c.metrics.duration.Observe(took.Seconds())
		log.V(1).Info("reconciled", "cluster", name, "took", took.Round(time.Millisecond), "requeueAfter", res.RequeueAfter, "error", err != nil)
		switch {
		case err != nil && ctx.Err() == nil:
			c.metrics.reconciles.WithLabelValues(resultError).Inc()
			d := c.q.AddRateLimited(name)
			log.Error(err, "reconcile failed", "cluster", name, "retryIn", d)
		case err == nil:
			result := resultSuccess
			c.q.Forget(name)
			if res.RequeueAfter > 0 {
				result = resultRequeue
				c.q.AddAfter(name, res.RequeueAfter)
			}
			c.metrics.reconciles.WithLabelValues(result).Inc()
		}
		c.firstDone(name)
		c.q.Done(name)
	}
}

// rescan reads the manifests directory and queues every name whose entry
// appeared, changed or disappeared (the latter after PruneGrace).
func (c *Controller) rescan(ctx context.Context) error {
	c.mu.RLock()
	owners := maps.Clone(c.owners)
	c.mu.RUnlock()
	idx, err := store.Scan(c.opts.ManifestsDir, owners)
	if err != nil {
		return err
	}
	log := logr.FromContextOrDiscard(ctx)
	c.mu.Lock()
	wasMissing := c.missing
	c.missing = idx.Missing
	c.mu.Unlock()
	switch {
	case idx.Missing && !wasMissing:
		log.Info("manifests directory is missing: every cluster is kept as it is, none pruned, until the directory exists again", "manifests", c.opts.ManifestsDir)
	case !idx.Missing && wasMissing:
		log.Info("manifests directory is back", "manifests", c.opts.ManifestsDir)
	}
	if idx.Missing {
		return nil // keep the last index: no information is not an empty directory
	}
	for f, err := range idx.Broken {
		log.Error(err, "manifest not usable", "file", f)
	}
	c.mu.Lock()
	old := c.index
	// A file that cannot be decoded at all keeps its clusters' last
	// entries, marked invalid, so they are neither changed nor pruned.
	for name, e := range old.Entries {
		if berr, ok := idx.Broken[e.File]; ok {
			if _, still := idx.Entries[name]; !still {
				idx.Entries[name] = &v1.ManifestEntry{Name: name, File: e.File, Errs: asErrs(e.File, berr), Hash: "broken:" + berr.Error()}
			}
		}
	}
	c.index = idx
	c.owners = map[string]string{}
	for name, e := range idx.Entries {
		c.owners[name] = e.File
		delete(c.gone, name)
	}
	for name := range old.Entries {
		if _, ok := idx.Entries[name]; !ok {
			c.gone[name] = c.opts.Clock.Now()
		}
	}
	c.mu.Unlock()
	for name, e := range idx.Entries {
		if o, ok := old.Entries[name]; !ok || o.Hash != e.Hash || len(o.Duplicates) != len(e.Duplicates) {
			c.q.Add(name)
		}
	}
	for name := range old.Entries {
		if _, ok := idx.Entries[name]; !ok {
			c.q.AddAfter(name, c.opts.PruneGrace)
		}
	}
	return nil
}

// adopt queues every cluster known by label or by status file, so that
// clusters whose manifest vanished while no controller ran are pruned.
func (c *Controller) adopt(ctx context.Context) error {
	names, err := c.knownNames(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, loaded := c.initial.LoadOrStore(n, struct{}{}); !loaded {
			c.pending.Add(1)
		}
		c.q.Add(n)
	}
	return nil
}

// Ready tells whether the first sync is over: every cluster known at
// start (by manifest, label or status file) was reconciled once.
func (c *Controller) Ready() bool {
	select {
	case <-c.synced:
		return true
	default:
		return false
	}
}

// firstDone marks name's first reconcile over.
func (c *Controller) firstDone(name string) {
	if _, ok := c.initial.LoadAndDelete(name); ok && c.pending.Add(-1) == 0 {
		close(c.synced)
	}
}

func (c *Controller) enqueueAll(ctx context.Context) {
	names, err := c.knownNames(ctx)
	if err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "listing clusters")
	}
	for _, n := range names {
		c.q.Add(n)
	}
}

func (c *Controller) knownNames(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	c.mu.RLock()
	for n := range c.index.Entries {
		set[n] = true
	}
	c.mu.RUnlock()
	ns, err := c.rt.Networks(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		set[n.Cluster] = true
	}
	cs, err := c.rt.Containers(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, ct := range cs {
		set[ct.Cluster] = true
	}
	st, err := store.Status{Dir: c.opts.StatusDir}.Names()
	if err != nil {
		return nil, err
	}
	for _, n := range st {
		set[n] = true
	}
	delete(set, "")
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	return out, nil
}

// restart makes t fire d from now, draining a fire nobody read: Reset on
// an unread timer would deliver the old fire (and a fake clock blocks on
// it).
func restart(t clock.Timer, d time.Duration) {
	if !t.Stop() {
		select {
		case <-t.C():
		default:
		}
	}
	t.Reset(d)
}
