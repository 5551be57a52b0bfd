package plan

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// load returns the only cluster of a manifest, which must be valid.
// load reads a manifest whose ovis_prefix is testdata/ovis, a prefix
// with Python bindings: the plan is the same on every host.
func load(t *testing.T, file string) *v1.LDMSDCluster {
	t.Helper()
	docs, err := v1.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || len(docs[0].Errs) > 0 {
		t.Fatalf("LoadFile(%s) = %d docs, errors %v", file, len(docs), v1.Errors(docs))
	}
	ovis, err := filepath.Abs(filepath.Join("testdata", "ovis"))
	if err != nil {
		t.Fatal(err)
	}
	docs[0].Cluster.Spec.OvisPrefix = ovis
	return docs[0].Cluster
}

// buildNodes builds the plan of an ldms-test format cluster name whose
// spec.nodes is the YAML list nodes.
func buildNodes(t *testing.T, name, nodes string) *Plan {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".yaml")
	spec := "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: " + name + "}\nspec:\n  nodes:\n" + nodes
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return build(t, file)
}

func build(t *testing.T, file string) *Plan {
	t.Helper()
	p, err := Build(load(t, file))
	if err != nil {
		t.Fatalf("Build(%s): %v", file, err)
	}
	return p
}

// fakeIPs gives node-i the address 10.0.0.(i+1).
func fakeIPs(p *Plan) map[string]string {
	ips := map[string]string{}
	for _, n := range p.Nodes {
		ips[n.Hostname] = fmt.Sprintf("10.0.0.%d", n.Index+1)
	}
	return ips
}

// summary prints what a node gets, except host paths (mount sources).
func summary(p *Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster=%s network=%s subnet=%s image=%s\n", p.Cluster, p.Network, p.Subnet, p.Image)
	fmt.Fprintf(&b, "services=%v service_node=%s slurm_nodes=%v\n", p.Services, p.ServiceNode, p.SlurmNodes)
	for _, n := range p.Nodes {
		fmt.Fprintf(&b, "\n%s container=%s aliases=%v role=%s slurm=%q image=%s\n", n.Hostname, n.ContainerName, n.Aliases, n.Role, n.SlurmRole, n.Image)
		for _, e := range n.Env {
			fmt.Fprintf(&b, "  env %s\n", e)
		}
		for _, m := range n.Mounts {
			fmt.Fprintf(&b, "  mount %s ro=%v\n", m.Target, m.ReadOnly)
		}
		fmt.Fprintf(&b, "  cap_add=%v cap_drop=%v\n", n.CapAdd, n.CapDrop)
		for _, d := range n.Daemons {
			fmt.Fprintf(&b, "  daemon %s kind=%s exe=%s restart=%s listen=%d xprt=%s auth=%s logs=%v after=%v peers=%v\n", d.Name, d.Kind, d.Exe, d.Restart, d.Listen, d.Xprt, d.Auth, d.Logs, d.After, d.Peers)
			fmt.Fprintf(&b, "    argv %s\n", strings.Join(d.Argv, " "))
			for _, e := range d.Env {
				fmt.Fprintf(&b, "    env %s\n", e)
			}
		}
		for _, f := range n.Files {
			fmt.Fprintf(&b, "  file %s mode=%o\n", f.Path, f.Mode)
		}
	}
	return b.String()
}

// golden compares got with testdata/golden/name, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	for _, tt := range []struct{ name, file string }{
		{"ldms-slurm", "../manifests/ldms-slurm.yaml"},
		{"agg-two-level", "../manifests/agg-two-level.yaml"},
		{"slurm-options", "../apis/v1/testdata/valid-slurm-options.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := build(t, tt.file)
			golden(t, tt.name+"/plan.txt", summary(p))
			golden(t, tt.name+"/hosts", p.HostsFile(fakeIPs(p)))
			for _, n := range p.Nodes {
				for _, d := range n.DaemonsOf("ldmsd") {
					golden(t, tt.name+"/"+n.Hostname+".ldmsd.conf", d.Config)
				}
			}
			for _, f := range p.SlurmFiles() {
				golden(t, tt.name+"/"+filepath.Base(f.Path), f.Content)
			}
		})
	}
}

