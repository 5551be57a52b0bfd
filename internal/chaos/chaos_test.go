package chaos_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/chaos"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/testenv"
	"github.com/ovis-hpc/lvc/reconcile"
)

// resync is the controller's periodic resync in the matrix: well above
// every time to converge, so that repairs shown are driven by events.
const resync = "60s"

// matrix is one fault-injection run on one cluster.
type matrix struct {
	t         *testing.T
	rt        *swarm.Engine
	ctrl      *testenv.Controller
	st        store.Status
	manifests string
	file      string
	current   string // the manifest as last written, valid
	want      wanted
	rows      []row
}

// row is one line of the table in docs/reliability.md.
type row struct {
	name, expected, observed string
	converge                 time.Duration
	ok                       bool
}

// converge polls check until it passes and extra (if any) agrees, from
// start on. It returns the snapshot and the time from start.
func (m *matrix) converge(start time.Time, timeout time.Duration, extra func(snapshot) string) (snapshot, time.Duration, error) {
	var why string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(150 * time.Millisecond) {
		s, msg := check(m.t.Context(), m.rt, m.st, m.want)
		if msg == "" && extra != nil {
			msg = extra(s)
		}
		if msg == "" {
			return s, time.Since(start), nil
		}
		why = msg
	}
	return snapshot{}, 0, fmt.Errorf("not converged within %s: %s", timeout, why)
}

// baseline waits for the cluster to be converged before a case.
func (m *matrix) baseline() snapshot {
	m.t.Helper()
	s, _, err := m.converge(time.Now(), 3*time.Minute, nil)
	if err != nil {
		m.t.Fatalf("before the case: %v\ncontroller log:\n%s", err, m.ctrl.Tail(40))
	}
	return s
}

// untouched says how s differs from before in containers, network and
// daemons, or "".
func untouched(before, s snapshot) string {
	if s.network != before.network {
		return "network re-created"
	}
	for n, id := range before.containers {
		if s.containers[n] != id {
			return n + " re-created"
		}
	}
	if r := restarted(before, s); len(r) > 0 {
		return "restarted: " + list(r)
	}
	return ""
}

// holdsFor checks that the cluster stays as before for d.
func (m *matrix) holdsFor(before snapshot, d time.Duration) string {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		cs, err := m.rt.Containers(m.t.Context(), m.want.name)
		if err != nil {
			return err.Error()
		}
		ns, err := m.rt.Networks(m.t.Context(), m.want.name)
		if err != nil {
			return err.Error()
		}
		if len(cs) != len(before.containers) || len(ns) != 1 || ns[0].ID != before.network {
			return fmt.Sprintf("%d containers and %d networks", len(cs), len(ns))
		}
		for _, c := range cs {
			if before.containers[c.Node] != c.ID || !c.Running {
				return c.Node + " changed"
			}
			procs, err := m.rt.Top(m.t.Context(), c.ID)
			if err != nil {
				return err.Error()
			}
			pids := map[int]bool{}
			for _, p := range procs {
				pids[p.PID] = true
			}
			for k, pid := range before.pids {
				if strings.HasPrefix(k, c.Node+"/") && !pids[pid] {
					return k + " (pid " + strconv.Itoa(pid) + ") is gone"
				}
			}
		}
	}
	return ""
}

func (m *matrix) count() int {
	cs, err := m.rt.Containers(m.t.Context(), m.want.name)
	if err != nil {
		m.t.Fatal(err)
	}
	return len(cs)
}

func (m *matrix) exec(id string, argv ...string) string {
	r, err := m.rt.Exec(m.t.Context(), id, engine.ExecOptions{Argv: argv})
	if err != nil {
		m.t.Fatal(err)
	}
	return strings.TrimSpace(string(r.Stdout) + string(r.Stderr))
}

