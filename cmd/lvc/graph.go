package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/plan"
	"github.com/ovis-hpc/lvc/topology"
)

func newGraphCommand(g *globalOptions) *cobra.Command {
	var file, output string
	cmd := &cobra.Command{
		Use:   "graph (NAME | -f FILE) [-o dot|mermaid|svg]",
		Short: "Draw a cluster: nodes, daemons, aggregation and Slurm",
		Long: `graph draws a cluster as a picture of its nodes: each node with its
daemons, the aggregation edges from producers to the aggregators that pull
their sets (read from each ldmsd's config), and the Slurm controller with
its compute nodes. Of a running cluster (NAME) it shows what its status
file says: each daemon's state, restarts and the sets each ldmsd holds; a
node with a daemon not running is drawn in red. With -f it draws a
manifest without running anything. -o svg is drawn by lvc itself; pipe -o
dot to Graphviz or paste -o mermaid into Markdown for other layouts.`,
		Example: `  lvc graph ldms_slurm -o svg > ldms_slurm.svg
  lvc graph -f manifests/ldms-slurm.yaml -o mermaid
  lvc graph ldms_slurm | dot -Tpng > ldms_slurm.png`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			var gr *topology.Graph
			switch {
			case file != "" && len(args) == 0:
				docs, err := loadManifest(file, cmd.InOrStdin())
				if err != nil {
					return err
				}
				if errs := v1.Errors(docs); len(errs) > 0 {
					return errs
				}
				if len(docs) != 1 {
					return fmt.Errorf("%s: %d clusters: graph draws one", file, len(docs))
				}
				p, err := plan.Build(docs[0].Cluster)
				if err != nil {
					return err
				}
				gr = topology.Build(p, nil)
			case file == "" && len(args) == 1:
				st, err := store.Status{Dir: g.StatusDir}.Read(args[0])
				if err != nil {
					return err
				}
				if st == nil {
					return notFound(args[0])
				}
				p, err := statusPlan(st)
				if err != nil {
					return err
				}
				gr = topology.Build(p, st)
			default:
				return errors.New("graph takes a cluster NAME or -f FILE")
			}
			return writeGraph(cmd.OutOrStdout(), gr, output)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "draw this manifest instead of a running cluster (- for standard input)")
	cmd.Flags().StringVarP(&output, "output", "o", "dot", "output format: dot, mermaid or svg")
	return cmd
}

func writeGraph(w io.Writer, g *topology.Graph, output string) error {
	var out string
	switch output {
	case "dot":
		out = g.DOT()
	case "mermaid":
		out = g.Mermaid()
	case "svg":
		out = g.SVG()
	default:
		return fmt.Errorf("unknown output format %q: dot, mermaid or svg", output)
	}
	_, err := io.WriteString(w, out)
	return err
}
