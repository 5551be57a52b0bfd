package controller_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/go-logr/logr/testr"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/controller"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// manifest renders a cluster of plain daemons named by hosts, running
// only sshd-free services so that it needs nothing but containers.
func manifest(name string, hosts ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata:\n  name: %s\nspec:\n  image: %s\n  services: []\n  daemons:\n", name, testenv.Image())
	for _, h := range hosts {
		fmt.Fprintf(&b, "  - host: %s\n", h)
	}
	return b.String()
}

type harness struct {
	t         *testing.T
	rt        *swarm.Engine
	manifests string
	status    store.Status
	cancel    context.CancelFunc
	done      chan error
}

// setup gives a test the engine, a unique cluster name and a controller
// over fresh manifests and status directories.
func setup(t *testing.T) (*swarm.Engine, string, *harness) {
	t.Helper()
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	dir := t.TempDir()
	manifests := filepath.Join(dir, "clusters")
	os.MkdirAll(manifests, 0o755)
	return rt, name, startController(t, rt, manifests, filepath.Join(dir, "status"))
}

func startController(t *testing.T, rt *swarm.Engine, manifests, status string) *harness {
	t.Helper()
	return startControllerResync(t, rt, manifests, status, 2*time.Second)
}

func startControllerResync(t *testing.T, rt *swarm.Engine, manifests, status string, resync time.Duration) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	h := &harness{t: t, rt: rt, manifests: manifests, status: store.Status{Dir: status}, cancel: cancel, done: make(chan error, 1)}
	ctx = testenvLogger(t, ctx)
	c := controller.New(rt, controller.Options{ManifestsDir: manifests, StatusDir: status, Resync: resync, Prune: true, Debounce: 100 * time.Millisecond})
	go func() { h.done <- c.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("controller Run() = %v", err)
		}
	case <-time.After(60 * time.Second):
		h.t.Errorf("controller did not stop within 60s")
	}
}

