package reconcile

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/engine/enginetest"
)

// swarmFake is the fake engine seen as a multi-node swarm: listings can
// fail, a stale copy of a container can come back on another node, and
// images can be missing. The fake puts new containers on the swarm node
// SetSwarmNode names.
type swarmFake struct {
	*enginetest.Fake
	mu           sync.Mutex
	listErr      error              // when set, Containers fails with it
	stale        []engine.Container // copies a returning swarm node brings back
	missing      string             // when set, EnsureContainer finds no image on this node
	removedStale int
}

func (f *swarmFake) Containers(ctx context.Context, cluster string) ([]engine.Container, error) {
	f.mu.Lock()
	listErr, stale := f.listErr, slices.Clone(f.stale)
	f.mu.Unlock()
	if listErr != nil {
		return nil, listErr
	}
	cs, err := f.Fake.Containers(ctx, cluster)
	// The stale copies come first, as a listing over several engines may
	// well return them.
	return append(stale, cs...), err
}

func (f *swarmFake) EnsureContainer(ctx context.Context, spec engine.ContainerSpec) (engine.Container, error) {
	f.mu.Lock()
	missing := f.missing
	f.mu.Unlock()
	if missing != "" {
		return engine.Container{}, &engine.ImageMissingError{Image: spec.Image, Node: missing}
	}
	return f.Fake.EnsureContainer(ctx, spec)
}

func (f *swarmFake) RemoveContainer(ctx context.Context, id string) error {
	f.mu.Lock()
	for i, c := range f.stale {
		if c.ID == id {
			f.stale = slices.Delete(f.stale, i, i+1)
			f.removedStale++
			f.mu.Unlock()
			return nil
		}
	}
	f.mu.Unlock()
	return f.Fake.RemoveContainer(ctx, id)
}

func newSwarmFixture(t *testing.T) (*fixture, *swarmFake) {
	f := newFixture(t)
	sf := &swarmFake{Fake: f.rt}
	sf.SetSwarmNode("n1")
	f.r.Runtime = sf
	return f, sf
}

func events(t *testing.T, f *fixture, name, reason string) []string {
	t.Helper()
	evs, err := f.status.Events(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Reason == reason {
			out = append(out, e.Message)
		}
	}
	return out
}

// A swarm node that comes back restarts the containers that were
// re-created elsewhere meanwhile: of two running copies, the one the
// status recorded stays, however the listing orders them.
func TestReconcileRemovesReturningDuplicate(t *testing.T) {
	f, sf := newSwarmFixture(t)
	f.manifest("c", []string{"a-1", "a-2"}, "X=1")
	st := f.reconcile("c")
	if st.Status.Phase != v1.PhaseReady {
		t.Fatalf("phase = %s, want Ready", st.Status.Phase)
	}
	cur, _ := sf.Container("c-1")
	stale := cur
	stale.ID, stale.SwarmNode, stale.IP = strings.Repeat("f", 64), "n3", "10.0.9.9"
	sf.stale = []engine.Container{stale}
	f.rt.ResetCalls()
	st = f.reconcile("c")
	if got := sf.removedStale; got != 1 || len(sf.stale) != 0 {
		t.Errorf("stale copies removed = %d, left %d; want 1 removed, none left", got, len(sf.stale))
	}
	if got := f.rt.Mutations(); got["removeContainer"] != 0 || got["createContainer"] != 0 {
		t.Errorf("mutations = %v, want the current container neither removed nor re-created", got)
	}
	for _, n := range st.Status.Nodes {
		if n.Hostname == "node-1" && (n.ContainerID != cur.ID[:12] || n.SwarmNode != "n1") {
			t.Errorf("node-1 status = %s on %s, want %s on n1", n.ContainerID, n.SwarmNode, cur.ID[:12])
		}
	}
	if msgs := events(t, f, "c", "RemoveDuplicate"); len(msgs) != 1 || !strings.Contains(msgs[0], "removing this copy on n3") {
		t.Errorf("RemoveDuplicate events = %q, want one removing the copy on n3", msgs)
	}
}

// While listing fails (a swarm node's engine does not answer but the
// manager still reports it ready), the status keeps where each container
// was; once the node is gone its containers are re-created elsewhere and
// the events say what moved.
func TestReconcileMovedNodeAfterFailedListing(t *testing.T) {
	f, sf := newSwarmFixture(t)
	f.manifest("c", []string{"a-1", "a-2"}, "X=1")
	sf.SetSwarmNode("n3")
	f.reconcile("c")

	sf.listErr = errors.New("swarm node n3: engine does not answer")
	if _, err := f.r.Reconcile(t.Context(), "c"); err == nil {
		t.Fatal("Reconcile with a failing listing = nil, want an error")
	}
	st, _ := f.r.Status.Read("c")
	for _, n := range st.Status.Nodes {
		if n.SwarmNode != "n3" || n.ContainerID == "" || len(n.Daemons) == 0 {
			t.Errorf("status of %s after a failed listing = container %q on %q with daemons %v, want the last seen on n3, with its daemons", n.Hostname, n.ContainerID, n.SwarmNode, n.Daemons)
		}
	}

	// n3 is down: its containers are not listed any more.
	sf.listErr = nil
	cs, _ := f.rt.Containers(t.Context(), "")
	for _, c := range cs {
		f.rt.Drop(c.Name)
	}
	sf.SetSwarmNode("n2")
	st = f.reconcile("c")
	if st.Status.Phase != v1.PhaseReady {
		t.Fatalf("phase after the move = %s, want Ready", st.Status.Phase)
	}
	moved := events(t, f, "c", "MovedNode")
	if len(moved) != 3 {
		t.Fatalf("MovedNode events = %q, want one per node (3)", moved)
	}
	for _, m := range moved {
		if !strings.Contains(m, "from swarm node n3 to n2") {
			t.Errorf("MovedNode event %q, want it to say from swarm node n3 to n2", m)
		}
	}
}

