package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/ovis-hpc/lvc/internal/testenv"
)

// The spec of ldms-test's agg_test, as that script computes it, brought
// up declaratively by lvc up: every daemon the nodes declare runs, and the
// top aggregator holds the four samplers' sets.
func TestE2ELdmsTestAggSpec(t *testing.T) {
	rt := testenv.Engine(t)
	testenv.NeedOvis(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	data, err := os.ReadFile("../../apis/v1/testdata/ldms-test/agg_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	m := strings.NewReplacer(
		"name: agg-test", "name: "+name,
		"image: ovis-centos-build", "image: "+testenv.Image(),
		"ovis_prefix: /opt/ovis", "ovis_prefix: "+testenv.OvisPrefix(),
		"/root/db/agg-test:/db:rw", db+":/db:rw",
	).Replace(string(data))
	e.ok("up", "-f", e.writeManifest("agg_test.yaml", m), "--timeout", "3m")
	if out := e.ok("render", "-f", e.writeManifest("again.yaml", m)).stdout; !strings.Contains(out, "daemon aggregator (kind ldmsd") {
		t.Errorf("render lacks agg-2's aggregator:\n%.2000s", out)
	}
	testenv.Eventually(t, time.Minute, func() string {
		out := e.lvc("exec", name, "agg-2", "--", "ldms_ls", "-x", "sock", "-p", "10000", "-h", "localhost").stdout
		for i := 1; i <= 4; i++ {
			if !strings.Contains(out, "node-"+string(rune('0'+i))+"/meminfo") {
				return "sets at agg-2: " + out
			}
		}
		return ""
	})
	st := e.ok("get", name, "-o", "wide").stdout
	if !strings.Contains(st, "8/8") || !strings.Contains(st, "Ready") {
		t.Errorf("lvc get = %s, want 8/8 nodes Ready", st)
	}
}

// ldms-test's munge domains and etcd daemons, declared in a node-format
// spec: a credential of domain d1 made on a decodes on b (same key) and
// not on c (d1 there has another key); a key put through a's etcd member
// is read through b's.
func TestE2ENodeFormatMungeDomainsAndEtcd(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	key1, key2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	m := "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: " + name + "}\nspec:\n  image: " + testenv.Image() + "\n  nodes:\n" +
		"  - {hostname: a, daemons: [{name: m1, type: munged, dom: d1, key: '" + key1 + "'}, {name: etcd, type: etcd}]}\n" +
		"  - {hostname: b, daemons: [{name: m1, type: munged, dom: d1, key: '" + key1 + "'}, {name: etcd, type: etcd}]}\n" +
		"  - {hostname: c, daemons: [{name: m1, type: munged, dom: d1, key: '" + key2 + "'}]}\n"
	e.ok("up", "-f", e.writeManifest("doms.yaml", m), "--timeout", "2m")

	cred := strings.TrimSpace(e.ok("exec", name, "a", "--", "munge", "-S", "/munge/d1/sock", "-n").stdout)
	if !strings.HasPrefix(cred, "MUNGE:") {
		t.Fatalf("munge on a = %q, want a credential", cred)
	}
	if r := e.run(t.Context(), strings.NewReader(cred), "exec", "-i", name, "b", "--", "unmunge", "-S", "/munge/d1/sock"); r.code != 0 || !strings.Contains(r.stdout, "STATUS:") {
		t.Errorf("unmunge on b (same domain key) = %v, want success", r)
	}
	if r := e.run(t.Context(), strings.NewReader(cred), "exec", "-i", name, "c", "--", "unmunge", "-S", "/munge/d1/sock"); r.code == 0 {
		t.Errorf("unmunge on c (another key) = %v, want a failure", r)
	}

	e.ok("exec", name, "b", "--", "etcdctl", "--endpoints", "http://a:2379", "put", "lvc-key", "lvc-value")
	testenv.Eventually(t, 30*time.Second, func() string {
		if out := e.lvc("exec", name, "a", "--", "etcdctl", "--endpoints", "http://b:2379", "get", "lvc-key").stdout; !strings.Contains(out, "lvc-value") {
			return "get through b: " + out
		}
		return ""
	})
	if out := e.ok("describe", name).stdout; !strings.Contains(out, "EtcdReady") || !strings.Contains(out, "MungeReady") {
		t.Errorf("describe lacks EtcdReady or MungeReady:\n%s", out)
	}
}

// ldms-test's ipv6: true, declared in a node-format spec: the nodes'
// names are their IPv6 addresses and localhost is ::1, as ldms-test's
// /etc/hosts has them, and ssh reaches one node from another over IPv6.
func TestE2EIPv6Cluster(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	m := "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: " + name + "}\nspec:\n  image: " + testenv.Image() + "\n  ipv6: true\n  nodes:\n" +
		"  - {hostname: a, daemons: [{name: sshd, type: sshd}]}\n" +
		"  - {hostname: b, aliases: [bee], daemons: [{name: sshd, type: sshd}]}\n"
	e.ok("up", "-f", e.writeManifest("ipv6.yaml", m), "--timeout", "2m")
	for _, host := range []string{"localhost", "b", "bee"} {
		out := strings.Fields(e.ok("exec", name, "a", "--", "getent", "hosts", host).stdout)
		if len(out) == 0 || !strings.Contains(out[0], ":") || host == "localhost" && out[0] != "::1" {
			t.Errorf("getent hosts %s on a = %q, want an IPv6 address (::1 for localhost)", host, out)
		}
	}
	if out := e.ok("exec", name, "a", "--", "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "bee", "hostname").stdout; strings.TrimSpace(out) != "b" {
		t.Errorf("ssh bee hostname on a = %q, want b", out)
	}
}

// ldms-test's atstart: the node's script runs once in its container,
// before its daemons, and not again when the container restarts and
// gets its files again.
func TestE2EAtstartRunsOncePerContainer(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	script := filepath.Join(t.TempDir(), "atstart.sh")
	if err := os.WriteFile(script, []byte("echo ran >>/var/tmp/atstart.log\ntest ! -e /run/sshd.pid || echo sshd was up >>/var/tmp/atstart.log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: " + name + "}\nspec:\n  image: " + testenv.Image() + "\n  nodes:\n" +
		"  - {hostname: a, daemons: [{name: sshd, type: sshd}]}\n" +
		"  - {hostname: b, atstart: " + script + ", daemons: [{name: sshd, type: sshd}]}\n"
	file := e.writeManifest("atstart.yaml", m)
	e.ok("up", "-f", file, "--timeout", "2m")
	if out := e.ok("exec", name, "b", "--", "cat", "/var/tmp/atstart.log").stdout; out != "ran\n" {
		t.Errorf("b's atstart log = %q, want one run, before sshd", out)
	}
	if r := e.lvc("exec", name, "a", "--", "test", "-e", "/atstart.sh"); r.code == 0 {
		t.Errorf("a, which has no atstart, has /atstart.sh")
	}
	if err := rt.Client().ContainerRestart(t.Context(), name+"-2", container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	e.ok("up", "-f", file, "--timeout", "2m")
	if out := e.ok("exec", name, "b", "--", "cat", "/var/tmp/atstart.log").stdout; out != "ran\n" {
		t.Errorf("b's atstart log after a restart = %q, want the one run", out)
	}
}
