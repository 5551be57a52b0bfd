package enginetest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/engine/enginetest"
)

// spec is a container of cluster c on network c.
func spec(name, host string) engine.ContainerSpec {
	return engine.ContainerSpec{Name: name, Hostname: host, Image: "img", Network: "c",
		Labels: map[string]string{engine.LabelCluster: "c", engine.LabelNode: host}}
}

// daemonScript is a start command as reconcile makes it.
func daemonScript(name string, argv ...string) []string {
	return []string{"sh", "-c", "mkdir -p /var/log/lvc && exec " + engine.ShellQuote(argv) + " >>/var/log/lvc/" + name + ".log 2>&1 </dev/null", engine.DaemonTag + name}
}

// next returns the next event of ch matching ok, failing after 30s.
func next(t *testing.T, ch <-chan engine.Event, ok func(engine.Event) bool) engine.Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, open := <-ch:
			if !open {
				t.Fatal("event stream closed")
			}
			if ok(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("no matching event within 30s")
		}
	}
}

func up(t *testing.T, f *enginetest.Fake, names ...string) []engine.Container {
	t.Helper()
	if _, err := f.EnsureNetwork(t.Context(), engine.NetworkSpec{Name: "c", Cluster: "c"}); err != nil {
		t.Fatal(err)
	}
	var out []engine.Container
	for i, n := range names {
		c, err := f.EnsureContainer(t.Context(), spec(n, "node-"+string(rune('1'+i))))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestFakeContainersAndEvents(t *testing.T) {
	f := enginetest.NewFake()
	evs := f.Events(t.Context())
	cs := up(t, f, "c-1", "c-2")
	if cs[0].ID == cs[1].ID || cs[0].ID[:12] == cs[1].ID[:12] || len(cs[0].ID) != 64 {
		t.Errorf("IDs %s and %s: want 64 digits, distinct short IDs", cs[0].ID, cs[1].ID)
	}
	if !cs[0].Running || cs[0].IP == "" || cs[0].Network != "c" || cs[0].InitPID == 0 {
		t.Errorf("new container = %+v, want running on network c with an IP and its init's PID", cs[0])
	}
	for _, want := range []string{"create", "start"} {
		next(t, evs, func(ev engine.Event) bool { return ev.Container == "c-1" && ev.Action == want })
	}
	// A second ensure changes nothing.
	f.ResetCalls()
	if again, err := f.EnsureContainer(t.Context(), spec("c-1", "node-1")); err != nil || again.ID != cs[0].ID {
		t.Fatalf("second EnsureContainer = %v, %v; want the same container", again.ID, err)
	}
	if m := f.Mutations(); len(m) != 0 {
		t.Errorf("mutations of a second EnsureContainer = %v, want none", m)
	}

	// A stopped container is started again by EnsureContainer, with a new
	// init and no daemons.
	if err := f.Start(t.Context(), cs[0].ID, daemonScript("sshd", "/usr/sbin/sshd", "-D"), nil, ""); err != nil {
		t.Fatal(err)
	}
	f.Stop("c-1")
	next(t, evs, func(ev engine.Event) bool { return ev.Container == "c-1" && ev.Action == "die" })
	if c, _ := f.Container("c-1"); c.Running {
		t.Errorf("stopped container runs: %+v", c)
	}
	if _, err := f.Top(t.Context(), cs[0].ID); err == nil {
		t.Error("Top of a stopped container = nil error")
	}
	again, err := f.EnsureContainer(t.Context(), spec("c-1", "node-1"))
	if err != nil || !again.Running || again.InitPID == cs[0].InitPID {
		t.Fatalf("EnsureContainer of a stopped container = %+v, %v; want it running with a new init", again, err)
	}
	if ps := f.Processes("c-1"); len(ps) != 1 {
		t.Errorf("processes after a restart = %v, want the init only", ps)
	}
	if got := f.Mutations()["startContainer"]; got != 1 {
		t.Errorf("startContainer = %d, want 1", got)
	}

	// Cut off its network: an event names the network.
	f.Disconnect("c-2")
	ev := next(t, evs, func(ev engine.Event) bool { return ev.Network != "" })
	if ev.Network != "c" || ev.Action != "disconnect" || ev.Container != cs[1].ID {
		t.Errorf("disconnect event = %+v", ev)
	}
	if c, _ := f.Container("c-2"); c.IP != "" || c.Network != "" || !c.Running {
		t.Errorf("disconnected container = %+v, want running without an address", c)
	}

	// The network is in use until its containers go.
	ns, _ := f.Networks(t.Context(), "c")
	if err := f.RemoveNetwork(t.Context(), ns[0].ID); err == nil {
		t.Error("RemoveNetwork with a container attached = nil error")
	}
	for _, c := range cs {
		if err := f.RemoveContainer(t.Context(), c.ID); err != nil {
			t.Fatal(err)
		}
	}
	next(t, evs, func(ev engine.Event) bool { return ev.Container == "c-2" && ev.Action == "destroy" })
	if err := f.RemoveNetwork(t.Context(), ns[0].ID); err != nil {
		t.Fatal(err)
	}
	next(t, evs, func(ev engine.Event) bool { return ev.Network == "c" && ev.Action == "destroy" })
	if cs, _ := f.Containers(t.Context(), ""); len(cs) != 0 {
		t.Errorf("containers left: %v", cs)
	}
}

func TestFakeDaemonsAndFiles(t *testing.T) {
	f := enginetest.NewFake()
	ctx := t.Context()
	c := up(t, f, "c-1")[0]
	files := []engine.File{{Path: "/etc/a b", Content: []byte("it's\x00 binary\n"), Mode: 0o600}, {Path: "/etc/hosts", Content: []byte("10.0.0.2 node-1\n")}}
	if err := f.WriteFiles(ctx, c.ID, files); err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if got, err := f.ReadFile(ctx, c.ID, file.Path); err != nil || string(got) != string(file.Content) {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", file.Path, got, err, file.Content)
		}
	}
	if _, err := f.ReadFile(ctx, c.ID, "/nonexistent"); err == nil {
		t.Error("ReadFile of a missing file = nil error")
	}

	// Daemons run under their own command line, setpriv's exec done.
	evs := f.Events(ctx)
	if err := f.Start(ctx, c.ID, daemonScript("munged", "setpriv", "--reuid=munge", "/usr/sbin/munged", "-F"), nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(ctx, c.ID, daemonScript("ldmsd", "ldmsd", "-x", "sock:10000"), []string{"X=1"}, ""); err != nil {
		t.Fatal(err)
	}
	ps, err := f.Top(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, p := range ps {
		cmds = append(cmds, p.Command)
	}
	if !slices.Contains(cmds, "/usr/sbin/munged -F") || !slices.Contains(cmds, "ldmsd -x sock:10000") {
		t.Errorf("process table = %q, want munged and ldmsd", cmds)
	}
	if r, _ := f.Exec(ctx, c.ID, engine.ExecOptions{Argv: []string{"sh", "-c", "if ... ldms_ls ..."}}); !strings.HasPrefix(string(r.Stdout), "listening") {
		t.Errorf("ldmsd check while ldmsd runs = %q, want listening", r.Stdout)
	}

	// pkill ends it and its exec_die names the daemon's start.
	if r, err := f.Exec(ctx, c.ID, engine.ExecOptions{Argv: []string{"pkill", "-TERM", "-x", "ldmsd"}}); err != nil || r.ExitCode != 0 {
		t.Fatalf("pkill = %+v, %v", r, err)
	}
	ev := next(t, evs, func(ev engine.Event) bool {
		return ev.Action == "exec_die" && strings.Contains(ev.Exec, engine.DaemonTag)
	})
	if ev.Cluster != "c" || ev.Container != "c-1" || !strings.HasSuffix(ev.Exec, engine.DaemonTag+"ldmsd") {
		t.Errorf("exec_die of the killed daemon = %+v", ev)
	}
	if r, _ := f.Exec(ctx, c.ID, engine.ExecOptions{Argv: []string{"pgrep", "-x", "ldmsd"}}); r.ExitCode != 1 {
		t.Errorf("pgrep after pkill = %+v, want exit code 1", r)
	}
	if n := f.Kill("munged"); n != 1 {
		t.Errorf("Kill(munged) = %d, want 1", n)
	}

	// A daemon that does not start leaves a word in its log.
	f.SetNoStart("node-1", "ldmsd", true)
	if err := f.Start(ctx, c.ID, daemonScript("ldmsd", "ldmsd"), nil, ""); err != nil {
		t.Fatal(err)
	}
	if ps := f.Processes("c-1"); len(ps) != 1 {
		t.Errorf("processes = %v, want the init only", ps)
	}
	if r, _ := f.Exec(ctx, c.ID, engine.ExecOptions{Argv: []string{"tail", "-n", "5", "/var/log/lvc/ldmsd.log"}}); !strings.Contains(string(r.Stdout), "exited") {
		t.Errorf("log of a daemon that did not start = %q", r.Stdout)
	}
	if got, want := f.Log(), []string{"container node-1", "munged node-1", "ldmsd node-1", "ldmsd node-1"}; !slices.Equal(got, want) {
		t.Errorf("Log() = %q, want %q", got, want)
	}
	if calls := f.Calls(); calls["start"] != 3 || calls["kill"] != 1 || calls["write"] != 1 || calls["read"] != 3 {
		t.Errorf("Calls() = %v", calls)
	}
}

func TestFakeOwnersAndHooks(t *testing.T) {
	f := enginetest.NewFake()
	ctx := t.Context()
	a, b := f.ForOwner("/status/a"), f.ForOwner("/status/b")
	if _, err := a.EnsureNetwork(ctx, engine.NetworkSpec{Name: "c", Cluster: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.EnsureContainer(ctx, spec("c-1", "node-1")); err != nil {
		t.Fatal(err)
	}
	if cs, _ := b.Containers(ctx, ""); len(cs) != 0 {
		t.Errorf("owner b lists %v, want nothing of owner a", cs)
	}
	if _, err := b.EnsureNetwork(ctx, engine.NetworkSpec{Name: "c", Cluster: "c"}); err == nil || !strings.Contains(err.Error(), "/status/a") {
		t.Errorf("owner b ensuring owner a's network = %v, want an error naming /status/a", err)
	}
	if cs, _ := f.Containers(ctx, "c"); len(cs) != 1 || cs[0].Labels[engine.LabelOwner] != "/status/a" {
		t.Errorf("the whole engine lists %+v, want owner a's container", cs)
	}

	boom := errors.New("engine does not answer")
	f.SetHook(func(ctx context.Context, c enginetest.Call) error {
		if c.Op == "Containers" {
			return boom
		}
		if c.Op == "Exec" && c.Node == "node-1" {
			return boom
		}
		return nil
	})
	if _, err := a.Containers(ctx, "c"); !errors.Is(err, boom) {
		t.Errorf("Containers with a failing hook = %v", err)
	}
	c, _ := f.Container("c-1")
	if _, err := f.Exec(ctx, c.ID, engine.ExecOptions{Argv: []string{"true"}}); !errors.Is(err, boom) {
		t.Errorf("Exec with a failing hook = %v", err)
	}
	f.SetHook(nil)
	if _, err := f.Exec(ctx, c.ID, engine.ExecOptions{Argv: []string{"true"}}); err != nil {
		t.Errorf("Exec without a hook = %v", err)
	}
}
