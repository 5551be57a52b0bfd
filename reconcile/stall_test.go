package reconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/engine/enginetest"
)

// No ldmsd under ovis_prefix stalls the cluster (Failed, OvisNotFound);
// once OVIS is there, it converges with no other change.
func TestReconcileOvisNotFoundStallsThenRecovers(t *testing.T) {
	f := newFixture(t)
	ldmsd := filepath.Join(f.dir, "ovis", "sbin", "ldmsd")
	if err := os.Remove(ldmsd); err != nil {
		t.Fatal(err)
	}
	f.manifest("c", []string{"a-1"}, "X=1")
	res, err := f.r.Reconcile(t.Context(), "c")
	if err != nil || res.RequeueAfter != stalledRequeue {
		t.Fatalf("Reconcile without OVIS = %+v, %v; want no error, requeue after %s", res, err, stalledRequeue)
	}
	st, _ := f.r.Status.Read("c")
	s := st.StalledNow()
	if s == nil || s.Reason != "OvisNotFound" || !strings.Contains(s.Message, ldmsd) || st.Status.Phase != v1.PhaseFailed {
		t.Fatalf("without OVIS: Stalled %+v, phase %s; want OvisNotFound naming %s, Failed", st.Condition(v1.ConditionStalled), st.Status.Phase, ldmsd)
	}
	if r := st.Condition(v1.ConditionReady); r == nil || r.Reason != "Stalled" {
		t.Errorf("Ready = %+v, want reason Stalled", r)
	}
	if err := os.WriteFile(ldmsd, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	st = f.reconcile("c")
	if st.Condition(v1.ConditionStalled) != nil || !st.IsReady() {
		t.Errorf("with OVIS: Stalled %+v, phase %s; want none, Ready", st.Condition(v1.ConditionStalled), st.Status.Phase)
	}
}

// A daemon that keeps dying soon after its start stalls a cluster that
// was Ready (Degraded, CrashLoopBackOff) until a run of it lasts.
func TestReconcileCrashLoopStalls(t *testing.T) {
	f := newFixture(t)
	f.manifest("c", []string{"a-1"}, "X=1")
	if st := f.reconcile("c"); !st.IsReady() {
		t.Fatalf("first reconcile: phase %s, want Ready", st.Status.Phase)
	}
	var st *v1.LDMSDCluster
	for death := 1; death <= crashLoopDeaths; death++ {
		f.advance(time.Second)
		f.rt.Kill("ldmsd")
		st = f.reconcile("c")
		stalled := st.StalledNow() != nil
		if want := death >= crashLoopDeaths; stalled != want {
			t.Fatalf("after death %d: stalled = %v, want %v (%+v)", death, stalled, want, st.Status.Nodes[0].Daemons)
		}
		f.advance(backoff(death)) // the back-off ends: started again
		st = f.reconcile("c")
	}
	if s := st.StalledNow(); s == nil || s.Reason != "CrashLoopBackOff" || !strings.Contains(s.Message, "ldmsd on node-1") || st.Status.Phase != v1.PhaseDegraded {
		t.Fatalf("restarted after %d quick deaths: Stalled %+v, phase %s; want CrashLoopBackOff naming ldmsd on node-1, Degraded",
			crashLoopDeaths, st.Condition(v1.ConditionStalled), st.Status.Phase)
	}
	f.advance(stableRun)
	if st = f.reconcile("c"); st.Condition(v1.ConditionStalled) != nil || !st.IsReady() {
		t.Errorf("after a run of %s: Stalled %+v, phase %s; want none, Ready", stableRun, st.Condition(v1.ConditionStalled), st.Status.Phase)
	}
}

// A placement no swarm node meets stalls the cluster (PlacementUnmet)
// with nothing created; once a node meets it, the cluster converges.
func TestReconcilePlacementUnmetStallsThenRecovers(t *testing.T) {
	f := newFixture(t)
	f.manifest("c", []string{"a-1"}, "X=1")
	unmet := true
	f.rt.SetHook(func(_ context.Context, c enginetest.Call) error {
		if c.Op == "EnsureContainer" && unmet {
			return fmt.Errorf("%w: no ready swarm node matches the placement of c-1 (node gpu-1)", engine.ErrPlacement)
		}
		return nil
	})
	res, err := f.r.Reconcile(t.Context(), "c")
	if err != nil || res.RequeueAfter != stalledRequeue {
		t.Fatalf("Reconcile with an unmet placement = %+v, %v; want no error, requeue after %s", res, err, stalledRequeue)
	}
	st, _ := f.r.Status.Read("c")
	if s := st.StalledNow(); s == nil || s.Reason != "PlacementUnmet" || !strings.Contains(s.Message, "gpu-1") || st.Status.Phase != v1.PhaseFailed {
		t.Fatalf("Stalled = %+v, phase %s; want PlacementUnmet naming gpu-1, Failed", st.Condition(v1.ConditionStalled), st.Status.Phase)
	}
	unmet = false
	if st = f.reconcile("c"); st.Condition(v1.ConditionStalled) != nil || !st.IsReady() {
		t.Errorf("placement met: Stalled %+v, phase %s; want none, Ready", st.Condition(v1.ConditionStalled), st.Status.Phase)
	}
}

// A failed container create does not cancel the others: the engine would
// finish them anyway, unknown to the reconciler (and to a delete run at
// once).
func TestReconcileFailedCreateLetsTheOthersFinish(t *testing.T) {
	f := newFixture(t)
	f.manifest("c", []string{"a-1", "a-2"}, "X=1")
	var cancelled atomic.Bool
	f.rt.SetHook(func(ctx context.Context, c enginetest.Call) error {
		if c.Op != "EnsureContainer" {
			return nil
		}
		if c.Container == "c-1" {
			return errors.New("engine says no")
		}
		select {
		case <-ctx.Done():
			cancelled.Store(true)
		case <-time.After(200 * time.Millisecond):
		}
		return nil
	})
	if _, err := f.r.Reconcile(t.Context(), "c"); err == nil {
		t.Fatal("Reconcile with a failing create = nil, want its error")
	}
	if cancelled.Load() {
		t.Error("the other creates were cancelled by the failing one")
	}
}
