package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/plan"
)

func newDiffCommand(g *globalOptions) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "diff -f FILE|DIR|-",
		Short: "Show what applying manifests would change, node by node",
		Long: `diff compares each cluster of the manifests with the running cluster: its
containers (by their lvc.hash label) and its status file (daemon hashes and
the spec last applied). It prints, node by node, the nodes that would be
added, removed or recreated and why, the daemons that would be started,
stopped or restarted and why, and the files that would change, with their
lines. As diff and kubectl diff do, it exits 0 when nothing would change,
1 when something would, and 2 on error.`,
		Example: `  lvc diff -f manifests/ldms-slurm.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := loadValid(cmd.ErrOrStderr(), cmd.InOrStdin(), files)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			ctx := cmd.Context()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer c.Close()
			changed := false
			for _, obj := range objs {
				lines, err := diffCluster(ctx, c, obj)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				if len(lines) > 0 {
					changed = true
					printDiff(cmd.OutOrStdout(), obj.Metadata.Name, lines)
				}
			}
			if changed {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file or directory, repeatable (- for standard input)")
	_ = cmd.MarkFlagRequired("filename")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	return cmd
}

func printDiff(w io.Writer, name string, lines []string) {
	fmt.Fprintf(w, "ldmsdcluster/%s\n", name)
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// diffCluster lists what applying obj would change in the running
// cluster; nothing when it would change nothing.
func diffCluster(ctx context.Context, c *cluster.Client, obj *v1.LDMSDCluster) ([]string, error) {
	name := obj.Metadata.Name
	want, err := plan.Build(obj)
	if err != nil {
		return nil, err
	}
	live, err := c.Runtime().Containers(ctx, name)
	if err != nil {
		return nil, err
	}
	st, err := c.Cluster(name).Status()
	if err != nil {
		return nil, err
	}
	// The plan of the spec last applied, from the status file: it tells
	// why a hash differs, and which files change.
	var old *plan.Plan
	if st != nil {
		old, _ = plan.FromStatus(st)
	}
	if len(live) == 0 {
		var nodes []string
		for _, n := range want.Nodes {
			nodes = append(nodes, nodeLabel(&n))
		}
		return []string{fmt.Sprintf("cluster would be created: %d nodes (%s)", len(want.Nodes), strings.Join(nodes, ", "))}, nil
	}
	byHost := map[string]engine.Container{}
	for _, ct := range live {
		byHost[ct.Node] = ct
	}
	var out []string
	if old != nil {
		if add, del := setDiff(old.Services, want.Services); len(add)+len(del) > 0 {
			out = append(out, "services: "+plusMinus(add, del))
		}
	}
	for i := range want.Nodes {
		n := &want.Nodes[i]
		var was *plan.Node
		if old != nil {
			was = old.Node(n.Hostname)
		}
		ct, ok := byHost[n.Hostname]
		delete(byHost, n.Hostname)
		switch {
		case !ok:
			out = append(out, nodeLabel(n)+": added")
			continue
		case ct.Hash != expectedHash(n):
			why := "container spec changed"
			if was != nil {
				if r := containerChanges(was, n); len(r) > 0 {
					why = strings.Join(r, "; ")
				}
			}
			out = append(out, nodeLabel(n)+": recreated: "+why)
			continue
		}
		if was != nil && !slices.Equal(was.Aliases, n.Aliases) {
			out = append(out, fmt.Sprintf("%s: aliases %s -> %s (/etc/hosts of every node changes)", nodeLabel(n), listOrNone(was.Aliases), listOrNone(n.Aliases)))
		}
		out = append(out, daemonChanges(st, old, was, want, n)...)
		if was != nil {
			out = append(out, fileChanges(was, n)...)
		}
	}
	var gone []string
	for h := range byHost {
		gone = append(gone, h)
	}
	sort.Slice(gone, func(i, j int) bool { return nodeNumber(gone[i]) < nodeNumber(gone[j]) })
	for _, h := range gone {
		out = append(out, h+": removed")
	}
	return out, nil
}

func nodeNumber(h string) int {
	var i int
	fmt.Sscanf(h, "node-%d", &i)
	return i
}

func nodeLabel(n *plan.Node) string {
	if len(n.Aliases) == 0 {
		return n.Hostname
	}
	return n.Hostname + " (" + strings.Join(n.Aliases, ",") + ")"
}

// expectedHash is the lvc.hash label the reconciler gives the node's
// container.
func expectedHash(n *plan.Node) string {
	_, hash := plan.HostMounts(n)
	return hash
}

// containerChanges says what changed in what a container is made from.
func containerChanges(was, n *plan.Node) []string {
	var r []string
	if was.Image != n.Image {
		r = append(r, fmt.Sprintf("image %s -> %s", was.Image, n.Image))
	}
	if d := envChanges(was.Env, n.Env); d != "" {
		r = append(r, "env "+d)
	}
	mounts := func(ms []plan.Mount) []string {
		var s []string
		for _, m := range ms {
			s = append(s, m.String())
		}
		return s
	}
	if add, del := setDiff(mounts(was.Mounts), mounts(n.Mounts)); len(add)+len(del) > 0 {
		r = append(r, "mounts "+plusMinus(add, del))
	}
	if add, del := setDiff(was.CapAdd, n.CapAdd); len(add)+len(del) > 0 {
		r = append(r, "cap_add "+plusMinus(add, del))
	}
	if add, del := setDiff(was.CapDrop, n.CapDrop); len(add)+len(del) > 0 {
		r = append(r, "cap_drop "+plusMinus(add, del))
	}
	if was.Hostname != n.Hostname {
		r = append(r, fmt.Sprintf("hostname %s -> %s", was.Hostname, n.Hostname))
	}
	return r
}

// daemonChanges lists the daemons of node n that would start, stop or
// restart, by their hash in the status file.
func daemonChanges(st *v1.LDMSDCluster, old *plan.Plan, was *plan.Node, want *plan.Plan, n *plan.Node) []string {
	running := map[string]v1.DaemonStatus{}
	if st != nil && st.Status != nil {
		for _, ns := range st.Status.Nodes {
			if ns.Hostname == n.Hostname {
				for _, d := range ns.Daemons {
					running[d.Name] = d
				}
			}
		}
	}
	var out []string
	label := nodeLabel(n)
	for _, d := range n.Daemons {
		ds, ok := running[d.Name]
		delete(running, d.Name)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: daemon %s started", label, d.Name))
		case ds.Hash != d.Hash:
			why := "its command line, env or config changed"
			if was != nil {
				if wd := was.Daemon(d.Name); wd != nil {
					if r := startChanges(wd, &d); len(r) > 0 {
						why = strings.Join(r, "; ")
					}
				}
			}
			if old != nil && old.SlurmHash != want.SlurmHash && (d.Kind == plan.Slurmd || d.Kind == plan.Slurmctld) {
				why = "Slurm files changed"
			}
			out = append(out, fmt.Sprintf("%s: daemon %s restarted: %s", label, d.Name, why))
		}
	}
	var gone []string
	for d := range running {
		gone = append(gone, d)
	}
	sort.Strings(gone)
	for _, d := range gone {
		out = append(out, fmt.Sprintf("%s: daemon %s no longer supervised", label, d))
	}
	return out
}

// startChanges says what changed in what a daemon is started with.
func startChanges(was, d *plan.Daemon) []string {
	var r []string
	if !slices.Equal(was.Argv, d.Argv) {
		r = append(r, fmt.Sprintf("command line %q -> %q", strings.Join(was.Argv, " "), strings.Join(d.Argv, " ")))
	}
	if e := envChanges(was.Env, d.Env); e != "" {
		r = append(r, "env "+e)
	}
	if was.Config != d.Config {
		r = append(r, "config "+d.ConfigFile+" changed")
	}
	return r
}

// envChanges is e.g. "FOO BAR -> BAZ, +NEW=1, -OLD", or "".
func envChanges(was, now v1.Env) string {
	a, b := map[string]string{}, map[string]string{}
	for _, e := range was {
		a[e.Name] = e.Value
	}
	for _, e := range now {
		b[e.Name] = e.Value
	}
	var names []string
	for k := range a {
		names = append(names, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		va, inA := a[k]
		vb, inB := b[k]
		switch {
		case !inA:
			parts = append(parts, "+"+k+"="+vb)
		case !inB:
			parts = append(parts, "-"+k)
		case va != vb:
			parts = append(parts, fmt.Sprintf("%s %s -> %s", k, va, vb))
		}
	}
	return strings.Join(parts, ", ")
}

// fileChanges lists the files of a node that would be written anew,
// with their changed lines.
func fileChanges(was, n *plan.Node) []string {
	old := map[string]plan.File{}
	for _, f := range was.Files {
		old[f.Path] = f
	}
	var out []string
	label := nodeLabel(n)
	for _, f := range n.Files {
		o, ok := old[f.Path]
		delete(old, f.Path)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: file %s added", label, f.Path))
		case o.Content != f.Content:
			out = append(out, fmt.Sprintf("%s: file %s changed", label, f.Path))
			for _, l := range lineDiff(o.Content, f.Content) {
				out = append(out, "  "+l)
			}
		case o.Mode != f.Mode:
			out = append(out, fmt.Sprintf("%s: file %s mode %o -> %o", label, f.Path, o.Mode, f.Mode))
		}
	}
	var gone []string
	for p := range old {
		gone = append(gone, p)
	}
	sort.Strings(gone)
	for _, p := range gone {
		out = append(out, fmt.Sprintf("%s: file %s no longer written", label, p))
	}
	return out
}

// lineDiff returns the changed lines of a and b, "-" and "+" prefixed,
// by their longest common subsequence.
func lineDiff(a, b string) []string {
	x := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
	y := strings.Split(strings.TrimSuffix(b, "\n"), "\n")
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "-"+x[i])
			i++
		default:
			out = append(out, "+"+y[j])
			j++
		}
	}
	return out
}

// setDiff returns what b adds to a and what it drops from it.
func setDiff(a, b []string) (add, del []string) {
	for _, s := range b {
		if !slices.Contains(a, s) {
			add = append(add, s)
		}
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			del = append(del, s)
		}
	}
	return add, del
}

func plusMinus(add, del []string) string {
	var parts []string
	for _, s := range add {
		parts = append(parts, "+"+s)
	}
	for _, s := range del {
		parts = append(parts, "-"+s)
	}
	return strings.Join(parts, " ")
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ",")
}
