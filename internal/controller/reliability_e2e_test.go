package controller_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// waitGone polls until cluster has no container and no network left.
func waitGone(t *testing.T, rt engine.Runtime, cluster string, timeout time.Duration) {
	t.Helper()
	testenv.Eventually(t, timeout, func() string {
		if nc, nn := countObjects(t, rt, cluster); nc != 0 || nn != 0 {
			return fmt.Sprintf("%s still has %d containers and %d networks", cluster, nc, nn)
		}
		return ""
	})
}

// A node cut off its network is repaired at once, by the network's
// disconnect event: the resync here is too slow to matter.
func TestE2ENetworkDisconnectRepairedByEvent(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	dir := t.TempDir()
	manifests := filepath.Join(dir, "clusters")
	os.MkdirAll(manifests, 0o755)
	h := startControllerResync(t, rt, manifests, filepath.Join(dir, "status"), 10*time.Minute)
	write(t, filepath.Join(manifests, name+".yaml"), manifest(name, "a-1", "a-2"))
	h.waitStatus(name, 90*time.Second, "Ready", ready(1))
	before := ids(t, rt, name)
	if err := rt.Client().NetworkDisconnect(t.Context(), name, before["node-1"], true); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h.waitStatus(name, 30*time.Second, "Ready with node-1 back on the network", func(c *v1.LDMSDCluster) bool {
		return ready(1)(c) && c.Status.Nodes[0].ContainerID != before["node-1"][:12]
	})
	t.Logf("node-1 back on the network %.1fs after the disconnect", time.Since(start).Seconds())
	if nc, nn := countObjects(t, rt, name); nc != 3 || nn != 1 {
		t.Errorf("objects = %d containers, %d networks; want 3 and 1", nc, nn)
	}
	after := ids(t, rt, name)
	if out := execOut(t, rt, after["node-3"], "getent", "hosts", "a-1"); !strings.Contains(out, "a-1") {
		t.Errorf("getent hosts a-1 on node-3 = %q", out)
	}
}

// A missing manifests directory is no information: nothing is pruned
// while it is gone, at run time or at start. An empty one prunes.
func TestE2EManifestsDirRemovedKeepsClusters(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	os.MkdirAll(manifests, 0o755)
	h := startControllerResync(t, rt, manifests, status, time.Second)
	file := filepath.Join(manifests, name+".yaml")
	write(t, file, manifest(name, "a-1"))
	h.waitStatus(name, 90*time.Second, "Ready", ready(1))
	before := ids(t, rt, name)
	kept := func(when string) {
		t.Helper()
		if got := ids(t, rt, name); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("%s: containers %v → %v, want untouched", when, before, got)
		}
		if _, nn := countObjects(t, rt, name); nn != 1 {
			t.Fatalf("%s: %d networks, want 1", when, nn)
		}
	}

	if err := os.RemoveAll(manifests); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // past the prune grace and several resyncs
	kept("directory removed")
	h.stop()
	h = startControllerResync(t, rt, manifests, status, time.Second)
	time.Sleep(4 * time.Second)
	kept("controller started without the directory")

	os.MkdirAll(manifests, 0o755)
	write(t, file, manifest(name, "a-1"))
	h.waitStatus(name, 30*time.Second, "Ready", ready(1))
	kept("directory re-created")

	// An existing, empty directory is information: the cluster goes.
	os.Remove(file)
	waitGone(t, rt, name, 60*time.Second)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Cluster "x" has containers x-1, x-2 and network x; cluster "x-1" has
// containers x-1-1, x-1-2 and network x-1, named like x's first
// container. Each is found by its exact label, and removing x leaves x-1
// alone. A cluster named like a prefix of another network's ID gets its
// own network.
func TestE2ENamesDoNotCollide(t *testing.T) {
	rt := testenv.Engine(t)
	x := "t-names-" + randomHex(3)
	y := x + "-1"
	for _, n := range []string{x, y} {
		t.Cleanup(func() { testenv.RemoveCluster(t, rt, n) })
	}
	// A network nobody labelled, whose ID's prefix names the third cluster.
	scratch, err := rt.Client().NetworkCreate(t.Context(), "t-scratch-"+randomHex(3), network.CreateOptions{Driver: "overlay", Scope: "swarm", Attachable: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context() is cancelled by the time cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := rt.Client().NetworkRemove(ctx, scratch.ID); err != nil {
			t.Errorf("cleanup: remove network %s: %v", scratch.ID, err)
		}
	})
	z := strings.TrimLeft(strings.ToLower(scratch.ID[:12]), "-_.")
	t.Cleanup(func() { testenv.RemoveCluster(t, rt, z) })

	dir := t.TempDir()
	manifests := filepath.Join(dir, "clusters")
	os.MkdirAll(manifests, 0o755)
	h := startController(t, rt, manifests, filepath.Join(dir, "status"))
	for _, n := range []string{x, y, z} {
		write(t, filepath.Join(manifests, n+".yaml"), manifest(n, "h-1"))
	}
	for _, n := range []string{x, y, z} {
		h.waitStatus(n, 90*time.Second, "Ready", ready(1))
		if nc, nn := countObjects(t, rt, n); nc != 2 || nn != 1 {
			t.Errorf("cluster %s: %d containers and %d networks, want 2 and 1", n, nc, nn)
		}
	}
	ins, err := rt.Client().NetworkInspect(t.Context(), scratch.ID, network.InspectOptions{})
	if err != nil || ins.Labels[engine.LabelCluster] != "" {
		t.Errorf("scratch network after cluster %s came up: %v, labels %v; want it there, unlabelled", z, err, ins.Labels)
	}
	cs, err := rt.Containers(t.Context(), x)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == y+"-1" || c.Name == y+"-2" {
			t.Errorf("cluster %s lists %s's container %s", x, y, c.Name)
		}
	}
	yIDs := ids(t, rt, y)
	yNet, _ := rt.Networks(t.Context(), y)

	os.Remove(filepath.Join(manifests, x+".yaml"))
	waitGone(t, rt, x, 60*time.Second)
	time.Sleep(2 * time.Second)
	if got := ids(t, rt, y); fmt.Sprint(got) != fmt.Sprint(yIDs) {
		t.Errorf("removing %s changed %s's containers: %v → %v", x, y, yIDs, got)
	}
	if n, _ := rt.Networks(t.Context(), y); len(n) != 1 || len(yNet) != 1 || n[0].ID != yNet[0].ID {
		t.Errorf("removing %s changed %s's network: %v → %v", x, y, yNet, n)
	}
	h.waitStatus(y, 10*time.Second, "still Ready", ready(1))
}

