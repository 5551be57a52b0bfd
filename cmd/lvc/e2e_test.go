package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/controller"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// lvcEnv runs lvc in-process on its own manifests and status directories.
type lvcEnv struct {
	t         *testing.T
	manifests string
	status    string
}

func newLvcEnv(t *testing.T) *lvcEnv {
	dir := t.TempDir()
	return &lvcEnv{t: t, manifests: filepath.Join(dir, "clusters"), status: filepath.Join(dir, "status")}
}

// result is what one lvc run did.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q, err %v", r.code, r.stdout, r.stderr, r.err)
}

// run runs lvc with stdin and returns its outputs and the exit code main
// would exit with.
func (e *lvcEnv) run(ctx context.Context, stdin io.Reader, args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	all := append([]string{"--manifests", e.manifests, "--status-dir", e.status}, args...)
	err := runStdio(ctx, all, stdin, &out, &errOut)
	code, _ := exitStatus(err)
	return result{stdout: out.String(), stderr: errOut.String(), code: code, err: err}
}

// lvc runs lvc without stdin.
func (e *lvcEnv) lvc(args ...string) result {
	e.t.Helper()
	return e.run(e.t.Context(), nil, args...)
}

// ok runs lvc and fails the test unless it exits 0.
func (e *lvcEnv) ok(args ...string) result {
	e.t.Helper()
	r := e.lvc(args...)
	if r.code != 0 {
		e.t.Fatalf("lvc %s = %v, want exit 0", strings.Join(args, " "), r)
	}
	return r
}

