package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/store"
)

// phaseOrphaned is what get shows for a cluster that no manifest
// declares but that has objects or a status file.
const phaseOrphaned = "Orphaned"

// objectList is what get -o json|yaml prints without a NAME, as kubectl
// prints a list.
type objectList struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []v1.LDMSDCluster `json:"items"`
}

func newGetCommand(g *globalOptions) *cobra.Command {
	var output string
	var allOwners bool
	cmd := &cobra.Command{
		Use:   "get [NAME] [-o table|wide|yaml|json]",
		Short: "List clusters, from manifests, labelled objects and status files",
		Long: `get lists every cluster a manifest declares, that has containers or a
network labelled for it, or that has a status file. Clusters no manifest
declares are shown as Orphaned (remove them with lvc delete). Clusters that
another lvc manages (their objects' lvc.owner label names another status
directory) are left out unless -A is given. The table shows the phase, the
Ready condition, running/all containers and the age; -o wide adds the
manifest, the owner and every condition; -o yaml and -o json print the
whole object with its status, as in the status file.`,
		Example: `  lvc get
  lvc get ldms_slurm -o wide
  lvc get ldms_slurm -o json | jq .status.phase`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "table", "wide", "yaml", "json":
			default:
				return fmt.Errorf("unknown output format %q: table, wide, yaml or json", output)
			}
			c, err := newClient(cmd.Context(), g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			all, err := c.List(cmd.Context())
			if err != nil {
				return err
			}
			owner, err := clusterOwners(cmd.Context(), c.Runtime())
			if err != nil {
				return err
			}
			if len(args) == 0 && !allOwners {
				mine := ownerOf(g.StatusDir)
				var keep []cluster.Summary
				for _, s := range all {
					if s.Manifest != "" || s.Status != nil || owner[s.Name] == "" || owner[s.Name] == mine {
						keep = append(keep, s)
					}
				}
				all = keep
			}
			if len(args) == 1 {
				var one []cluster.Summary
				for _, s := range all {
					if s.Name == args[0] {
						one = append(one, s)
					}
				}
				if len(one) == 0 {
					return notFound(args[0])
				}
				all = one
			}
			out := cmd.OutOrStdout()
			switch output {
			case "yaml", "json":
				if len(args) == 1 {
					return printObject(out, output, object(g, all[0]))
				}
				list := objectList{APIVersion: v1.APIVersion, Kind: "List", Items: []v1.LDMSDCluster{}}
				for _, s := range all {
					list.Items = append(list.Items, *object(g, s))
				}
				return printObject(out, output, list)
			}
			if len(all) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no clusters in %s, %s or the engine\n", g.Manifests, g.StatusDir)
				return nil
			}
			return printTable(out, all, owner, output == "wide", time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, wide, yaml or json")
	cmd.Flags().BoolVarP(&allOwners, "all-owners", "A", false, "also list clusters that other lvc status directories manage")
	return cmd
}

// object is the cluster as the status file has it; without a status
// file, the manifest's object, or only its name.
func object(g *globalOptions, s cluster.Summary) *v1.LDMSDCluster {
	if s.Status != nil {
		return s.Status
	}
	if s.Manifest != "" {
		if idx, err := store.Scan(g.Manifests, nil); err == nil {
			if e := idx.Entries[s.Name]; e != nil && e.Cluster != nil {
				return e.Cluster
			}
		}
	}
	return &v1.LDMSDCluster{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.Kind}, Metadata: v1.ObjectMeta{Name: s.Name}}
}

func printObject(w io.Writer, format string, v any) error {
	var data []byte
	var err error
	if format == "json" {
		data, err = json.MarshalIndent(v, "", "  ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// phase is the status phase, Orphaned for a cluster with no manifest,
// Pending for one not reconciled yet.
func phase(s cluster.Summary) string {
	switch {
	case s.Orphan():
		return phaseOrphaned
	case s.Status == nil || s.Status.Status == nil || s.Status.Status.Phase == "":
		return v1.PhasePending
	}
	return s.Status.Status.Phase
}

func printTable(w io.Writer, all []cluster.Summary, owner map[string]string, wide bool, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	header := "NAME\tPHASE\tREADY\tNODES\tAGE"
	if wide {
		header += "\tMANIFEST\tOWNER\tCONDITIONS"
	}
	fmt.Fprintln(tw, header)
	for _, s := range all {
		ready := "-"
		if c := s.Status.Condition(v1.ConditionReady); c != nil {
			ready = c.Status
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%d/%d\t%s", s.Name, phase(s), ready, s.Running, s.Containers, age(created(s.Status), now))
		if wide {
			manifest := s.Manifest
			if manifest == "" {
				manifest = "<none>"
			}
			row += "\t" + manifest + "\t" + dash(owner[s.Name]) + "\t" + conditionSummary(s.Status)
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

// created is the oldest condition transition: about when the cluster
// was first reconciled.
func created(st *v1.LDMSDCluster) time.Time {
	var t time.Time
	if st == nil || st.Status == nil {
		return t
	}
	for _, c := range st.Status.Conditions {
		if !c.LastTransitionTime.IsZero() && (t.IsZero() || c.LastTransitionTime.Before(t)) {
			t = c.LastTransitionTime
		}
	}
	return t
}

// conditionSummary is Network=True,Nodes=True,... without Ready.
func conditionSummary(st *v1.LDMSDCluster) string {
	if st == nil || st.Status == nil || len(st.Status.Conditions) == 0 {
		return "-"
	}
	var parts []string
	for _, c := range st.Status.Conditions {
		if c.Type == v1.ConditionReady {
			continue
		}
		parts = append(parts, strings.TrimSuffix(c.Type, "Ready")+"="+c.Status)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// ownerOf is the lvc.owner label value of the lvc writing statusDir.
func ownerOf(statusDir string) string {
	abs, err := filepath.Abs(statusDir)
	if err != nil {
		return statusDir
	}
	return abs
}

// clusterOwners maps each cluster to the lvc.owner label of its objects
// (several, comma-separated, in the unlikely case they differ); clusters
// made before owners existed have none.
func clusterOwners(ctx context.Context, rt engine.Runtime) (map[string]string, error) {
	seen := map[string][]string{}
	add := func(cluster string, labels map[string]string) {
		if o := labels[engine.LabelOwner]; o != "" && !slices.Contains(seen[cluster], o) {
			seen[cluster] = append(seen[cluster], o)
		}
	}
	cs, err := rt.Containers(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		add(c.Cluster, c.Labels)
	}
	ns, err := rt.Networks(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		add(n.Cluster, n.Labels)
	}
	out := map[string]string{}
	for c, o := range seen {
		sort.Strings(o)
		out[c] = strings.Join(o, ",")
	}
	return out, nil
}