// The acceptance criteria of the seed example, spelled out.
func TestSeedExample(t *testing.T) {
	p := build(t, "../manifests/ldms-slurm.yaml")
	if len(p.Nodes) != 5 {
		t.Fatalf("len(Nodes) = %d, want 5", len(p.Nodes))
	}
	n1 := p.Node("sampler-1")
	if n1 == nil || n1.Hostname != "node-1" || n1.ContainerName != "ldms_slurm-1" || n1.SlurmRole != Slurmd || n1.Role != RoleCompute {
		t.Fatalf("Node(sampler-1) = %+v", n1)
	}
	d := n1.Daemon("ldmsd")
	for _, kv := range []string{"COMPONENT_ID=10001", "HOSTNAME=sampler-1", "INTERVAL=1000000", "OFFSET=0", "FOO=BAR"} {
		name, val, _ := strings.Cut(kv, "=")
		if got, ok := d.Env.Get(name); !ok || got != val {
			t.Errorf("node-1 daemon env %s = %q, want %q", name, got, val)
		}
	}
	if got, ok := n1.Env.Get("FOO"); !ok || got != "BAR" {
		t.Errorf("node-1 container env FOO = %q, want BAR", got)
	}
	for _, l := range []string{
		"load name=meminfo\n",
		"config name=meminfo component_id=${COMPONENT_ID} instance=${HOSTNAME}/meminfo producer=${HOSTNAME}\n",
		"start name=meminfo interval=${INTERVAL} offset=${OFFSET}\n",
		"load name=slurm_sampler\n",
	} {
		if !strings.Contains(d.Config, l) {
			t.Errorf("node-1 ldmsd.conf lacks %q", l)
		}
	}
	if strings.Contains(d.Config, "start name=slurm_sampler") {
		t.Errorf("node-1 ldmsd.conf starts slurm_sampler, which has no start")
	}
	if got, want := strings.Join(d.Argv, " "), "ldmsd -x sock:10000 -a none -c /etc/ldmsd.conf -l /var/log/ldmsd.log -v INFO"; got != want {
		t.Errorf("node-1 command = %q, want %q", got, want)
	}
	agg := p.Node("agg-1")
	c := load(t, "../manifests/ldms-slurm.yaml")
	if got, want := agg.Daemon("ldmsd").Config, strings.Join(c.Spec.Daemons[2].Config, "\n")+"\n"; got != want {
		t.Errorf("agg-1 config = %q, want its config lines %q", got, want)
	}
	n5 := p.Nodes[4]
	if n5.Hostname != "node-5" || n5.Role != RoleService || n5.SlurmRole != Slurmctld || len(n5.Aliases) != 0 || len(n5.DaemonsOf("ldmsd")) != 0 || p.ServiceNode != "node-5" {
		t.Errorf("node-5 = %+v, want the service node running slurmctld", n5)
	}
	if !strings.Contains(p.SlurmConf, "NodeName=node-1,node-2 ") {
		t.Errorf("slurm.conf lacks NodeName=node-1,node-2:\n%s", p.SlurmConf)
	}
	if got, want := n1.Mounts[0], (Mount{Source: load(t, "../manifests/ldms-slurm.yaml").Spec.OvisPrefix, Target: "/opt/ovis", ReadOnly: true}); got != want {
		t.Errorf("node-1 first mount = %v, want %v", got, want)
	}
	abs, _ := filepath.Abs("../manifests/db")
	if got, want := n1.Mounts[1], (Mount{Source: abs, Target: "/db"}); got != want {
		t.Errorf("node-1 db mount = %v, want %v", got, want)
	}
	for _, n := range []*Node{n1, p.Node("sampler-2"), &p.Nodes[4]} {
		if len(n.Files) == 0 || !hasFile(n, "/etc/slurm/slurm.conf") {
			t.Errorf("%s has no slurm.conf", n.Hostname)
		}
	}
	if hasFile(agg, "/etc/slurm/slurm.conf") {
		t.Errorf("agg-1 (no slurm role) gets slurm.conf")
	}
}

func hasFile(n *Node, path string) bool {
	for _, f := range n.Files {
		if f.Path == path {
			return true
		}
	}
	return false
}

func TestHostsFile(t *testing.T) {
	p := build(t, "../manifests/ldms-slurm.yaml")
	got := p.HostsFile(map[string]string{"node-5": "10.1.0.6", "node-1": "10.1.0.2", "node-9": "10.1.0.9"})
	want := "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n10.1.0.2 node-1 sampler-1\n10.1.0.6 node-5\n"
	if got != want {
		t.Errorf("HostsFile() = %q, want %q", got, want)
	}
}