// writeManifest writes a test manifest and returns its path.
func (e *lvcEnv) writeManifest(file, content string) string {
	e.t.Helper()
	p := filepath.Join(e.t.TempDir(), file)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// testManifest is a two-node cluster: node-1 (alias sampler-1) runs
// slurmd and, with OVIS, an ldmsd sampling meminfo on port 10000;
// node-2 is the service node. componentID is the daemon's COMPONENT_ID.
func testManifest(name, componentID string) string {
	services := "[sshd, munged, slurm]"
	if testenv.HaveOvis() {
		services = "[sshd, munged, slurm, ldmsd]"
	}
	return fmt.Sprintf(`apiVersion: lvc/v1
kind: LDMSDCluster
metadata:
  name: %s
spec:
  image: %s
  ovis_prefix: %s
  services: %s
  daemons:
  - host: sampler-1
    type: sampler
    listen_port: 10000
    env:
      COMPONENT_ID: "%s"
      INTERVAL: "1000000"
      OFFSET: "0"
    samplers:
    - plugin: meminfo
      config:
      - instance=sampler-1/meminfo
      - producer=sampler-1
      start: true
`, name, testenv.Image(), testenv.OvisPrefix(), services, componentID)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// execIn runs argv on a node directly, for checks.
func execIn(t *testing.T, rt engine.Runtime, cluster, node string, argv ...string) engine.ExecResult {
	t.Helper()
	cs, err := rt.Containers(t.Context(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Node == node {
			r, err := rt.Exec(t.Context(), c.ID, engine.ExecOptions{Argv: argv})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("cluster %s has no node %s", cluster, node)
	return engine.ExecResult{}
}

// Apply validates everything before it writes anything, and says
// created, unchanged or configured; without a controller it says so, and
// --wait fails at once.
func TestE2EApply(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	good := e.writeManifest("good.yaml", testManifest(name, "1"))
	bad := e.writeManifest("bad.yaml", "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: "+name+"-bad}\nspec:\n  daemons: [{host: a, lisen_port: 1}]\n")

	t.Run("invalid writes nothing", func(t *testing.T) {
		r := e.lvc("apply", "-f", good, "-f", bad)
		if r.code != 1 {
			t.Fatalf("apply good+bad = %v, want exit 1", r)
		}
		for _, want := range []string{bad + " doc 1: spec.daemons[0].lisen_port: unknown field", bad + " doc 1: spec.services: slurm runs slurmd"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("apply good+bad stderr = %q, want %q", r.stderr, want)
			}
		}
		if r.stdout != "" {
			t.Errorf("apply good+bad stdout = %q, want nothing", r.stdout)
		}
		if ents, _ := os.ReadDir(e.manifests); len(ents) != 0 {
			t.Errorf("apply good+bad wrote %d files, want none", len(ents))
		}
	})
	t.Run("created unchanged configured", func(t *testing.T) {
		r := e.ok("apply", "-f", good)
		if got, want := r.stdout, "ldmsdcluster/"+name+" created\n"; got != want {
			t.Errorf("apply stdout = %q, want %q", got, want)
		}
		if want := noControllerMessage(e.status); !strings.Contains(r.stderr, want) {
			t.Errorf("apply stderr = %q, want %q", r.stderr, want)
		}
		written := filepath.Join(e.manifests, name+".yaml")
		docs, err := v1.LoadFile(written)
		if err != nil || len(v1.Errors(docs)) > 0 || len(docs) != 1 || docs[0].Cluster.Metadata.Name != name {
			t.Fatalf("LoadFile(%s) = %v, %v, want the cluster, valid", written, docs, err)
		}
		if got, want := e.ok("apply", "-f", good).stdout, "ldmsdcluster/"+name+" unchanged\n"; got != want {
			t.Errorf("apply again stdout = %q, want %q", got, want)
		}
		// From standard input, edited.
		r = e.run(t.Context(), strings.NewReader(testManifest(name, "2")), "apply", "-f", "-")
		if got, want := r.stdout, "ldmsdcluster/"+name+" configured\n"; r.code != 0 || got != want {
			t.Errorf("apply -f - edited = %v, want stdout %q", r, want)
		}
		data, _ := os.ReadFile(written)
		if !strings.Contains(string(data), "COMPONENT_ID=2") {
			t.Errorf("manifest after configure = %s, want COMPONENT_ID=2", data)
		}
	})
	t.Run("wait without controller fails fast", func(t *testing.T) {
		start := time.Now()
		r := e.lvc("apply", "-f", good, "--wait", "--timeout", "1m")
		if r.code != 1 || !strings.Contains(r.err.Error(), "no lvc-controller runs on "+e.status) {
			t.Errorf("apply --wait without controller = %v, want exit 1 and %q", r, noControllerMessage(e.status))
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("apply --wait without controller took %s, want it to fail at once", d)
		}
	})
}

// With a controller on the status directory, apply --wait shows the
// conditions as they change and returns when the cluster is Ready at the
// new spec; lvc up refuses; wait and delete work against it.
func TestE2EApplyWaitWithController(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	if err := os.MkdirAll(e.manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	release, err := store.Status{Dir: e.status}.Lock()
	if err != nil {
		t.Fatal(err)
	}
	// No pruning: this controller must not remove clusters of other tests
	// that share the engine.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- controller.New(rt, controller.Options{ManifestsDir: e.manifests, StatusDir: e.status, Resync: time.Minute, Prune: false}).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		release()
	})
	good := e.writeManifest("c.yaml", testManifest(name, "1"))

	r := e.ok("apply", "-f", good, "--wait", "--timeout", "3m")
	for _, want := range []string{"ldmsdcluster/" + name + " created\n", "NetworkReady True\n", "NodesReady True\n", "SshdReady True\n", "SlurmReady True\n", "Ready True\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply --wait stdout = %q, want %q", r.stdout, want)
		}
	}
	if !regexp.MustCompile(`ldmsdcluster/` + regexp.QuoteMeta(name) + ` ready in [0-9.]+s\n$`).MatchString(r.stdout) {
		t.Errorf("apply --wait stdout = %q, want it to end with ready in Ns", r.stdout)
	}
	if strings.Contains(r.stderr, "no lvc-controller") {
		t.Errorf("apply with a controller stderr = %q, want no warning", r.stderr)
	}
	e.ok("wait", name, "--for=condition=Ready", "--timeout=30s")

	// A changed spec: --wait returns only once the controller converged it.
	edited := e.writeManifest("c2.yaml", strings.Replace(testManifest(name, "1"), "  image:", "  env: {EDITED: \"1\"}\n  image:", 1))
	r = e.ok("apply", "-f", edited, "--wait", "--timeout", "3m")
	if !strings.Contains(r.stdout, "ldmsdcluster/"+name+" configured\n") || !strings.Contains(r.stdout, " ready in ") {
		t.Errorf("apply --wait edited stdout = %q, want configured and ready", r.stdout)
	}
	st, err := store.Status{Dir: e.status}.Read(name)
	if err != nil || st == nil || st.Metadata.Generation != 2 || st.Status.ObservedGeneration != 2 {
		t.Fatalf("status after apply --wait edited = %+v, %v, want generation 2 observed", st, err)
	}
	if r := execIn(t, rt, name, "node-1", "printenv", "EDITED"); strings.TrimSpace(string(r.Stdout)) != "1" {
		t.Errorf("printenv EDITED on node-1 = %q, want 1", r.Stdout)
	}

	r = e.lvc("up", "-f", good)
	if want := "lvc-controller is running on " + e.status + ": use lvc apply -f FILE --wait"; r.code != 1 || r.err == nil || r.err.Error() != want {
		t.Errorf("up with a controller = %v, want exit 1 and %q", r, want)
	}

	r = e.ok("delete", name, "--wait")
	if got, want := r.stdout, "ldmsdcluster/"+name+" deleted\n"; got != want {
		t.Errorf("delete stdout = %q, want %q", got, want)
	}
	e.ok("wait", name, "--for=delete", "--timeout=30s")
	if cs, _ := rt.Containers(t.Context(), name); len(cs) != 0 {
		t.Errorf("containers after delete = %d, want 0", len(cs))
	}
}

// One cluster brought up by lvc up serves every command.
func TestE2ECommands(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	manifest := e.writeManifest("cluster.yaml", testManifest(name, "1"))

	start := time.Now()
	r := e.ok("up", "-f", manifest, "--timeout", "3m")
	t.Logf("lvc up took %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{"ldmsdcluster/" + name + " created\n", "NetworkReady True\n", "NodesReady True\n", "SshdReady True\n", "MungeReady True\n", "SlurmReady True\n", "Ready True\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("up stdout = %q, want %q", r.stdout, want)
		}
	}
	if !regexp.MustCompile(`ldmsdcluster/` + regexp.QuoteMeta(name) + ` ready in [0-9.]+s\n$`).MatchString(r.stdout) {
		t.Errorf("up stdout = %q, want it to end with ready in Ns", r.stdout)
	}
	daemon := "sshd"
	if testenv.HaveOvis() {
		daemon = "ldmsd"
	}

	t.Run("get", func(t *testing.T) {
		out := e.ok("get").stdout
		row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+Ready\s+True\s+2/2\s+\d+s$`)
		if !strings.HasPrefix(out, "NAME") || !row.MatchString(out) {
			t.Errorf("get = %q, want a header and a row NAME Ready True 2/2 AGE", out)
		}
		out = e.ok("get", name, "-o", "wide").stdout
		for _, want := range []string{"MANIFEST", "CONDITIONS", filepath.Join(e.manifests, name+".yaml"), "Network=True,Nodes=True,Sshd=True,Munge=True,Slurm=True"} {
			if !strings.Contains(out, want) {
				t.Errorf("get -o wide = %q, want %q", out, want)
			}
		}
		var obj v1.LDMSDCluster
		if err := json.Unmarshal([]byte(e.ok("get", name, "-o", "json").stdout), &obj); err != nil {
			t.Fatalf("get -o json does not decode: %v", err)
		}
		if obj.Metadata.Name != name || obj.Status == nil || obj.Status.Phase != v1.PhaseReady || len(obj.Status.Nodes) != 2 {
			t.Errorf("get -o json = %+v, want %s Ready with 2 nodes", obj, name)
		}
		var list struct {
			Kind  string            `json:"kind"`
			Items []v1.LDMSDCluster `json:"items"`
		}
		if err := json.Unmarshal([]byte(e.ok("get", "-o", "json").stdout), &list); err != nil {
			t.Fatalf("get -o json (list) does not decode: %v", err)
		}
		found := false
		for _, it := range list.Items {
			found = found || (it.Metadata.Name == name && it.Status != nil && it.Status.Phase == v1.PhaseReady)
		}
		if list.Kind != "List" || !found {
			t.Errorf("get -o json list = kind %q, %d items, %s found %v; want List with it Ready", list.Kind, len(list.Items), name, found)
		}
		if !strings.Contains(e.ok("get", name, "-o", "yaml").stdout, "phase: Ready") {
			t.Errorf("get -o yaml lacks phase: Ready")
		}
		// Another status directory lists the cluster only with -A, once
		// its objects carry the owner label of this one.
		other := newLvcEnv(t)
		owned := false
		if cs, _ := rt.Containers(t.Context(), name); len(cs) > 0 {
			owned = cs[0].Labels[engine.LabelOwner] != ""
			if got, want := cs[0].Labels[engine.LabelOwner], ownerOf(e.status); owned && got != want {
				t.Errorf("owner label = %q, want %q", got, want)
			}
		}
		if listed := strings.Contains(other.ok("get").stdout, name); listed == owned {
			t.Errorf("get from another status directory lists %s = %v, want %v (owned %v)", name, listed, !owned, owned)
		}
		if !strings.Contains(other.ok("get", "-A").stdout, name) {
			t.Errorf("get -A from another status directory does not list %s", name)
		}
		r := e.lvc("get", name+"-none")
		if want := `ldmsdcluster "` + name + `-none" not found`; r.code != 1 || r.err == nil || r.err.Error() != want {
			t.Errorf("get unknown = %v, want exit 1 and %q", r, want)
		}
	})

	t.Run("describe", func(t *testing.T) {
		out := e.ok("describe", name).stdout
		for _, want := range []string{"Name:         " + name, "Phase:        Ready", "Conditions:", "NetworkReady  True", "Nodes:", "sampler-1", name + "-1", "Daemons:", "slurmctld", "Running", "Events:", "CreateNode"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe = %q, want %q", out, want)
			}
		}
	})

	t.Run("wait", func(t *testing.T) {
		if got := e.ok("wait", name, "--for=condition=Ready", "--timeout=10s").stdout; got != "ldmsdcluster/"+name+" condition met\n" {
			t.Errorf("wait Ready stdout = %q", got)
		}
		e.ok("wait", name, "--for=condition=SshdReady")
		start := time.Now()
		r := e.lvc("wait", name, "--for=condition=NeverHappens", "--timeout=1s")
		if r.code == 0 || r.err == nil || !strings.Contains(r.err.Error(), "timed out waiting for the condition") {
			t.Errorf("wait NeverHappens = %v, want non-zero exit and timed out waiting for the condition", r)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("wait --timeout=1s took %s", d)
		}
		if r := e.lvc("wait", name, "--for=nonsense"); r.code != 1 {
			t.Errorf("wait --for=nonsense = %v, want exit 1", r)
		}
	})

	t.Run("exec", func(t *testing.T) {
		tests := []struct {
			argv           []string
			code           int
			stdout, stderr string
		}{
			{[]string{"false"}, 1, "", ""},
			{[]string{"true"}, 0, "", ""},
			{[]string{"sh", "-c", "exit 7"}, 7, "", ""},
			{[]string{"sh", "-c", "echo out; echo err >&2; exit 3"}, 3, "out\n", "err\n"},
			{[]string{"hostname"}, 0, "node-1\n", ""},
		}
		for _, tt := range tests {
			r := e.lvc(append([]string{"exec", name, "sampler-1", "--"}, tt.argv...)...)
			if r.code != tt.code || r.stdout != tt.stdout || r.stderr != tt.stderr {
				t.Errorf("exec %s sampler-1 -- %q = %v, want exit %d, stdout %q, stderr %q", name, tt.argv, r, tt.code, tt.stdout, tt.stderr)
			}
			if tt.code != 0 && (r.err == nil || r.err.Error() != fmt.Sprintf("exit status %d", tt.code)) {
				t.Errorf("exec -- %q error = %v, want an exit status error that main prints nothing for", tt.argv, r.err)
			}
			if code, msg := exitStatus(r.err); code != tt.code || msg != nil {
				t.Errorf("exitStatus(exec -- %q) = %d, %v; want %d, nil", tt.argv, code, msg, tt.code)
			}
		}
		if got := e.ok("exec", name, "node-2", "--", "hostname").stdout; got != "node-2\n" {
			t.Errorf("exec node-2 hostname = %q, want node-2", got)
		}
		if got := e.ok("exec", name, name+"-1", "--", "hostname").stdout; got != "node-1\n" {
			t.Errorf("exec by container name hostname = %q, want node-1", got)
		}
		if got := e.ok("exec", "-e", "A=1", "-e", "B=x y=z", "-u", "nobody", name, "node-1", "--", "sh", "-c", `echo "$A|$B|$(id -un)|$PATH"`).stdout; !strings.HasPrefix(got, "1|x y=z|nobody|/opt/ovis/bin:") {
			t.Errorf("exec -e A=1 -e 'B=x y=z' -u nobody = %q, want the variables, the user and the container's PATH", got)
		}
		r := e.run(t.Context(), strings.NewReader("abc\x00\xffdef"), "exec", "-i", name, "node-1", "--", "cat")
		if r.code != 0 || r.stdout != "abc\x00\xffdef" {
			t.Errorf("exec -i cat = %v, want stdin echoed", r)
		}
		r = e.run(t.Context(), strings.NewReader("not read"), "exec", name, "node-1", "--", "cat")
		if r.code != 0 || r.stdout != "" {
			t.Errorf("exec cat without -i = %v, want no input", r)
		}
		r = e.lvc("exec", name, "node-9", "--", "true")
		if r.code != 1 || !strings.Contains(r.err.Error(), `has no node "node-9"`) {
			t.Errorf("exec node-9 = %v, want exit 1 naming node-9", r)
		}
		r = e.lvc("exec", name+"-none", "node-1", "--", "true")
		if r.code != 1 || !strings.Contains(r.err.Error(), `ldmsdcluster "`+name+`-none" not found`) {
			t.Errorf("exec on unknown cluster = %v, want not found", r)
		}
	})

	t.Run("exec interactive", func(t *testing.T) {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer ptmx.Close()
		defer tty.Close()
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 42, Cols: 117}); err != nil {
			t.Fatal(err)
		}
		var out syncBuffer
		go func() { _, _ = io.Copy(&out, ptmx) }()
		done := make(chan error, 1)
		go func() {
			args := []string{"--manifests", e.manifests, "--status-dir", e.status, "exec", "-i", "-t", name, "sampler-1", "--", "sh"}
			done <- runStdio(t.Context(), args, tty, tty, tty)
		}()
		if _, err := ptmx.Write([]byte("echo hi-$((1+1))\nstty size\ntty\nexit\n")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exec -i -t sh = %v, output %q", err, out.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("exec -i -t sh did not end; output %q", out.String())
		}
		testenv.Eventually(t, 5*time.Second, func() string {
			s := out.String()
			for _, want := range []string{"hi-2", "42 117", "/dev/pts/"} {
				if !strings.Contains(s, want) {
					return fmt.Sprintf("exec -i -t sh output = %q, want %q", s, want)
				}
			}
			return ""
		})
	})

	t.Run("cp", func(t *testing.T) {
		content := make([]byte, 1<<20)
		_, _ = rand.Read(content)
		for i := range 256 {
			content[i] = byte(i)
		}
		dir := t.TempDir()
		src := filepath.Join(dir, "blob.bin")
		if err := os.WriteFile(src, content, 0o640); err != nil {
			t.Fatal(err)
		}
		e.ok("cp", src, name+":sampler-1:/tmp/blob.bin")
		if r := execIn(t, rt, name, "node-1", "stat", "-c", "%s %a %U", "/tmp/blob.bin"); strings.TrimSpace(string(r.Stdout)) != fmt.Sprintf("%d 640 root", len(content)) {
			t.Errorf("stat /tmp/blob.bin on node-1 = %q, want size, mode 640, root", r.Stdout)
		}
		back := filepath.Join(dir, "back.bin")
		e.ok("cp", name+":node-1:/tmp/blob.bin", back)
		if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, content) {
			t.Errorf("cp there and back: %d bytes, %v; want the %d bytes sent", len(got), err, len(content))
		}
		// Into an existing directory, both ways.
		e.ok("cp", src, name+":node-2:/tmp")
		sub := filepath.Join(dir, "sub")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		e.ok("cp", name+":node-2:/tmp/blob.bin", sub)
		if got, _ := os.ReadFile(filepath.Join(sub, "blob.bin")); !bytes.Equal(got, content) {
			t.Errorf("cp into directories: content differs")
		}
		// A directory tree.
		tree := filepath.Join(dir, "tree")
		if err := os.MkdirAll(filepath.Join(tree, "a", "b"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tree, "a", "b", "f"), []byte("leaf\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		e.ok("cp", tree, name+":node-1:/tmp/tree")
		e.ok("cp", name+":node-1:/tmp/tree", filepath.Join(dir, "tree2"))
		if got, _ := os.ReadFile(filepath.Join(dir, "tree2", "a", "b", "f")); string(got) != "leaf\n" {
			t.Errorf("cp tree there and back: a/b/f = %q, want leaf", got)
		}
		for _, args := range [][]string{
			{"cp", src, filepath.Join(dir, "x")},
			{"cp", name + ":node-1:/a", name + ":node-2:/b"},
			{"cp", filepath.Join(dir, "missing"), name + ":node-1:/tmp/"},
			{"cp", name + ":node-1:/missing", dir},
		} {
			if r := e.lvc(args...); r.code != 1 {
				t.Errorf("lvc %q = %v, want exit 1", args, r)
			}
		}
	})

	t.Run("logs", func(t *testing.T) {
		out := e.ok("logs", name, "sampler-1", "sshd").stdout
		if !strings.Contains(out, "Server listening") {
			t.Errorf("logs sshd = %q, want sshd's start lines", out)
		}
		if out := e.ok("logs", name, "node-2", "slurmctld").stdout; !strings.Contains(out, "==> /var/log/lvc/slurmctld.log <==") || !strings.Contains(out, "==> /var/log/slurmctld.log <==") {
			t.Errorf("logs slurmctld = %q, want both of its logs", out)
		}
		if out := e.ok("logs", name, "node-2", "slurmctld", "--tail", "1").stdout; strings.Count(out, "\n") > 6 {
			t.Errorf("logs --tail 1 printed %d lines", strings.Count(out, "\n"))
		}
		e.ok("logs", name, "node-1")
		if testenv.HaveOvis() {
			if out := e.ok("logs", name, "sampler-1", "ldmsd").stdout; !strings.Contains(out, "==> /var/log/ldmsd.log <==") {
				t.Errorf("logs ldmsd = %q, want its log_file", out)
			}
		}
		if r := e.lvc("logs", name, "node-1", "nosuchd"); r.code != 1 || !strings.Contains(r.err.Error(), `runs no daemon "nosuchd"`) {
			t.Errorf("logs nosuchd = %v, want exit 1", r)
		}
		// -f follows until its context ends, and leaves no tail behind.
		ctx, cancel := context.WithCancel(t.Context())
		var fout syncBuffer
		done := make(chan error, 1)
		go func() {
			args := []string{"--manifests", e.manifests, "--status-dir", e.status, "logs", name, "node-1", "sshd", "-f"}
			done <- runStdio(ctx, args, strings.NewReader(""), &fout, io.Discard)
		}()
		execIn(t, rt, name, "node-1", "sh", "-c", "echo lvc-follow-marker >> /var/log/lvc/sshd.log")
		testenv.Eventually(t, 10*time.Second, func() string {
			if !strings.Contains(fout.String(), "lvc-follow-marker") {
				return fmt.Sprintf("logs -f output = %q, want the marker", fout.String())
			}
			return ""
		})
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("logs -f after cancel = %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("logs -f did not end after cancel")
		}
		testenv.Eventually(t, 10*time.Second, func() string {
			if r := execIn(t, rt, name, "node-1", "pgrep", "-x", "tail"); r.ExitCode == 0 {
				return "tail still runs on node-1 after logs -f ended: " + string(r.Stdout)
			}
			return ""
		})
	})

	t.Run("events", func(t *testing.T) {
		out := e.ok("events", name).stdout
		if !regexp.MustCompile(`(?m)^\S+\s+Normal\s+CreateNode\s+node-1\s+creating container ` + regexp.QuoteMeta(name) + `-1$`).MatchString(out) {
			t.Errorf("events = %q, want a CreateNode line for node-1", out)
		}
		if out := e.ok("events", name, "-o", "json").stdout; !strings.Contains(out, `"reason":"CreateNode"`) {
			t.Errorf("events -o json = %q, want JSON lines", out)
		}
		if r := e.lvc("events", name+"-none"); r.code != 1 {
			t.Errorf("events of unknown = %v, want exit 1", r)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var fout syncBuffer
		done := make(chan error, 1)
		go func() {
			args := []string{"--manifests", e.manifests, "--status-dir", e.status, "events", name, "-f"}
			done <- runStdio(ctx, args, strings.NewReader(""), &fout, io.Discard)
		}()
		testenv.Eventually(t, 5*time.Second, func() string {
			if !strings.Contains(fout.String(), "CreateNode") {
				return "events -f printed nothing yet"
			}
			return ""
		})
		ev := v1.Event{Time: time.Now().UTC(), Type: "Warning", Reason: "TestMarker", Object: "node-2/sshd", Message: "followed"}
		if err := (store.Status{Dir: e.status}).AppendEvent(name, ev); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 5*time.Second, func() string {
			if !regexp.MustCompile(`Warning\s+TestMarker\s+node-2/sshd\s+followed\n`).MatchString(fout.String()) {
				return fmt.Sprintf("events -f = %q, want the appended event", fout.String())
			}
			return ""
		})
		cancel()
		if err := <-done; err != nil {
			t.Errorf("events -f after cancel = %v, want nil", err)
		}
	})

	t.Run("ldms-ls", func(t *testing.T) {
		testenv.NeedOvis(t)
		r := e.ok("ldms-ls", name, "--", "-x", "sock", "-p", "10000", "-h", "sampler-1")
		if r.stdout != "sampler-1/meminfo\n" {
			t.Errorf("ldms-ls -h sampler-1 = %q, want sampler-1/meminfo", r.stdout)
		}
		r = e.ok("ldms-ls", name, "--node", "sampler-1", "--", "-x", "sock", "-p", "10000", "-h", "localhost", "-l")
		if !strings.Contains(r.stdout, "sampler-1/meminfo: consistent") || !strings.Contains(r.stdout, "MemTotal") {
			t.Errorf("ldms-ls --node sampler-1 -l = %q, want meminfo's metrics", r.stdout)
		}
		r = e.lvc("ldms-ls", name, "--", "-x", "sock", "-p", "10000", "-h", "no-such-host")
		if r.code == 0 {
			t.Errorf("ldms-ls -h no-such-host = %v, want ldms_ls's non-zero exit code", r)
		}
		if code, msg := exitStatus(r.err); code != r.code || msg != nil {
			t.Errorf("exitStatus(ldms-ls) = %d, %v; want %d, nil", code, msg, r.code)
		}
	})

	t.Run("slurm", func(t *testing.T) {
		script := e.writeManifest("job.sh", "#!/bin/sh\nsleep 120\n")
		r := e.ok("sbatch", name, script, "--", "--job-name=lvc-e2e")
		id, err := strconv.Atoi(strings.TrimSpace(r.stdout))
		if err != nil || id <= 0 || r.stdout != strconv.Itoa(id)+"\n" {
			t.Fatalf("sbatch stdout = %q, want a job id alone", r.stdout)
		}
		var jobs []map[string]string
		if err := json.Unmarshal([]byte(e.ok("squeue", name, strconv.Itoa(id), "-o", "json").stdout), &jobs); err != nil {
			t.Fatalf("squeue -o json does not decode: %v", err)
		}
		if len(jobs) != 1 || jobs[0]["JOBID"] != strconv.Itoa(id) || jobs[0]["NAME"] != "lvc-e2e" {
			t.Errorf("squeue %d -o json = %v, want job %d named lvc-e2e", id, jobs, id)
		}
		if out := e.ok("squeue", name).stdout; !strings.Contains(out, "JOBID") || !strings.Contains(out, strconv.Itoa(id)) {
			t.Errorf("squeue = %q, want a table with job %d", out, id)
		}
		e.ok("scancel", name, strconv.Itoa(id))
		testenv.Eventually(t, 20*time.Second, func() string {
			var jobs []map[string]string
			r := e.lvc("squeue", name, "-o", "json")
			if err := json.Unmarshal([]byte(r.stdout), &jobs); err != nil {
				return fmt.Sprintf("squeue -o json = %v", r)
			}
			for _, j := range jobs {
				if j["JOBID"] == strconv.Itoa(id) && (j["STATE"] == "RUNNING" || j["STATE"] == "PENDING") {
					return fmt.Sprintf("job %d still %s after scancel", id, j["STATE"])
				}
			}
			return ""
		})
		if r := e.lvc("scancel", name, "x"); r.code != 1 {
			t.Errorf("scancel x = %v, want exit 1", r)
		}
		if r := e.lvc("sbatch", name, filepath.Join(t.TempDir(), "missing.sh")); r.code != 1 {
			t.Errorf("sbatch missing.sh = %v, want exit 1", r)
		}
	})

	t.Run("stop start", func(t *testing.T) {
		if got, want := e.ok("stop", name, "sampler-1", daemon).stdout, "node-1/"+daemon+" stopped\n"; got != want {
			t.Errorf("stop stdout = %q, want %q", got, want)
		}
		if r := execIn(t, rt, name, "node-1", "pgrep", "-x", daemon); r.ExitCode == 0 {
			t.Errorf("pgrep -x %s after stop = exit 0, want it gone", daemon)
		}
		stopped, _ := store.Status{Dir: e.status}.Stopped(name)
		if !stopped["node-1/"+daemon] {
			t.Errorf("stopped set = %v, want node-1/%s", stopped, daemon)
		}
		if got, want := e.ok("start", name, "sampler-1", daemon, "--timeout", "1m").stdout, "node-1/"+daemon+" started\n"; got != want {
			t.Errorf("start stdout = %q, want %q", got, want)
		}
		if r := execIn(t, rt, name, "node-1", "pgrep", "-x", daemon); r.ExitCode != 0 {
			t.Errorf("pgrep -x %s after start = exit %d, want it running", daemon, r.ExitCode)
		}
		if r := e.lvc("stop", name, "node-2", "slurmd"); r.code != 1 || !strings.Contains(r.err.Error(), `runs no daemon "slurmd"`) {
			t.Errorf("stop slurmd on node-2 = %v, want exit 1", r)
		}
		e.ok("wait", name, "--for=condition=Ready", "--timeout=30s")
	})

	t.Run("diff", func(t *testing.T) {
		r := e.lvc("diff", "-f", manifest)
		if r.code != 0 || r.stdout != "" {
			t.Errorf("diff unchanged = %v, want exit 0 and no output", r)
		}
		changed := e.writeManifest("changed.yaml", testManifest(name, "42"))
		want := "node-1 (sampler-1): daemon ldmsd restarted: env COMPONENT_ID 1 -> 42"
		if !testenv.HaveOvis() {
			changed = e.writeManifest("changed.yaml", strings.Replace(testManifest(name, "1"), "  image:", "  env: {FOO: bar}\n  image:", 1))
			want = "node-1 (sampler-1): recreated: env +FOO=bar"
		}
		r = e.lvc("diff", "-f", changed)
		if r.code != 1 || !strings.Contains(r.stdout, "ldmsdcluster/"+name+"\n") || !strings.Contains(r.stdout, want) {
			t.Errorf("diff changed = %v, want exit 1 and %q", r, want)
		}
		if r.err == nil || r.err.Error() != "exit status 1" {
			t.Errorf("diff changed error = %v, want a silent exit status 1", r.err)
		}
		bigger := e.writeManifest("bigger.yaml", testManifest(name, "1")+"  - host: extra-1\n")
		r = e.lvc("diff", "-f", bigger)
		for _, want := range []string{"node-3: added", "node-2 (extra-1): "} {
			if r.code != 1 || !strings.Contains(r.stdout, want) {
				t.Errorf("diff bigger = %v, want %q", r, want)
			}
		}
		if r := e.lvc("diff", "-f", filepath.Join(t.TempDir(), "missing.yaml")); r.code != 2 {
			t.Errorf("diff missing file = %v, want exit 2", r)
		}
	})

	t.Run("up refuses while a controller holds the lock", func(t *testing.T) {
		release, err := store.Status{Dir: e.status}.Lock()
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		r := e.lvc("up", "-f", manifest)
		if want := "lvc-controller is running on " + e.status + ": use lvc apply -f FILE --wait"; r.code != 1 || r.err == nil || r.err.Error() != want {
			t.Errorf("up while locked = %v, want exit 1 and %q", r, want)
		}
	})

	t.Run("orphan and leftovers delete", func(t *testing.T) {
		if err := os.Remove(filepath.Join(e.manifests, name+".yaml")); err != nil {
			t.Fatal(err)
		}
		out := e.ok("get").stdout
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+Orphaned\s`).MatchString(out) {
			t.Errorf("get after removing the manifest = %q, want %s Orphaned", out, name)
		}
		if out := e.ok("get", name, "-o", "wide").stdout; !strings.Contains(out, "<none>") {
			t.Errorf("get -o wide of an orphan = %q, want manifest <none>", out)
		}
		if out := e.ok("describe", name).stdout; !strings.Contains(out, "orphaned") {
			t.Errorf("describe of an orphan = %q, want it called orphaned", out)
		}
		if err := (store.Status{Dir: e.status}).Remove(name); err != nil {
			t.Fatal(err)
		}
		if out := e.ok("get").stdout; !strings.Contains(out, name) {
			t.Errorf("get without manifest and status = %q, want %s found by label", out, name)
		}
		if got, want := e.ok("delete", name).stdout, "ldmsdcluster/"+name+" deleted\n"; got != want {
			t.Errorf("delete stdout = %q, want %q", got, want)
		}
		cs, err := rt.Containers(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		ns, err := rt.Networks(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs)+len(ns) != 0 {
			t.Errorf("after delete: %d containers, %d networks, want none", len(cs), len(ns))
		}
		r := e.lvc("get", name)
		if r.code != 1 || r.err == nil || r.err.Error() != `ldmsdcluster "`+name+`" not found` {
			t.Errorf("get after delete = %v, want not found", r)
		}
		if r := e.lvc("delete", name); r.code != 1 || !strings.Contains(r.err.Error(), "not found") {
			t.Errorf("delete again = %v, want exit 1, not found", r)
		}
		e.ok("delete", name, "--ignore-not-found")
	})
}

