package cluster_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
	"github.com/ovis-hpc/lvc/engine/enginetest"
)

// overFake is a client over the fake engine, on directories of the test's,
// and the documents of manifest, which must be valid.
func overFake(t *testing.T, manifest string) (*cluster.Client, *enginetest.Fake, []v1.Document) {
	t.Helper()
	dir := t.TempDir()
	rt := enginetest.NewFake()
	client, err := cluster.New(t.Context(), cluster.Options{Runtime: rt, ManifestsDir: filepath.Join(dir, "clusters"), StatusDir: filepath.Join(dir, "status")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	docs := v1.Load("c.yaml", []byte(manifest))
	if err := v1.Errors(docs).Err(); err != nil {
		t.Fatal(err)
	}
	return client, rt, docs
}

// The Go API over the fake engine, without a controller: Up converges
// in-process, the handle reaches the nodes, Remove deletes everything.
func TestUpGetRemoveOverFake(t *testing.T) {
	ctx := t.Context()
	client, rt, docs := overFake(t, "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: c}\nspec:\n  services: [sshd]\n  daemons:\n  - {host: a-1}\n  - {host: a-2}\n")
	if _, err := client.Get(ctx, "c"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("Get before Up = %v, want ErrNotFound", err)
	}
	cl, err := client.Up(ctx, docs[0].Cluster, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Wait(ctx, v1.ConditionReady); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(ctx, "c"); err != nil {
		t.Fatalf("Get after Up = %v", err)
	}
	cs, err := cl.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || cs[0].Hostname != "node-1" || cs[2].Hostname != "node-3" {
		t.Fatalf("containers = %+v, want node-1..3 in order", cs)
	}
	// A daemon's host name finds its node; /etc/hosts names every node.
	a2, err := cl.Container(ctx, "a-2")
	if err != nil || a2.Hostname != "node-2" {
		t.Fatalf("Container(a-2) = %+v, %v; want node-2", a2, err)
	}
	hosts, err := a2.ReadFile(ctx, "/etc/hosts")
	if err != nil || !strings.Contains(string(hosts), "a-1") {
		t.Errorf("/etc/hosts of node-2 = %q, %v; want a-1 in it", hosts, err)
	}
	if err := a2.WriteFile(ctx, "/tmp/x", []byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := a2.ReadFile(ctx, "/tmp/x"); err != nil || string(got) != "hello\n" {
		t.Errorf("ReadFile after WriteFile = %q, %v", got, err)
	}
	if r, err := cl.Exec(ctx, "hostname"); err != nil || r.ExitCode != 0 || strings.TrimSpace(r.Output()) != "node-3" {
		t.Errorf("Exec(hostname) on the service node = %+v, %v; want node-3", r, err)
	}

	// A daemon stopped on purpose stays down; started, it runs again.
	if err := cl.StopDaemon(ctx, "a-1", "sshd", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if ps := rt.Processes("c-1"); len(ps) != 1 {
		t.Errorf("processes of node-1 after StopDaemon = %v, want the init only", ps)
	}
	if err := cl.StartDaemon(ctx, "a-1", "sshd", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	st, _ := cl.Status()
	if d := st.Daemon("node-1", "sshd"); d == nil || d.State != v1.DaemonRunning {
		t.Errorf("sshd on node-1 after StartDaemon = %+v, want Running", d)
	}

	if err := cl.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(ctx, "c"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Get after Remove = %v, want ErrNotFound", err)
	}
	if cs, _ := rt.Containers(ctx, ""); len(cs) != 0 {
		t.Errorf("containers after Remove: %v", cs)
	}
}

// Daemons a spec names, several of one program on a node: StopDaemon
// stops the one named and leaves the other running.
func TestStopDaemonByItsSpecName(t *testing.T) {
	ctx := t.Context()
	client, rt, docs := overFake(t, `apiVersion: lvc/v1
kind: LDMSDCluster
metadata: {name: c}
spec:
  nodes:
  - hostname: agg
    daemons:
    - {name: munged1, type: munged, dom: dom1}
    - {name: munged2, type: munged, dom: dom2}
`)
	cl, err := client.Up(ctx, docs[0].Cluster, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mungeds := func() []string {
		var out []string
		for _, p := range rt.Processes("c-1") {
			if strings.Contains(p.Command, "munged") {
				out = append(out, p.Command)
			}
		}
		return out
	}
	if err := cl.StopDaemon(ctx, "agg", "munged2", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if ps := mungeds(); len(ps) != 1 || !strings.Contains(ps[0], "/munge/dom1/") {
		t.Errorf("munged after stopping munged2 = %q, want dom1's only", ps)
	}
	st, _ := cl.Status()
	if d := st.Daemon("agg", "munged2"); d == nil || d.State != v1.DaemonStopped {
		t.Errorf("munged2 = %+v, want Stopped", d)
	}
	if err := cl.StartDaemon(ctx, "agg", "munged2", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if ps := mungeds(); len(ps) != 2 {
		t.Errorf("munged after starting munged2 = %q, want two", ps)
	}
}
