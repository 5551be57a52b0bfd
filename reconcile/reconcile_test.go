package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine/enginetest"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/plan"
)

// mapSource is a Source of fixed entries.
type mapSource map[string]*v1.ManifestEntry

func (m mapSource) Lookup(name string) *v1.ManifestEntry { return m[name] }

// fixture is a reconciler over the fake engine, an OVIS prefix with an
// ldmsd, and a manifest of n sampler daemons.
type fixture struct {
	t   *testing.T
	rt  *enginetest.Fake
	r   *Reconciler
	src mapSource
	dir string
	// status is the reconciler's status store and event sink.
	status store.Status
	// now is the reconciler's clock: tests move it, so no outcome
	// depends on how fast the machine runs the reconciles.
	now time.Time
}

// advance moves the fixture's clock on by d.
func (f *fixture) advance(d time.Duration) { f.now = f.now.Add(d) }

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ovis", "sbin"), 0o755)
	os.WriteFile(filepath.Join(dir, "ovis", "sbin", "ldmsd"), []byte("#!/bin/true\n"), 0o755)
	rt, src := enginetest.NewFake(), mapSource{}
	f := &fixture{t: t, rt: rt, src: src, dir: dir, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		status: store.Status{Dir: filepath.Join(dir, "status")}}
	f.r = &Reconciler{Runtime: rt, Source: src, Status: f.status, Events: f.status, Prune: true}
	f.r.Now = func() time.Time { return f.now }
	return f
}

func (f *fixture) manifest(name string, hosts []string, env string) {
	f.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %s}\nspec:\n  ovis_prefix: %s\n  services: [sshd, ldmsd]\n  daemons:\n", name, filepath.Join(f.dir, "ovis"))
	for _, h := range hosts {
		fmt.Fprintf(&b, "  - {host: %s, listen_port: 10000, env: [%s], config: [\"load name=meminfo\"]}\n", h, env)
	}
	file := filepath.Join(f.dir, name+".yaml")
	docs := v1.Load(file, []byte(b.String()))
	if err := v1.Errors(docs).Err(); err != nil {
		f.t.Fatal(err)
	}
	f.src[name] = &v1.ManifestEntry{Name: name, File: file, Cluster: docs[0].Cluster}
}

// manifestYAML declares cluster name with spec, given as YAML lines
// under spec: after its ovis_prefix.
func (f *fixture) manifestYAML(name, spec string) {
	f.t.Helper()
	m := fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %s}\nspec:\n  ovis_prefix: %s\n%s", name, filepath.Join(f.dir, "ovis"), spec)
	file := filepath.Join(f.dir, name+".yaml")
	docs := v1.Load(file, []byte(m))
	if err := v1.Errors(docs).Err(); err != nil {
		f.t.Fatal(err)
	}
	f.src[name] = &v1.ManifestEntry{Name: name, File: file, Cluster: docs[0].Cluster}
}