// One network per cluster: a node of one cluster can neither reach nor
// resolve another cluster's nodes, so an ldmsd listening with auth none
// is reachable from its own cluster only.
func TestE2EClustersCannotReachEachOther(t *testing.T) {
	rt, a, h := setup(t)
	b := testenv.ClusterName(t, rt)
	manifests := h.manifests
	sshd := func(m string) string { return strings.Replace(m, "  services: []\n", "  services: [sshd]\n", 1) }
	write(t, filepath.Join(manifests, a+".yaml"), sshd(manifest(a, "a-host")))
	write(t, filepath.Join(manifests, b+".yaml"), sshd(manifest(b, "b-host")))
	ca := h.waitStatus(a, 90*time.Second, "Ready", ready(1))
	cb := h.waitStatus(b, 90*time.Second, "Ready", ready(1))
	aIDs, bIDs := ids(t, rt, a), ids(t, rt, b)
	// Only an answer proves a TCP path: some networks (this machine's
	// included) accept a connection to any address on the way out. sshd
	// answers with its banner at once.
	tcp := func(ip string) []string {
		return []string{"timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/" + ip + "/22 && head -c 8 <&3 | grep -q SSH-2.0"}
	}
	// Within a cluster everything works: the probes can succeed.
	bIP, aIP := cb.Status.Nodes[0].IP, ca.Status.Nodes[0].IP
	for _, probe := range [][]string{{"ping", "-c", "1", "-W", "2", bIP}, tcp(bIP), {"getent", "hosts", "b-host"}} {
		if rc, out := run(t, rt, bIDs["node-2"], probe...); rc != 0 {
			t.Fatalf("control: %s on %s's node-2 = %d %q, want success", engine.ShellQuote(probe), b, rc, out)
		}
	}
	// Across clusters nothing does, in either direction.
	for _, tc := range []struct {
		from, to string
		id, ip   string
		alias    string
	}{{a, b, aIDs["node-1"], bIP, "b-host"}, {b, a, bIDs["node-1"], aIP, "a-host"}} {
		for _, probe := range [][]string{
			{"ping", "-c", "1", "-W", "2", tc.ip},
			tcp(tc.ip),
			{"getent", "hosts", tc.alias},
			{"getent", "hosts", tc.to + "-1"},
			{"getent", "hosts", tc.to + "-2"},
		} {
			if rc, out := run(t, rt, tc.id, probe...); rc == 0 {
				t.Errorf("%s on %s's node-1 = %d %q: reaches cluster %s", engine.ShellQuote(probe), tc.from, rc, out, tc.to)
			}
		}
	}
}

// A manifest cut short mid-line (a write in progress, a disk full) can
// still read as a valid manifest of a smaller cluster: it is reported as
// InvalidManifest and never applied.
func TestE2ETruncatedManifestIsNotApplied(t *testing.T) {
	rt, name, h := setup(t)
	manifests := h.manifests
	file := filepath.Join(manifests, name+".yaml")
	good := manifest(name, "s-1", "s-2", "s-3")
	write(t, file, good)
	h.waitStatus(name, 90*time.Second, "Ready", ready(1))
	before := ids(t, rt, name)

	cut := good[:strings.Index(good, "  - host: s-2")-1] // "...  - host: s-1", no newline: one daemon
	write(t, file, cut)
	c := h.waitStatus(name, 30*time.Second, "InvalidManifest", func(c *v1.LDMSDCluster) bool {
		return condition(c, v1.ConditionReady).Reason == "InvalidManifest"
	})
	if msg := condition(c, v1.ConditionReady).Message; !strings.Contains(msg, "newline") {
		t.Errorf("InvalidManifest message = %q, want it to say why", msg)
	}
	time.Sleep(3 * time.Second) // past the prune grace and a resync
	if got := ids(t, rt, name); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("a truncated manifest was applied: %v → %v", before, got)
	}
	write(t, file, good)
	h.waitStatus(name, 30*time.Second, "Ready again", ready(1))
	if got := ids(t, rt, name); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("containers changed: %v → %v", before, got)
	}
}