func TestNoSlurm(t *testing.T) {
	p := build(t, "../manifests/agg-two-level.yaml")
	if p.SlurmConf != "" || p.SlurmNodes != nil || p.SlurmFiles() != nil {
		t.Errorf("plan without slurm has slurm: %q %v", p.SlurmConf, p.SlurmNodes)
	}
	for _, n := range p.Nodes {
		if n.SlurmRole != SlurmNone {
			t.Errorf("%s slurm role = %q, want none", n.Hostname, n.SlurmRole)
		}
	}
}

// mutate loads the seed example, changes it and builds it.
func mutate(t *testing.T, change func(c *v1.LDMSDCluster)) *Plan {
	t.Helper()
	c := load(t, "../manifests/ldms-slurm.yaml")
	change(c)
	p, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHashes(t *testing.T) {
	base := mutate(t, func(*v1.LDMSDCluster) {})
	tests := []struct {
		name                   string
		change                 func(c *v1.LDMSDCluster)
		container, daemon, slr bool // which hashes of node-1 change
	}{
		{"nothing", func(*v1.LDMSDCluster) {}, false, false, false},
		{"daemon config", func(c *v1.LDMSDCluster) { c.Spec.Define[0].Samplers[0].Start = true }, false, true, false},
		{"daemon env", func(c *v1.LDMSDCluster) { c.Spec.Daemons[0].Env[0].Value = "7" }, false, true, false},
		{"log level", func(c *v1.LDMSDCluster) { c.Spec.Daemons[0].LogLevel = "DEBUG" }, false, true, false},
		{"spec env", func(c *v1.LDMSDCluster) { c.Spec.Env[0].Value = "BAZ" }, true, true, false},
		{"image", func(c *v1.LDMSDCluster) { c.Spec.Image = "other:1" }, true, false, false},
		{"mount", func(c *v1.LDMSDCluster) { c.Spec.Mounts = nil }, true, false, false},
		{"cap", func(c *v1.LDMSDCluster) { c.Spec.CapAdd = []string{"SYS_PTRACE"} }, true, false, false},
		// Aliases live in /etc/hosts, not in the container: only the
		// daemon, whose HOSTNAME=%host% changes, restarts.
		{"host alias", func(c *v1.LDMSDCluster) { c.Spec.Daemons[0].Host = "s-1" }, false, true, false},
		{"slurm option", func(c *v1.LDMSDCluster) { c.Spec.CPUPerNode = 2 }, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mutate(t, tt.change)
			n, b := p.Nodes[0], base.Nodes[0]
			if got := n.ContainerHash != b.ContainerHash; got != tt.container {
				t.Errorf("container hash changed = %v, want %v", got, tt.container)
			}
			if got := n.Daemon("ldmsd").Hash != b.Daemon("ldmsd").Hash; got != tt.daemon {
				t.Errorf("daemon hash changed = %v, want %v", got, tt.daemon)
			}
			if got := p.SlurmHash != base.SlurmHash; got != tt.slr {
				t.Errorf("slurm hash changed = %v, want %v", got, tt.slr)
			}
			if got, want := n.Hash() != b.Hash(), tt.container || tt.daemon || tt.slr; got != want {
				t.Errorf("node hash changed = %v, want %v", got, want)
			}
			if len(n.ContainerHash) != 64 {
				t.Errorf("container hash %q is not hex sha256", n.ContainerHash)
			}
		})
	}
}

func TestBuildInvalid(t *testing.T) {
	c := load(t, "../manifests/ldms-slurm.yaml")
	c.Spec.Daemons[0].Asset = "nope"
	_, err := Build(c)
	var l v1.ErrorList
	if !errors.As(err, &l) || !strings.Contains(err.Error(), `spec.daemons[0].asset: no template "nope" in spec.define`) {
		t.Errorf("Build(invalid) error = %v, want the validation error", err)
	}
}

func TestBuildKeepsInput(t *testing.T) {
	c := load(t, "../manifests/ldms-slurm.yaml")
	before := c.DeepCopy()
	p, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, before) {
		t.Errorf("Build changed its input")
	}
	p.Nodes[0].Env[0].Value = "x"
	p.Nodes[0].Mounts[0].Source = "x"
	if p.Nodes[1].Env[0].Value == "x" || p.Nodes[1].Mounts[0].Source == "x" {
		t.Errorf("nodes share env or mounts")
	}
}

