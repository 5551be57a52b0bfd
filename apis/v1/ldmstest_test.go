package v1_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/ldmsd"
)

var update = flag.Bool("update", false, "rewrite testdata/ldms-test/*.golden")

// scriptComment is the first line of each spec taken from ldms-test.
var scriptComment = regexp.MustCompile(`^# The spec dict of ovis-hpc/ldms-test's ([a-z0-9_-]+) script`)

// The specs of real ldms-test scripts load without errors, and their
// expanded nodes and every ldmsd's command line and config file, in both
// syntaxes, are as in the golden files. The goldens were checked against
// what LDMS_Test.py itself makes of these specs.
func TestLDMSTestSpecs(t *testing.T) {
	files, err := filepath.Glob("testdata/ldms-test/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("%d ldms-test specs, want at least 10", len(files))
	}
	total := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if m := scriptComment.FindSubmatch(data); m == nil || string(m[1]) != name {
				t.Errorf("%s does not start by naming the script %s", f, name)
			}
			docs := v1.Load(f, data)
			if len(docs) != 1 || docs[0].Cluster == nil {
				t.Fatalf("Load = %d documents", len(docs))
			}
			if err := docs[0].Errs.Err(); err != nil {
				t.Fatalf("Load errors:\n%v", err)
			}
			nodes, err := v1.ExpandNodes(docs[0].Cluster)
			if err != nil {
				t.Fatal(err)
			}
			got, ldmsds := render(t, f, nodes)
			total += ldmsds
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", f, golden, firstDiff(got, string(want)))
			}
		})
	}
	if total < 50 {
		t.Errorf("the specs have %d ldmsd daemons, want at least 50", total)
	}
}

// render writes the nodes as JSON, then for each ldmsd its command line
// and its config file in both syntaxes, each line between "|" so that
// trailing spaces show.
func render(t *testing.T, file string, nodes []v1.NodeSpec) (string, int) {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# v1.ExpandNodes(%s), and the ldmsd command lines and config\n# files drivers/ldmsd renders from it. Lines between | |.\n", filepath.ToSlash(file))
	b.WriteString("== nodes\n")
	data, err := json.MarshalIndent(nodes, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b.Write(data)
	b.WriteByte('\n')
	n := 0
	for _, node := range nodes {
		for _, d := range node.Daemons {
			if d.Type != v1.DaemonLdmsd {
				continue
			}
			n++
			who := node.Hostname + "/" + d.Name
			fmt.Fprintf(&b, "== %s: command\n|%s|\n", who, strings.Join(ldmsd.NodeCommand(d), " "))
			for _, syn := range []ldmsd.Syntax{ldmsd.SyntaxV4, ldmsd.SyntaxV5} {
				fmt.Fprintf(&b, "== %s: config %s\n", who, syn)
				for _, l := range strings.SplitAfter(ldmsd.NodeConfig(d, syn), "\n") {
					if l != "" {
						fmt.Fprintf(&b, "|%s|\n", strings.TrimSuffix(l, "\n"))
					}
				}
			}
		}
	}
	return b.String(), n
}

// firstDiff shows the first differing line of got and want.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %.300s\nwant: %.300s", i+1, gl, wl)
		}
	}
	return ""
}
