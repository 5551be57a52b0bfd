package controller_test

// Unit tests of the controller over enginetest.Fake: the real watch,
// queue and reconciler, an in-memory engine and a fake clock, so they run
// in moments and under -short. They wait on conditions only; time moves
// when a test steps the clock.
//
// Several check the controller logic of an end-to-end test, which still
// checks what only a real engine shows: BrokenManifest of
// TestE2EBrokenEditLeavesClusterAlone and TestE2ETruncatedManifestIsNotApplied,
// ManifestsDirRemoved, NoPrune, GitCheckout, DuplicateName, StoppedDaemon
// and OvisNotFound of their namesakes, ContainerEventsRepairNodes of
// TestE2ENetworkDisconnectRepairedByEvent, ManifestConverges and
// RemovedManifestPrunedAfterGrace of TestE2EApplyEditRemove.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine/enginetest"
	"github.com/ovis-hpc/lvc/internal/controller"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/testenv"
	"github.com/ovis-hpc/lvc/reconcile"
)

// waitFor is how long a fake test waits for a condition: generous, as
// the machine may be loaded; a passing test takes far less.
const waitFor = 30 * time.Second

// fakeEnv is a controller over the fake engine and a fake clock, with
// fresh manifests and status directories and an OVIS prefix that has an
// ldmsd.
type fakeEnv struct {
	t         *testing.T
	rt        *enginetest.Fake
	clk       *clocktesting.FakeClock
	c         *controller.Controller
	opts      controller.Options
	manifests string
	ovis      string
	status    store.Status
	log       *recorder
	cancel    context.CancelFunc
	done      chan error
}

func startFake(t *testing.T, prune bool) *fakeEnv {
	t.Helper()
	dir := t.TempDir()
	e := &fakeEnv{t: t, rt: enginetest.NewFake(), clk: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		manifests: filepath.Join(dir, "clusters"), ovis: filepath.Join(dir, "ovis"), status: store.Status{Dir: filepath.Join(dir, "status")}}
	for _, d := range []string{e.manifests, filepath.Join(e.ovis, "sbin")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(e.ovis, "sbin", "ldmsd"), []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.opts = controller.Options{ManifestsDir: e.manifests, StatusDir: e.status.Dir, Resync: time.Hour, Prune: prune,
		Debounce: 100 * time.Millisecond, PruneGrace: 10 * time.Minute, Workers: 2, Clock: e.clk}
	e.start()
	return e
}

// start runs a controller until the test ends or stop.
func (e *fakeEnv) start() {
	e.log = newRecorder(e.t)
	ctx, cancel := context.WithCancel(logr.NewContext(e.t.Context(), logr.New(e.log)))
	e.cancel, e.done = cancel, make(chan error, 1)
	e.c = controller.New(e.rt, e.opts)
	go func() { e.done <- e.c.Run(ctx) }()
	e.t.Cleanup(e.stop)
}

func (e *fakeEnv) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("controller Run() = %v", err)
		}
	case <-time.After(waitFor):
		e.t.Errorf("controller did not stop within %s", waitFor)
	}
}

// fakeManifest declares cluster name with sshd and ldmsd on hosts.
func (e *fakeEnv) fakeManifest(name string, hosts ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %s}\nspec:\n  ovis_prefix: %s\n  services: [sshd, ldmsd]\n  daemons:\n", name, e.ovis)
	for _, h := range hosts {
		fmt.Fprintf(&b, "  - {host: %s, listen_port: 10000, config: [\"load name=meminfo\"]}\n", h)
	}
	return b.String()
}

// until waits for cond to return "" without moving the clock: what
// happens comes from the manifests watch and the engine's events.
func (e *fakeEnv) until(cond func() string) {
	e.t.Helper()
	testenv.Eventually(e.t, waitFor, cond)
}

// stepUntil waits for cond to return "", moving the clock on by the
// debounce before each look, so that debounced rescans and requeues run.
func (e *fakeEnv) stepUntil(cond func() string) {
	e.t.Helper()
	e.stepBy(e.opts.Debounce, cond)
}

