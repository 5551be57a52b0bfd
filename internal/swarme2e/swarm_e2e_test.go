package swarme2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	swarmtypes "github.com/docker/docker/api/types/swarm"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// EnvSwarmE2E set to 1 runs this suite against the swarm of
// $LVC_SWARM_DIR (hack/swarm-e2e.sh builds one, runs it and removes it).
// It stops and starts one node of that swarm.
const EnvSwarmE2E = "LVC_SWARM_E2E"

// root is the module root, from this package's directory.
const root = "../.."

// resync is the controller's resync period here: short, so that lost
// and returning nodes are seen soon.
const resync = 3 * time.Second

// swarmNode is one line of nodes.txt: a dind node and its engine.
type swarmNode struct {
	name, endpoint string
	eng            *swarm.Engine
}

// env is the swarm, the binaries and the directories of one run.
type env struct {
	t                    *testing.T
	lvcBin, ctlBin       string
	manifests, statusDir string
	nodes                []*swarmNode // lvcswarm-1 (the manager) first
	host                 *swarm.Engine
	ctl                  *testenv.Controller
}

func setup(t *testing.T) *env {
	t.Helper()
	if os.Getenv(EnvSwarmE2E) != "1" {
		t.Skipf("needs a multi-node swarm: run make swarm-e2e (hack/swarm-e2e.sh), or set %s=1 with the env file of hack/swarm-up.sh sourced", EnvSwarmE2E)
	}
	if os.Getenv("DOCKER_HOST") == "" {
		t.Fatalf("%s=1 but DOCKER_HOST is unset: source the swarm's env file (%s)", EnvSwarmE2E, swarmDir()+"/env")
	}
	ctx := t.Context()
	e := &env{t: t, manifests: filepath.Join(t.TempDir(), "manifests"), statusDir: filepath.Join(t.TempDir(), "status")}
	os.MkdirAll(e.manifests, 0o755)
	os.MkdirAll(e.statusDir, 0o755)
	f, err := os.Open(filepath.Join(swarmDir(), "nodes.txt"))
	if err != nil {
		t.Fatalf("no swarm: %v (run hack/swarm-up.sh 3)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		eng, err := swarm.Dial(ctx, fs[1], os.Getenv("DOCKER_CERT_PATH"))
		if err != nil {
			t.Fatalf("swarm node %s: %v", fs[0], err)
		}
		t.Cleanup(func() { eng.Close() })
		e.nodes = append(e.nodes, &swarmNode{name: fs[0], endpoint: fs[1], eng: eng})
	}
	if len(e.nodes) != 3 {
		t.Fatalf("nodes.txt lists %d nodes, want 3 (hack/swarm-up.sh 3)", len(e.nodes))
	}
	if e.host, err = swarm.Dial(ctx, "unix:///var/run/docker.sock", ""); err != nil {
		t.Fatalf("host engine: %v", err)
	}
	t.Cleanup(func() { e.host.Close() })

	bin := t.TempDir()
	e.lvcBin, e.ctlBin = filepath.Join(bin, "lvc"), filepath.Join(bin, "lvc-controller")
	for out, pkg := range map[string]string{e.lvcBin: "./cmd/lvc", e.ctlBin: "./cmd/controller"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	return e
}

func swarmDir() string {
	if d := os.Getenv("LVC_SWARM_DIR"); d != "" {
		return d
	}
	return "/tmp/lvcswarm"
}

func (e *env) node(name string) *swarmNode {
	for _, n := range e.nodes {
		if n.name == name {
			return n
		}
	}
	e.t.Fatalf("no swarm node %s", name)
	return nil
}

func (e *env) manager() *swarm.Engine { return e.nodes[0].eng }

// startController runs lvc-controller with this process's environment
// (the swarm's env file): it drives the swarm as a remote one.
func (e *env) startController() {
	e.ctl = testenv.NewController(e.t, e.ctlBin, e.manifests, e.statusDir, "--resync", resync.String(), "-v", "1")
	e.ctl.Start()
}

// ctlTail is the end of the controller's log, for failure messages.
func (e *env) ctlTail(n int) string { return e.ctl.Tail(n) }

// lvc runs the lvc binary on this run's directories.
func (e *env) lvc(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // also in cleanups
	defer cancel()
	cmd := exec.CommandContext(ctx, e.lvcBin, append([]string{"--manifests", e.manifests, "--status-dir", e.statusDir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("lvc %s: %w: %s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), err
}

func (e *env) status(name string) *v1.LDMSDCluster {
	st, _ := store.Status{Dir: e.statusDir}.Read(name)
	return st
}

func (e *env) events(name, reason string) []v1.Event {
	evs, _ := store.Status{Dir: e.statusDir}.Events(name)
	var out []v1.Event
	for _, ev := range evs {
		if reason == "" || ev.Reason == reason {
			out = append(out, ev)
		}
	}
	return out
}

// waitFor polls cond every half second until it holds or timeout passes;
// then the test fails with cond's last word.
func (e *env) waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s\ncontroller log:\n%s", what, timeout, msg, e.ctlTail(30))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ready tells whether the cluster is Ready at its generation, and else
// why not.
func ready(st *v1.LDMSDCluster) (bool, string) {
	if st == nil || st.Status == nil {
		return false, "no status yet"
	}
	c := st.Condition(v1.ConditionReady)
	if st.IsReady() {
		return true, ""
	}
	if c != nil {
		return false, fmt.Sprintf("phase %s, Ready %s: %s", st.Status.Phase, c.Status, c.Message)
	}
	return false, "phase " + st.Status.Phase
}

// placement maps each node's hostname to its status: swarm node, IP, container ID.
func placement(st *v1.LDMSDCluster) map[string]v1.NodeStatus {
	out := map[string]v1.NodeStatus{}
	if st != nil && st.Status != nil {
		for _, n := range st.Status.Nodes {
			out[n.Hostname] = n
		}
	}
	return out
}

// engineContainers lists a cluster's containers on every engine of the
// swarm, by container name: the swarm nodes each name runs on.
func (e *env) engineContainers(cluster string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, n := range e.nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // also in cleanups
		cs, err := n.eng.Client().ContainerList(ctx, container.ListOptions{All: true,
			Filters: filters.NewArgs(filters.Arg("label", engine.LabelCluster+"="+cluster))})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.name, err)
		}
		for _, c := range cs {
			name := strings.TrimPrefix(c.Names[0], "/")
			where := n.name
			if c.State != container.StateRunning {
				where += "(" + string(c.State) + ")"
			}
			out[name] = append(out[name], where)
		}
	}
	return out, nil
}

func (e *env) setNodeLabel(t *testing.T, node, key, value string) {
	t.Helper()
	ctx := context.Background() // also in cleanups
	cli := e.manager().Client()
	for range 5 { // a concurrent update bumps the version: read again
		n, _, err := cli.NodeInspectWithRaw(ctx, node)
		if err != nil {
			t.Fatalf("inspect swarm node %s: %v", node, err)
		}
		spec := n.Spec
		spec.Labels = maps.Clone(spec.Labels)
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		if value == "" {
			delete(spec.Labels, key)
		} else {
			spec.Labels[key] = value
		}
		if err = cli.NodeUpdate(ctx, n.ID, n.Version, spec); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("cannot label swarm node %s %s=%s", node, key, value)
}

func (e *env) writeManifest(t *testing.T, name, content string) {
	t.Helper()
	if err := store.WriteFileAtomic(filepath.Join(e.manifests, name+".yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// deleteCluster removes the manifest and waits until the controller has
// removed every container of the cluster from every engine.
func (e *env) deleteCluster(t *testing.T, name string) {
	t.Helper()
	os.Remove(filepath.Join(e.manifests, name+".yaml"))
	e.waitFor(t, 2*time.Minute, "cluster "+name+" removed", func() (bool, string) {
		cs, err := e.engineContainers(name)
		if err != nil {
			return false, err.Error()
		}
		return len(cs) == 0 && e.status(name) == nil, fmt.Sprintf("containers left: %v", cs)
	})
}

func suffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// manifest is the seed's example (manifests/ldms-slurm.yaml) grown to six
// daemons: four samplers (slurmd nodes) and two levels of aggregation,
// node-7 the service node. sampler-4 is placed by node hostname, and
// sampler-3 by a node label that only lvcswarm-3 carries at first.
func manifest(name, zoneLabel string, ldmsd bool) string {
	services := "[sshd, munged, slurm, ldmsd]"
	if !ldmsd {
		services = "[sshd, munged, slurm]"
	}
	return fmt.Sprintf(`apiVersion: lvc/v1
kind: LDMSDCluster
metadata:
  name: %[1]s
spec:
  description: LDMSD 2 level aggregation test with slurm, over a 3-node swarm
  type: NA
  services: %[2]s
  define:
  - name: sampler-daemon
    type: sampler
    listen_port: 10000
    listen_xprt: sock
    listen_auth: none
    env: [INTERVAL=1000000, OFFSET=0, "HOSTNAME=%%host%%"]
    samplers:
    - plugin: meminfo
      config: ["instance=${HOSTNAME}/%%plugin%%", "producer=${HOSTNAME}"]
      start: true
    - plugin: vmstat
      config: ["instance=${HOSTNAME}/%%plugin%%", "producer=${HOSTNAME}"]
      start: true
  daemons:
  - {host: sampler-1, asset: sampler-daemon, env: [COMPONENT_ID=10001]}
  - {host: sampler-2, asset: sampler-daemon, env: [COMPONENT_ID=10002]}
  - host: sampler-3
    asset: sampler-daemon
    env: [COMPONENT_ID=10003]
    placement: {labels: {%[3]s: z3}}
  - host: sampler-4
    asset: sampler-daemon
    env: [COMPONENT_ID=10004]
    placement: {node: lvcswarm-2}
  - host: agg-1
    listen_port: 20000
    listen_xprt: sock
    listen_auth: none
    env: [HOSTNAME=%%host%%]
    config:
    - prdcr_add name=sampler-1 host=sampler-1 port=10000 xprt=sock type=active interval=2000000
    - prdcr_add name=sampler-2 host=sampler-2 port=10000 xprt=sock type=active interval=2000000
    - prdcr_add name=sampler-3 host=sampler-3 port=10000 xprt=sock type=active interval=2000000
    - prdcr_add name=sampler-4 host=sampler-4 port=10000 xprt=sock type=active interval=2000000
    - prdcr_start_regex regex=.*
    - updtr_add name=all interval=1000000 offset=0
    - updtr_prdcr_add name=all regex=.*
    - updtr_start name=all
  - host: agg-2
    listen_port: 20001
    listen_xprt: sock
    listen_auth: none
    env: [HOSTNAME=%%host%%]
    config:
    - prdcr_add name=agg-1 host=agg-1 port=20000 xprt=sock type=active interval=2000000
    - prdcr_start_regex regex=.*
    - updtr_add name=all interval=1000000 offset=0
    - updtr_prdcr_add name=all regex=.*
    - updtr_start name=all
  image: %[4]s
  ovis_prefix: %[5]s
  env: {FOO: BAR}
`, name, services, zoneLabel, testenv.Image(), testenv.OvisPrefix())
}

// aliasOf maps the manifest's hostnames to node hostnames.
var aliasOf = map[string]string{"sampler-1": "node-1", "sampler-2": "node-2", "sampler-3": "node-3", "sampler-4": "node-4", "agg-1": "node-5", "agg-2": "node-6"}

// measured logs a timing for docs/multi-host.md.
func measured(t *testing.T, what string, d time.Duration) {
	t.Logf("MEASURED %s: %.1f s", what, d.Seconds())
}

// TestSwarmE2E is issue 9's end-to-end case on a real 3-node swarm, in
// order: image distribution, ImageMissing, a 6-daemon cluster over the
// three engines (placement, ldmsd aggregation, ssh and sbatch across
// engines), the loss of one engine and its return.
func TestSwarmE2E(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	img := testenv.Image()
	n3 := e.node("lvcswarm-3")

	// Whatever happens, lvcswarm-3 runs again at the end.
	t.Cleanup(func() {
		ctx := context.WithoutCancel(ctx)
		_ = e.host.Client().ContainerStart(ctx, n3.name, container.StartOptions{})
	})

	t.Run("ImageLoad", func(t *testing.T) {
		out, err := e.lvc("image", "load", img)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range e.nodes {
			if !strings.Contains(out, n.name+": up to date") {
				t.Errorf("lvc image load %s, as swarm-up left it = %q, want %s up to date", img, out, n.name)
			}
		}
		// The image gone from one node (no container uses it yet): only
		// that node gets it.
		if _, err := n3.eng.Client().ImageRemove(ctx, img, image.RemoveOptions{}); err != nil {
			t.Fatalf("docker -H %s image rm %s: %v", n3.endpoint, img, err)
		}
		start := time.Now()
		out, err = e.lvc("image", "load", img)
		if err != nil {
			t.Fatal(err)
		}
		measured(t, "lvc image load into one node", time.Since(start))
		want := map[string]string{"lvcswarm-1": "up to date", "lvcswarm-2": "up to date", "lvcswarm-3": "loaded"}
		for node, what := range want {
			if !strings.Contains(out, node+": "+what+"\n") {
				t.Errorf("lvc image load %s after image rm on lvcswarm-3 = %q, want %s: %s", img, out, node, what)
			}
		}
		if got := strings.Count(out, ": loaded"); got != 1 {
			t.Errorf("lvc image load = %q: %d nodes loaded, want 1", out, got)
		}
	})

	e.startController()

	t.Run("ImageMissing", func(t *testing.T) {
		// An image only lvcswarm-1 has, and a daemon placed on lvcswarm-3.
		only := "lvc-e2e-only1:" + suffix()
		if err := e.nodes[0].eng.Client().ImageTag(ctx, img, only); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = e.nodes[0].eng.Client().ImageRemove(context.WithoutCancel(ctx), only, image.RemoveOptions{})
		})
		name := "e2e-noimg-" + suffix()
		e.writeManifest(t, name, fmt.Sprintf(`apiVersion: lvc/v1
kind: LDMSDCluster
metadata: {name: %s}
spec:
  services: [sshd]
  image: %s
  daemons:
  - {host: lonely, placement: {node: lvcswarm-3}}
`, name, only))
		defer e.deleteCluster(t, name)
		e.waitFor(t, time.Minute, "ImageMissing naming lvcswarm-3", func() (bool, string) {
			c := e.status(name).Condition(v1.ConditionNodesReady)
			if c == nil {
				return false, "no NodesReady condition yet"
			}
			return c.Status == v1.ConditionFalse && c.Reason == "ImageMissing" && strings.Contains(c.Message, "lvcswarm-3") &&
				!strings.Contains(c.Message, "lvcswarm-1"), fmt.Sprintf("NodesReady %s %s: %s", c.Status, c.Reason, c.Message)
		})
		if st := e.status(name); st.Status.Phase == v1.PhaseReady {
			t.Errorf("phase = %s with the image missing, want not Ready", st.Status.Phase)
		}
	})

	name := "e2e-mh-" + suffix()
	zone := "lvc.e2e.zone"
	e.setNodeLabel(t, "lvcswarm-3", zone, "z3")
	t.Cleanup(func() {
		for _, n := range e.nodes {
			e.setNodeLabel(t, n.name, zone, "")
		}
	})
	haveOvis := testenv.HaveOvis()
	if !haveOvis {
		t.Log(testenv.OvisMissing() + ": the cluster runs without ldmsd")
	}
	start := time.Now()
	e.writeManifest(t, name, manifest(name, zone, haveOvis))
	t.Cleanup(func() {
		if !t.Failed() {
			e.deleteCluster(t, name)
		}
	})
	e.waitFor(t, 3*time.Minute, "cluster "+name+" Ready", func() (bool, string) { return ready(e.status(name)) })
	measured(t, "cluster of 7 containers Ready over 3 engines, from the manifest's write", time.Since(start))
	before := placement(e.status(name))

	ok := t.Run("Spread", func(t *testing.T) {
		used := map[string]bool{}
		for h, n := range before {
			if n.SwarmNode == "" {
				t.Errorf("%s has no swarmNode in the status", h)
			}
			used[n.SwarmNode] = true
		}
		if len(used) != 3 {
			t.Errorf("containers on swarm nodes %v, want all 3: %v", slices.Sorted(maps.Keys(used)), before)
		}
		// The status says where each container is, and it is there.
		got, err := e.engineContainers(name)
		if err != nil {
			t.Fatal(err)
		}
		for h, n := range before {
			if w := got[n.Container]; len(w) != 1 || w[0] != n.SwarmNode {
				t.Errorf("%s (%s): status says %s, engines have it on %v", h, n.Container, n.SwarmNode, w)
			}
		}
	})
	t.Run("Placement", func(t *testing.T) {
		if got := before[aliasOf["sampler-4"]].SwarmNode; got != "lvcswarm-2" {
			t.Errorf("sampler-4 (placement node lvcswarm-2) is on %s", got)
		}
		if got := before[aliasOf["sampler-3"]].SwarmNode; got != "lvcswarm-3" {
			t.Errorf("sampler-3 (placement labels %s=z3, only lvcswarm-3 has it) is on %s", zone, got)
		}
	})
	if !ok {
		t.FailNow()
	}

	checks := func(t *testing.T, where map[string]v1.NodeStatus) {
		t.Run("Ldmsd", func(t *testing.T) {
			if !haveOvis {
				t.Skip(testenv.OvisMissing())
			}
			e.checkAggregation(t, name)
		})
		t.Run("Ssh", func(t *testing.T) { e.checkSSH(t, name, where) })
		t.Run("Sbatch", func(t *testing.T) { e.checkSbatch(t, name, where) })
		t.Run("HostsFile", func(t *testing.T) { e.checkHosts(t, name, where) })
	}
	t.Run("AcrossEngines", func(t *testing.T) { checks(t, before) })

	moved := false
	t.Run("NodeLoss", func(t *testing.T) {
		var lost []string
		for h, n := range before {
			if n.SwarmNode == "lvcswarm-3" {
				lost = append(lost, h)
			}
		}
		sort.Strings(lost)
		// Spare capacity for sampler-3's label: lvcswarm-1 gets it too.
		e.setNodeLabel(t, "lvcswarm-1", zone, "z3")
		down := make(chan time.Time, 1)
		go func() { // when the manager reports lvcswarm-3 down
			for ctx.Err() == nil {
				n, _, err := e.manager().Client().NodeInspectWithRaw(ctx, "lvcswarm-3")
				if err == nil && n.Status.State == swarmtypes.NodeStateDown {
					down <- time.Now()
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
		start := time.Now()
		// docker stop lvcswarm-3 on the host engine: its dockerd stops
		// its containers and exits; the swarm loses the node.
		if err := e.host.Client().ContainerStop(ctx, n3.name, container.StopOptions{}); err != nil {
			t.Fatalf("docker stop %s: %v", n3.name, err)
		}
		measured(t, "docker stop lvcswarm-3", time.Since(start))
		e.waitFor(t, 3*time.Minute, "cluster Ready again without lvcswarm-3", func() (bool, string) {
			st := e.status(name)
			if ok, why := ready(st); !ok {
				return false, why
			}
			for h, n := range placement(st) {
				if n.SwarmNode == "lvcswarm-3" || n.SwarmNode == "" {
					return false, h + " still on " + n.SwarmNode
				}
			}
			return true, ""
		})
		readyAt := time.Since(start)
		moved = true
		select {
		case t0 := <-down:
			measured(t, "manager reports lvcswarm-3 down, after docker stop", t0.Sub(start))
			measured(t, "cluster Ready again, after the manager reported the node down", start.Add(readyAt).Sub(t0))
		default:
		}
		measured(t, "cluster Ready again on 2 engines, after docker stop", readyAt)
		after := placement(e.status(name))
		moved := map[string]string{}
		for _, ev := range e.events(name, "MovedNode") {
			moved[ev.Object] = ev.Message
			if ev.Time.Before(start.Add(-time.Second)) {
				t.Errorf("MovedNode event before the stop: %+v", ev)
			}
		}
		for _, h := range lost {
			msg, ok := moved[h]
			want := fmt.Sprintf("%s moved from swarm node lvcswarm-3 to %s", h, after[h].SwarmNode)
			if !ok || msg != want {
				t.Errorf("MovedNode event of %s = %q, want %q", h, msg, want)
			}
			if after[h].ContainerID == before[h].ContainerID {
				t.Errorf("%s's container %s did not change", h, after[h].ContainerID)
			}
		}
		if len(moved) != len(lost) {
			t.Errorf("MovedNode events for %v, want exactly the nodes that were on lvcswarm-3: %v", slices.Sorted(maps.Keys(moved)), lost)
		}
		for h, n := range after {
			if !slices.Contains(lost, h) && n.ContainerID != before[h].ContainerID {
				t.Errorf("%s was not on lvcswarm-3 but its container changed: %s -> %s", h, before[h].ContainerID, n.ContainerID)
			}
		}
		t.Logf("moved %v; now %v", lost, after)
		t.Run("AfterMove", func(t *testing.T) { checks(t, after) })
	})

	t.Run("NodeBack", func(t *testing.T) {
		if !moved {
			t.Skip("the cluster did not recover from the node's loss")
		}
		where := placement(e.status(name))
		start := time.Now()
		if err := e.host.Client().ContainerStart(ctx, n3.name, container.StartOptions{}); err != nil {
			t.Fatalf("docker start %s: %v", n3.name, err)
		}
		e.waitFor(t, 2*time.Minute, "lvcswarm-3 Ready in the swarm, its engine answering", func() (bool, string) {
			n, _, err := e.manager().Client().NodeInspectWithRaw(ctx, "lvcswarm-3")
			if err != nil {
				return false, err.Error()
			}
			if _, err := n3.eng.Client().Ping(ctx); err != nil {
				return false, "engine: " + err.Error()
			}
			return n.Status.State == swarmtypes.NodeStateReady, "state " + string(n.Status.State)
		})
		measured(t, "lvcswarm-3 back in the swarm, after docker start", time.Since(start))
		// The node's engine restarts the containers it had; the next
		// resyncs remove those copies. Then each container runs once,
		// across the three engines.
		want := len(where)
		e.waitFor(t, 2*time.Minute, "no duplicates across engines", func() (bool, string) {
			got, err := e.engineContainers(name)
			if err != nil {
				return false, err.Error()
			}
			total := 0
			for _, w := range got {
				total += len(w)
			}
			dups := len(e.events(name, "RemoveDuplicate"))
			return total == want && len(got) == want && dups > 0, fmt.Sprintf("%d containers, %d names (want %d each), %d RemoveDuplicate events: %v", total, len(got), want, dups, got)
		})
		measured(t, "duplicates removed, after docker start", time.Since(start))
		// Stable over two more resyncs, and where the status said.
		time.Sleep(2 * resync)
		got, err := e.engineContainers(name)
		if err != nil {
			t.Fatal(err)
		}
		for h, n := range placement(e.status(name)) {
			if w := got[n.Container]; len(w) != 1 || w[0] != where[h].SwarmNode {
				t.Errorf("%s (%s) after lvcswarm-3 came back: on %v, want only %s (running)", h, n.Container, w, where[h].SwarmNode)
			}
		}
		if ok, why := ready(e.status(name)); !ok {
			t.Errorf("cluster after lvcswarm-3 came back: %s", why)
		}
		for _, ev := range e.events(name, "RemoveDuplicate") {
			if !strings.Contains(ev.Message, "removing this copy on lvcswarm-3") {
				t.Errorf("RemoveDuplicate event %q, want the copy on lvcswarm-3 removed", ev.Message)
			}
		}
	})
}

// checkAggregation: ldms_ls on the service node lists every sampler's
// sets at the top aggregator, agg-2, across the engines.
func (e *env) checkAggregation(t *testing.T, name string) {
	var want []string
	for i := 1; i <= 4; i++ {
		for _, p := range []string{"meminfo", "vmstat"} {
			want = append(want, fmt.Sprintf("sampler-%d/%s", i, p))
		}
	}
	e.waitFor(t, 90*time.Second, "every sampler's sets at agg-2", func() (bool, string) {
		out, err := e.lvc("ldms-ls", name, "--", "-h", "agg-2", "-p", "20001")
		if err != nil {
			return false, err.Error()
		}
		sets := strings.Fields(out)
		for _, w := range want {
			if !slices.Contains(sets, w) {
				return false, fmt.Sprintf("ldms_ls -h agg-2 lists %q, lacks %s", sets, w)
			}
		}
		return true, ""
	})
}

// checkSSH: ssh from a node on each engine to a node on the next engine.
func (e *env) checkSSH(t *testing.T, name string, where map[string]v1.NodeStatus) {
	byEngine := map[string]string{} // swarm node → one cluster node on it
	for _, h := range slices.Sorted(maps.Keys(where)) {
		if _, ok := byEngine[where[h].SwarmNode]; !ok {
			byEngine[where[h].SwarmNode] = h
		}
	}
	engines := slices.Sorted(maps.Keys(byEngine))
	if len(engines) < 2 {
		t.Fatalf("cluster nodes on %v: want at least 2 engines for ssh across them", engines)
	}
	for i, eng := range engines {
		from, to := byEngine[eng], byEngine[engines[(i+1)%len(engines)]]
		out, err := e.lvc("exec", name, from, "--", "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", to, "hostname")
		if err != nil {
			t.Errorf("ssh %s (%s) -> %s (%s): %v", from, eng, to, where[to].SwarmNode, err)
			continue
		}
		if got := strings.TrimSpace(out); got != to {
			t.Errorf("ssh %s -> %s hostname = %q, want %s", from, to, got, to)
		}
	}
}

var jobID = regexp.MustCompile(`^\d+$`)

// checkSbatch: a job over the four sampler nodes, which are on different
// engines, completes and ran on each.
func (e *env) checkSbatch(t *testing.T, name string, where map[string]v1.NodeStatus) {
	engines := map[string]bool{}
	for i := 1; i <= 4; i++ {
		engines[where[fmt.Sprintf("node-%d", i)].SwarmNode] = true
	}
	if len(engines) < 2 {
		t.Fatalf("sampler nodes on %v: want at least 2 engines", slices.Sorted(maps.Keys(engines)))
	}
	script := filepath.Join(t.TempDir(), "e2e-job.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsrun hostname | sort | tr '\\n' ' '\n"), 0o755)
	out, err := e.lvc("sbatch", name, script, "--", "-N", "4", "--output=/tmp/lvc-e2e-%j.out")
	if err != nil {
		t.Fatal(err)
	}
	job := strings.TrimSpace(out)
	if !jobID.MatchString(job) {
		t.Fatalf("lvc sbatch printed %q, want a job id", out)
	}
	var batchHost string
	e.waitFor(t, 2*time.Minute, "job "+job+" COMPLETED", func() (bool, string) {
		out, err := e.lvc("exec", name, "node-7", "--", "scontrol", "show", "job", job)
		if err != nil {
			return false, err.Error()
		}
		f := map[string]string{}
		for _, w := range strings.Fields(out) {
			if k, v, ok := strings.Cut(w, "="); ok {
				f[k] = v
			}
		}
		batchHost = f["BatchHost"]
		switch f["JobState"] {
		case "COMPLETED":
			return true, ""
		case "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "BOOT_FAIL", "OUT_OF_MEMORY":
			t.Fatalf("job %s ended %s: %s", job, f["JobState"], out)
		}
		return false, "JobState=" + f["JobState"] + " Reason=" + f["Reason"]
	})
	out, err = e.lvc("exec", name, batchHost, "--", "cat", "/tmp/lvc-e2e-"+job+".out")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(out), "node-1 node-2 node-3 node-4"; got != want {
		t.Errorf("job %s's srun hostname over 4 nodes printed %q, want %q", job, got, want)
	}
}

// checkHosts: /etc/hosts of every node resolves every node to the address
// the status gives it, and every Slurm node (samplers and the service
// node) has the same slurm.conf.
func (e *env) checkHosts(t *testing.T, name string, where map[string]v1.NodeStatus) {
	hosts := slices.Sorted(maps.Keys(where))
	var conf string
	for _, from := range hosts {
		out, err := e.lvc("exec", name, from, "--", "sh", "-c", "getent ahostsv4 "+strings.Join(hosts, " ")+" | awk '$2 == \"STREAM\" {print $3, $1}'; md5sum /etc/slurm/slurm.conf 2>/dev/null || true")
		if err != nil {
			t.Errorf("%s: %v", from, err)
			continue
		}
		got := map[string]string{}
		slurmNode := from == "node-7" || where[from].Aliases != nil && strings.HasPrefix(where[from].Aliases[0], "sampler-")
		hasConf := false
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(l)
			if len(f) == 2 && strings.HasSuffix(f[1], "slurm.conf") {
				hasConf = true
				if conf == "" {
					conf = f[0]
				} else if f[0] != conf {
					t.Errorf("%s: slurm.conf %s differs from the other nodes' %s", from, f[0], conf)
				}
			} else if len(f) == 2 {
				got[f[0]] = f[1]
			}
		}
		if hasConf != slurmNode {
			t.Errorf("%s: has slurm.conf %v, want %v", from, hasConf, slurmNode)
		}
		for _, h := range hosts {
			if got[h] != where[h].IP {
				t.Errorf("on %s, %s resolves to %q, want %s (its address in the status)", from, h, got[h], where[h].IP)
			}
		}
	}
}
