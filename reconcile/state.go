package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/plan"
)

// state is what one Reconcile call knows: the desired plan, the observed
// objects, and the status being built.
type state struct {
	r     *Reconciler
	plan  *plan.Plan
	obj   *v1.LDMSDCluster // written as the status file
	prev  *v1.LDMSDCluster
	entry *v1.ManifestEntry

	mu         sync.Mutex // guards procs and requeue, which node workers share
	network    engine.Network
	containers map[string]engine.Container // by hostname
	procs      map[string][]engine.Process // by hostname, from Top
	boots      map[string]string           // by hostname: container ID @ init PID
	created    map[string]bool             // hostnames created in this call
	daemons    map[string][]v1.DaemonStatus
	stopped    map[string]bool   // "node/daemon" stopped on purpose
	peers      map[string]string // "node/daemon" → peers it runs with (annotationPeers)
	secret     []byte
	requeue    time.Duration
	early      *earlyStarts // ldmsd started as their containers came up
	stalls     []stall      // why the cluster cannot progress as it is
}

// stall is a cause that waiting cannot remove: only a change of the
// manifest or the host can.
type stall struct{ reason, msg string }

// stalledRequeue is how often a stalled cluster is looked at again: its
// cause (OVIS built, an image loaded, a directory made) may go away
// without any event lvc sees.
const stalledRequeue = 5 * time.Second

// crashLoopDeaths quick deaths in a row of a daemon stall the cluster; it
// is still restarted with back-off.
const crashLoopDeaths = 5

// stall records a terminal cause (safe from node workers).
func (s *state) stall(reason, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalls = append(s.stalls, stall{reason, msg})
}

// stallReason is the Stalled reason of an engine error that no retry
// fixes, "" for any other error.
func stallReason(err error) string {
	switch {
	case errors.Is(err, engine.ErrImageMissing):
		return "ImageMissing"
	case errors.Is(err, engine.ErrMountSource):
		return "MountSourceMissing"
	case errors.Is(err, engine.ErrPlacement):
		return "PlacementUnmet"
	}
	return ""
}

func newState(r *Reconciler, c *v1.LDMSDCluster, p *plan.Plan, prev *v1.LDMSDCluster, entry *v1.ManifestEntry) *state {
	c.Status = &v1.LDMSDClusterStatus{Manifest: entry.File}
	if prev != nil && prev.Status != nil {
		c.Status.Conditions = slices.Clone(prev.Status.Conditions)
		c.Status.ObservedGeneration = prev.Status.ObservedGeneration
		c.Status.Phase = prev.Status.Phase
	}
	// Conditions of services the spec no longer asks for are dropped.
	c.Status.Conditions = slices.DeleteFunc(c.Status.Conditions, func(cd v1.Condition) bool {
		return !slices.Contains(wantedConditions(p), cd.Type) && cd.Type != v1.ConditionReady && cd.Type != ConditionUniqueName
	})
	peers := map[string]string{}
	if prev != nil {
		_ = json.Unmarshal([]byte(prev.Metadata.Annotations[annotationPeers]), &peers)
	}
	return &state{r: r, plan: p, obj: c, prev: prev, entry: entry,
		containers: map[string]engine.Container{}, procs: map[string][]engine.Process{}, boots: map[string]string{},
		created: map[string]bool{}, daemons: map[string][]v1.DaemonStatus{}, peers: peers}
}

func (s *state) name() string { return s.plan.Cluster }

func (s *state) setCondition(typ, status, reason, msg string) bool {
	if typ == "" {
		return false
	}
	return v1.SetCondition(&s.obj.Status.Conditions, typ, status, reason, msg, s.r.clock())
}

func (s *state) procsOf(node string) []engine.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[node]
}

func (s *state) setProcs(node string, ps []engine.Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[node] = ps
}

// requeueAfter asks for another look even without an error.
func (s *state) requeueAfter(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.requeue == 0 || d < s.requeue {
		s.requeue = d
	}
}