// lvc down removes what lvc up made.
func TestE2EUpDown(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	m := e.writeManifest("small.yaml", fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %s}\nspec:\n  image: %s\n  services: [sshd]\n  daemons: [{host: only-1}]\n", name, testenv.Image()))
	e.ok("up", "-f", m, "--timeout", "2m")
	if got := e.ok("exec", name, "only-1", "--", "hostname").stdout; got != "node-1\n" {
		t.Errorf("exec only-1 hostname = %q, want node-1", got)
	}
	if got, want := e.ok("down", name).stdout, "ldmsdcluster/"+name+" deleted\n"; got != want {
		t.Errorf("down stdout = %q, want %q", got, want)
	}
	if cs, _ := rt.Containers(t.Context(), name); len(cs) != 0 {
		t.Errorf("containers after down = %d, want 0", len(cs))
	}
	if _, err := os.Stat(filepath.Join(e.manifests, name+".yaml")); !os.IsNotExist(err) {
		t.Errorf("manifest after down: stat = %v, want it removed", err)
	}
}

// lvc exec through the node's exec agent, started by its first exec and
// found from the status file: the
// command's output, exit code and parent; LVC_AGENT=none takes the engine.
func TestE2EExecThroughTheAgent(t *testing.T) {
	testenv.WithAgent(t)
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	m := e.writeManifest("small.yaml", fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %s}\nspec:\n  image: %s\n  services: [sshd]\n  daemons: [{host: only-1}]\n", name, testenv.Image()))
	e.ok("up", "-f", m, "--timeout", "2m")
	exec := func() (code int, stdout, stderr string) {
		out, errOut := testenv.OutputFile(t), testenv.OutputFile(t)
		all := []string{"--manifests", e.manifests, "--status-dir", e.status, "exec", name, "only-1", "--",
			"sh", "-c", `{ tr '\0' ' ' </proc/$PPID/cmdline; } 2>/dev/null; echo; hostname; echo err >&2; exit 3`}
		code, _ = exitStatus(runStdio(t.Context(), all, strings.NewReader(""), out, errOut))
		o, _ := os.ReadFile(out.Name())
		eo, _ := os.ReadFile(errOut.Name())
		return code, string(o), string(eo)
	}
	// The first exec goes through the engine and starts the agent.
	code, stdout, stderr := exec()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stdout, "lvc-agent") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		code, stdout, stderr = exec()
	}
	if code != 3 || !strings.Contains(stdout, "lvc-agent") || !strings.HasSuffix(stdout, "\nnode-1\n") || stderr != "err\n" {
		t.Errorf("through the agent: exit %d, stdout %q, stderr %q; want 3, the agent as parent, node-1, err", code, stdout, stderr)
	}
	t.Setenv("LVC_AGENT", "none")
	code, stdout, stderr = exec()
	if code != 3 || strings.Contains(stdout, "lvc-agent") || !strings.HasSuffix(stdout, "\nnode-1\n") || stderr != "err\n" {
		t.Errorf("with LVC_AGENT=none: exit %d, stdout %q, stderr %q; want 3, not the agent, node-1, err", code, stdout, stderr)
	}
}
