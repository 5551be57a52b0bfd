package plan

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/ldmsd"
)

// FuzzDecodeValidateRender feeds arbitrary manifests through decoding,
// defaults, validation, expansion and rendering: nothing may panic, and a
// document that validates must build.
func FuzzDecodeValidateRender(f *testing.F) {
	for _, pattern := range []string{"../apis/v1/testdata/*", "../apis/v1/testdata/ldms-test/*.yaml", "../manifests/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			if st, err := os.Stat(file); err == nil && st.IsDir() {
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// Hostile shapes: alias cycles and bombs, deep nesting, odd scalars.
	for _, s := range []string{
		"spec: &a {define: [*a]}",
		"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n<<: {spec: {}}",
		strings.Repeat("[", 200) + strings.Repeat("]", 200),
		strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200),
		"metadata: {name: x}\nspec: {cpu_per_node: .nan, oversubscribe: ~, env: {A: 1e999}}",
		"apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: x}\nspec: {services: [ldmsd], env: [H=%host%%], daemons: [{}, {host: a}]}",
		"---\n---\n{}\n--- [1]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range v1.Load("fuzz/m.yaml", data) {
			if d.Cluster == nil {
				continue
			}
			if ds, err := v1.Expand(d.Cluster); err == nil {
				for _, dm := range ds {
					_ = ldmsd.Config(dm)
					_ = ldmsd.Command(dm)
				}
			}
			p, err := Build(d.Cluster)
			if err != nil {
				if len(d.Errs) == 0 && !errors.Is(err, ErrHostFile) {
					t.Fatalf("document %d validates but Build fails: %v", d.Source.Doc, err)
				}
				continue
			}
			want := len(d.Cluster.Spec.Daemons) + 1
			if d.Cluster.Spec.IsNodeFormat() {
				want = len(d.Cluster.Spec.Nodes)
			}
			if len(p.Nodes) != want || !slices.ContainsFunc(p.Nodes, func(n Node) bool { return n.Role == RoleService && n.Hostname == p.ServiceNode }) {
				t.Fatalf("plan has %d nodes, want %d, service node %s", len(p.Nodes), want, p.ServiceNode)
			}
			_ = p.HostsFile(fakeIPs(p))
			for i := range p.Nodes {
				_ = p.Nodes[i].Hash()
			}
		}
	})
}
