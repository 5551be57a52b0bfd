// Command bench measures lvc against the Docker floor on this machine and
// writes BENCHMARKS.md: bring-up time (lvc up and the watched directory)
// against plain parallel container starts, the agg_test topology to sets
// at the top aggregator, the cost of one exec, idle cost, repair latency
// and controller RSS.
// Run it with `make bench`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/controller"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/reconcile"
)

var (
	runs     = flag.Int("runs", 3, "repetitions of each bring-up measurement")
	sizesArg = flag.String("sizes", "5,16,64", "cluster sizes (nodes)")
	out      = flag.String("o", "BENCHMARKS.md", "file to write the table to")
	image    = flag.String("image", "lvc-node:latest", "node image")
	ovis     = flag.String("ovis", envOr("LVC_OVIS_PREFIX", "/opt/ovis"), "OVIS prefix on the host")
	kills    = flag.Int("kills", 20, "daemon kills for the repair latency")
	aggRuns  = flag.Int("agg-runs", 10, "repetitions of the agg_test measurement, started at evenly spread fractions of a second")
	idleFor  = flag.Duration("idle", 30*time.Second, "idle period measured at the largest size")
	ctlBin   = flag.String("controller", "bin/lvc-controller", "lvc-controller binary, for RSS")
	lvcBin   = flag.String("lvc", "bin/lvc", "lvc binary, for the exec measurement")
	execRuns = flag.Int("exec-runs", 50, "repetitions of each way to exec")
	partsArg = flag.String("parts", "bringup,agg,exec,idle,repair,rss", "sections to measure, comma-separated (a subset is for iterating: write it elsewhere with -o)")
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func main() {
	flag.Parse()
	ctx := context.Background()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	e       *swarm.Engine
	tmp     string
	haveLdm bool
	seq     int
	rows    []string
	notes   []string
}

func run(ctx context.Context) error {
	e, err := swarm.NewFromEnv(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	tmp, err := os.MkdirTemp("", "lvc-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	_, statErr := os.Stat(filepath.Join(*ovis, "sbin", "ldmsd"))
	b := &bench{e: e, tmp: tmp, haveLdm: statErr == nil}
	var sizes []int
	for _, s := range strings.Split(*sizesArg, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			return fmt.Errorf("-sizes: %q is not a size of 2 or more", s)
		}
		sizes = append(sizes, n)
	}

	parts := map[string]bool{}
	for _, p := range strings.Split(*partsArg, ",") {
		switch p = strings.TrimSpace(p); p {
		case "bringup", "agg", "exec", "idle", "repair", "rss":
			parts[p] = true
		default:
			return fmt.Errorf("-parts: %q is not one of bringup, agg, exec, idle, repair, rss", p)
		}
	}

	b.row("| measurement | N | runs | min | median | max | ratio to floor (median) |")
	b.row("|---|---|---|---|---|---|---|")
	for _, n := range sizes {
		if !parts["bringup"] {
			break
		}
		floor, err := b.repeat(func() (time.Duration, error) { return b.floor(ctx, n) })
		if err != nil {
			return err
		}
		b.stats("Docker floor: N idle containers on one overlay network, all in parallel", n, floor, 0)
		hosts, err := b.repeat(func() (time.Duration, error) { return b.up(ctx, n, nil) })
		if err != nil {
			return err
		}
		b.stats("lvc up: containers + /etc/hosts (services: [])", n, hosts, median(floor))
		full := fullServices(b.haveLdm)
		up, err := b.repeat(func() (time.Duration, error) { return b.up(ctx, n, full) })
		if err != nil {
			return err
		}
		b.stats("lvc up to Ready: "+strings.Join(full, "+"), n, up, median(floor))
		watched, err := b.repeat(func() (time.Duration, error) { return b.watched(ctx, n, full) })
		if err != nil {
			return err
		}
		b.stats("manifest dropped in a watched directory to Ready: "+strings.Join(full, "+"), n, watched, median(floor))
	}
	if parts["agg"] && b.haveLdm {
		var agg, ready []time.Duration
		cpu0 := cpuTime()
		for i := range *aggRuns {
			d, r, err := b.aggTest(ctx, time.Duration(i)*time.Second/time.Duration(*aggRuns))
			if err != nil {
				return err
			}
			agg, ready = append(agg, d), append(ready, r)
		}
		cpu := (cpuTime() - cpu0) / time.Duration(*aggRuns)
		b.stats("agg_test topology (8 nodes, sshd+munged+ldmsd): nothing to all 4 sampler sets listed at agg-2 (Python LDMS_Test here: 76 s)", 8, agg, 0)
		b.stats("agg_test, of which to Ready (lvc up returns; the rest is ldmsd connecting and updating)", 8, ready, 0)
		b.notes = append(b.notes, fmt.Sprintf("agg_test: lvc (reconciler and client, in the bench process) used %.2f s of CPU per bring-up, including the agg-2 polling and the cleanup.", cpu.Seconds()))
		b.notes = append(b.notes, "agg_test: ldmsd's updaters (offset=0) run on whole seconds of the clock, so the time to sets at agg-2 depends on when in a second the bring-up starts; its runs start at evenly spread fractions of a second.")
	} else if parts["agg"] {
		b.notes = append(b.notes, "No OVIS build at "+*ovis+": the agg_test and ldmsd measurements were skipped, and repair latency uses sshd.")
	}
	if parts["exec"] {
		if err := b.execs(ctx); err != nil {
			return err
		}
	}
	if parts["idle"] {
		if err := b.idle(ctx, slices.Max(sizes)); err != nil {
			return err
		}
	}
	if parts["repair"] {
		if err := b.repair(ctx); err != nil {
			return err
		}
	}
	if parts["rss"] {
		if err := b.rss(ctx); err != nil {
			return err
		}
	}
	return b.write(ctx)
}

func fullServices(ldmsd bool) []string {
	s := []string{v1.ServiceSshd, v1.ServiceMunged, v1.ServiceSlurm}
	if ldmsd {
		s = append(s, v1.ServiceLdmsd)
	}
	return s
}

func (b *bench) row(s string) { b.rows = append(b.rows, s); fmt.Println(s) }

func (b *bench) repeat(f func() (time.Duration, error)) ([]time.Duration, error) {
	var ds []time.Duration
	for range *runs {
		d, err := f()
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func (b *bench) stats(what string, n int, ds []time.Duration, floor time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	ratio := "—"
	if floor > 0 {
		ratio = fmt.Sprintf("%.2f", float64(median(ds))/float64(floor))
	}
	b.row(fmt.Sprintf("| %s | %d | %d | %s | %s | %s | %s |", what, n, len(ds), secs(s[0]), secs(median(ds)), secs(s[len(s)-1]), ratio))
}

func (b *bench) name(prefix string) string {
	b.seq++
	return fmt.Sprintf("bench-%s-%d-%d", prefix, os.Getpid(), b.seq)
}

// floor starts n containers with the plain Docker API, all in parallel.
func (b *bench) floor(ctx context.Context, n int) (time.Duration, error) {
	name := b.name("floor")
	cli := b.e.Client()
	labels := map[string]string{engine.LabelCluster: name}
	defer b.clean(ctx, name)
	start := time.Now()
	if _, err := cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "overlay", Scope: "swarm", Attachable: true, Labels: labels}); err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	init := true
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- startIdle(ctx, cli, name, i, labels, &init)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func startIdle(ctx context.Context, cli *client.Client, net string, i int, labels map[string]string, init *bool) error {
	r, err := cli.ContainerCreate(ctx, &container.Config{Image: *image, Hostname: fmt.Sprintf("node-%d", i), Labels: labels},
		&container.HostConfig{Init: init, NetworkMode: container.NetworkMode(net)}, nil, nil, fmt.Sprintf("%s-%d", net, i))
	if err != nil {
		return err
	}
	return cli.ContainerStart(ctx, r.ID, container.StartOptions{})
}

func (b *bench) clean(ctx context.Context, name string) {
	if err := reconcile.Delete(ctx, b.e, name, 16); err != nil {
		fmt.Fprintln(os.Stderr, "bench: cleanup", name+":", err)
	}
}

// manifest is an n-node cluster: n-1 sampler daemons (meminfo when ldmsd
// runs) and the service node.
func (b *bench) manifest(name string, n int, services []string) *v1.LDMSDCluster {
	c := &v1.LDMSDCluster{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.Kind}, Metadata: v1.ObjectMeta{Name: name}}
	c.Spec.Image, c.Spec.OvisPrefix = *image, *ovis
	c.Spec.Services = append([]string{}, services...)
	for i := 1; i < n; i++ {
		d := v1.DaemonSpec{Host: fmt.Sprintf("s-%d", i)}
		if slices.Contains(services, v1.ServiceSlurm) || slices.Contains(services, v1.ServiceLdmsd) {
			d.Type = v1.DaemonTypeSampler
		}
		if slices.Contains(services, v1.ServiceLdmsd) {
			d.ListenPort, d.ListenXprt, d.ListenAuth = 10000, "sock", "none"
			d.Env = v1.Env{{Name: "COMPONENT_ID", Value: strconv.Itoa(i)}, {Name: "INTERVAL", Value: "1000000"}, {Name: "OFFSET", Value: "0"}}
			d.Samplers = []v1.Sampler{{Plugin: "meminfo", Config: []string{"instance=s-" + strconv.Itoa(i) + "/meminfo", "producer=s-" + strconv.Itoa(i)}, Start: true}}
		}
		c.Spec.Daemons = append(c.Spec.Daemons, d)
	}
	v1.SetDefaults(c)
	return c
}

// client is an lvc client on a new scratch directory (returned) for name.
func (b *bench) client(ctx context.Context, name string) (*cluster.Client, string, error) {
	dir, err := os.MkdirTemp(b.tmp, name)
	if err != nil {
		return nil, "", err
	}
	cl, err := cluster.New(ctx, cluster.Options{ManifestsDir: filepath.Join(dir, "clusters"), StatusDir: filepath.Join(dir, "status"), Runtime: b.e})
	return cl, dir, err
}

// up times lvc up (in-process reconcile) from nothing to Ready.
func (b *bench) up(ctx context.Context, n int, services []string) (time.Duration, error) {
	name := b.name("up")
	cl, _, err := b.client(ctx, name)
	if err != nil {
		return 0, err
	}
	defer b.clean(ctx, name)
	start := time.Now()
	if _, err := cl.Up(ctx, b.manifest(name, n, services), 10*time.Minute); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// watched times a manifest written into a running controller's directory
// until its status file says Ready.
func (b *bench) watched(ctx context.Context, n int, services []string) (time.Duration, error) {
	name := b.name("watch")
	cl, dir, err := b.client(ctx, name)
	if err != nil {
		return 0, err
	}
	os.MkdirAll(filepath.Join(dir, "clusters"), 0o755)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	ctl := controller.New(b.e, controller.Options{ManifestsDir: filepath.Join(dir, "clusters"), StatusDir: filepath.Join(dir, "status"), Resync: time.Minute, Prune: true})
	go func() { done <- ctl.Run(cctx) }()
	defer func() { cancel(); <-done; b.clean(ctx, name) }()
	time.Sleep(200 * time.Millisecond) // let the watch start; not timed
	start := time.Now()
	if _, err := cl.Apply(b.manifest(name, n, services)); err != nil {
		return 0, err
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Minute)
	defer wcancel()
	if err := cl.Cluster(name).Wait(wctx, v1.ConditionReady); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// aggTest times manifests/agg-test.yaml from nothing to agg-2 listing
// every sampler's set, and to Ready, starting at phase past a whole
// second.
func (b *bench) aggTest(ctx context.Context, phase time.Duration) (total, ready time.Duration, err error) {
	docs, err := v1.LoadFile("manifests/agg-test.yaml")
	if err != nil {
		return 0, 0, err
	}
	if err := v1.Errors(docs).Err(); err != nil {
		return 0, 0, err
	}
	c := docs[0].Cluster
	name := b.name("agg")
	c.Metadata.Name, c.Spec.Image, c.Spec.OvisPrefix = name, *image, *ovis
	cl, _, err := b.client(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	defer b.clean(ctx, name)
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + phase).Sub(now)) // not timed
	start := time.Now()
	h, err := cl.Up(ctx, c, 5*time.Minute)
	if err != nil {
		return 0, 0, err
	}
	ready = time.Since(start)
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r, err := h.LdmsLs(ctx, "-x", "sock", "-p", "20000", "-h", "agg-2")
		if err != nil {
			return 0, 0, err
		}
		if len(cluster.ParseLdmsLs(string(r.Stdout))) == 4 {
			return time.Since(start), ready, nil
		}
	}
	return 0, 0, fmt.Errorf("agg_test: agg-2 did not list 4 sets within 2 minutes")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// idle measures a controller's CPU and API requests per resync with one
// n-node cluster and nothing changing.
func (b *bench) idle(ctx context.Context, n int) error {
	name := b.name("idle")
	cl, dir, err := b.client(ctx, name)
	if err != nil {
		return err
	}
	defer b.clean(ctx, name)
	if _, err := cl.Up(ctx, b.manifest(name, n, fullServices(b.haveLdm)), 10*time.Minute); err != nil {
		return err
	}
	resync := 2 * time.Second
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	ctl := controller.New(b.e, controller.Options{ManifestsDir: filepath.Join(dir, "clusters"), StatusDir: filepath.Join(dir, "status"), Resync: resync, Prune: true})
	go func() { done <- ctl.Run(cctx) }()
	time.Sleep(3 * time.Second) // adoption and its first reconcile are not idle
	cpu0, req0, t0 := cpuTime(), b.e.Requests(), time.Now()
	time.Sleep(*idleFor)
	cpu, req, el := cpuTime()-cpu0, b.e.Requests()-req0, time.Since(t0)
	cancel()
	<-done
	resyncs := float64(el) / float64(resync)
	b.row("")
	b.row("| idle cost, one cluster, nothing changing | N | value |")
	b.row("|---|---|---|")
	b.row(fmt.Sprintf("| controller CPU per minute (resync every %s) | %d | %.2f s (%.2f %% of one core) |", resync, n, cpu.Seconds()*float64(time.Minute)/float64(el), 100*cpu.Seconds()/el.Seconds()))
	b.row(fmt.Sprintf("| Docker API requests per resync | %d | %.1f (%.2f per node) |", n, float64(req)/resyncs, float64(req)/resyncs/float64(n)))
	b.row(fmt.Sprintf("| controller CPU per minute at the default 60 s resync (scaled) | %d | %.2f s (%.3f %% of one core) |", n, cpu.Seconds()*float64(time.Minute)/float64(el)*resync.Seconds()/60, 100*cpu.Seconds()/el.Seconds()*resync.Seconds()/60))
	return nil
}

// execs times one command on a node, run whole from the shell's point of
// view (process start to exit) in three ways taken in turn: docker exec,
// lvc exec through the engine's exec, and lvc exec through the node's
// exec agent. ldms-test's scripts run hundreds of such commands.
func (b *bench) execs(ctx context.Context) error {
	name := b.name("exec")
	cl, dir, err := b.client(ctx, name)
	if err != nil {
		return err
	}
	defer b.clean(ctx, name)
	h, err := cl.Up(ctx, b.manifest(name, 2, []string{v1.ServiceSshd}), 5*time.Minute)
	if err != nil {
		return err
	}
	ct, err := h.Container(ctx, "node-1")
	if err != nil {
		return err
	}
	lvc := []string{*lvcBin, "--manifests", filepath.Join(dir, "clusters"), "--status-dir", filepath.Join(dir, "status"), "exec", name, "node-1", "--", "true"}
	ways := []struct {
		what string
		argv []string
		env  string
	}{
		{"docker exec (the engine's exec; the baseline)", []string{"docker", "exec", ct.Name, "true"}, ""},
		{"lvc exec through the engine's exec (" + swarm.EnvAgent + "=none)", lvc, swarm.EnvAgent + "=none"},
		{"lvc exec through the node's exec agent (the default on a local engine)", lvc, ""},
	}
	times := make([][]time.Duration, len(ways))
	for range *execRuns {
		for i, w := range ways {
			cmd := exec.CommandContext(ctx, w.argv[0], w.argv[1:]...)
			cmd.Env = os.Environ()
			if w.env != "" {
				cmd.Env = append(cmd.Env, w.env)
			}
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("exec: %s: %v: %s", w.what, err, out)
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	b.row("")
	b.row("| one command (`true`) on a node, whole command's wall time | runs | min | median | max | ratio to docker exec (median) |")
	b.row("|---|---|---|---|---|---|")
	for i, w := range ways {
		s := slices.Clone(times[i])
		slices.Sort(s)
		b.row(fmt.Sprintf("| %s | %d | %.1f ms | %.1f ms | %.1f ms | %.2f |", w.what, len(s), ms(s[0]), ms(median(s)), ms(s[len(s)-1]), float64(median(s))/float64(median(times[0]))))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// repair kills a daemon repeatedly under a running controller and times
// until a new one runs.
func (b *bench) repair(ctx context.Context) error {
	name := b.name("repair")
	cl, dir, err := b.client(ctx, name)
	if err != nil {
		return err
	}
	defer b.clean(ctx, name)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	ctl := controller.New(b.e, controller.Options{ManifestsDir: filepath.Join(dir, "clusters"), StatusDir: filepath.Join(dir, "status"), Resync: time.Hour, Prune: true})
	go func() { done <- ctl.Run(cctx) }()
	defer func() { cancel(); <-done }()
	if _, err := cl.Apply(b.manifest(name, 5, fullServices(b.haveLdm))); err != nil {
		return err
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer wcancel()
	h := cl.Cluster(name)
	if err := h.Wait(wctx, v1.ConditionReady); err != nil {
		return err
	}
	daemon := "sshd"
	if b.haveLdm {
		daemon = "ldmsd"
	}
	ct, err := h.Container(ctx, "node-1")
	if err != nil {
		return err
	}
	var lat []time.Duration
	for range *kills {
		old := topPID(ctx, b.e, ct.ID, daemon)
		start := time.Now()
		if _, err := ct.Exec(ctx, "pkill", "-x", daemon); err != nil {
			return err
		}
		for {
			if p := topPID(ctx, b.e, ct.ID, daemon); p != 0 && p != old {
				break
			}
			if time.Since(start) > time.Minute {
				return fmt.Errorf("repair: %s not back within a minute", daemon)
			}
			time.Sleep(10 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
		time.Sleep(5500 * time.Millisecond) // a stable run: the next kill is restarted at once, not backed off
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.row("")
	b.row("| repair latency: kill to running again, event-driven (resync 1 h) | kills | median | max |")
	b.row("|---|---|---|---|")
	b.row(fmt.Sprintf("| %s on node-1 | %d | %.3f s | %.3f s |", daemon, len(lat), median(lat).Seconds(), lat[len(lat)-1].Seconds()))
	return nil
}

func topPID(ctx context.Context, rt engine.Runtime, id, exe string) int {
	ps, _ := rt.Top(ctx, id)
	for _, p := range ps {
		if f := strings.Fields(p.Command); len(f) > 0 && filepath.Base(strings.TrimSuffix(f[0], ":")) == exe {
			return p.PID
		}
	}
	return 0
}

// rss runs the real lvc-controller over 1 cluster of 5 nodes, 8 of 5 and
// 8 of 8 (64 nodes) and reads its resident memory once all are Ready.
func (b *bench) rss(ctx context.Context) error {
	if _, err := os.Stat(*ctlBin); err != nil {
		return fmt.Errorf("controller binary %s: %w (run make build)", *ctlBin, err)
	}
	b.row("")
	b.row("| lvc-controller resident memory, all clusters Ready | clusters × nodes | VmRSS | open fds |")
	b.row("|---|---|---|---|")
	for _, shape := range [][2]int{{1, 5}, {8, 5}, {8, 8}} {
		rss, fds, err := b.rssOnce(ctx, shape[0], shape[1])
		if err != nil {
			return err
		}
		b.row(fmt.Sprintf("| %d × %d = %d nodes | %d × %d | %.1f MiB | %d |", shape[0], shape[1], shape[0]*shape[1], shape[0], shape[1], float64(rss)/1024, fds))
	}
	return nil
}

func (b *bench) rssOnce(ctx context.Context, clusters, nodes int) (kib, fds int, err error) {
	cl, dir, err := b.client(ctx, "rss")
	if err != nil {
		return 0, 0, err
	}
	os.MkdirAll(filepath.Join(dir, "clusters"), 0o755)
	cmd := exec.Command(*ctlBin, "--manifests", filepath.Join(dir, "clusters"), "--status-dir", filepath.Join(dir, "status"), "--resync", "5s")
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	var names []string
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		for _, n := range names {
			b.clean(ctx, n)
		}
	}()
	services := []string{v1.ServiceSshd, v1.ServiceMunged}
	for range clusters {
		n := b.name("rss")
		names = append(names, n)
		if _, err := cl.Apply(b.manifest(n, nodes, services)); err != nil {
			return 0, 0, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for _, n := range names {
		if err := cl.Cluster(n).Wait(wctx, v1.ConditionReady); err != nil {
			return 0, 0, err
		}
	}
	time.Sleep(6 * time.Second) // one resync of everything
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kib, _ = strconv.Atoi(f[1])
		}
	}
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
	return kib, len(ents), nil
}

func (b *bench) write(ctx context.Context) error {
	var sb strings.Builder
	ver, _ := b.e.Client().ServerVersion(ctx)
	uname, _ := exec.Command("uname", "-sr").Output()
	var mem string
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.SplitN(string(data), "\n", 2)[0])[1] + " kB"
	}
	fmt.Fprintf(&sb, "# Benchmarks\n\nGenerated by `make bench` (hack/bench) on %s. Do not edit by hand.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&sb, "- Machine: %d cores, %s memory, %s, Go %s\n", runtime.NumCPU(), mem, strings.TrimSpace(string(uname)), runtime.Version())
	fmt.Fprintf(&sb, "- Engine: Docker %s (API %s), single-node swarm, image %s\n", ver.Version, ver.APIVersion, *image)
	fmt.Fprintf(&sb, "- OVIS: %s (%s)\n", *ovis, map[bool]string{true: "ldmsd present", false: "no ldmsd"}[b.haveLdm])
	fmt.Fprintf(&sb, "- Each bring-up is measured %d times in this run against the floor measured in the same run; times are wall clock.\n\n", *runs)
	for _, n := range b.notes {
		fmt.Fprintf(&sb, "Note: %s\n\n", n)
	}
	sb.WriteString(strings.Join(b.rows, "\n") + "\n")
	return store.WriteFileAtomic(*out, []byte(sb.String()), 0o644)
}