// removeManifest removes file, which declares cluster name, and waits
// until the controller's index no longer has the name.
func (e *fakeEnv) removeManifest(file, name string) {
	e.t.Helper()
	if err := os.Remove(file); err != nil {
		e.t.Fatal(err)
	}
	e.stepUntil(func() string {
		if e.c.Lookup(name) != nil {
			return "the controller has not seen the manifest go"
		}
		return ""
	})
}

// stepBy waits for cond to return "", moving the clock on by d before
// each look: a timer the controller sets a moment after a step fires at
// a later one.
func (e *fakeEnv) stepBy(d time.Duration, cond func() string) {
	e.t.Helper()
	testenv.Eventually(e.t, waitFor, func() string {
		e.clk.Step(d)
		return cond()
	})
}

// resynced waits for a reconcile of name that a resync starts, after the
// prune grace is over.
func (e *fakeEnv) resynced(name string) {
	e.t.Helper()
	n := e.reconciles(name)
	e.stepBy(e.opts.PruneGrace+e.opts.Resync, func() string {
		if e.reconciles(name) > n {
			return ""
		}
		return "no reconcile of " + name + " after a resync"
	})
}

// statusIs is a condition on the status file of name.
func (e *fakeEnv) statusIs(name, what string, ok func(*v1.LDMSDCluster) bool) func() string {
	return func() string {
		st, err := e.status.Read(name)
		if err == nil && st != nil && ok(st) {
			return ""
		}
		return fmt.Sprintf("status of %s is not %s: %s (error %v)", name, what, statusString(st), err)
	}
}

// ready waits until name is Ready at generation gen.
func (e *fakeEnv) ready(name string, gen int64) *v1.LDMSDCluster {
	e.t.Helper()
	e.stepUntil(e.statusIs(name, fmt.Sprintf("Ready at generation %d", gen), ready(gen)))
	st, _ := e.status.Read(name)
	return st
}

// objects counts the cluster's containers and networks in the fake.
func (e *fakeEnv) objects(name string) (containers, networks int) {
	e.t.Helper()
	return countObjects(e.t, e.rt, name)
}

// reconciles counts the controller's reconciles of name so far.
func (e *fakeEnv) reconciles(name string) int { return e.log.count("reconciled", name) }

// reconciledAgain waits for a reconcile of name after the n-th.
func (e *fakeEnv) reconciledAgain(name string, n int) {
	e.t.Helper()
	e.until(func() string {
		if e.reconciles(name) > n {
			return ""
		}
		return fmt.Sprintf("no reconcile of %s after the %d-th", name, n)
	})
}

// recorder is a logr sink that keeps the controller's messages at
// verbosity 1 for the test to count, and prints them when it fails.
type recorder struct {
	mu    *sync.Mutex
	lines *[]string
	kv    []any
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{mu: &sync.Mutex{}, lines: &[]string{}}
	t.Cleanup(func() {
		if t.Failed() {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Logf("controller log:\n%s", strings.Join(*r.lines, "\n"))
		}
	})
	return r
}

func (r *recorder) Init(logr.RuntimeInfo)  {}
func (r *recorder) Enabled(level int) bool { return level <= 1 }
func (r *recorder) Info(_ int, msg string, kv ...any) {
	r.add(msg, kv)
}

func (r *recorder) Error(err error, msg string, kv ...any) {
	r.add(msg, append([]any{"error", err.Error()}, kv...))
}

func (r *recorder) add(msg string, kv []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := msg
	for i := 0; i+1 < len(kv); i += 2 {
		line += fmt.Sprintf(" %v=%v", kv[i], kv[i+1])
	}
	for i := 0; i+1 < len(r.kv); i += 2 {
		line += fmt.Sprintf(" %v=%v", r.kv[i], r.kv[i+1])
	}
	*r.lines = append(*r.lines, line)
}

func (r *recorder) WithValues(kv ...any) logr.LogSink {
	return &recorder{mu: r.mu, lines: r.lines, kv: append(append([]any(nil), r.kv...), kv...)}
}

func (r *recorder) WithName(string) logr.LogSink { return r }

// count is how many messages msg were about cluster.
func (r *recorder) count(msg, cluster string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range *r.lines {
		if strings.HasPrefix(l, msg+" ") && strings.Contains(l+" ", " cluster="+cluster+" ") {
			n++
		}
	}
	return n
}