// waitReason waits until the status's condition typ has reason.
func (m *matrix) waitReason(typ, reason string, timeout time.Duration) (*v1.LDMSDCluster, error) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, _ := m.st.Read(m.want.name)
		if c != nil && c.Status != nil {
			for _, cd := range c.Status.Conditions {
				if cd.Type == typ && cd.Reason == reason {
					return c, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("status condition %s never had reason %s within %s", typ, reason, timeout)
}

// condMessage is a condition's message for the table: the run's temp
// directory and cluster name shortened, at most 90 characters.
func (m *matrix) condMessage(c *v1.LDMSDCluster, typ string) string {
	for _, cd := range c.Status.Conditions {
		if cd.Type == typ {
			msg := strings.ReplaceAll(cd.Message, filepath.Dir(m.manifests)+"/", "")
			msg = strings.ReplaceAll(msg, m.want.name, "NAME")
			if r := []rune(msg); len(r) > 90 {
				msg = string(r[:90]) + "…"
			}
			return msg
		}
	}
	return ""
}

// waitGone waits until the cluster has no object and no status file.
func (m *matrix) waitGone(timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(150 * time.Millisecond) {
		cs, _ := m.rt.Containers(m.t.Context(), m.want.name)
		ns, _ := m.rt.Networks(m.t.Context(), m.want.name)
		c, _ := m.st.Read(m.want.name)
		if len(cs) == 0 && len(ns) == 0 && c == nil {
			return nil
		}
	}
	return fmt.Errorf("objects or status file left after %s", timeout)
}

// TestChaosMatrix injects faults one at a time into a Ready seed cluster
// under the real lvc-controller, and writes the table of
// docs/reliability.md. The last case restarts the engine.
func TestChaosMatrix(t *testing.T) {
	needChaos(t)
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	bin := testenv.BuildController(t)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	os.MkdirAll(manifests, 0o755)
	m := &matrix{t: t, rt: rt, st: store.Status{Dir: status}, manifests: manifests, file: filepath.Join(manifests, name+".yaml")}
	m.current = testenv.SeedManifest(t, manifests, name, "")
	m.want = wantedOf(t, m.file, m.current)
	m.ctrl = testenv.NewController(t, bin, manifests, status, "--resync", resync, "-v", "1")
	m.ctrl.Start()
	write(t, m.file, m.current)
	start := time.Now()
	if _, d, err := m.converge(start, 3*time.Minute, nil); err != nil {
		t.Fatalf("seed cluster: %v\n%s", err, m.ctrl.Tail(40))
	} else {
		t.Logf("seed cluster Ready in %.1fs", d.Seconds())
	}

	for _, c := range m.cases() {
		if c.skip != "" {
			t.Logf("%s: skipped: %s", c.name, c.skip)
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			m.t = t
			before := m.baseline()
			observed, d, err := c.run(m, before)
			r := row{name: c.name, expected: c.expected, observed: observed, converge: d, ok: err == nil}
			if err != nil {
				r.observed = "FAILED: " + err.Error()
				if observed != "" {
					r.observed += " (" + observed + ")"
				}
				t.Errorf("%v\ncontroller log:\n%s", err, m.ctrl.Tail(30))
			}
			m.rows = append(m.rows, r)
			t.Logf("%s: %s (%.1fs)", c.name, r.observed, d.Seconds())
		})
		m.t = t
	}
	if all := len(m.cases()); len(m.rows) < all {
		t.Logf("%d of %d cases ran (-run, or skipped): %s left as it is", len(m.rows), all, chaos.DocPath)
		return
	}
	if err := chaos.WriteSection(filepath.Join(root, chaos.DocPath), "chaos", m.report()); err != nil {
		t.Fatal(err)
	}
}

func (m *matrix) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "_Generated %s. Cluster: the seed example, %d containers; lvc-controller built from %s, run as a process with `--resync %s -v 1`._\n\n",
		chaos.Machine(m.t.Context()), len(m.want.nodes), chaos.Revision(m.t.Context()), resync)
	b.WriteString("| case | expected | observed | time to converge |\n|---|---|---|---|\n")
	for _, r := range m.rows {
		conv := fmt.Sprintf("%.1f s", r.converge.Seconds())
		if !r.ok {
			conv = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(r.name), cell(r.expected), cell(r.observed), conv)
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

// chaosCase is one row of the matrix.
type chaosCase struct {
	name, expected string
	skip           string
	// run injects the fault into the converged cluster before and waits
	// for convergence; it returns what it saw and the time to converge.
	run func(m *matrix, before snapshot) (string, time.Duration, error)
}

func (m *matrix) cases() []chaosCase {
	var cs []chaosCase
	noOvis := ""
	if !testenv.HaveOvis() {
		noOvis = testenv.OvisMissing()
	}
	for _, k := range []struct{ node, daemon, skip string }{
		{"node-3", "sshd", ""}, {"node-2", "munged", ""}, {"node-1", "slurmd", ""}, {"node-5", "slurmctld", ""}, {"node-3", "ldmsd", noOvis},
	} {
		cs = append(cs, chaosCase{
			name:     "kill -9 " + k.daemon + " (" + k.node + ")",
			expected: "only that daemon is started again; nothing else restarts",
			skip:     k.skip,
			run: func(m *matrix, before snapshot) (string, time.Duration, error) {
				return m.killDaemon(before, k.node, k.daemon)
			},
		})
	}
	cs = append(cs,
		chaosCase{name: "`docker rm -f` a node (node-2)", expected: "node-2 re-created with its daemons; elsewhere only daemons that resolve its address again (Slurm's, the aggregator naming it) restart", run: func(m *matrix, before snapshot) (string, time.Duration, error) {
			start := time.Now()
			if err := m.rt.RemoveContainer(m.t.Context(), before.containers["node-2"]); err != nil {
				return "", 0, err
			}
			return m.recreated(before, start, "node-2")
		}},
		chaosCase{name: "disconnect a node from the network (node-4)", expected: "node-4 re-created on the network at once (network event); elsewhere only daemons that resolve its address again restart", run: func(m *matrix, before snapshot) (string, time.Duration, error) {
			start := time.Now()
			if err := m.rt.Client().NetworkDisconnect(m.t.Context(), before.network, before.containers["node-4"], true); err != nil {
				return "", 0, err
			}
			return m.recreated(before, start, "node-4")
		}},
		chaosCase{name: "remove the network under running containers (disconnect all, remove)", expected: "a new network; every node re-created on it; Ready (time from SIGCONT)", run: (*matrix).removeNetwork},
		chaosCase{name: "20 edits of one manifest within a second (sampler-2's COMPONENT_ID)", expected: "the last edit wins: ldmsd on node-2 runs with it; no other daemon restarts; observedGeneration = generation", skip: noOvis, run: (*matrix).rapidEdits},
		chaosCase{name: "manifest replaced by a truncated file", expected: "InvalidManifest in the status; cluster untouched; Ready again once fixed", run: func(m *matrix, before snapshot) (string, time.Duration, error) {
			return m.broken(before, m.current[:len(m.current)/2])
		}},
		chaosCase{name: "manifest replaced by an empty file", expected: "InvalidManifest in the status; cluster untouched; Ready again once fixed", run: func(m *matrix, before snapshot) (string, time.Duration, error) {
			return m.broken(before, "")
		}},
		chaosCase{name: "manifests directory removed, then re-created (prune on)", expected: "a missing directory is no information: nothing pruned or restarted; unchanged once it is back", run: (*matrix).dirRemoved},
		chaosCase{name: "two manifests claim one name", expected: "the first owner keeps it: DuplicateName in the status, cluster untouched and Ready; condition gone when the other file goes", run: (*matrix).duplicate},
		chaosCase{name: "apply during delete (manifest removed, back while deleting)", expected: "the delete finishes, then the cluster is created again: Ready, 5 containers, 1 network", run: (*matrix).applyDuringDelete},
		chaosCase{name: "SIGKILL the controller mid-delete, restart it", expected: "the new controller finishes the delete: 0 containers, 0 networks, no status file", run: (*matrix).killMidDelete},
		chaosCase{name: "SIGKILL the controller mid-create, restart it", expected: "the new controller adopts what exists and completes it: Ready, no duplicates", run: (*matrix).killMidCreate},
		chaosCase{name: "stop dockerd (SIGTERM) and start it again while the controller runs", expected: "the controller reconnects its event stream and converges: containers restarted by the engine, daemons started again",
			skip: os.Getenv("LVC_CHAOS_SKIP_DOCKERD"), run: (*matrix).restartEngine},
	)
	return cs
}

func (m *matrix) killDaemon(before snapshot, node, daemon string) (string, time.Duration, error) {
	key := node + "/" + daemon
	start := time.Now()
	m.exec(before.containers[node], "pkill", "-KILL", "-x", daemon)
	s, d, err := m.converge(start, 2*time.Minute, func(s snapshot) string {
		if s.pids[key] == before.pids[key] {
			return key + " not restarted yet"
		}
		return ""
	})
	if err != nil {
		return "", 0, err
	}
	r := restarted(before, s)
	obs := fmt.Sprintf("Ready; %s pid %d → %d, restarts %d → %d; restarted: %s", key, before.pids[key], s.pids[key], before.restarts[key], s.restarts[key], list(r))
	if len(r) != 1 {
		return obs, d, fmt.Errorf("restarted %s, want only %s", list(r), key)
	}
	return obs, d, nil
}

// recreated waits for node to be a new container, and checks that the
// other nodes' daemons were left alone.
func (m *matrix) recreated(before snapshot, start time.Time, node string) (string, time.Duration, error) {
	s, d, err := m.converge(start, 2*time.Minute, func(s snapshot) string {
		if s.containers[node] == before.containers[node] {
			return node + " not re-created yet"
		}
		return ""
	})
	if err != nil {
		return "", 0, err
	}
	_, off := onNode(restarted(before, s), node)
	obs := fmt.Sprintf("Ready; %s container %.12s → %.12s, its %d daemons running; restarted elsewhere: %s", node, before.containers[node], s.containers[node], len(m.want.daemons[node]), list(off))
	// A re-created node may get another address. Daemons that resolved it
	// once must start again to reach it: Slurm's (slurmctld and slurmd
	// keep node addresses) and the aggregators (ldmsd resolves a
	// producer at prdcr_add; in the seed, agg-1 on node-3 and agg-2 on
	// node-4 name other nodes). Any other restart is a fault.
	var wrong []string
	for _, k := range off {
		if !strings.HasSuffix(k, "/slurmd") && !strings.HasSuffix(k, "/slurmctld") && k != "node-3/ldmsd" && k != "node-4/ldmsd" {
			wrong = append(wrong, k)
		}
	}
	if len(wrong) > 0 {
		return obs, d, fmt.Errorf("daemons of other nodes restarted that do not depend on %s's address: %s", node, list(wrong))
	}
	return obs, d, nil
}

func (m *matrix) removeNetwork(before snapshot) (string, time.Duration, error) {
	ctx := m.t.Context()
	// Paused, the controller cannot put re-created nodes on the network
	// between the disconnects and the removal (the engine then refuses
	// the removal); it sees the events when it goes on.
	m.ctrl.Pause()
	paused := time.Now()
	defer m.ctrl.Resume()
	for _, id := range before.containers {
		if err := m.rt.Client().NetworkDisconnect(ctx, before.network, id, true); err != nil {
			return "", 0, err
		}
	}
	// The swarm frees a network's attachments shortly after the
	// disconnects: retry until it lets the network go.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		err := m.rt.Client().NetworkRemove(ctx, before.network)
		if err == nil || strings.Contains(err.Error(), "not found") {
			break
		}
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("remove network: %w", err)
		}
	}
	removed := time.Since(paused)
	m.ctrl.Resume()
	start := time.Now()
	s, d, err := m.converge(start, 3*time.Minute, func(s snapshot) string {
		if s.network == before.network {
			return "network not replaced yet"
		}
		for n, id := range before.containers {
			if s.containers[n] == id {
				return n + " not re-created yet"
			}
		}
		return ""
	})
	if err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("network removed %.1f s after the disconnects (controller paused with SIGSTOP meanwhile, then SIGCONT); Ready; network %.12s → %.12s; all %d nodes re-created",
		removed.Seconds(), before.network, s.network, len(s.containers)), d, nil
}