func (f *fixture) reconcile(name string) *v1.LDMSDCluster {
	f.t.Helper()
	if _, err := f.r.Reconcile(f.t.Context(), name); err != nil {
		f.t.Fatalf("Reconcile(%s) = %v", name, err)
	}
	st, err := f.r.Status.Read(name)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func TestReconcileConvergesThenIdles(t *testing.T) {
	f := newFixture(t)
	f.manifest("c", []string{"a-1", "a-2"}, "X=1")
	st := f.reconcile("c")
	if st.Status.Phase != v1.PhaseReady || st.Metadata.Generation != 1 || st.Status.ObservedGeneration != 1 {
		t.Fatalf("first reconcile: phase %s gen %d observed %d, want Ready 1 1; %+v", st.Status.Phase, st.Metadata.Generation, st.Status.ObservedGeneration, st.Status.Conditions)
	}
	if got := f.rt.Mutations(); got["createContainer"] != 3 || got["createNetwork"] != 1 || got["start"] != 5 {
		t.Errorf("first reconcile mutations = %v, want 3 containers, 1 network, 5 daemons (3 sshd, 2 ldmsd)", got)
	}
	// A resync with nothing changed changes nothing, execs nothing, and
	// probes each node once.
	f.rt.ResetCalls()
	st = f.reconcile("c")
	if got := f.rt.Mutations(); len(got) != 0 {
		t.Errorf("idle reconcile mutations = %v, want none", got)
	}
	if calls := f.rt.Calls(); calls["top"] != 3 || calls["check"] != 0 || calls["read"] != 0 {
		t.Errorf("idle reconcile calls = %v, want 3 top and no exec", calls)
	}
	if st.Metadata.Generation != 1 {
		t.Errorf("generation after idle reconcile = %d, want 1", st.Metadata.Generation)
	}
}

func TestReconcileEnvChangeRestartsOneDaemon(t *testing.T) {
	f := newFixture(t)
	f.manifest("c", []string{"a-1", "a-2"}, "X=1")
	before := f.reconcile("c")
	// a-2 gets another env; a-1's is unchanged.
	docs := v1.Load("m.yaml", []byte(fmt.Sprintf(`apiVersion: lvc/v1
kind: LDMSDCluster
metadata: {name: c}
spec:
  ovis_prefix: %s
  services: [sshd, ldmsd]
  daemons:
  - {host: a-1, listen_port: 10000, env: [X=1], config: ["load name=meminfo"]}
  - {host: a-2, listen_port: 10000, env: [X=2], config: ["load name=meminfo"]}
`, filepath.Join(f.dir, "ovis"))))
	f.src["c"] = &v1.ManifestEntry{Name: "c", File: "m.yaml", Cluster: docs[0].Cluster}
	f.rt.ResetCalls()
	after := f.reconcile("c")
	if after.Metadata.Generation != 2 || after.Status.ObservedGeneration != 2 {
		t.Errorf("generation = %d observed %d, want 2 2", after.Metadata.Generation, after.Status.ObservedGeneration)
	}
	if got := f.rt.Mutations(); got["start"] != 1 || got["kill"] != 1 || got["createContainer"] != 0 {
		t.Errorf("mutations = %v, want one kill and one start, no container", got)
	}
	pid := func(st *v1.LDMSDCluster, node string) int {
		for _, n := range st.Status.Nodes {
			if n.Hostname == node {
				for _, d := range n.Daemons {
					if d.Name == "ldmsd" {
						return d.PID
					}
				}
			}
		}
		return 0
	}
	if pid(before, "node-1") != pid(after, "node-1") || pid(before, "node-2") == pid(after, "node-2") {
		t.Errorf("ldmsd pids node-1 %d→%d node-2 %d→%d; want only node-2's changed",
			pid(before, "node-1"), pid(after, "node-1"), pid(before, "node-2"), pid(after, "node-2"))
	}
}

func TestReconcileInvalidChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.manifest("c", []string{"a-1"}, "X=1")
	f.reconcile("c")
	f.src["c"] = &v1.ManifestEntry{Name: "c", File: "m.yaml", Errs: v1.ErrorList{{File: "m.yaml", Doc: 1, Path: "spec.daemons[0].asset", Msg: `no template "x"`}}}
	f.rt.ResetCalls()
	st := f.reconcile("c")
	if got := f.rt.Mutations(); len(got) != 0 {
		t.Errorf("mutations under an invalid manifest = %v, want none", got)
	}
	var ready v1.Condition
	for _, c := range st.Status.Conditions {
		if c.Type == v1.ConditionReady {
			ready = c
		}
	}
	if ready.Reason != "InvalidManifest" || !strings.Contains(ready.Message, "spec.daemons[0].asset") {
		t.Errorf("Ready = %+v, want InvalidManifest naming the field", ready)
	}
}

func TestReconcileAbsent(t *testing.T) {
	for _, prune := range []bool{true, false} {
		t.Run(fmt.Sprintf("prune=%v", prune), func(t *testing.T) {
			f := newFixture(t)
			f.r.Prune = prune
			f.manifest("c", []string{"a-1"}, "X=1")
			f.reconcile("c")
			delete(f.src, "c")
			if _, err := f.r.Reconcile(t.Context(), "c"); err != nil {
				t.Fatal(err)
			}
			cs, _ := f.rt.Containers(t.Context(), "c")
			ns, _ := f.rt.Networks(t.Context(), "c")
			st, _ := f.r.Status.Read("c")
			if prune && (len(cs) != 0 || len(ns) != 0 || st != nil) {
				t.Errorf("after prune: %d containers, %d networks, status %v; want none", len(cs), len(ns), st != nil)
			}
			if !prune {
				if len(cs) != 2 || len(ns) != 1 {
					t.Errorf("without prune: %d containers, %d networks; want 2 and 1", len(cs), len(ns))
				}
				if st == nil || st.Status.Conditions[len(st.Status.Conditions)-1].Reason == "" {
					t.Fatalf("without prune: status %v", st)
				}
				found := false
				for _, c := range st.Status.Conditions {
					found = found || c.Reason == "Orphaned"
				}
				if !found {
					t.Errorf("without prune: conditions %+v, want Orphaned", st.Status.Conditions)
				}
			}
		})
	}
}