// A manifest written converges to Ready; an edit adds a node and keeps
// the others.
func TestFakeManifestConverges(t *testing.T) {
	e := startFake(t, true)
	file := filepath.Join(e.manifests, "c.yaml")
	write(t, file, e.fakeManifest("c", "s-1", "s-2"))
	st := e.ready("c", 1)
	if len(st.Status.Nodes) != 3 {
		t.Fatalf("status nodes = %d, want 3", len(st.Status.Nodes))
	}
	for _, n := range st.Status.Nodes[:2] {
		if d := st.Daemon(n.Hostname, "ldmsd"); d == nil || d.State != v1.DaemonRunning || !d.Listening {
			t.Errorf("ldmsd on %s = %+v, want Running and listening", n.Hostname, d)
		}
	}
	before := ids(t, e.rt, "c")
	if hosts := string(e.rt.Files("c-3")["/etc/hosts"]); !strings.Contains(hosts, "s-2") {
		t.Errorf("/etc/hosts of node-3 = %q, want s-2 in it", hosts)
	}

	write(t, file, e.fakeManifest("c", "s-1", "s-2", "s-3"))
	e.ready("c", 2)
	after := ids(t, e.rt, "c")
	for node, id := range before {
		if after[node] != id {
			t.Errorf("%s re-created by adding a node", node)
		}
	}
	if len(after) != 4 {
		t.Errorf("containers after the edit = %v, want node-1..4", after)
	}
	if hosts := string(e.rt.Files("c-1")["/etc/hosts"]); !strings.Contains(hosts, "s-3") {
		t.Errorf("/etc/hosts of node-1 after the edit = %q, want s-3 in it", hosts)
	}
}

// A manifest removed leaves its cluster alone for PruneGrace, whatever
// reconciles it meanwhile, and the cluster is pruned once the grace is
// over.
func TestFakeRemovedManifestPrunedAfterGrace(t *testing.T) {
	e := startFake(t, true)
	file := filepath.Join(e.manifests, "c.yaml")
	write(t, file, e.fakeManifest("c", "s-1", "s-2"))
	e.ready("c", 1)
	e.rt.ResetCalls()

	e.removeManifest(file, "c")
	left := e.c.PruneIn("c")
	if left <= 0 || left > e.opts.PruneGrace {
		t.Fatalf("PruneIn once the manifest went = %v, want within (0, %v]", left, e.opts.PruneGrace)
	}
	// 1ms before the grace ends, a Docker event reconciles the cluster:
	// nothing is removed.
	e.clk.Step(left - time.Millisecond)
	n := e.reconciles("c")
	if e.rt.Kill("sshd", "c-1") != 1 {
		t.Fatal("no sshd to kill on c-1")
	}
	e.reconciledAgain("c", n)
	if got := e.c.PruneIn("c"); got != time.Millisecond {
		t.Errorf("PruneIn 1ms before the grace ends = %v", got)
	}
	if m := e.rt.Mutations(); len(m) != 0 {
		t.Errorf("mutations within the grace = %v, want none", m)
	}
	if nc, nn := e.objects("c"); nc != 3 || nn != 1 {
		t.Errorf("within the grace: %d containers and %d networks, want 3 and 1", nc, nn)
	}
	if st, _ := e.status.Read("c"); st == nil {
		t.Error("status file removed within the grace")
	}

	// Once the grace is over, everything goes. (Steps of a tenth of the
	// grace: the controller may have set the timer of the manifest's
	// removal after the test's step above, so that it fires a grace
	// later.)
	e.stepBy(e.opts.PruneGrace/10, func() string {
		nc, nn := e.objects("c")
		st, _ := e.status.Read("c")
		if nc != 0 || nn != 0 || st != nil {
			return fmt.Sprintf("after the grace: %d containers, %d networks, status file %v", nc, nn, st != nil)
		}
		return ""
	})
}