func (m *matrix) rapidEdits(before snapshot) (string, time.Duration, error) {
	const from = "COMPONENT_ID=10002"
	if !strings.Contains(m.current, from) {
		return "", 0, fmt.Errorf("seed manifest has no %s", from)
	}
	events0, _ := m.st.Events(m.want.name)
	start := time.Now()
	var last string
	for i := 1; i <= 20; i++ {
		last = fmt.Sprintf("COMPONENT_ID=%d", 30000+i)
		write(m.t, m.file, strings.Replace(m.current, from, last, 1))
		if i < 20 {
			time.Sleep(45 * time.Millisecond)
		}
	}
	burst := time.Since(start)
	if burst >= time.Second {
		return "", 0, fmt.Errorf("20 edits took %s, want under a second", burst)
	}
	m.current = strings.Replace(m.current, from, last, 1)
	key := "node-2/ldmsd"
	envOf := func(s snapshot) string {
		return m.exec(s.containers["node-2"], "sh", "-c", "tr '\\0' '\\n' </proc/$(pgrep -x ldmsd)/environ | grep ^COMPONENT_ID=")
	}
	s, d, err := m.converge(start, 2*time.Minute, func(s snapshot) string {
		if s.gen == before.gen {
			return "generation unchanged"
		}
		if env := envOf(s); env != last {
			return "ldmsd on node-2 has " + env
		}
		return ""
	})
	if err != nil {
		return "", 0, err
	}
	// Let late reconciles show themselves before judging flapping.
	time.Sleep(3 * time.Second)
	s2, msg := check(m.t.Context(), m.rt, m.st, m.want)
	if msg != "" {
		return "", 0, fmt.Errorf("after settling: %s", msg)
	}
	if s2.pids[key] != s.pids[key] || s2.gen != s.gen {
		return "", 0, fmt.Errorf("still changing after convergence: %s pid %d → %d, generation %d → %d", key, s.pids[key], s2.pids[key], s.gen, s2.gen)
	}
	events1, _ := m.st.Events(m.want.name)
	restarts := 0
	for _, ev := range events1[min(len(events0), len(events1)):] {
		if ev.Object == key && ev.Reason == "Restarting" {
			restarts++
		}
	}
	_, off := onNode(restarted(before, s2), "node-2")
	other := restarted(before, s2)
	other = slicesDelete(other, key)
	obs := fmt.Sprintf("edits written in %d ms; Ready at generation %d → %d (observed %d); ldmsd on node-2 runs with %s, restarted %d time(s); other daemons restarted: %s",
		burst.Milliseconds(), before.gen, s2.gen, s2.status.Status.ObservedGeneration, last, restarts, list(other))
	if len(other) > 0 || len(off) > 0 {
		return obs, d, fmt.Errorf("unrelated daemons restarted: %s", list(other))
	}
	return obs, d, nil
}