// graceSource keeps every undeclared name within its grace.
type graceSource struct{ mapSource }

func (graceSource) PruneIn(string) time.Duration { return time.Minute }

func TestReconcileAbsentWithinGraceLeavesCluster(t *testing.T) {
	f := newFixture(t)
	f.manifest("c", []string{"a-1"}, "X=1")
	f.reconcile("c")
	delete(f.src, "c")
	f.r.Source = graceSource{f.src}
	f.rt.ResetCalls()
	res, err := f.r.Reconcile(t.Context(), "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.rt.Mutations(); len(got) != 0 {
		t.Errorf("reconcile within the prune grace: mutations %v, want none", got)
	}
	if res.RequeueAfter != time.Minute {
		t.Errorf("RequeueAfter = %v, want the grace left (1m)", res.RequeueAfter)
	}
}

func TestReconcileDeadDaemonRestartsWithBackoff(t *testing.T) {
	f := newFixture(t)
	f.manifest("c", []string{"a-1"}, "X=1")
	f.reconcile("c")
	kill := func() { f.rt.Kill("ldmsd") }
	kill()
	st := f.reconcile("c")
	d := st.Status.Nodes[0].Daemons[1]
	if d.Name != "ldmsd" || d.State != v1.DaemonRunning || d.Restarts != 1 {
		t.Fatalf("after one death: %+v, want ldmsd Running restarts 1", d)
	}
	// A second death right away waits for the backoff, also through
	// other reconciles meanwhile (a Docker event, a resync).
	kill()
	for i := range 3 {
		f.rt.ResetCalls()
		st = f.reconcile("c")
		if d := st.Status.Nodes[0].Daemons[1]; d.State != v1.DaemonBackOff || f.rt.Calls()["start"] != 0 {
			t.Fatalf("reconcile %d after a second quick death: %+v, %d starts; want BackOff, none", i+1, d, f.rt.Calls()["start"])
		}
	}
	// Once the backoff is over, it starts again and counts the restart.
	f.advance(time.Minute)
	st = f.reconcile("c")
	if d := st.Status.Nodes[0].Daemons[1]; d.State != v1.DaemonRunning || d.Restarts != 2 || d.QuickDeaths != 2 {
		t.Errorf("after the backoff: %+v, want Running restarts 2 quickDeaths 2", d)
	}
	// A death after a stable run starts a new count: at once again.
	f.advance(time.Minute)
	kill()
	st = f.reconcile("c")
	if d := st.Status.Nodes[0].Daemons[1]; d.State != v1.DaemonRunning || d.Restarts != 3 || d.QuickDeaths != 1 {
		t.Errorf("after a death following a stable run: %+v, want Running restarts 3 quickDeaths 1", d)
	}
}