// An image missing on every eligible swarm node stalls the cluster with
// reason ImageMissing, the node named; it is looked at again later, not
// retried as an error.
func TestReconcileImageMissingNamesNode(t *testing.T) {
	f, sf := newSwarmFixture(t)
	f.manifest("c", []string{"a-1"}, "X=1")
	sf.missing = "lvcswarm-3"
	res, err := f.r.Reconcile(t.Context(), "c")
	if err != nil || res.RequeueAfter != stalledRequeue {
		t.Fatalf("Reconcile with the image missing = %+v, %v; want no error, requeue after %s", res, err, stalledRequeue)
	}
	st, _ := f.r.Status.Read("c")
	c := v1.FindCondition(st.Status.Conditions, v1.ConditionNodesReady)
	if c == nil || c.Status != v1.ConditionFalse || c.Reason != "ImageMissing" || !strings.Contains(c.Message, "lvcswarm-3") {
		t.Errorf("NodesReady = %+v, want False, ImageMissing, naming lvcswarm-3", c)
	}
	if st.Status.Phase != v1.PhaseFailed {
		t.Errorf("phase = %s, want Failed", st.Status.Phase)
	}
	if s := st.StalledNow(); s == nil || s.Reason != "ImageMissing" || !strings.Contains(s.Message, "lvcswarm-3") {
		t.Errorf("Stalled = %+v, want True for this generation, ImageMissing, naming lvcswarm-3", st.Condition(v1.ConditionStalled))
	}
	// The image arrives: the cluster converges and Stalled goes.
	sf.missing = ""
	st = f.reconcile("c")
	if st.Condition(v1.ConditionStalled) != nil || !st.IsReady() {
		t.Errorf("after the image arrived: Stalled %+v, phase %s; want no Stalled, Ready", st.Condition(v1.ConditionStalled), st.Status.Phase)
	}
}

// ldmsd resolves a producer's host once: when a producer's container is
// re-created with another address, its aggregator is restarted, once.
func TestReconcileRestartsAggregatorWhenProducerMoves(t *testing.T) {
	f, sf := newSwarmFixture(t)
	f.manifestYAML("c", `  services: [sshd, ldmsd]
  daemons:
  - {host: s-1, listen_port: 10000, config: ["load name=meminfo"]}
  - {host: s-2, listen_port: 10000, config: ["load name=meminfo"]}
  - host: agg
    listen_port: 20000
    config:
    - prdcr_add name=s-1 host=s-1 port=10000 xprt=sock type=active interval=1000000
    - prdcr_start_regex regex=.*
`)
	st := f.reconcile("c")
	if st.Status.Phase != v1.PhaseReady || st.Metadata.Annotations[annotationPeers] == "" {
		t.Fatalf("first reconcile: phase %s, annotations %v; want Ready with %s", st.Status.Phase, st.Metadata.Annotations, annotationPeers)
	}
	f.rt.ResetCalls()
	f.reconcile("c")
	if got := f.rt.Mutations(); len(got) != 0 {
		t.Fatalf("idle reconcile mutations = %v, want none", got)
	}

	// s-2 moves: nobody names it, nothing else restarts.
	sf.Drop("c-2")
	f.rt.ResetCalls()
	f.reconcile("c")
	if got := f.rt.Mutations(); got["kill"] != 0 || got["createContainer"] != 1 {
		t.Errorf("after s-2 moved: mutations = %v, want its container re-created and nothing killed", got)
	}

	// s-1 moves: its node's engine first stops answering (listing fails
	// until the swarm reports the node down), then its container is gone.
	// The aggregator, node-3, is restarted once.
	sf.listErr = errors.New("swarm node n1: engine does not answer")
	if _, err := f.r.Reconcile(t.Context(), "c"); err == nil {
		t.Fatal("Reconcile with a failing listing = nil, want an error")
	}
	sf.listErr = nil
	sf.Drop("c-1")
	f.rt.ResetCalls()
	st = f.reconcile("c")
	if got := f.rt.Mutations(); got["kill"] != 1 || got["createContainer"] != 1 {
		t.Errorf("after s-1 moved: mutations = %v, want its container re-created and one daemon killed", got)
	}
	if agg := st.Status.Nodes[2]; agg.Hostname != "node-3" || len(agg.Daemons) == 0 || agg.Daemons[len(agg.Daemons)-1].Restarts != 0 {
		t.Errorf("aggregator status = %+v, want node-3 with a restart on purpose (not counted)", agg)
	}
	var restarts []string
	for _, m := range events(t, f, "c", "Restarting") {
		if strings.Contains(m, "new addresses") {
			restarts = append(restarts, m)
		}
	}
	if len(restarts) != 1 {
		t.Errorf("Restarting events = %q, want one for the aggregator's peers", restarts)
	}
	if st.Status.Phase != v1.PhaseReady {
		t.Errorf("phase after the restart = %s, want Ready", st.Status.Phase)
	}
	f.rt.ResetCalls()
	f.reconcile("c")
	if got := f.rt.Mutations(); len(got) != 0 {
		t.Errorf("idle reconcile after the restart: mutations = %v, want none", got)
	}
}