func slicesDelete(keys []string, k string) []string {
	var out []string
	for _, x := range keys {
		if x != k {
			out = append(out, x)
		}
	}
	return out
}

// broken writes content over the manifest, checks that the status says
// InvalidManifest and the cluster stays as it is, then restores it.
func (m *matrix) broken(before snapshot, content string) (string, time.Duration, error) {
	start := time.Now()
	write(m.t, m.file, content)
	c, err := m.waitReason(v1.ConditionReady, "InvalidManifest", 30*time.Second)
	if err != nil {
		return "", 0, err
	}
	reported := time.Since(start)
	if msg := m.holdsFor(before, 4*time.Second); msg != "" { // past the prune grace and a debounce
		return "", 0, fmt.Errorf("cluster touched under a broken manifest: %s", msg)
	}
	fixed := time.Now()
	write(m.t, m.file, m.current)
	s, d, err := m.converge(fixed, time.Minute, nil)
	if err != nil {
		return "", 0, err
	}
	if msg := untouched(before, s); msg != "" {
		return "", 0, fmt.Errorf("after the fix: %s", msg)
	}
	return fmt.Sprintf("InvalidManifest after %.1f s (%q); containers and daemons untouched for 4 s; Ready %.1f s after the fix, nothing restarted",
		reported.Seconds(), m.condMessage(c, v1.ConditionReady), d.Seconds()), d, nil
}