// PYTHONPATH names the bindings the host's OVIS build has, and is left
// out of a build without them.
func TestOvisEnvPythonPath(t *testing.T) {
	with, _ := ovisEnv(filepath.Join("testdata", "ovis")).Get("PYTHONPATH")
	if with != "/opt/ovis/lib/python3.11/site-packages" {
		t.Errorf("PYTHONPATH with bindings = %q, want /opt/ovis/lib/python3.11/site-packages", with)
	}
	if v, ok := ovisEnv(t.TempDir()).Get("PYTHONPATH"); ok {
		t.Errorf("PYTHONPATH without bindings = %q, want none", v)
	}
}

// spec.restart of an ldms-test format spec applies to every daemon.
func TestNodeFormatRestart(t *testing.T) {
	c := load(t, "../apis/v1/testdata/ldms-test/agg_test.yaml")
	for _, want := range []string{v1.RestartAlways, v1.RestartNever} {
		c.Spec.Restart = want
		p, err := Build(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range p.Nodes {
			for _, d := range n.Daemons {
				if d.Restart != want {
					t.Errorf("restart %s: %s/%s restart = %s", want, n.Hostname, d.Name, d.Restart)
				}
			}
		}
	}
	c.Spec.Restart = "sometimes"
	if _, err := Build(c); err == nil || !strings.Contains(err.Error(), "spec.restart") {
		t.Errorf("restart sometimes: %v, want an error naming spec.restart", err)
	}
}

// ldmsd_auth_test's munge domains: a munged per domain under /munge/DOM,
// each key written for the munge user, agg-2 running four side by side,
// and a keyless domain on the cluster's key.
func TestNodeFormatMungeDomains(t *testing.T) {
	c := load(t, "../apis/v1/testdata/ldms-test/ldmsd_auth_test.yaml")
	p, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	agg := p.Node("agg-2")
	var names []string
	for _, d := range agg.Daemons {
		if d.Kind != "munged" {
			continue
		}
		names = append(names, d.Name)
		dom := "dom" + strings.TrimPrefix(d.Name, "munged")
		for _, arg := range []string{"--socket=/munge/" + dom + "/sock", "--pid-file=/munge/" + dom + "/pid", "--key-file=/munge/" + dom + "/key"} {
			if !slices.Contains(d.Argv, arg) {
				t.Errorf("%s argv %q lacks %s", d.Name, d.Argv, arg)
			}
		}
		if !strings.Contains(d.Pre, "chown munge:munge /munge/"+dom) {
			t.Errorf("%s pre %q does not make /munge/%s for munge", d.Name, d.Pre, dom)
		}
		key := strings.Repeat(strings.TrimPrefix(dom, "dom"), 4096)
		var found bool
		for _, f := range agg.Files {
			if f.Path == "/munge/"+dom+"/key" {
				found = true
				if f.Content != key || f.Owner != "munge:munge" || f.Mode != 0o400 {
					t.Errorf("%s key file: %d bytes, owner %q, mode %o; want the spec's key, munge:munge, 0400", dom, len(f.Content), f.Owner, f.Mode)
				}
			}
		}
		if !found {
			t.Errorf("no key file for %s", dom)
		}
	}
	if want := []string{"munged1", "munged2", "munged3", "munged4"}; !slices.Equal(names, want) {
		t.Errorf("agg-2 munged daemons %q, want %q", names, want)
	}
	// A domain without a key uses the cluster's (the default domain's file).
	p = buildNodes(t, "keyless", "  - hostname: n1\n    daemons: [{name: m, type: munged, dom: d1}]\n")
	if d := p.Nodes[0].Daemons[0]; d.Kind != "munged" || !slices.Contains(d.Argv, "--key-file=/etc/munge/munge.key") || len(p.Nodes[0].Files) != 0 {
		t.Errorf("keyless domain: %s argv %q, files %v; want the cluster key and no key file", d.Name, d.Argv, p.Nodes[0].Files)
	}
}

// spank_notifier_test declares Slurm but no munged: every node gets one in
// the default domain, as ldms-test's start_slurm starts it, and the munge
// key is written (the munged service).
func TestNodeFormatSlurmImpliesMunged(t *testing.T) {
	p := build(t, "../apis/v1/testdata/ldms-test/spank_notifier_test.yaml")
	if !slices.Contains(p.Services, v1.ServiceMunged) {
		t.Errorf("services %q lack munged", p.Services)
	}
	for _, n := range p.Nodes {
		if ds := n.DaemonsOf("munged"); len(ds) != 1 || ds[0].Name != "munged" || slices.ContainsFunc(ds[0].Argv, func(a string) bool { return strings.HasPrefix(a, "--key-file") }) {
			t.Errorf("%s munged daemons %+v, want one in the default domain", n.Hostname, ds)
		}
	}
	// Without Slurm, no munged is added (agg_test declares its own).
	for _, n := range build(t, "../apis/v1/testdata/ldms-test/ldms_set_info_test.yaml").Nodes {
		if ds := n.DaemonsOf("munged"); len(ds) != 0 {
			t.Errorf("ldms_set_info_test %s has munged %+v", n.Hostname, ds)
		}
	}
}

// etcd daemons (maestro's tests) form one etcd cluster of the nodes that
// declare them, named by hostname, as ldms-test's start_etcd starts it.
func TestNodeFormatEtcd(t *testing.T) {
	p := buildNodes(t, "et",
		"  - {hostname: e1, daemons: [{name: etcd, type: etcd}, {name: sshd, type: sshd}]}\n"+
			"  - {hostname: e2, daemons: [{name: kv, type: etcd}]}\n"+
			"  - {hostname: head, daemons: [{name: sshd, type: sshd}]}\n")
	if !slices.Contains(p.Services, "etcd") {
		t.Errorf("services %q lack etcd", p.Services)
	}
	for _, c := range []struct{ host, name, peer string }{{"e1", "etcd", "e2"}, {"e2", "kv", "e1"}} {
		ds := p.Node(c.host).DaemonsOf("etcd")
		if len(ds) != 1 {
			t.Fatalf("%s etcd daemons %+v, want one", c.host, ds)
		}
		d := ds[0]
		argv := strings.Join(d.Argv, " ")
		for _, want := range []string{"--name " + c.host, "--initial-cluster e1=http://e1:2380,e2=http://e2:2380", "--advertise-client-urls http://" + c.host + ":2379"} {
			if !strings.Contains(argv, want) {
				t.Errorf("%s argv %q lacks %q", c.host, argv, want)
			}
		}
		if d.Name != c.name || d.Listen != 2379 || !slices.Equal(d.Peers, []string{c.peer}) {
			t.Errorf("%s: name %q listen %d peers %q; want %q, 2379, [%s]", c.host, d.Name, d.Listen, d.Peers, c.name, c.peer)
		}
	}
	if ds := p.Node("head").DaemonsOf("etcd"); len(ds) != 0 {
		t.Errorf("head runs etcd %+v", ds)
	}
}

// ldms-test's binds and tmpfs reach the node's container, and a change of
// them recreates it.
func TestBindsAndTmpfsMakeTheContainer(t *testing.T) {
	build := func(node string) Node {
		t.Helper()
		m := "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: c}\nspec:\n  nodes:\n  - " + node + "\n"
		docs := v1.Load("c.yaml", []byte(m))
		if err := v1.Errors(docs).Err(); err != nil {
			t.Fatal(err)
		}
		p, err := Build(docs[0].Cluster)
		if err != nil {
			t.Fatal(err)
		}
		return p.Nodes[0]
	}
	plain := build("{hostname: a, daemons: [{name: sshd, type: sshd}]}")
	n := build(`{hostname: a, binds: {"10000/tcp": 20001}, tmpfs: [/scratch], daemons: [{name: sshd, type: sshd}]}`)
	if want := []v1.PortBind{{ContainerPort: "10000/tcp", HostPort: 20001}}; !reflect.DeepEqual(n.Ports, want) {
		t.Errorf("ports = %+v, want %+v", n.Ports, want)
	}
	if !reflect.DeepEqual(n.Tmpfs, []string{"/scratch"}) {
		t.Errorf("tmpfs = %q, want /scratch", n.Tmpfs)
	}
	if n.ContainerHash == plain.ContainerHash {
		t.Error("binds and tmpfs leave the container hash as it was")
	}
}