// finish computes Ready and the phase from the conditions.
func (s *state) finish(runErr error) Result {
	st := s.obj.Status
	s.fillNodeStatus()
	// Peers of daemons no longer in the plan are forgotten.
	for key := range s.peers {
		node, _, _ := strings.Cut(key, "/")
		if s.plan.Node(node) == nil {
			delete(s.peers, key)
		}
	}
	if len(s.peers) > 0 {
		data, _ := json.Marshal(s.peers)
		if s.obj.Metadata.Annotations == nil {
			s.obj.Metadata.Annotations = map[string]string{}
		}
		s.obj.Metadata.Annotations[annotationPeers] = string(data)
	}
	notReady := []string{}
	for _, typ := range wantedConditions(s.plan) {
		c := v1.FindCondition(st.Conditions, typ)
		if c == nil {
			s.setCondition(typ, v1.ConditionUnknown, "NotReconciled", "an earlier phase has not converged")
			notReady = append(notReady, typ)
		} else if c.Status != v1.ConditionTrue {
			notReady = append(notReady, typ)
		}
	}
	wasReady := s.prev != nil && s.prev.Status != nil && s.prev.Status.Phase == v1.PhaseReady
	readyAtGen := wasReady && s.prev.Status.ObservedGeneration == s.obj.Metadata.Generation
	if len(s.stalls) == 0 {
		st.Conditions = slices.DeleteFunc(st.Conditions, func(c v1.Condition) bool { return c.Type == v1.ConditionStalled })
	}
	switch {
	case len(s.stalls) > 0:
		msgs := make([]string, len(s.stalls))
		for i, x := range s.stalls {
			msgs[i] = x.msg
		}
		slices.Sort(msgs)
		msg := strings.Join(slices.Compact(msgs), "; ")
		s.setCondition(v1.ConditionStalled, v1.ConditionTrue, s.stalls[0].reason, msg)
		v1.FindCondition(st.Conditions, v1.ConditionStalled).ObservedGeneration = s.obj.Metadata.Generation
		s.setCondition(v1.ConditionReady, v1.ConditionFalse, "Stalled", msg)
		// Degraded when this generation was Ready once, else Failed.
		st.Phase = v1.PhaseFailed
		if st.ObservedGeneration == s.obj.Metadata.Generation {
			st.Phase = v1.PhaseDegraded
		}
		s.requeueAfter(stalledRequeue)
	case len(notReady) == 0 && runErr == nil:
		s.setCondition(v1.ConditionReady, v1.ConditionTrue, "AllReady", "every asked-for service is ready")
		st.Phase = v1.PhaseReady
		st.ObservedGeneration = s.obj.Metadata.Generation
	default:
		msg := "not ready: " + strings.Join(notReady, ", ")
		reason := "Progressing"
		if runErr != nil {
			msg, reason = runErr.Error(), "ReconcileError"
		}
		s.setCondition(v1.ConditionReady, v1.ConditionFalse, reason, msg)
		switch {
		case errors.Is(runErr, ErrTerminal):
			st.Phase = v1.PhaseFailed
		case readyAtGen:
			st.Phase = v1.PhaseDegraded
		default:
			st.Phase = v1.PhaseProgressing
		}
		if runErr == nil {
			s.requeueAfter(500 * time.Millisecond)
		}
	}
	if runErr == nil && len(notReady) == 0 {
		st.ObservedGeneration = s.obj.Metadata.Generation
	}
	return Result{RequeueAfter: s.requeue}
}

// wantedConditions lists the conditions that make up Ready for the plan.
func wantedConditions(p *plan.Plan) []string {
	out := []string{v1.ConditionNetworkReady, v1.ConditionNodesReady}
	for _, ph := range phases {
		if ph.condition != "" && !slices.Contains(out, ph.condition) && (ph.wanted == nil || ph.wanted(p)) {
			out = append(out, ph.condition)
		}
	}
	return out
}

// reasonedError carries a condition reason for the failing phase.
type reasonedError struct {
	reason string
	err    error
}

func (e *reasonedError) Error() string { return e.err.Error() }
func (e *reasonedError) Unwrap() error { return e.err }

func withReason(reason string, err error) error {
	if err == nil {
		return nil
	}
	return &reasonedError{reason: reason, err: err}
}

func reasonFor(err error, fallback string) string {
	var re *reasonedError
	if errors.As(err, &re) {
		return re.reason
	}
	return fallback
}

// forEach runs fn on items with at most workers at once; the first error
// cancels the rest and is returned.
func forEach[T any](ctx context.Context, workers int, items []T, fn func(context.Context, T) error) error {
	g, ctx := errgroup.WithContext(ctx)
	return each(ctx, g, workers, items, fn)
}

// forAll is forEach without the cancelling: every call runs to its end,
// for engine calls whose work the engine finishes even when the client
// gives up (a container create), so that none is going on, unknown, when
// the error is returned.
func forAll[T any](ctx context.Context, workers int, items []T, fn func(context.Context, T) error) error {
	return each(ctx, new(errgroup.Group), workers, items, fn)
}

func each[T any](ctx context.Context, g *errgroup.Group, workers int, items []T, fn func(context.Context, T) error) error {
	g.SetLimit(workers)
	for _, it := range items {
		g.Go(func() error { return fn(ctx, it) })
	}
	return g.Wait()
}