func (m *matrix) dirRemoved(before snapshot) (string, time.Duration, error) {
	if err := os.RemoveAll(m.manifests); err != nil {
		return "", 0, err
	}
	if msg := m.holdsFor(before, 8*time.Second); msg != "" {
		return "", 0, fmt.Errorf("cluster touched while the directory was missing: %s", msg)
	}
	if c, _ := m.st.Read(m.want.name); c == nil {
		return "", 0, fmt.Errorf("status file removed while the directory was missing")
	}
	start := time.Now()
	os.MkdirAll(filepath.Join(m.manifests, "db"), 0o755)
	write(m.t, m.file, m.current)
	time.Sleep(time.Second) // a rescan
	s, d, err := m.converge(start, time.Minute, nil)
	if err != nil {
		return "", 0, err
	}
	if msg := untouched(before, s); msg != "" {
		return "", 0, fmt.Errorf("after the directory came back: %s", msg)
	}
	return "nothing pruned or restarted during 8 s without the directory; status file kept; unchanged after it came back", d, nil
}

func (m *matrix) duplicate(before snapshot) (string, time.Duration, error) {
	dup := filepath.Join(m.manifests, "0-duplicate.yaml") // sorts first: ownership must not depend on names
	other := strings.Replace(m.current, "description: LDMSD 2 level aggregation test with slurm", "description: a second claim", 1)
	start := time.Now()
	write(m.t, dup, other)
	c, err := m.waitReason(reconcile.ConditionUniqueName, "DuplicateName", 30*time.Second)
	if err != nil {
		return "", 0, err
	}
	reported := time.Since(start)
	if msg := m.holdsFor(before, 3*time.Second); msg != "" {
		return "", 0, fmt.Errorf("cluster touched by the duplicate: %s", msg)
	}
	if _, msg := check(m.t.Context(), m.rt, m.st, m.want); msg != "" {
		return "", 0, fmt.Errorf("with the duplicate: %s", msg)
	}
	msg := m.condMessage(c, reconcile.ConditionUniqueName)
	removed := time.Now()
	os.Remove(dup)
	s, cleared, err := m.converge(removed, time.Minute, func(s snapshot) string {
		for _, cd := range s.status.Status.Conditions {
			if cd.Type == reconcile.ConditionUniqueName {
				return "UniqueName condition still there"
			}
		}
		return ""
	})
	if err != nil {
		return "", 0, err
	}
	if msg := untouched(before, s); msg != "" {
		return "", 0, fmt.Errorf("after the duplicate went: %s", msg)
	}
	return fmt.Sprintf("DuplicateName after %.1f s (%q); Ready and untouched throughout; condition gone %.1f s after the duplicate was removed", reported.Seconds(), msg, cleared.Seconds()), reported, nil
}