// A daemon that dies is started again on the engine's exec_die, not by
// a resync: the clock does not move.
func TestFakeKilledDaemonRestartedOnEvent(t *testing.T) {
	e := startFake(t, true)
	write(t, filepath.Join(e.manifests, "c.yaml"), e.fakeManifest("c", "s-1", "s-2"))
	before := e.ready("c", 1).Daemon("node-1", "ldmsd")
	e.rt.ResetCalls()
	if e.rt.Kill("ldmsd", "c-1") != 1 {
		t.Fatal("no ldmsd to kill on c-1")
	}
	e.until(e.statusIs("c", "Ready with node-1's ldmsd restarted once", func(st *v1.LDMSDCluster) bool {
		d := st.Daemon("node-1", "ldmsd")
		return st.IsReady() && d != nil && d.State == v1.DaemonRunning && d.Restarts == 1 && d.PID != before.PID
	}))
	if got := e.rt.Mutations(); got["start"] != 1 || got["createContainer"] != 0 {
		t.Errorf("mutations = %v, want one daemon start", got)
	}
	if evs, _ := e.status.Events("c"); !hasEvent(evs, "Restarting", "ldmsd (pid") {
		t.Errorf("events %+v, want a Restarting one for ldmsd", evs)
	}
}

// A container that stops is started again on its die event, and one cut
// off the network is re-created on the network's disconnect event.
func TestFakeContainerEventsRepairNodes(t *testing.T) {
	e := startFake(t, true)
	write(t, filepath.Join(e.manifests, "c.yaml"), e.fakeManifest("c", "s-1", "s-2"))
	e.ready("c", 1)
	before := ids(t, e.rt, "c")

	e.rt.Stop("c-2")
	e.until(e.statusIs("c", "Ready with node-2 running again", func(st *v1.LDMSDCluster) bool {
		d := st.Daemon("node-2", "ldmsd")
		return st.IsReady() && d != nil && d.State == v1.DaemonRunning
	}))
	if got := ids(t, e.rt, "c"); got["node-2"] != before["node-2"] {
		t.Errorf("node-2 re-created after a stop, want it started again")
	}

	e.rt.Disconnect("c-1")
	e.until(e.statusIs("c", "Ready with a new node-1", func(st *v1.LDMSDCluster) bool {
		return st.IsReady() && st.Status.Nodes[0].ContainerID != before["node-1"][:12]
	}))
	if c, _ := e.rt.Container("c-1"); c.IP == "" || c.Network != "c" {
		t.Errorf("node-1 after the disconnect = %+v, want it on the network", c)
	}
}

func hasEvent(evs []v1.Event, reason, text string) bool {
	for _, ev := range evs {
		if ev.Reason == reason && strings.Contains(ev.Message, text) {
			return true
		}
	}
	return false
}

// A broken manifest (invalid, cut short, unparsable, empty) is reported
// as InvalidManifest and changes nothing, past the prune grace and a
// resync; the good one back, the cluster is Ready as it was.
func TestFakeBrokenManifestChangesNothing(t *testing.T) {
	e := startFake(t, true)
	file := filepath.Join(e.manifests, "c.yaml")
	good := e.fakeManifest("c", "s-1", "s-2", "s-3")
	write(t, file, good)
	e.ready("c", 1)
	before := ids(t, e.rt, "c")
	for _, tc := range []struct{ name, content, says string }{
		{"invalid", strings.Replace(good, "{host: s-2,", "{host: s-2, asset: nosuch,", 1), "asset"},
		{"cut short", good[:strings.Index(good, "  - {host: s-2")-1], "newline"},
		{"unparsable", good[:len(good)/2] + "\n  - {host: [\n", ""},
		{"empty", "", ""},
	} {
		e.rt.ResetCalls()
		write(t, file, tc.content)
		e.stepUntil(e.statusIs("c", "InvalidManifest", func(st *v1.LDMSDCluster) bool {
			return condition(st, v1.ConditionReady).Reason == "InvalidManifest"
		}))
		st, _ := e.status.Read("c")
		if msg := condition(st, v1.ConditionReady).Message; !strings.Contains(msg, tc.says) {
			t.Errorf("%s: InvalidManifest message = %q, want it to say %q", tc.name, msg, tc.says)
		}
		e.resynced("c") // past the prune grace
		if m := e.rt.Mutations(); len(m) != 0 {
			t.Errorf("%s: mutations under a broken manifest = %v, want none", tc.name, m)
		}
		if got := ids(t, e.rt, "c"); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("%s: containers changed under a broken manifest: %v → %v", tc.name, before, got)
		}
		write(t, file, good)
		e.ready("c", 1)
	}
	if got := ids(t, e.rt, "c"); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("containers changed: %v → %v", before, got)
	}
}

