// Package topology draws a cluster as LDMS users think of it: samplers
// under the aggregators that pull from them, the Slurm controller and its
// compute nodes, each node with its daemons and, where the cluster runs,
// their states, restarts and the sets each ldmsd holds. It renders DOT,
// Mermaid and SVG (drawn here, no Graphviz needed).
package topology

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/plan"
)

// Graph is a cluster's nodes and the edges between them.
type Graph struct {
	Cluster string
	Phase   string // from the status; empty for a manifest alone
	Nodes   []Node
	Edges   []Edge
}

// Node is one node of the cluster.
type Node struct {
	Hostname string
	Aliases  []string
	Role     string
	// Level is the node's place in the aggregation tree: samplers 0,
	// their aggregators 1 and so on; -1 for nodes without ldmsd.
	Level   int
	Daemons []Daemon
}

// Daemon is one daemon of a node with what the status says of it.
type Daemon struct {
	Name     string
	State    string // empty when not observed
	Restarts int
	Sets     int
	Port     int
}

// Edge is data or control flowing between two nodes.
type Edge struct {
	From, To string // hostnames
	Kind     string // EdgeLDMS or EdgeSlurm
}

// Edge kinds.
const (
	EdgeLDMS  = "ldms"  // a producer's sets pulled by an aggregator (From → To)
	EdgeSlurm = "slurm" // slurmctld to a slurmd
)

// Build draws p with what st (may be nil) observed.
func Build(p *plan.Plan, st *v1.LDMSDCluster) *Graph {
	g := &Graph{Cluster: p.Cluster}
	if st != nil && st.Status != nil {
		g.Phase = st.Status.Phase
	}
	rank := plan.LdmsdRanks(p)
	ctld := ""
	for _, n := range p.Nodes {
		gn := Node{Hostname: n.Hostname, Aliases: n.Aliases, Role: n.Role, Level: -1}
		if len(n.DaemonsOf("ldmsd")) > 0 {
			gn.Level = rank[n.Hostname]
		}
		for _, d := range n.Daemons {
			gd := Daemon{Name: d.Name}
			if d.Kind == "ldmsd" {
				gd.Port = d.Listen
			}
			if ds := st.Daemon(n.Hostname, d.Name); ds != nil {
				gd.State, gd.Restarts, gd.Sets = ds.State, ds.Restarts, ds.Sets
			}
			gn.Daemons = append(gn.Daemons, gd)
			if d.Kind == "ldmsd" {
				for _, q := range p.Producers(n.Hostname, d) {
					g.Edges = append(g.Edges, Edge{From: q, To: n.Hostname, Kind: EdgeLDMS})
				}
			}
		}
		if n.SlurmRole == plan.Slurmctld {
			ctld = n.Hostname
		}
		g.Nodes = append(g.Nodes, gn)
	}
	if ctld != "" {
		for _, h := range p.SlurmNodes {
			g.Edges = append(g.Edges, Edge{From: ctld, To: h, Kind: EdgeSlurm})
		}
	}
	return g
}

// Rows groups the nodes for drawing, top row first: the top aggregators
// first, down to the samplers, then the nodes without ldmsd.
func (g *Graph) Rows() [][]Node {
	levels := map[int][]Node{}
	var keys []int
	for _, n := range g.Nodes {
		if _, ok := levels[n.Level]; !ok {
			keys = append(keys, n.Level)
		}
		levels[n.Level] = append(levels[n.Level], n)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if (a < 0) != (b < 0) {
			return b < 0
		}
		return a > b
	})
	rows := make([][]Node, len(keys))
	for i, k := range keys {
		rows[i] = levels[k]
	}
	return rows
}

// title is a node's hostname with its aliases.
func (n *Node) title() string {
	if len(n.Aliases) == 0 {
		return n.Hostname
	}
	return n.Hostname + " (" + strings.Join(n.Aliases, ", ") + ")"
}

// line is one daemon as a line of text: name, port, state, restarts, sets.
func (d *Daemon) line() string {
	s := d.Name
	if d.Port != 0 {
		s += fmt.Sprintf(":%d", d.Port)
	}
	if d.State != "" {
		s += " " + d.State
	}
	if d.Restarts > 0 {
		s += fmt.Sprintf(", %d restarts", d.Restarts)
	}
	if d.Sets > 0 {
		s += fmt.Sprintf(", %d sets", d.Sets)
	}
	return s
}

// healthy tells whether a daemon's observed state is fine (or unknown).
func (d *Daemon) healthy() bool {
	return d.State == "" || d.State == v1.DaemonRunning || d.State == v1.DaemonStopped
}

// id is a safe identifier for node i in DOT and Mermaid.
func id(i int) string { return fmt.Sprintf("n%d", i+1) }

func (g *Graph) index() map[string]int {
	m := map[string]int{}
	for i, n := range g.Nodes {
		m[n.Hostname] = i
	}
	return m
}

// DOT renders the graph for Graphviz: data flows up, from samplers to the
// top aggregator.
func (g *Graph) DOT() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n", g.Cluster)
	for i, n := range g.Nodes {
		lines := []string{n.title()}
		for _, d := range n.Daemons {
			lines = append(lines, d.line())
		}
		color := "black"
		if slices.ContainsFunc(n.Daemons, func(d Daemon) bool { return !d.healthy() }) {
			color = "red"
		}
		label := strings.ReplaceAll(strings.Join(lines, "\n"), `"`, `\"`)
		fmt.Fprintf(&b, "  %s [label=\"%s\", color=%s];\n", id(i), strings.ReplaceAll(label, "\n", `\n`), color)
	}
	idx := g.index()
	for _, e := range g.Edges {
		style := ""
		if e.Kind == EdgeSlurm {
			style = ", style=dashed"
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%q%s];\n", id(idx[e.From]), id(idx[e.To]), e.Kind, style)
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid renders the graph as a Mermaid flowchart.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart BT\n")
	for i, n := range g.Nodes {
		lines := []string{"<b>" + n.title() + "</b>"}
		for _, d := range n.Daemons {
			lines = append(lines, d.line())
		}
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id(i), strings.ReplaceAll(strings.Join(lines, "<br/>"), `"`, "#quot;"))
	}
	idx := g.index()
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Kind == EdgeSlurm {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|%s| %s\n", id(idx[e.From]), arrow, e.Kind, id(idx[e.To]))
	}
	for i, n := range g.Nodes {
		if slices.ContainsFunc(n.Daemons, func(d Daemon) bool { return !d.healthy() }) {
			fmt.Fprintf(&b, "  style %s stroke:#c00,stroke-width:2px\n", id(i))
		}
	}
	return b.String()
}