func (m *matrix) applyDuringDelete(before snapshot) (string, time.Duration, error) {
	start := time.Now()
	os.Remove(m.file)
	n := len(before.containers)
	for deadline := time.Now().Add(30 * time.Second); n == len(before.containers); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("the delete did not start within 30 s")
		}
		n = m.count()
	}
	back := time.Now()
	write(m.t, m.file, m.current)
	s, d, err := m.converge(back, 3*time.Minute, func(s snapshot) string {
		for node, id := range before.containers {
			if s.containers[node] == id {
				return node + " is the old container"
			}
		}
		return ""
	})
	if err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("manifest back %.1f s after its removal, with %d of 5 containers left; Ready with 5 new containers and 1 network (%.12s)", back.Sub(start).Seconds(), n, s.network), d, nil
}

func (m *matrix) killMidDelete(before snapshot) (string, time.Duration, error) {
	os.Remove(m.file)
	n := len(before.containers)
	for deadline := time.Now().Add(30 * time.Second); n == len(before.containers); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("the delete did not start within 30 s")
		}
		n = m.count()
	}
	m.ctrl.Kill()
	left := m.count()
	start := time.Now()
	m.ctrl.Start()
	if err := m.waitGone(2 * time.Minute); err != nil {
		return "", 0, err
	}
	d := time.Since(start)
	// Back for the next case.
	write(m.t, m.file, m.current)
	return fmt.Sprintf("killed with %d of 5 containers left; the restarted controller removed the rest, the network and the status file", left), d, nil
}

