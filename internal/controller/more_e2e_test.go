package controller_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/testenv"
	"github.com/ovis-hpc/lvc/reconcile"
)

func TestE2EDuplicateNameFirstOwnerKeeps(t *testing.T) {
	rt, name, h := setup(t)
	manifests := h.manifests
	// "z" sorts after "a": ownership must not depend on file names.
	write(t, filepath.Join(manifests, "z.yaml"), manifest(name, "one-1"))
	h.waitStatus(name, 90*time.Second, "Ready", ready(1))
	write(t, filepath.Join(manifests, "a.yaml"), manifest(name, "two-1", "two-2"))
	c := h.waitStatus(name, 30*time.Second, "DuplicateName", func(c *v1.LDMSDCluster) bool {
		return condition(c, reconcile.ConditionUniqueName).Reason == "DuplicateName"
	})
	if msg := condition(c, reconcile.ConditionUniqueName).Message; !strings.Contains(msg, "a.yaml") {
		t.Errorf("DuplicateName message = %q, want it to name a.yaml", msg)
	}
	time.Sleep(2 * time.Second)
	if got := ids(t, rt, name); len(got) != 2 {
		t.Errorf("nodes = %v, want the first owner's 2 nodes", got)
	}
	// The owner goes: the other file takes the name.
	os.Remove(filepath.Join(manifests, "z.yaml"))
	h.waitStatus(name, 60*time.Second, "Ready with 3 nodes", func(c *v1.LDMSDCluster) bool {
		return ready(2)(c) && len(c.Status.Nodes) == 3 && condition(c, reconcile.ConditionUniqueName).Type == ""
	})
}

func TestE2ENoPruneReportsOrphaned(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	os.MkdirAll(manifests, 0o755)
	h := startController(t, rt, manifests, status)
	write(t, filepath.Join(manifests, name+".yaml"), manifest(name, "x-1"))
	h.waitStatus(name, 90*time.Second, "Ready", ready(1))
	h.stop()

	// A controller told not to prune keeps the cluster and says Orphaned.
	c := controllerNoPrune(t, rt, manifests, status)
	os.Remove(filepath.Join(manifests, name+".yaml"))
	c.waitStatus(name, 30*time.Second, "Orphaned", func(c *v1.LDMSDCluster) bool {
		return condition(c, v1.ConditionReady).Reason == "Orphaned"
	})
	time.Sleep(3 * time.Second)
	if nc, nn := countObjects(t, rt, name); nc != 2 || nn != 1 {
		t.Errorf("orphaned cluster objects = %d containers, %d networks; want 2 and 1", nc, nn)
	}
}

func TestE2EStoppedDaemonStaysDown(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	os.MkdirAll(manifests, 0o755)
	h := startControllerResync(t, rt, manifests, status, time.Second)
	write(t, filepath.Join(manifests, name+".yaml"), testenv.SeedManifest(t, manifests, name, ""))
	h.waitStatus(name, 120*time.Second, "Ready", ready(1))
	node, daemon := "node-3", "ldmsd" // agg-1
	if !testenv.HaveOvis() {
		node, daemon = "node-3", "sshd"
		t.Logf("stopping sshd instead of ldmsd: %s", testenv.OvisMissing())
	}
	id := ids(t, rt, name)[node]
	st := store.Status{Dir: status}
	if err := st.SetStopped(name, node+"/"+daemon, true); err != nil {
		t.Fatal(err)
	}
	run(t, rt, id, "pkill", "-x", daemon)
	h.waitStatus(name, 10*time.Second, daemon+" Stopped", func(c *v1.LDMSDCluster) bool {
		return daemonStatus(c, node, daemon).State == "Stopped"
	})
	stoppedDown := func(when string) {
		if rc, _ := run(t, rt, id, "pgrep", "-x", daemon); rc == 0 {
			t.Fatalf("%s runs again %s", daemon, when)
		}
	}
	time.Sleep(2500 * time.Millisecond) // two resyncs
	stoppedDown("after two resyncs")
	h.stop()
	h = startControllerResync(t, rt, manifests, status, time.Second)
	time.Sleep(2500 * time.Millisecond)
	stoppedDown("after a controller restart")
	c := h.waitStatus(name, 5*time.Second, "Stopped, not Failed", func(c *v1.LDMSDCluster) bool {
		return daemonStatus(c, node, daemon).State == "Stopped"
	})
	if c.Status.Phase == v1.PhaseFailed {
		t.Errorf("phase = Failed with a daemon stopped on purpose")
	}
	if err := st.SetStopped(name, node+"/"+daemon, false); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(name, 10*time.Second, daemon+" Running", func(c *v1.LDMSDCluster) bool {
		return daemonStatus(c, node, daemon).State == "Running"
	})
	if rc, _ := run(t, rt, id, "pgrep", "-x", daemon); rc != 0 {
		t.Errorf("%s does not run after start", daemon)
	}

	t.Run("munge key survives a node's re-creation", func(t *testing.T) {
		before := ids(t, rt, name)
		if err := rt.RemoveContainer(t.Context(), before["node-1"]); err != nil {
			t.Fatal(err)
		}
		h.waitStatus(name, 60*time.Second, "Ready with a new node-1", func(c *v1.LDMSDCluster) bool {
			return ready(1)(c) && c.Status.Nodes[0].ContainerID != before["node-1"][:12]
		})
		after := ids(t, rt, name)
		_, cred := run(t, rt, after["node-1"], "munge", "-n")
		rc, out := runInput(t, rt, after["node-5"], cred, "unmunge")
		if rc != 0 || !strings.Contains(out, "Success") {
			t.Errorf("unmunge on node-5 of new node-1's credential = %d %q", rc, out)
		}
		if rc, out := run(t, rt, after["node-5"], "ssh", "-o", "BatchMode=yes", "node-1", "true"); rc != 0 {
			t.Errorf("ssh node-1 from node-5 after re-creation = %d %q", rc, out)
		}
	})
}

func TestE2EOvisNotFound(t *testing.T) {
	_, name, h := setup(t)
	manifests := h.manifests
	m := strings.Replace(manifest(name, "s-1"), "  services: []\n", "  services: [sshd, ldmsd]\n  ovis_prefix: /nonexistent/ovis\n", 1)
	m = strings.Replace(m, "  - host: s-1\n", "  - host: s-1\n    listen_port: 10000\n    config: [\"load name=meminfo\"]\n", 1)
	write(t, filepath.Join(manifests, name+".yaml"), m)
	c := h.waitStatus(name, 90*time.Second, "OvisNotFound", func(c *v1.LDMSDCluster) bool {
		return condition(c, v1.ConditionLdmsdReady).Reason == "OvisNotFound" && condition(c, v1.ConditionSshdReady).Status == v1.ConditionTrue
	})
	if msg := condition(c, v1.ConditionLdmsdReady).Message; !strings.Contains(msg, "/nonexistent/ovis/sbin/ldmsd") {
		t.Errorf("OvisNotFound message = %q, want the path", msg)
	}
	if c.Status.Phase == v1.PhaseReady {
		t.Errorf("phase = Ready without ldmsd")
	}
	if _, err := os.Stat("/nonexistent/ovis"); err == nil {
		t.Errorf("the missing ovis_prefix was created on the host")
	}
}