// A missing manifests directory is no information: nothing is pruned,
// at run time or at a start without it. An empty one prunes.
func TestFakeManifestsDirRemovedKeepsClusters(t *testing.T) {
	e := startFake(t, true)
	file := filepath.Join(e.manifests, "c.yaml")
	write(t, file, e.fakeManifest("c", "s-1"))
	e.ready("c", 1)
	e.rt.ResetCalls()
	if err := os.RemoveAll(e.manifests); err != nil {
		t.Fatal(err)
	}
	kept := func(when string) {
		t.Helper()
		e.reconciledAgain("c", 0) // this controller has looked at it once
		e.resynced("c")
		if m := e.rt.Mutations(); len(m) != 0 {
			t.Fatalf("%s: mutations %v, want none", when, m)
		}
	}
	e.stepUntil(func() string {
		if e.c.Authoritative() {
			return "the controller has not seen the directory go"
		}
		return ""
	})
	kept("directory removed")
	e.stop()
	e.start()
	kept("controller started without the directory")

	// The directory back, empty: the next resync prunes.
	if err := os.MkdirAll(e.manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	e.stepUntil(func() string {
		if !e.c.Authoritative() {
			return "the controller has not seen the directory come back"
		}
		return ""
	})
	e.stepBy(e.opts.Resync, func() string {
		if nc, nn := e.objects("c"); nc != 0 || nn != 0 {
			return fmt.Sprintf("with an empty directory: %d containers and %d networks left", nc, nn)
		}
		return ""
	})
}

// Without pruning, a cluster whose manifest went stays, Orphaned.
func TestFakeNoPruneReportsOrphaned(t *testing.T) {
	e := startFake(t, false)
	file := filepath.Join(e.manifests, "c.yaml")
	write(t, file, e.fakeManifest("c", "s-1"))
	e.ready("c", 1)
	e.rt.ResetCalls()
	e.removeManifest(file, "c")
	e.stepBy(e.opts.PruneGrace, e.statusIs("c", "Orphaned", func(st *v1.LDMSDCluster) bool {
		return condition(st, v1.ConditionReady).Reason == "Orphaned"
	}))
	if nc, nn := e.objects("c"); nc != 2 || nn != 1 {
		t.Errorf("orphaned cluster: %d containers and %d networks, want 2 and 1", nc, nn)
	}
	if m := e.rt.Mutations(); len(m) != 0 {
		t.Errorf("mutations = %v, want none", m)
	}
}

// What `git checkout` does: every manifest removed and written anew, b's
// gone in the new commit, with rescans in between. b is pruned once the
// grace is over; a is never touched.
func TestFakeGitCheckoutReplacesFiles(t *testing.T) {
	e := startFake(t, true)
	fa, fb := filepath.Join(e.manifests, "a.yaml"), filepath.Join(e.manifests, "b.yaml")
	write(t, fa, e.fakeManifest("a", "x-1"))
	write(t, fb, e.fakeManifest("b", "y-1"))
	e.ready("a", 1)
	e.ready("b", 1)
	before := ids(t, e.rt, "a")
	for range 5 {
		os.Remove(fa)
		os.Remove(fb)
		e.clk.Step(e.opts.Debounce) // a rescan may come in the middle
		write(t, fa, e.fakeManifest("a", "x-1"))
	}
	e.stepBy(e.opts.PruneGrace/4, func() string {
		if nc, nn := e.objects("b"); nc != 0 || nn != 0 {
			return fmt.Sprintf("b still has %d containers and %d networks", nc, nn)
		}
		return ""
	})
	if got := ids(t, e.rt, "a"); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("a was touched by the checkout: %v → %v", before, got)
	}
	e.ready("a", 1)
}

