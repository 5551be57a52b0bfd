package chaos_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/chaos"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// EnvSoakDuration bounds the soak's fault injection (a Go duration);
// default 10m.
const EnvSoakDuration = "LVC_SOAK_DURATION"

// soakManifest is a cluster of 4 plain daemons (5 nodes) running sshd and
// munged.
func soakManifest(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata:\n  name: %s\nspec:\n  image: %s\n  services: [sshd, munged]\n  daemons:\n", name, testenv.Image())
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, "  - host: h-%d\n", i)
	}
	return b.String()
}

// usage is the controller's resident memory and open descriptors.
type usage struct{ rssKiB, fds int }

func (u usage) String() string {
	return fmt.Sprintf("%.1f MiB RSS, %d fds", float64(u.rssKiB)/1024, u.fds)
}

// TestChaosSoak runs 8 clusters of 5 nodes under one lvc-controller while
// random daemons are killed and random containers removed, for
// LVC_SOAK_DURATION; then every cluster must be Ready with exactly its
// objects, the controller's memory and descriptors flat, and after the
// manifests are removed nothing may be left. It writes the Soak section
// of docs/reliability.md.
func TestChaosSoak(t *testing.T) {
	needChaos(t)
	duration := 10 * time.Minute
	if v := os.Getenv(EnvSoakDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", EnvSoakDuration, v, err)
		}
		duration = d
	}
	rt := testenv.Engine(t)
	bin := testenv.BuildController(t)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	os.MkdirAll(manifests, 0o755)
	st := store.Status{Dir: status}
	var names []string
	wants := map[string]wanted{}
	for range 8 {
		n := testenv.ClusterName(t, rt)
		names = append(names, n)
		file := filepath.Join(manifests, n+".yaml")
		wants[n] = wantedOf(t, file, soakManifest(n))
	}
	ctrl := testenv.NewController(t, bin, manifests, status, "--resync", "30s")
	ctrl.Start()
	began := time.Now()
	for _, n := range names {
		write(t, filepath.Join(manifests, n+".yaml"), soakManifest(n))
	}
	// allConverged waits until every cluster passes check.
	allConverged := func(timeout time.Duration) (map[string]snapshot, time.Duration) {
		t.Helper()
		start := time.Now()
		snaps := map[string]snapshot{}
		why := ""
		for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			why = ""
			for _, n := range names {
				s, msg := check(t.Context(), rt, st, wants[n])
				if msg != "" {
					why = n + ": " + msg
					break
				}
				snaps[n] = s
			}
			if why == "" {
				return snaps, time.Since(start)
			}
		}
		t.Fatalf("clusters not converged within %s: %s\ncontroller log:\n%s", timeout, why, ctrl.Tail(40))
		return nil, 0
	}
	allConverged(10 * time.Minute)
	upIn := time.Since(began)
	t.Logf("8 clusters of 5 nodes Ready in %.1fs", upIn.Seconds())
	measure := func() usage {
		t.Helper()
		time.Sleep(5 * time.Second) // a quiet moment
		rss, fds, err := procStatus(ctrl.PID())
		if err != nil {
			t.Fatal(err)
		}
		return usage{rss, fds}
	}
	first := measure()
	t.Logf("controller at start: %s", first)

	// Faults: every 2-6 s one of: kill -9 a random daemon of a random
	// node (3 in 4), docker rm -f a random node (1 in 4).
	kills, removals := 0, 0
	peak := first
	lastSample := time.Now()
	stop := time.Now().Add(duration)
	for time.Now().Before(stop) {
		n := names[rand.IntN(len(names))]
		node := wants[n].nodes[rand.IntN(len(wants[n].nodes))]
		cs, err := rt.Containers(t.Context(), n)
		if err != nil {
			t.Fatal(err)
		}
		id := ""
		for _, c := range cs {
			if c.Node == node {
				id = c.ID
			}
		}
		switch {
		case id == "": // being re-created: try another
		case rand.IntN(4) == 0:
			if err := rt.RemoveContainer(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			removals++
		default:
			ds := wants[n].daemons[node]
			d := ds[rand.IntN(len(ds))]
			if _, err := rt.Exec(t.Context(), id, engine.ExecOptions{Argv: []string{"pkill", "-KILL", "-x", d}}); err == nil {
				kills++
			}
		}
		if time.Since(lastSample) > 20*time.Second {
			if rss, fds, err := procStatus(ctrl.PID()); err == nil {
				peak.rssKiB, peak.fds = max(peak.rssKiB, rss), max(peak.fds, fds)
			}
			lastSample = time.Now()
		}
		time.Sleep(time.Duration(2000+rand.IntN(4000)) * time.Millisecond)
	}
	if !ctrl.Running() {
		t.Fatalf("the controller exited:\n%s", ctrl.Tail(40))
	}
	_, settle := allConverged(10 * time.Minute)
	last := measure()
	t.Logf("after %s: %d daemon kills, %d container removals; all Ready %.1fs after the last fault; controller %s (peak %s)",
		duration, kills, removals, settle.Seconds(), last, peak)

	// Exactly the objects of the 8 clusters, none other of this run.
	leaked := 0
	for _, n := range names {
		cs, _ := rt.Containers(t.Context(), n)
		ns, _ := rt.Networks(t.Context(), n)
		leaked += abs(len(cs)-5) + abs(len(ns)-1)
	}
	// And removing the manifests removes everything.
	for _, n := range names {
		os.Remove(filepath.Join(manifests, n+".yaml"))
	}
	removeStart := time.Now()
	left := -1
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline) && left != 0; time.Sleep(500 * time.Millisecond) {
		left = 0
		for _, n := range names {
			cs, _ := rt.Containers(t.Context(), n)
			ns, _ := rt.Networks(t.Context(), n)
			left += len(cs) + len(ns)
		}
	}
	removed := time.Since(removeStart)
	ctrl.Stop()
	statusLeft, _ := st.Names()

	var b strings.Builder
	fmt.Fprintf(&b, "_Generated %s. lvc-controller built from %s, run as a process with `--resync 30s`._\n\n", chaos.Machine(t.Context()), chaos.Revision(t.Context()))
	fmt.Fprintf(&b, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| clusters | 8 × 5 nodes (4 plain daemons each, sshd and munged): 40 containers, 8 networks |\n")
	fmt.Fprintf(&b, "| all Ready from nothing | %.1f s |\n", upIn.Seconds())
	fmt.Fprintf(&b, "| fault injection | %s (`%s=%s`): %d daemons killed (SIGKILL), %d containers removed (`docker rm -f`), one every 2–6 s |\n",
		duration, EnvSoakDuration, duration, kills, removals)
	fmt.Fprintf(&b, "| all Ready after the last fault | %.1f s |\n", settle.Seconds())
	fmt.Fprintf(&b, "| objects beyond 5 containers + 1 network per cluster | %d |\n", leaked)
	fmt.Fprintf(&b, "| objects left %.1f s after the manifests were removed | %d (status files left: %d) |\n", removed.Seconds(), left, len(statusLeft))
	fmt.Fprintf(&b, "| controller at start (all Ready, quiet) | %s |\n", first)
	fmt.Fprintf(&b, "| controller at end (all Ready, quiet) | %s |\n", last)
	fmt.Fprintf(&b, "| controller peak during faults (sampled every 20 s) | %s |\n", peak)
	if err := chaos.WriteSection(filepath.Join(root, chaos.DocPath), "soak", b.String()); err != nil {
		t.Fatal(err)
	}
	if leaked != 0 || left != 0 || len(statusLeft) != 0 {
		t.Errorf("leaked %d objects while running, %d after removal, %d status files", leaked, left, len(statusLeft))
	}
	if last.fds > first.fds+10 {
		t.Errorf("open descriptors grew from %d to %d", first.fds, last.fds)
	}
}

func abs(n int) int { return max(n, -n) }