func TestReconcileRestartNeverStaysExited(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", `  services: [ldmsd]
  daemons:
  - {host: a-1, listen_port: 10000, restart: never, config: ["load name=meminfo"]}
`)
	f.reconcile("c")
	f.rt.Kill("ldmsd")
	for i := range 3 {
		f.rt.ResetCalls()
		st := f.reconcile("c")
		if d := st.Status.Nodes[0].Daemons[0]; d.State != v1.DaemonExited || f.rt.Calls()["start"] != 0 {
			t.Fatalf("reconcile %d after its exit: %+v, %d starts; want Exited, none", i+1, d, f.rt.Calls()["start"])
		}
	}
}

func TestReconcileStartsSlurmctldBeforeSlurmd(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", `  services: [munged, slurm]
  daemons:
  - {host: s-1, type: sampler}
  - {host: s-2, type: sampler}
`)
	// slurmctld is slow to start: without waiting for it, the slurmd
	// would start first.
	f.rt.SetSlow("slurmctld", 50*time.Millisecond)
	f.reconcile("c")
	log := f.rt.Log()
	ctld := slices.Index(log, "slurmctld node-3")
	for _, n := range []string{"node-1", "node-2"} {
		if i := slices.Index(log, "slurmd "+n); ctld < 0 || i < ctld {
			t.Errorf("slurmd on %s started at %d, slurmctld at %d: %q", n, i, ctld, log)
		}
	}
	// Once it runs, a slurmd restart does not wait for it.
	f.rt.ResetCalls()
	f.reconcile("c")
	if f.rt.Calls()["check"] != 0 {
		t.Errorf("idle reconcile ran %d listening checks, want 0", f.rt.Calls()["check"])
	}
}

// Several munged on a node are told apart by their command lines, which
// the process table shows without the setpriv that starts them.
func TestReconcileFindsEachMungedDomain(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", `  nodes:
  - hostname: agg
    daemons:
    - {name: munged1, type: munged, dom: dom1}
    - {name: munged2, type: munged, dom: dom2}
`)
	st := f.reconcile("c")
	for _, d := range st.Status.Nodes[0].Daemons {
		if d.State != v1.DaemonRunning || d.PID == 0 {
			t.Errorf("%s = %s pid %d (%s), want running", d.Name, d.State, d.PID, d.LastError)
		}
	}
	if n := f.rt.Calls()["start"]; n != 2 {
		t.Errorf("%d starts, want 2", n)
	}
}

// restart: manual: lvc readies the nodes for their daemons (/run/sshd)
// and starts none; it reports one the user starts, and leaves it down when
// it dies.
func TestReconcileRestartManualStartsNothing(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", `  restart: manual
  nodes:
  - hostname: agg
    daemons:
    - {name: sshd, type: sshd}
    - {name: agg, type: ldmsd, listen: [{port: 10000, xprt: sock}]}
`)
	st := f.reconcile("c")
	if n := f.rt.Calls()["start"]; n != 0 {
		t.Errorf("%d daemon starts, want none", n)
	}
	for _, d := range st.Status.Nodes[0].Daemons {
		if d.State != v1.DaemonNotStarted {
			t.Errorf("%s = %s, want %s", d.Name, d.State, v1.DaemonNotStarted)
		}
	}
	if c := v1.FindCondition(st.Status.Conditions, v1.ConditionReady); c == nil || c.Status != v1.ConditionTrue {
		t.Errorf("Ready = %+v, want True: lvc waits for no daemon it does not start", c)
	}
	p, err := plan.Build(f.src["c"].Cluster)
	if err != nil {
		t.Fatal(err)
	}
	if pre := manualPre(p.Node("agg")); !strings.Contains(pre, "mkdir -p /run/sshd") {
		t.Errorf("the files' exec runs %q after them, want sshd's preparation (/run/sshd)", pre)
	}
	c, _ := f.rt.Container("c-1")
	if err := f.rt.Start(t.Context(), c.ID, []string{"sh", "-c", "exec /usr/sbin/sshd -D", "user"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if d := f.reconcile("c").Daemon("agg", "sshd"); d == nil || d.State != v1.DaemonRunning || d.PID == 0 {
		t.Errorf("sshd the user started = %+v, want Running with its PID", d)
	}
	f.rt.Kill("sshd")
	f.rt.ResetCalls()
	if d := f.reconcile("c").Daemon("agg", "sshd"); d == nil || d.State != v1.DaemonNotStarted || f.rt.Calls()["start"] != 0 {
		t.Errorf("sshd after it died = %+v, %d starts; want NotStarted, none", d, f.rt.Calls()["start"])
	}
}

// spec.ipv6 gives the network IPv6, and /etc/hosts the nodes' IPv6
// addresses, with localhost ::1 alone, as ldms-test writes it.
func TestReconcileIPv6NetworkAndHosts(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", "  ipv6: true\n  nodes:\n  - hostname: a\n    daemons: [{name: sshd, type: sshd}]\n  - hostname: b\n    aliases: [bee]\n    daemons: [{name: sshd, type: sshd}]\n")
	if st := f.reconcile("c"); !st.IsReady() {
		t.Fatalf("phase %s, want Ready: %+v", st.Status.Phase, st.Status.Conditions)
	}
	nets, _ := f.rt.Networks(t.Context(), "c")
	if len(nets) != 1 || !nets[0].IPv6 {
		t.Fatalf("networks %+v, want one with IPv6", nets)
	}
	cs, _ := f.rt.Containers(t.Context(), "c")
	addr := map[string]string{}
	for _, c := range cs {
		addr[c.Node] = c.IPv6
	}
	want := "::1 localhost ip6-localhost ip6-loopback\n" + addr["a"] + " a\n" + addr["b"] + " b bee\n"
	for _, c := range cs {
		if c.IPv6 == "" {
			t.Errorf("%s has no IPv6 address", c.Name)
		}
		if got := string(f.rt.Files(c.ID)["/etc/hosts"]); got != want {
			t.Errorf("%s: /etc/hosts\n%s\nwant\n%s", c.Name, got, want)
		}
	}
}

// A node's atstart script is written to /atstart.sh and run with its
// first files, before any daemon starts; a node without one runs none.
func TestReconcileAtstartRunsWithTheFiles(t *testing.T) {
	f := newFixture(t)
	script := filepath.Join(f.dir, "atstart.sh")
	if err := os.WriteFile(script, []byte("echo hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var calls []string // "NODE write" or "NODE start", in order
	f.rt.SetHook(func(_ context.Context, c enginetest.Call) error {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case c.Op == "Exec" && slices.Equal(c.Argv, []string{"sh", "-s"}):
			calls = append(calls, c.Node+" write")
		case c.Op == "Start":
			calls = append(calls, c.Node+" start")
		}
		return nil
	})
	f.manifestYAML("c", "  nodes:\n  - hostname: a\n    daemons: [{name: sshd, type: sshd}]\n  - hostname: b\n    atstart: "+script+"\n    daemons: [{name: sshd, type: sshd}]\n")
	if st := f.reconcile("c"); !st.IsReady() {
		t.Fatalf("phase %s, want Ready: %+v", st.Status.Phase, st.Status.Conditions)
	}
	mu.Lock()
	order := slices.Clone(calls)
	mu.Unlock()
	if i, j := slices.Index(order, "b write"), slices.Index(order, "b start"); i < 0 || j < i {
		t.Errorf("calls %q: want b's files written before its daemons start", order)
	}
	cs, _ := f.rt.Containers(t.Context(), "c")
	for _, c := range cs {
		scripts := f.rt.Scripts(c.ID)
		ran := len(scripts) > 0 && strings.Contains(scripts[0], plan.AtstartRun)
		if want := c.Node == "b"; ran != want {
			t.Errorf("%s: atstart runs with the first files: %v, want %v", c.Node, ran, want)
		}
		if got, want := string(f.rt.Files(c.ID)[plan.AtstartPath]), map[string]string{"b": "echo hello\n"}[c.Node]; got != want {
			t.Errorf("%s: %s = %q, want %q", c.Node, plan.AtstartPath, got, want)
		}
	}
}

// A cluster whose spec turns ipv6 on after its network was made says so:
// the network is not remade under its containers.
func TestReconcileIPv6ChangeIsReported(t *testing.T) {
	f := newFixture(t)
	nodes := "  nodes:\n  - hostname: a\n    daemons: [{name: sshd, type: sshd}]\n"
	f.manifestYAML("c", nodes)
	if st := f.reconcile("c"); !st.IsReady() {
		t.Fatalf("phase %s, want Ready", st.Status.Phase)
	}
	f.manifestYAML("c", "  ipv6: true\n"+nodes)
	st := f.reconcile("c")
	if c := st.Condition(v1.ConditionNetworkReady); c == nil || c.Status != v1.ConditionFalse || c.Reason != "IPv6Differs" || !strings.Contains(c.Message, "lvc delete") {
		t.Errorf("NetworkReady = %+v, want False IPv6Differs telling to delete and up again", c)
	}
	if got := f.rt.Mutations()["createNetwork"]; got != 1 {
		t.Errorf("%d networks made, want the one", got)
	}
}