// Of two manifests declaring one name, the first owner keeps it whatever
// the files are called; when it goes, the other takes the name.
func TestFakeDuplicateNameFirstOwnerKeeps(t *testing.T) {
	e := startFake(t, true)
	write(t, filepath.Join(e.manifests, "z.yaml"), e.fakeManifest("c", "one-1"))
	e.ready("c", 1)
	write(t, filepath.Join(e.manifests, "a.yaml"), e.fakeManifest("c", "two-1", "two-2"))
	e.stepUntil(e.statusIs("c", "DuplicateName", func(st *v1.LDMSDCluster) bool {
		return condition(st, reconcile.ConditionUniqueName).Reason == "DuplicateName"
	}))
	st, _ := e.status.Read("c")
	if msg := condition(st, reconcile.ConditionUniqueName).Message; !strings.Contains(msg, "a.yaml") {
		t.Errorf("DuplicateName message = %q, want it to name a.yaml", msg)
	}
	if got := ids(t, e.rt, "c"); len(got) != 2 {
		t.Errorf("nodes = %v, want the first owner's 2", got)
	}
	os.Remove(filepath.Join(e.manifests, "z.yaml"))
	e.stepUntil(e.statusIs("c", "Ready with 3 nodes and a unique name", func(st *v1.LDMSDCluster) bool {
		return ready(2)(st) && len(st.Status.Nodes) == 3 && condition(st, reconcile.ConditionUniqueName).Type == ""
	}))
}

// A daemon stopped on purpose (lvc stop) is stopped on the status
// directory's change, stays down across resyncs and a controller
// restart, and runs again once started.
func TestFakeStoppedDaemonStaysDown(t *testing.T) {
	e := startFake(t, true)
	write(t, filepath.Join(e.manifests, "c.yaml"), e.fakeManifest("c", "s-1", "s-2"))
	e.ready("c", 1)
	if err := e.status.SetStopped("c", "node-1/ldmsd", true); err != nil {
		t.Fatal(err)
	}
	stopped := e.statusIs("c", "with node-1's ldmsd Stopped", func(st *v1.LDMSDCluster) bool {
		d := st.Daemon("node-1", "ldmsd")
		return d != nil && d.State == v1.DaemonStopped && st.Status.Phase != v1.PhaseFailed
	})
	e.until(stopped)
	down := func(when string) {
		t.Helper()
		for _, p := range e.rt.Processes("c-1") {
			if strings.Contains(p.Command, "ldmsd") {
				t.Fatalf("ldmsd runs %s: %q", when, p.Command)
			}
		}
		if msg := stopped(); msg != "" {
			t.Fatalf("%s: %s", when, msg)
		}
	}
	down("once stopped")
	e.resynced("c")
	down("after a resync")
	e.stop()
	e.start()
	e.reconciledAgain("c", 0)
	e.resynced("c")
	down("after a controller restart")

	if err := e.status.SetStopped("c", "node-1/ldmsd", false); err != nil {
		t.Fatal(err)
	}
	e.until(e.statusIs("c", "with node-1's ldmsd Running", func(st *v1.LDMSDCluster) bool {
		d := st.Daemon("node-1", "ldmsd")
		return d != nil && d.State == v1.DaemonRunning
	}))
}

// An ovis_prefix without ldmsd is OvisNotFound, the other services run.
func TestFakeOvisNotFound(t *testing.T) {
	e := startFake(t, true)
	m := strings.Replace(e.fakeManifest("c", "s-1"), e.ovis, filepath.Join(e.ovis, "nonexistent"), 1)
	write(t, filepath.Join(e.manifests, "c.yaml"), m)
	e.stepUntil(e.statusIs("c", "OvisNotFound with sshd running", func(st *v1.LDMSDCluster) bool {
		return condition(st, v1.ConditionLdmsdReady).Reason == "OvisNotFound" && condition(st, v1.ConditionSshdReady).Status == v1.ConditionTrue
	}))
	st, _ := e.status.Read("c")
	if msg := condition(st, v1.ConditionLdmsdReady).Message; !strings.Contains(msg, filepath.Join(e.ovis, "nonexistent", "sbin", "ldmsd")) {
		t.Errorf("OvisNotFound message = %q, want the path", msg)
	}
	if st.Status.Phase == v1.PhaseReady {
		t.Error("phase Ready without ldmsd")
	}
}
