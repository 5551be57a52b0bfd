package swarm_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

func twoNodes(t *testing.T, e *swarm.Engine) (string, []swarm.Container) {
	t.Helper()
	return twoNodesOn(t, e, false)
}

// twoNodesOn is twoNodes on a network with IPv6 or without.
func twoNodesOn(t *testing.T, e *swarm.Engine, ipv6 bool) (string, []swarm.Container) {
	t.Helper()
	ctx := t.Context()
	cluster := testenv.ClusterName(t, e)
	if _, err := e.EnsureNetwork(ctx, swarm.NetworkSpec{Name: cluster, Cluster: cluster, IPv6: ipv6}); err != nil {
		t.Fatal(err)
	}
	var cs []swarm.Container
	for i := 1; i <= 2; i++ {
		c, err := e.EnsureContainer(ctx, swarm.ContainerSpec{
			Name:        fmt.Sprintf("%s-%d", cluster, i),
			Hostname:    fmt.Sprintf("node-%d", i),
			Aliases:     []string{fmt.Sprintf("alias-%d", i)},
			Image:       testenv.Image(),
			Network:     cluster,
			NetworkIPv6: ipv6,
			Labels:      map[string]string{swarm.LabelCluster: cluster, swarm.LabelNode: fmt.Sprintf("node-%d", i)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !c.Running || c.IP == "" {
			t.Fatalf("EnsureContainer(%d) = %+v, want running with an IP", i, c)
		}
		cs = append(cs, c)
	}
	return cluster, cs
}

func TestIntegrationNodesResolveEachOther(t *testing.T) {
	e := testenv.Engine(t)
	_, cs := twoNodes(t, e)
	for i, c := range cs {
		peer := cs[1-i]
		for _, name := range []string{fmt.Sprintf("node-%d", 2-i), fmt.Sprintf("alias-%d", 2-i)} {
			r, err := e.Exec(t.Context(), c.ID, swarm.ExecOptions{Argv: []string{"getent", "hosts", name}})
			if err != nil {
				t.Fatal(err)
			}
			if r.ExitCode != 0 || !strings.HasPrefix(string(r.Stdout), peer.IP+" ") {
				t.Errorf("getent hosts %s on %s = %d %q, want %s", name, c.Node, r.ExitCode, r.Stdout, peer.IP)
			}
		}
	}
	listed, err := e.Containers(t.Context(), cs[0].Cluster)
	if err != nil || len(listed) != 2 {
		t.Fatalf("Containers() = %d, %v; want 2", len(listed), err)
	}
}

func TestIntegrationExecExitCodeAndStreams(t *testing.T) {
	e := testenv.Engine(t)
	_, cs := twoNodes(t, e)
	r, err := e.Exec(t.Context(), cs[0].ID, swarm.ExecOptions{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 7"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 7 || string(r.Stdout) != "out\n" || string(r.Stderr) != "err\n" {
		t.Errorf("exec = %d %q %q, want 7 \"out\\n\" \"err\\n\"", r.ExitCode, r.Stdout, r.Stderr)
	}
	r, err = e.Exec(t.Context(), cs[0].ID, swarm.ExecOptions{Argv: []string{"cat"}, Stdin: strings.NewReader("piped")})
	if err != nil || string(r.Stdout) != "piped" {
		t.Errorf("exec cat with stdin = %q, %v; want \"piped\"", r.Stdout, err)
	}
	_, err = swarm.Run(t.Context(), e, cs[0].ID, swarm.ExecOptions{Argv: []string{"false"}})
	if err == nil || !strings.Contains(err.Error(), "exec false: exit code 1") {
		t.Errorf("Run(false) error = %v, want exit code 1", err)
	}
}

func TestIntegrationFilesRoundTrip(t *testing.T) {
	e := testenv.Engine(t)
	_, cs := twoNodes(t, e)
	var content []byte
	for i := 0; i < 3000; i++ {
		content = append(content, byte(i%256))
	}
	content = append(content, []byte("\nLVC_EOF\n'\"$(x)\n")...)
	files := []swarm.File{
		{Path: "/tmp/lvc/bin.dat", Content: content, Mode: 0o600},
		{Path: "/etc/hosts", Content: []byte("127.0.0.1 localhost\n10.9.9.9 faraway\n")},
	}
	if err := e.WriteFiles(t.Context(), cs[0].ID, files); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := e.ReadFile(t.Context(), cs[0].ID, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.Content) {
			t.Errorf("ReadFile(%s) = %d bytes, want %d identical bytes", f.Path, len(got), len(f.Content))
		}
	}
	r, _ := e.Exec(t.Context(), cs[0].ID, swarm.ExecOptions{Argv: []string{"stat", "-c", "%a", "/tmp/lvc/bin.dat"}})
	if strings.TrimSpace(string(r.Stdout)) != "600" {
		t.Errorf("mode of bin.dat = %q, want 600", r.Stdout)
	}
	// /etc/hosts is a bind mount: the write must have gone in place.
	r, _ = e.Exec(t.Context(), cs[0].ID, swarm.ExecOptions{Argv: []string{"getent", "hosts", "faraway"}})
	if !strings.HasPrefix(string(r.Stdout), "10.9.9.9") {
		t.Errorf("getent hosts faraway = %q, want 10.9.9.9", r.Stdout)
	}
}

func TestIntegrationConcurrentEnsureCreatesOne(t *testing.T) {
	e := testenv.Engine(t)
	ctx := t.Context()
	cluster := testenv.ClusterName(t, e)
	var wg sync.WaitGroup
	ids := make([]string, 10)
	errs := make([]error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := e.EnsureNetwork(ctx, swarm.NetworkSpec{Name: cluster, Cluster: cluster})
			if err == nil {
				c, cerr := e.EnsureContainer(ctx, swarm.ContainerSpec{Name: cluster + "-1", Hostname: "node-1", Image: testenv.Image(), Network: cluster,
					Labels: map[string]string{swarm.LabelCluster: cluster}})
				ids[i], err = n.ID+"/"+c.ID, cerr
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i := range 10 {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("ensure #%d = %q, %v; want %q", i, ids[i], errs[i], ids[0])
		}
	}
	ns, _ := e.Networks(ctx, cluster)
	cs, _ := e.Containers(ctx, cluster)
	if len(ns) != 1 || len(cs) != 1 {
		t.Errorf("after 10 concurrent ensures: %d networks, %d containers; want 1 and 1", len(ns), len(cs))
	}
}

func TestIntegrationTopListsProcesses(t *testing.T) {
	e := testenv.Engine(t)
	_, cs := twoNodes(t, e)
	ps, err := e.Top(t.Context(), cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range ps {
		found = found || strings.Contains(p.Command, "sleep infinity")
	}
	if !found {
		t.Errorf("Top() = %+v, want a sleep infinity process", ps)
	}
}

func TestIntegrationOwnersDoNotSeeEachOther(t *testing.T) {
	e := testenv.Engine(t)
	ctx := t.Context()
	cluster := testenv.ClusterName(t, e)
	a, b := e.WithOwner("/status/a"), e.WithOwner("/status/b")
	if _, err := a.EnsureNetwork(ctx, swarm.NetworkSpec{Name: cluster, Cluster: cluster}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.EnsureContainer(ctx, swarm.ContainerSpec{Name: cluster + "-1", Hostname: "node-1", Image: testenv.Image(), Network: cluster,
		Labels: map[string]string{swarm.LabelCluster: cluster}}); err != nil {
		t.Fatal(err)
	}
	if cs, _ := b.Containers(ctx, ""); len(cs) != 0 {
		for _, c := range cs {
			if c.Cluster == cluster {
				t.Errorf("owner b lists owner a's container %s", c.Name)
			}
		}
	}
	if ns, _ := b.Networks(ctx, cluster); len(ns) != 0 {
		t.Errorf("owner b lists owner a's networks: %v", ns)
	}
	if cs, _ := a.Containers(ctx, cluster); len(cs) != 1 || cs[0].Labels[swarm.LabelOwner] != "/status/a" {
		t.Errorf("owner a lists %+v, want its one container labelled with its owner", cs)
	}
	if _, err := b.EnsureNetwork(ctx, swarm.NetworkSpec{Name: cluster, Cluster: cluster}); err == nil || !strings.Contains(err.Error(), "/status/a") {
		t.Errorf("owner b ensuring owner a's network = %v, want an error naming /status/a", err)
	}
	// The whole engine still sees everything, for lvc delete.
	if cs, _ := e.Containers(ctx, cluster); len(cs) != 1 {
		t.Errorf("engine lists %d containers of %s, want 1", len(cs), cluster)
	}
}

// The node image carries no secret: munge keys and SSH host keys are made
// per cluster and per node at run time.
func TestIntegrationImageHasNoSecrets(t *testing.T) {
	e := testenv.Engine(t)
	_, cs := twoNodes(t, e)
	r, err := e.Exec(t.Context(), cs[0].ID, swarm.ExecOptions{Argv: []string{"sh", "-c", "ls /etc/munge/munge.key /etc/ssh/ssh_host_* /root/.ssh/id_* 2>/dev/null; true"}})
	if err != nil {
		t.Fatal(err)
	}
	if out := strings.TrimSpace(string(r.Stdout)); out != "" {
		t.Errorf("image %s ships secrets: %s", testenv.Image(), out)
	}
}

// An IPv6 network (ldms-test's ipv6: true) gives each container an IPv4
// and an IPv6 address on it, and the other reaches the IPv6 one.
func TestIntegrationIPv6Network(t *testing.T) {
	e := testenv.Engine(t)
	_, cs := twoNodesOn(t, e, true)
	for i, c := range cs {
		if c.IPv6 == "" {
			t.Fatalf("%s has no IPv6 address: %+v", c.Name, c)
		}
		peer := cs[1-i]
		r, err := e.Exec(t.Context(), c.ID, swarm.ExecOptions{Argv: []string{"ping", "-6", "-c1", "-W5", peer.IPv6}})
		if err != nil || r.ExitCode != 0 {
			t.Errorf("ping -6 %s from %s = %v %d %s%s", peer.IPv6, c.Node, err, r.ExitCode, r.Stdout, r.Stderr)
		}
	}
}

// ldms-test's binds and tmpfs: a published port reaches a server in the
// container from the host, and the tmpfs is mounted.
func TestIntegrationPublishedPortAndTmpfs(t *testing.T) {
	e := testenv.Engine(t)
	ctx := t.Context()
	cluster := testenv.ClusterName(t, e)
	if _, err := e.EnsureNetwork(ctx, swarm.NetworkSpec{Name: cluster, Cluster: cluster}); err != nil {
		t.Fatal(err)
	}
	c, err := e.EnsureContainer(ctx, swarm.ContainerSpec{
		Name: cluster + "-1", Hostname: "node-1", Image: testenv.Image(), Network: cluster,
		Labels: map[string]string{swarm.LabelCluster: cluster, swarm.LabelNode: "node-1"},
		Ports:  []engine.PortBinding{{ContainerPort: "8000/tcp", HostIP: "127.0.0.1"}},
		Tmpfs:  map[string]string{"/scratch": "size=1m"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Exec(ctx, c.ID, swarm.ExecOptions{Argv: []string{"sh", "-c", "grep ' /scratch tmpfs ' /proc/mounts"}})
	if err != nil || r.ExitCode != 0 {
		t.Errorf("no tmpfs at /scratch: %v %+v", err, r)
	}
	if err := e.Start(ctx, c.ID, []string{"sh", "-c", "cd /etc && exec python3 -m http.server 8000"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	ins, err := e.Client().ContainerInspect(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	bound := ins.NetworkSettings.Ports["8000/tcp"]
	if len(bound) == 0 {
		t.Fatalf("8000/tcp is not published: %+v", ins.NetworkSettings.Ports)
	}
	url := "http://127.0.0.1:" + bound[0].HostPort + "/hostname"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.TrimSpace(string(body)) != "node-1" {
				t.Errorf("GET %s = %q, want the container's /etc/hostname", url, body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
}
