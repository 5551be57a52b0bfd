package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"sigs.k8s.io/yaml"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
)

// Cluster is a handle on one cluster, as the Python LDMSDCluster was.
type Cluster struct {
	Name   string
	client *Client
}

// Status reads the cluster's status file; nil when there is none.
func (c *Cluster) Status() (*v1.LDMSDCluster, error) { return c.client.status.Read(c.Name) }

// Containers lists the cluster's containers in node order, with the
// aliases its status file records.
func (c *Cluster) Containers(ctx context.Context) ([]*Container, error) {
	live, err := c.client.rt.Containers(ctx, c.Name)
	if err != nil {
		return nil, err
	}
	aliases := map[string][]string{}
	roles := map[string]string{}
	if st, _ := c.Status(); st != nil && st.Status != nil {
		for _, n := range st.Status.Nodes {
			aliases[n.Hostname], roles[n.Hostname] = n.Aliases, n.Role
		}
	}
	out := make([]*Container, 0, len(live))
	index := map[*Container]int{}
	for _, ct := range live {
		cn := &Container{Hostname: ct.Node, Aliases: aliases[ct.Node], Name: ct.Name, ID: ct.ID, IP: ct.IP, Running: ct.Running, role: roles[ct.Node], rt: c.client.rt}
		index[cn], _ = strconv.Atoi(ct.Labels[engine.LabelIndex])
		out = append(out, cn)
	}
	// In the spec's order, which the index label keeps (hostnames need not
	// be node-N: the ldms-test format names them).
	sort.SliceStable(out, func(i, j int) bool { return index[out[i]] < index[out[j]] })
	return out, nil
}

// Container returns the container whose hostname, alias or container
// name is name.
func (c *Cluster) Container(ctx context.Context, name string) (*Container, error) {
	cs, err := c.Containers(ctx)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, ct := range cs {
		if ct.Hostname == name || ct.Name == name {
			return ct, nil
		}
		for _, a := range ct.Aliases {
			if a == name {
				return ct, nil
			}
		}
		known = append(known, ct.Hostname)
		known = append(known, ct.Aliases...)
	}
	return nil, fmt.Errorf("cluster %s has no node %q (nodes: %s)", c.Name, name, strings.Join(known, ", "))
}

// ServiceNode is the node of slurmctld, job submission and ldms_ls: the
// one the status calls the service node (the last node of a seed-format
// cluster; the slurmctld node of an ldms-test format one), else the last.
func (c *Cluster) ServiceNode(ctx context.Context) (*Container, error) {
	cs, err := c.Containers(ctx)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: %s has no containers", ErrNotFound, c.Name)
	}
	for _, ct := range cs {
		if ct.role == "service" {
			return ct, nil
		}
	}
	return cs[len(cs)-1], nil
}

// Exec runs argv on the service node.
func (c *Cluster) Exec(ctx context.Context, argv ...string) (Result, error) {
	svc, err := c.ServiceNode(ctx)
	if err != nil {
		return Result{}, err
	}
	return svc.Exec(ctx, argv...)
}

// LdmsLs runs ldms_ls with args on the service node.
func (c *Cluster) LdmsLs(ctx context.Context, args ...string) (Result, error) {
	return c.Exec(ctx, append([]string{"ldms_ls"}, args...)...)
}

var submitted = regexp.MustCompile(`Submitted batch job (\d+)`)

// Sbatch submits a script that is on the service node and returns the
// job id.
func (c *Cluster) Sbatch(ctx context.Context, script string, opts ...string) (int, error) {
	argv := append(append([]string{"sbatch"}, opts...), script)
	r, err := c.Exec(ctx, argv...)
	if err != nil {
		return 0, err
	}
	m := submitted.FindStringSubmatch(string(r.Stdout))
	if r.ExitCode != 0 || m == nil {
		return 0, fmt.Errorf("sbatch: exit code %d: %s%s", r.ExitCode, r.Stdout, r.Stderr)
	}
	return strconv.Atoi(m[1])
}

// Job is one row of squeue -o %all, keyed by its header.
type Job map[string]string