// testenvLogger logs the controller to the test: always with -v, and
// otherwise kept and printed only when the test fails.
func testenvLogger(t *testing.T, ctx context.Context) context.Context {
	if testing.Verbose() {
		return logrContext(ctx, testr.NewWithOptions(t, testr.Options{Verbosity: 1}))
	}
	var mu sync.Mutex
	var lines []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() {
			t.Logf("controller log:\n%s", strings.Join(lines, "\n"))
		}
	})
	return logrContext(ctx, funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, time.Now().Format("15:04:05.000 ")+prefix+" "+args)
	}, funcr.Options{Verbosity: 1}))
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := store.WriteFileAtomic(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitStatus polls the status file until ok holds.
func (h *harness) waitStatus(name string, timeout time.Duration, what string, ok func(*v1.LDMSDCluster) bool) *v1.LDMSDCluster {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	var last *v1.LDMSDCluster
	for time.Now().Before(deadline) {
		c, err := h.status.Read(name)
		if err == nil && c != nil {
			last = c
			if ok(c) {
				return c
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("status of %s not %s within %s; last: %+v", name, what, timeout, statusString(last))
	return nil
}

func statusString(c *v1.LDMSDCluster) string {
	if c == nil || c.Status == nil {
		return "<none>"
	}
	return fmt.Sprintf("phase=%s gen=%d observed=%d conditions=%+v", c.Status.Phase, c.Metadata.Generation, c.Status.ObservedGeneration, c.Status.Conditions)
}

func ready(gen int64) func(*v1.LDMSDCluster) bool {
	return func(c *v1.LDMSDCluster) bool {
		return c.IsReady() && c.Metadata.Generation == gen
	}
}

// condition is c's condition typ, the zero Condition when it has none.
func condition(c *v1.LDMSDCluster, typ string) v1.Condition {
	if p := c.Condition(typ); p != nil {
		return *p
	}
	return v1.Condition{}
}

// ids maps node hostname to container ID.
func ids(t *testing.T, rt engine.Runtime, cluster string) map[string]string {
	t.Helper()
	cs, err := rt.Containers(t.Context(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cs {
		out[c.Node] = c.ID
	}
	return out
}

func execOut(t *testing.T, rt engine.Runtime, id string, argv ...string) string {
	t.Helper()
	r, err := engine.Run(t.Context(), rt, id, engine.ExecOptions{Argv: argv})
	if err != nil {
		t.Fatal(err)
	}
	return string(r.Stdout)
}

func countObjects(t *testing.T, rt engine.Runtime, cluster string) (containers, networks int) {
	t.Helper()
	cs, err := rt.Containers(t.Context(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := rt.Networks(t.Context(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	return len(cs), len(ns)
}

func TestE2EApplyEditRemove(t *testing.T) {
	rt, name, h := setup(t)
	manifests := h.manifests
	file := filepath.Join(manifests, name+".yaml")

	write(t, file, manifest(name, "sampler-1", "sampler-2", "agg-1"))
	c := h.waitStatus(name, 90*time.Second, "Ready at generation 1", ready(1))
	if len(c.Status.Nodes) != 4 {
		t.Fatalf("status nodes = %d, want 4", len(c.Status.Nodes))
	}
	before := ids(t, rt, name)
	if len(before) != 4 {
		t.Fatalf("containers = %v, want node-1..4", before)
	}
	for _, alias := range []string{"sampler-1", "sampler-2", "agg-1", "node-1"} {
		out := execOut(t, rt, before["node-4"], "getent", "hosts", alias)
		if !strings.Contains(out, alias) {
			t.Errorf("getent hosts %s on node-4 = %q", alias, out)
		}
	}

	// Add a daemon: only node-5 is created; every /etc/hosts learns agg-2.
	write(t, file, manifest(name, "sampler-1", "sampler-2", "agg-1", "agg-2"))
	h.waitStatus(name, 90*time.Second, "Ready at generation 2", ready(2))
	after := ids(t, rt, name)
	for node, id := range before {
		if after[node] != id {
			t.Errorf("%s container id changed %s → %s, want kept", node, id[:12], after[node][:12])
		}
	}
	if after["node-5"] == "" || len(after) != 5 {
		t.Fatalf("after edit containers = %v, want node-1..5", after)
	}
	for node, id := range after {
		if out := execOut(t, rt, id, "getent", "hosts", "agg-2"); !strings.Contains(out, "agg-2") {
			t.Errorf("getent hosts agg-2 on %s = %q", node, out)
		}
	}

	// Remove the file: everything labelled for the cluster goes.
	os.Remove(file)
	deadline := time.Now().Add(60 * time.Second)
	for {
		nc, nn := countObjects(t, rt, name)
		if nc == 0 && nn == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after removing the manifest: %d containers, %d networks remain", nc, nn)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if c, _ := h.status.Read(name); c != nil {
		t.Errorf("status file still there after prune: %s", statusString(c))
	}
}

func TestE2EBrokenEditLeavesClusterAlone(t *testing.T) {
	rt, name, h := setup(t)
	manifests := h.manifests
	file := filepath.Join(manifests, name+".yaml")
	good := manifest(name, "sampler-1", "sampler-2")
	write(t, file, good)
	h.waitStatus(name, 90*time.Second, "Ready", ready(1))
	before := ids(t, rt, name)
	started := execOut(t, rt, before["node-1"], "cut", "-d ", "-f22", "/proc/1/stat") // init start time

	for _, broken := range []string{
		strings.Replace(good, "host: sampler-2", "host: sampler-2\n    asset: nosuch", 1), // invalid
		good[:len(good)/2] + "\n  - {host: [",                                             // truncated, unparsable
		"",                                                                                // empty
	} {
		write(t, file, broken)
		c := h.waitStatus(name, 30*time.Second, "InvalidManifest", func(c *v1.LDMSDCluster) bool {
			return condition(c, v1.ConditionReady).Reason == "InvalidManifest"
		})
		t.Logf("broken manifest reported: %s", condition(c, v1.ConditionReady).Message)
		time.Sleep(3 * time.Second) // past the prune grace and a resync
		if got := ids(t, rt, name); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("containers changed under a broken manifest: %v → %v", before, got)
		}
		if now := execOut(t, rt, before["node-1"], "cut", "-d ", "-f22", "/proc/1/stat"); now != started {
			t.Fatalf("node-1 restarted under a broken manifest")
		}
		write(t, file, good)
		h.waitStatus(name, 30*time.Second, "Ready again", ready(1))
	}
}

func TestE2EGitCheckoutReplacesFiles(t *testing.T) {
	rt, a, h := setup(t)
	b := testenv.ClusterName(t, rt)
	manifests := h.manifests
	write(t, filepath.Join(manifests, a+".yaml"), manifest(a, "x-1"))
	write(t, filepath.Join(manifests, b+".yaml"), manifest(b, "y-1"))
	h.waitStatus(a, 90*time.Second, "Ready", ready(1))
	h.waitStatus(b, 90*time.Second, "Ready", ready(1))
	before := ids(t, rt, a)

	// What `git checkout` does: every tracked file removed, then written
	// anew; here b's manifest is gone in the new commit.
	for i := 0; i < 5; i++ {
		os.Remove(filepath.Join(manifests, a+".yaml"))
		os.Remove(filepath.Join(manifests, b+".yaml"))
		time.Sleep(20 * time.Millisecond)
		write(t, filepath.Join(manifests, a+".yaml"), manifest(a, "x-1"))
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if nc, nn := countObjects(t, rt, b); nc == 0 && nn == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster %s whose manifest is gone was not removed", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	if got := ids(t, rt, a); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("cluster %s was touched by the checkout: %v → %v", a, before, got)
	}
	h.waitStatus(a, 10*time.Second, "still Ready", ready(1))
}

func TestE2EKilledMidCreateConverges(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	bin := testenv.BuildController(t)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	os.MkdirAll(manifests, 0o755)
	hosts := make([]string, 10)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("h-%d", i+1)
	}
	write(t, filepath.Join(manifests, name+".yaml"), manifest(name, hosts...))
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--manifests", manifests, "--status-dir", status, "--resync", "5s")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := start()
	// Kill it once some, but not all, containers exist.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if nc, _ := countObjects(t, rt, name); nc >= 2 {
			break
		}
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatal("no container appeared within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	nc, _ := countObjects(t, rt, name)
	t.Logf("killed the controller with %d of 11 containers created", nc)

	second := start()
	stopped := false
	defer func() {
		if !stopped {
			second.Process.Kill()
			second.Wait()
		}
	}()
	h := &harness{t: t, rt: rt, status: store.Status{Dir: status}}
	h.waitStatus(name, 120*time.Second, "Ready", ready(1))
	if nc, nn := countObjects(t, rt, name); nc != 11 || nn != 1 {
		t.Errorf("after restart: %d containers and %d networks, want 11 and 1", nc, nn)
	}
	// SIGTERM: a clean exit, status intact.
	second.Process.Signal(syscall.SIGTERM)
	err := second.Wait()
	stopped = true
	if err != nil {
		t.Errorf("lvc-controller after SIGTERM: %v, want exit status 0", err)
	}
	if c, err := h.status.Read(name); err != nil || c == nil || c.Status.Phase != v1.PhaseReady {
		t.Errorf("status after SIGTERM = %v, %v; want Ready", statusString(c), err)
	}
}

func controllerNoPrune(t *testing.T, rt *swarm.Engine, manifests, status string) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	h := &harness{t: t, rt: rt, manifests: manifests, status: store.Status{Dir: status}, cancel: cancel, done: make(chan error, 1)}
	c := controller.New(rt, controller.Options{ManifestsDir: manifests, StatusDir: status, Resync: time.Second, Prune: false, Debounce: 100 * time.Millisecond})
	go func() { h.done <- c.Run(testenvLogger(t, ctx)) }()
	t.Cleanup(h.stop)
	return h
}
