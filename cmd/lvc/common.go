package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/plan"
)

// exitError makes lvc exit with code. main prints err first when it is
// not nil; a nil err exits silently, as for a command run by lvc exec
// whose own output already said everything.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode returns nil for code 0, else an exitError that prints nothing.
func exitCode(code int) error {
	if code == 0 {
		return nil
	}
	return &exitError{code: code}
}

// newClient connects to the engine for the status and manifests
// directories of the global flags. progress, when not nil, is called
// with each status read while waiting. The caller closes the client.
func newClient(ctx context.Context, g *globalOptions, progress func(*v1.LDMSDCluster)) (*cluster.Client, error) {
	return cluster.New(ctx, cluster.Options{ManifestsDir: g.Manifests, StatusDir: g.StatusDir, Progress: progress})
}

// interactive is the client's engine for what the reconciler's Runtime
// does not offer: streamed and interactive exec, copy, container logs.
func interactive(c *cluster.Client) (engine.Interactive, error) {
	if i, ok := c.Runtime().(engine.Interactive); ok {
		return i, nil
	}
	return nil, fmt.Errorf("engine %T cannot stream an exec, copy files or show logs", c.Runtime())
}

// notFound is kubectl's message for an unknown object.
func notFound(name string) error {
	return fmt.Errorf("ldmsdcluster %q not found", name)
}

// noControllerMessage says that nothing acts on applied manifests.
func noControllerMessage(statusDir string) string {
	return fmt.Sprintf("no lvc-controller runs on %s: run lvc-controller, or use lvc up", statusDir)
}

// summary returns what List knows of one cluster, or notFound.
func summary(ctx context.Context, c *cluster.Client, name string) (cluster.Summary, error) {
	all, err := c.List(ctx)
	if err != nil {
		return cluster.Summary{}, err
	}
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
	}
	return cluster.Summary{}, notFound(name)
}

// node resolves a hostname, alias or container name of a cluster that
// must have containers.
func node(ctx context.Context, c *cluster.Client, name, node string) (*cluster.Container, error) {
	cl := c.Cluster(name)
	cs, err := cl.Containers(ctx)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: it has no containers", notFound(name))
	}
	ct, err := cl.Container(ctx, node)
	if err != nil {
		return nil, err
	}
	if !ct.Running {
		return nil, fmt.Errorf("node %s of %s: container %s is not running", ct.Hostname, name, ct.Name)
	}
	return ct, nil
}

// serviceNode is the cluster's service node (Cluster.ServiceNode), which
// must be running.
func serviceNode(ctx context.Context, c *cluster.Client, name string) (*cluster.Container, error) {
	svc, err := c.Cluster(name).ServiceNode(ctx)
	if errors.Is(err, cluster.ErrNotFound) {
		return nil, fmt.Errorf("%w: it has no containers", notFound(name))
	}
	if err != nil {
		return nil, err
	}
	return node(ctx, c, name, svc.Hostname)
}

// progressPrinter prints each condition of the status objects it is
// given when its status or reason changes, as apply --wait and up show
// progress. accept, when not nil, drops objects that do not yet reflect
// what was applied.
// progressSlot lets a client's waits print through the printer of the
// cluster being waited for, which changes from one cluster to the next.
type progressSlot struct{ p *progressPrinter }

func (s *progressSlot) print(st *v1.LDMSDCluster) {
	if s.p != nil {
		s.p.print(st)
	}
}

// newProgressClient is newClient whose waits print through the slot.
func newProgressClient(ctx context.Context, g *globalOptions) (*cluster.Client, *progressSlot, error) {
	slot := &progressSlot{}
	c, err := newClient(ctx, g, slot.print)
	return c, slot, err
}

// applyOne applies obj and prints what happened as kubectl does.
func applyOne(cmd *cobra.Command, c *cluster.Client, obj *v1.LDMSDCluster) error {
	res, err := c.Apply(obj)
	if err != nil {
		return fmt.Errorf("apply %s: %w", obj.Metadata.Name, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "ldmsdcluster/%s %s\n", obj.Metadata.Name, res)
	return nil
}

type progressPrinter struct {
	w      func(format string, args ...any)
	accept func(*v1.LDMSDCluster) bool
	seen   map[string]string
	start  time.Time
}

func newProgressPrinter(cmd *cobra.Command, accept func(*v1.LDMSDCluster) bool) *progressPrinter {
	out := cmd.OutOrStdout()
	return &progressPrinter{w: func(f string, a ...any) { fmt.Fprintf(out, f, a...) }, accept: accept, seen: map[string]string{}, start: time.Now()}
}

// done prints that the cluster is ready and how long it took.
func (p *progressPrinter) done(name string) {
	p.w("ldmsdcluster/%s ready in %.1fs\n", name, time.Since(p.start).Seconds())
}

func (p *progressPrinter) print(obj *v1.LDMSDCluster) {
	if obj == nil || obj.Status == nil || (p.accept != nil && !p.accept(obj)) {
		return
	}
	// Ready last: it sums up the others.
	conds := append([]v1.Condition(nil), obj.Status.Conditions...)
	sort.SliceStable(conds, func(i, j int) bool {
		return conds[i].Type != v1.ConditionReady && conds[j].Type == v1.ConditionReady
	})
	for _, c := range conds {
		key := c.Status + "/" + c.Reason
		if p.seen[c.Type] == key {
			continue
		}
		p.seen[c.Type] = key
		if c.Status == v1.ConditionTrue {
			p.w("%s %s\n", c.Type, c.Status)
			continue
		}
		msg := c.Reason
		if c.Message != "" {
			msg += ": " + firstLine(c.Message)
		}
		p.w("%s %s %s\n", c.Type, c.Status, msg)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// age formats a duration as kubectl does: 5s, 3m, 2h, 4d.
func age(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// completeClusters completes a cluster name from the manifests and
// status directories, without the engine.
func completeClusters(g *globalOptions) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return clusterNames(g), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeClusterNode completes NAME then NODE (hostnames and aliases
// from the status file).
func completeClusterNode(g *globalOptions) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		switch len(args) {
		case 0:
			return clusterNames(g), cobra.ShellCompDirectiveNoFileComp
		case 1:
			st, _ := store.Status{Dir: g.StatusDir}.Read(args[0])
			var out []string
			if st != nil && st.Status != nil {
				for _, n := range st.Status.Nodes {
					out = append(append(out, n.Hostname), n.Aliases...)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveDefault
	}
}

func clusterNames(g *globalOptions) []string {
	set := map[string]bool{}
	if idx, err := store.Scan(g.Manifests, nil); err == nil {
		for n := range idx.Entries {
			set[n] = true
		}
	}
	names, _ := store.Status{Dir: g.StatusDir}.Names()
	for _, n := range names {
		set[n] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// isTimeout tells whether err is a wait that ran out of time.
func isTimeout(err error) bool {
	return errors.Is(err, cluster.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// statusPlan is the plan of the spec a status file was computed from.
func statusPlan(st *v1.LDMSDCluster) (*plan.Plan, error) {
	if st == nil {
		return nil, errors.New("no status file: the cluster was never reconciled")
	}
	p, err := plan.FromStatus(st)
	if err != nil {
		return nil, fmt.Errorf("the spec in the status file of %s: %w", st.Metadata.Name, err)
	}
	return p, nil
}