func (m *matrix) killMidCreate(before snapshot) (string, time.Duration, error) {
	// From nothing: delete the cluster, stop watching, then create.
	os.Remove(m.file)
	if err := m.waitGone(2 * time.Minute); err != nil {
		return "", 0, err
	}
	write(m.t, m.file, m.current)
	n := 0
	for deadline := time.Now().Add(60 * time.Second); n < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("no container created within 60 s")
		}
		n = m.count()
	}
	m.ctrl.Kill() // containers are created in parallel: some may be there already
	n = m.count()
	phase := "no status yet"
	if c, _ := m.st.Read(m.want.name); c != nil && c.Status != nil {
		phase = "status " + c.Status.Phase
	}
	start := time.Now()
	m.ctrl.Start()
	_, d, err := m.converge(start, 3*time.Minute, nil)
	if err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("killed with %d of 5 containers created (%s); the restarted controller completed the cluster: Ready, 5 containers, 1 network", n, phase), d, nil
}

// restartEngine stops dockerd with SIGTERM and starts it again the way
// hack/ensure-docker.sh does, while the controller runs.
func (m *matrix) restartEngine(before snapshot) (string, time.Duration, error) {
	data, err := os.ReadFile("/var/run/docker.pid")
	if err != nil {
		return "", 0, fmt.Errorf("dockerd's pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return "", 0, err
	}
	down := time.Now()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return "", 0, fmt.Errorf("kill -TERM dockerd: %w", err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			break
		}
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("dockerd (pid %d) did not stop within 2 minutes", pid)
		}
	}
	stopped := time.Since(down)
	cmd := exec.Command(filepath.Join(root, "hack", "ensure-docker.sh"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", 0, fmt.Errorf("hack/ensure-docker.sh: %v: %s", err, out)
	}
	up := time.Now()
	for !engineUp(m.t.Context(), m.rt) {
		if time.Since(up) > time.Minute {
			return "", 0, fmt.Errorf("engine does not answer after ensure-docker.sh")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !m.ctrl.Running() {
		return "", 0, fmt.Errorf("the controller exited with the engine")
	}
	s, d, err := m.converge(up, 5*time.Minute, func(s snapshot) string {
		if len(restarted(before, s)) < len(before.pids) {
			return "daemons of the old engine run still?"
		}
		return ""
	})
	if err != nil {
		return "", 0, err
	}
	if !m.ctrl.Running() {
		return "", 0, fmt.Errorf("the controller exited")
	}
	same := 0
	for n, id := range before.containers {
		if s.containers[n] == id {
			same++
		}
	}
	return fmt.Sprintf("dockerd stopped in %.1f s, down %.1f s in all; controller kept running, %d of 5 containers kept (restarted by the engine), every daemon started again; Ready %.1f s after the engine answered",
		stopped.Seconds(), up.Sub(down).Seconds(), same, d.Seconds()), d, nil
}