// Squeue lists jobs, or the given ones.
func (c *Cluster) Squeue(ctx context.Context, jobs ...int) ([]Job, error) {
	argv := []string{"squeue", "-o", "%all"}
	if len(jobs) > 0 {
		ids := make([]string, len(jobs))
		for i, j := range jobs {
			ids[i] = strconv.Itoa(j)
		}
		argv = append(argv, "-j", strings.Join(ids, ","))
	}
	r, err := c.Exec(ctx, argv...)
	if err != nil {
		return nil, err
	}
	if r.ExitCode != 0 {
		return nil, fmt.Errorf("squeue: exit code %d: %s", r.ExitCode, r.Stderr)
	}
	return ParseSqueue(string(r.Stdout)), nil
}

// ParseSqueue reads squeue -o %all: a |-separated header row, then rows.
func ParseSqueue(out string) []Job {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 {
		return nil
	}
	header := strings.Split(lines[0], "|")
	var jobs []Job
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		f := strings.Split(l, "|")
		j := Job{}
		for i, h := range header {
			if h == "" || i >= len(f) {
				continue
			}
			if _, dup := j[h]; !dup { // %all repeats some columns
				j[h] = f[i]
			}
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// Scancel cancels a job.
func (c *Cluster) Scancel(ctx context.Context, job int) error {
	r, err := c.Exec(ctx, "scancel", strconv.Itoa(job))
	if err == nil && r.ExitCode != 0 {
		err = fmt.Errorf("scancel %d: exit code %d: %s", job, r.ExitCode, r.Stderr)
	}
	return err
}

// StopDaemon stops a daemon on a node on purpose: it stays down across
// resyncs and controller restarts until StartDaemon. It returns once the
// status says it is stopped: the controller kills it, or this call does
// when none runs, the way the reconciler tells that daemon from others of
// its program.
func (c *Cluster) StopDaemon(ctx context.Context, node, daemon string, timeout time.Duration) error {
	return c.setStopped(ctx, node, daemon, true, timeout)
}

// StartDaemon undoes StopDaemon and waits until the daemon runs again:
// the controller starts it, or this call does when none runs. A daemon of
// restart: manual is the user's to start: it says so.
func (c *Cluster) StartDaemon(ctx context.Context, node, daemon string, timeout time.Duration) error {
	if st, err := c.Status(); err == nil && st != nil {
		if d := st.Daemon(node, daemon); d != nil && d.State == v1.DaemonNotStarted {
			return fmt.Errorf("%s on %s is restart: manual: lvc does not start it; start it on the node (ldms-test's start_daemons does)", daemon, node)
		}
	}
	return c.setStopped(ctx, node, daemon, false, timeout)
}

func (c *Cluster) setStopped(ctx context.Context, node, daemon string, stop bool, timeout time.Duration) error {
	ct, err := c.Container(ctx, node)
	if err != nil {
		return err
	}
	if err := c.client.status.SetStopped(c.Name, ct.Hostname+"/"+daemon, stop); err != nil {
		return err
	}
	want := v1.DaemonRunning
	if stop {
		want = v1.DaemonStopped
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reached := func(st *v1.LDMSDCluster) bool {
		d := st.Daemon(ct.Hostname, daemon)
		return d != nil && d.State == want
	}
	if release, err := c.client.status.Lock(); err == nil {
		// Until the daemon is so, not until Ready: another daemon may be
		// stopped on purpose.
		err := c.client.converge(ctx, c.Name, reached)
		release()
		if err != nil {
			return err
		}
	}
	return c.waitFor(ctx, nil, reached)
}

// Remove deletes the cluster (manifest, objects, status).
func (c *Cluster) Remove(ctx context.Context) error { return c.client.Delete(ctx, c.Name) }

// Wait blocks until condition (e.g. Ready) is True in the status file at
// the current generation, or ctx ends.
//
// It returns a *StalledError at once when the status says Stalled for the
// current generation (no waiting can change that), unless condition is
// Stalled itself.
func (c *Cluster) Wait(ctx context.Context, condition string) error {
	stalled := (*v1.LDMSDCluster).StalledNow
	if condition == v1.ConditionStalled {
		stalled = nil
	}
	return c.waitFor(ctx, stalled, func(st *v1.LDMSDCluster) bool {
		if condition == v1.ConditionReady {
			return st.IsReady()
		}
		c := st.Condition(condition)
		return c != nil && c.Status == v1.ConditionTrue
	})
}

// WaitApplied blocks until the status file reflects obj's spec (see
// Applied) and the cluster is Ready at that generation, or ctx ends. Use
// it rather than Wait after an Apply that a controller converges: until
// the controller has read the new manifest, the status file still shows
// the previous spec, possibly Ready. Like Wait, it returns a
// *StalledError at once when the status of obj's spec says Stalled.
func (c *Cluster) WaitApplied(ctx context.Context, obj *v1.LDMSDCluster) error {
	want := normSpec(obj)
	stalled := func(st *v1.LDMSDCluster) *v1.Condition {
		if s := st.StalledNow(); s != nil && normSpec(st) == want {
			return s
		}
		return nil
	}
	return c.waitFor(ctx, stalled, func(st *v1.LDMSDCluster) bool {
		return st.IsReady() && st.Status.ObservedGeneration > 0 && normSpec(st) == want
	})
}

// Applied tells whether the status object st was computed from obj's
// spec, defaults set, as Apply writes it.
func Applied(st, obj *v1.LDMSDCluster) bool {
	return st != nil && obj != nil && normSpec(st) == normSpec(obj)
}

// normSpec is obj's defaulted spec in one canonical form: through YAML
// and back as the manifest and status files take it, then JSON.
func normSpec(obj *v1.LDMSDCluster) string {
	c := obj.DeepCopy()
	v1.SetDefaults(c)
	data, err := yaml.Marshal(c.Spec)
	if err != nil {
		return ""
	}
	var spec v1.LDMSDClusterSpec
	if err := yaml.Unmarshal(data, &spec); err != nil {
		return ""
	}
	out, _ := json.Marshal(spec)
	return string(out)
}

// WaitDeleted blocks until no object is labelled for the cluster.
func (c *Cluster) WaitDeleted(ctx context.Context) error {
	for pause := 50 * time.Millisecond; ; pause = min(2*pause, time.Second) {
		ok, err := c.client.exists(ctx, c.Name)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s still has objects", ErrTimeout, c.Name)
		case <-time.After(pause):
		}
	}
}

// The pauses between two reads of a status file while waiting grow from
// pollFirst to pollMax (a test sets them high to see the watch alone).
var pollFirst, pollMax = 50 * time.Millisecond, 500 * time.Millisecond

// waitFor reads the status until ok says so, or stalled (when not nil)
// returns a condition, or ctx ends.
func (c *Cluster) waitFor(ctx context.Context, stalled func(*v1.LDMSDCluster) *v1.Condition, ok func(*v1.LDMSDCluster) bool) error {
	// A write of the status file shows at once through a watch of its
	// directory; polling covers a directory not there yet, or no watch.
	path := c.client.status.Path(c.Name)
	var changed <-chan fsnotify.Event
	var failed <-chan error
	if w, err := fsnotify.NewWatcher(); err == nil {
		defer w.Close()
		if w.Add(filepath.Dir(path)) == nil {
			changed, failed = w.Events, w.Errors
		}
	}
	var st *v1.LDMSDCluster
	for pause := pollFirst; ; pause = min(2*pause, pollMax) {
		var err error
		st, err = c.Status()
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		if st != nil && c.client.opts.Progress != nil {
			c.client.opts.Progress(st)
		}
		if ok(st) {
			return nil
		}
		if stalled != nil && st != nil {
			if s := stalled(st); s != nil {
				return &StalledError{Cluster: c.Name, Reason: s.Reason, Message: s.Message}
			}
		}
		timeout := time.After(pause)
	wait:
		for {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: %s: %s", ErrTimeout, c.Name, notReadyReason(st, nil))
			case ev := <-changed:
				if ev.Name == path { // not another cluster's file, nor the events log
					break wait
				}
			case <-failed: // events were lost: look
				break wait
			case <-timeout:
				break wait
			}
		}
	}
}
