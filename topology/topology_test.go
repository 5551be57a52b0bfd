package topology

import (
	"encoding/xml"
	"io"
	"slices"
	"strings"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/plan"
)

// seed is the seed document's cluster: samplers node-1 and node-2 under
// agg-1 (node-3), agg-1 under agg-2 (node-4), Slurm's controller on node-5.
func seed(t *testing.T) *plan.Plan {
	t.Helper()
	docs, err := v1.LoadFile("../manifests/ldms-slurm.yaml")
	if err == nil {
		err = v1.Errors(docs).Err()
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(docs[0].Cluster)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildSeed(t *testing.T) {
	g := Build(seed(t), nil)
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e.Kind+":"+e.From+">"+e.To)
	}
	want := []string{"ldms:node-1>node-3", "ldms:node-2>node-3", "ldms:node-3>node-4", "slurm:node-5>node-1", "slurm:node-5>node-2"}
	if !slices.Equal(edges, want) {
		t.Errorf("edges = %v, want %v", edges, want)
	}
	var rows []string
	for _, r := range g.Rows() {
		var hs []string
		for _, n := range r {
			hs = append(hs, n.Hostname)
		}
		rows = append(rows, strings.Join(hs, ","))
	}
	if got, want := strings.Join(rows, " / "), "node-4 / node-3 / node-1,node-2 / node-5"; got != want {
		t.Errorf("rows = %s, want %s (top aggregator first, service node last)", got, want)
	}
	n5 := g.Nodes[4]
	var ds []string
	for _, d := range n5.Daemons {
		ds = append(ds, d.Name)
	}
	if got := strings.Join(ds, " "); got != "sshd munged slurmctld" {
		t.Errorf("node-5 daemons = %s, want sshd munged slurmctld", got)
	}
}

// The live figures come from the status; a daemon not running marks its
// node in every format.
func TestLiveFigures(t *testing.T) {
	p := seed(t)
	st := &v1.LDMSDCluster{Status: &v1.LDMSDClusterStatus{Phase: v1.PhaseDegraded, Nodes: []v1.NodeStatus{
		{Hostname: "node-3", Daemons: []v1.DaemonStatus{{Name: "ldmsd", State: v1.DaemonRunning, Sets: 8, Restarts: 2}}},
		{Hostname: "node-4", Daemons: []v1.DaemonStatus{{Name: "ldmsd", State: v1.DaemonBackOff}}},
	}}}
	g := Build(p, st)
	for _, want := range []string{"ldmsd:20000 Running, 2 restarts, 8 sets", "ldmsd:20001 BackOff"} {
		for format, out := range map[string]string{"dot": g.DOT(), "mermaid": g.Mermaid(), "svg": g.SVG()} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q", format, want)
			}
		}
	}
	if m := g.Mermaid(); !strings.Contains(m, "style n4 stroke:#c00") || strings.Contains(m, "style n3 ") {
		t.Errorf("mermaid marks the wrong nodes:\n%s", m)
	}
	if d := g.DOT(); !strings.Contains(d, "n4 [label=") || !strings.Contains(d, "color=red") {
		t.Errorf("dot does not mark node-4 red:\n%s", d)
	}
}

// The SVG is well-formed XML with one group per node, and its edges.
func TestSVG(t *testing.T) {
	g := Build(seed(t), nil)
	dec := xml.NewDecoder(strings.NewReader(g.SVG()))
	var groups []string
	lines := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if se.Name.Local == "g" && a.Name.Local == "id" {
					groups = append(groups, a.Value)
				}
			}
			if se.Name.Local == "line" {
				lines++
			}
		}
	}
	if want := []string{"node-node-4", "node-node-3", "node-node-1", "node-node-2", "node-node-5"}; !slices.Equal(groups, want) {
		t.Errorf("node groups = %v, want %v", groups, want)
	}
	if lines != len(g.Edges) {
		t.Errorf("SVG has %d edges, want %d", lines, len(g.Edges))
	}
}
