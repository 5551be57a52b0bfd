package chaos_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/plan"
)

// EnvChaos set to 1 runs the suites of this package; they restart
// daemons, remove containers and networks, and (the matrix's last case)
// restart the engine itself.
const EnvChaos = "LVC_CHAOS"

func needChaos(t *testing.T) {
	t.Helper()
	if os.Getenv(EnvChaos) != "1" {
		t.Skipf("fault injection on the real engine: run with %s=1 (make chaos, make soak)", EnvChaos)
	}
}

// root is the module root, from this package's directory.
const root = "../.."

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := store.WriteFileAtomic(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wanted is what a converged cluster has: its plan's nodes and the
// daemons each runs.
type wanted struct {
	name    string
	nodes   []string            // hostnames
	daemons map[string][]string // hostname → daemon names (sshd, munged, slurmd, slurmctld, ldmsd)
}

func wantedOf(t *testing.T, file, content string) wanted {
	t.Helper()
	docs := v1.Load(file, []byte(content))
	if len(docs) != 1 || len(docs[0].Errs) > 0 {
		t.Fatalf("manifest %s: %v", file, v1.Errors(docs))
	}
	p, err := plan.Build(docs[0].Cluster)
	if err != nil {
		t.Fatal(err)
	}
	w := wanted{name: p.Cluster, daemons: map[string][]string{}}
	for _, n := range p.Nodes {
		w.nodes = append(w.nodes, n.Hostname)
		var ds []string
		for _, d := range n.Daemons {
			ds = append(ds, d.Name)
		}
		w.daemons[n.Hostname] = ds
	}
	return w
}

// snapshot is a converged cluster as observed.
type snapshot struct {
	gen        int64
	network    string
	containers map[string]string // hostname → container ID
	ips        map[string]string
	pids       map[string]int // node/daemon → host PID
	restarts   map[string]int
	status     *v1.LDMSDCluster
}

// check compares the status file with the engine. It returns the
// snapshot, or why the cluster has not converged: the status must say
// Ready for its generation; exactly one running container per node and
// one network carry the cluster's label (nothing leaked or doubled);
// every node's container ID and IP in the status are the live ones; every
// daemon is Running there with a PID that the container's process table
// shows for that program, and no program runs twice.
func check(ctx context.Context, rt engine.Runtime, st store.Status, w wanted) (snapshot, string) {
	s := snapshot{containers: map[string]string{}, ips: map[string]string{}, pids: map[string]int{}, restarts: map[string]int{}}
	c, err := st.Read(w.name)
	switch {
	case err != nil:
		return s, "status: " + err.Error()
	case c == nil || c.Status == nil:
		return s, "no status file"
	}
	s.status, s.gen = c, c.Metadata.Generation
	ready := v1.Condition{}
	for _, cd := range c.Status.Conditions {
		if cd.Type == v1.ConditionReady {
			ready = cd
		}
	}
	if c.Status.Phase != v1.PhaseReady || ready.Status != v1.ConditionTrue || c.Status.ObservedGeneration != c.Metadata.Generation {
		return s, fmt.Sprintf("status phase %s, Ready %s (%s: %s), generation %d observed %d", c.Status.Phase, ready.Status, ready.Reason, ready.Message, c.Metadata.Generation, c.Status.ObservedGeneration)
	}
	cs, err := rt.Containers(ctx, w.name)
	if err != nil {
		return s, err.Error()
	}
	ns, err := rt.Networks(ctx, w.name)
	if err != nil {
		return s, err.Error()
	}
	if len(cs) != len(w.nodes) || len(ns) != 1 {
		return s, fmt.Sprintf("%d containers and %d networks labelled for the cluster, want %d and 1", len(cs), len(ns), len(w.nodes))
	}
	s.network = ns[0].ID
	live := map[string]engine.Container{}
	for _, ct := range cs {
		if _, dup := live[ct.Node]; dup {
			return s, "two containers for " + ct.Node
		}
		live[ct.Node] = ct
	}
	byNode := map[string]v1.NodeStatus{}
	for _, n := range c.Status.Nodes {
		byNode[n.Hostname] = n
	}
	for _, node := range w.nodes {
		ct, ok := live[node]
		if !ok || !ct.Running || ct.IP == "" {
			return s, fmt.Sprintf("%s: container %+v not running on the network", node, ct)
		}
		ns, ok := byNode[node]
		if !ok || ns.ContainerID == "" || !strings.HasPrefix(ct.ID, ns.ContainerID) || ns.IP != ct.IP {
			return s, fmt.Sprintf("%s: status says container %s at %s, the engine %.12s at %s", node, ns.ContainerID, ns.IP, ct.ID, ct.IP)
		}
		s.containers[node], s.ips[node] = ct.ID, ct.IP
		procs, err := rt.Top(ctx, ct.ID)
		if err != nil {
			return s, err.Error()
		}
		exe := map[int]string{}
		for _, p := range procs {
			exe[p.PID] = engine.Program(p.Command)
		}
		top := map[string]int{} // top-level processes per program
		for _, p := range procs {
			if e := exe[p.PID]; e != exe[p.PPID] {
				top[e]++
			}
		}
		for _, d := range w.daemons[node] {
			var ds *v1.DaemonStatus
			for i := range ns.Daemons {
				if ns.Daemons[i].Name == d {
					ds = &ns.Daemons[i]
				}
			}
			key := node + "/" + d
			switch {
			case ds == nil:
				return s, key + ": not in the status"
			case ds.State != "Running" || ds.PID == 0:
				return s, fmt.Sprintf("%s: status %s pid %d", key, ds.State, ds.PID)
			case exe[ds.PID] != d:
				return s, fmt.Sprintf("%s: status pid %d is %q in the process table", key, ds.PID, exe[ds.PID])
			case top[d] != 1:
				return s, fmt.Sprintf("%s: %d copies run", key, top[d])
			}
			s.pids[key], s.restarts[key] = ds.PID, ds.Restarts
		}
	}
	return s, ""
}

// restarted lists the daemons whose PID differs between two snapshots.
func restarted(before, after snapshot) []string {
	var out []string
	for k, pid := range after.pids {
		if before.pids[k] != pid {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// onNode keeps the keys of node's daemons.
func onNode(keys []string, node string) (on, off []string) {
	for _, k := range keys {
		if strings.HasPrefix(k, node+"/") {
			on = append(on, k)
		} else {
			off = append(off, k)
		}
	}
	return on, off
}

func list(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}

// engineUp tells whether the engine answers.
func engineUp(ctx context.Context, rt *swarm.Engine) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := rt.Client().Ping(ctx)
	return err == nil
}

// procStatus reads a process's resident memory (KiB) and open descriptors.
func procStatus(pid int) (rssKiB, fds int, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			fmt.Sscanf(strings.TrimSpace(v), "%d", &rssKiB)
		}
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, 0, err
	}
	return rssKiB, len(ents), nil
}
