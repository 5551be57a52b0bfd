package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

const seed = "../../manifests/ldms-slurm.yaml"

// execute runs the lvc command line and returns stdout, stderr and error.
func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// Every invalid fixture fails validation and prints each error with its
// file, document and field path.
func TestValidateInvalidFixtures(t *testing.T) {
	files, err := filepath.Glob("../../apis/v1/testdata/invalid-*.yaml")
	if err != nil || len(files) < 25 {
		t.Fatalf("glob invalid fixtures = %d files, %v", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, errOut, err := execute(t, "validate", "-f", f)
			if err == nil {
				t.Fatalf("validate -f %s = nil error, want one", f)
			}
			if out != "" {
				t.Errorf("validate -f %s stdout = %q, want nothing", f, out)
			}
			docs, lerr := v1.LoadFile(f)
			if lerr != nil {
				t.Fatal(lerr)
			}
			var want []string
			for _, e := range v1.Errors(docs) {
				want = append(want, e.Error())
			}
			if got := strings.TrimSuffix(errOut, "\n"); got != strings.Join(want, "\n") {
				t.Errorf("validate -f %s printed\n%s\nwant\n%s", f, got, strings.Join(want, "\n"))
			}
			line := regexp.MustCompile(`^` + regexp.QuoteMeta(f) + ` doc [0-9]+: \S`)
			for _, l := range want {
				if !line.MatchString(l) {
					t.Errorf("error line %q is not FILE doc N: ...", l)
				}
			}
		})
	}
}

func TestValidateFieldPaths(t *testing.T) {
	tests := []struct{ fixture, want string }{
		{"invalid-unknown-field.yaml", "doc 1: spec.daemons[2].lisen_port: unknown field"},
		{"invalid-missing-template.yaml", `doc 1: spec.daemons[2].asset: no template "samp" in spec.define`},
		{"invalid-second-doc.yaml", "doc 2: spec.daemons[0].listen_port: "},
		{"invalid-env-entry.yaml", "doc 1: spec.env[1]: "},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			_, errOut, err := execute(t, "validate", "-f", filepath.Join("../../apis/v1/testdata", tt.fixture))
			if err == nil || !strings.Contains(errOut, tt.want) {
				t.Errorf("validate %s = %v, printed %q, want %q", tt.fixture, err, errOut, tt.want)
			}
		})
	}
}

func TestValidateValid(t *testing.T) {
	out, errOut, err := execute(t, "validate", "-f", "../../manifests", "-f", "../../apis/v1/testdata/valid-seed.json")
	if err != nil {
		t.Fatalf("validate = %v, stderr %q", err, errOut)
	}
	want := "../../manifests/agg-test.yaml: valid\n../../manifests/agg-two-level.yaml: valid\n../../manifests/ldms-slurm.yaml: valid\n../../apis/v1/testdata/valid-seed.json: valid\n"
	if out != want {
		t.Errorf("validate printed %q, want %q", out, want)
	}
}

func TestValidateDirectoryMixed(t *testing.T) {
	out, errOut, err := execute(t, "validate", "-f", "../../apis/v1/testdata")
	if err == nil || !strings.Contains(err.Error(), "manifest files invalid") {
		t.Errorf("validate dir = %v, want an invalid count", err)
	}
	if !strings.Contains(out, "valid-minimal.yaml: valid") || !strings.Contains(errOut, "invalid-kind.yaml doc 1: kind:") {
		t.Errorf("validate dir printed\n%s\n%s", out, errOut)
	}
}

func TestRenderText(t *testing.T) {
	out, _, err := execute(t, "render", "-f", seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"node-1 (container ldms_slurm-1, role compute, alias sampler-1, runs slurmd)",
		"      COMPONENT_ID=10001\n",
		"      HOSTNAME=sampler-1\n",
		"      INTERVAL=1000000\n",
		"      OFFSET=0\n",
		"      FOO=BAR\n",
		"    | load name=meminfo\n",
		"    | config name=meminfo component_id=${COMPONENT_ID} instance=${HOSTNAME}/meminfo producer=${HOSTNAME}\n",
		"    | start name=meminfo interval=${INTERVAL} offset=${OFFSET}\n",
		"    command: ldmsd -x sock:10000 -a none -c /etc/ldmsd.conf -l /var/log/ldmsd.log -v INFO\n",
		"    | prdcr_add name=sampler-1 host=sampler-1 port=10000 xprt=sock type=active interval=20000000\n",
		"node-5 (container ldms_slurm-5, role service, runs slurmctld)",
		"    | NodeName=node-1,node-2 CPUs=1 State=UNKNOWN\n",
		"  file /etc/slurm/slurm.conf: same as on node-1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks %q", want)
		}
	}
	if strings.Contains(out, "start name=slurm_sampler") {
		t.Errorf("render output starts slurm_sampler")
	}
	out, _, err = execute(t, "render", "-f", "../../apis/v1/testdata/ldms-test/ldms_ipv6_test.yaml")
	if want := "cluster ldms-ipv6-test (network ldms-ipv6-test, IPv6: a bridge on the swarm manager's host,"; err != nil || !strings.HasPrefix(out, want) {
		t.Errorf("render of ldms_ipv6_test = %v, %.120q; want it to begin %q", err, out, want)
	}
}

func TestRenderStructured(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			out, _, err := execute(t, "render", "-f", seed, "-o", format)
			if err != nil {
				t.Fatal(err)
			}
			var c renderedCluster
			if format == "json" {
				err = json.Unmarshal([]byte(out), &c)
			} else {
				err = yaml.Unmarshal([]byte(out), &c)
			}
			if err != nil {
				t.Fatalf("render -o %s output does not decode: %v", format, err)
			}
			if len(c.Nodes) != 5 || c.Nodes[0].Aliases[0] != "sampler-1" || c.Nodes[4].Slurm != "slurmctld" {
				t.Errorf("render -o %s = %+v", format, c)
			}
			// Every daemon of every kind, and every file, /etc/hosts and
			// slurm.conf included.
			names := func(n renderedNode) (ds, fs []string) {
				for _, d := range n.Daemons {
					ds = append(ds, d.Kind+":"+d.Name)
				}
				for _, f := range n.Files {
					fs = append(fs, f.Path)
				}
				return ds, fs
			}
			for i, want := range []struct{ daemons, files string }{
				{"sshd:sshd munged:munged slurmd:slurmd ldmsd:ldmsd", "/etc/hosts /etc/profile.d/lvc-ovis.sh /etc/ld.so.conf.d/lvc-ovis.conf /etc/slurm/slurm.conf /etc/slurm/cgroup.conf /etc/slurm/plugstack.conf /etc/ldmsd.conf"},
				{"sshd:sshd munged:munged ldmsd:ldmsd", "/etc/hosts /etc/profile.d/lvc-ovis.sh /etc/ld.so.conf.d/lvc-ovis.conf /etc/ldmsd.conf"},
				{"sshd:sshd munged:munged slurmctld:slurmctld", "/etc/hosts /etc/profile.d/lvc-ovis.sh /etc/ld.so.conf.d/lvc-ovis.conf /etc/slurm/slurm.conf /etc/slurm/cgroup.conf /etc/slurm/plugstack.conf"},
			} {
				n := c.Nodes[[]int{0, 2, 4}[i]]
				ds, fs := names(n)
				if got := strings.Join(ds, " "); got != want.daemons {
					t.Errorf("%s daemons = %s, want %s", n.Hostname, got, want.daemons)
				}
				if got := strings.Join(fs, " "); got != want.files {
					t.Errorf("%s files = %s, want %s", n.Hostname, got, want.files)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"render", "-f", "../../apis/v1/testdata/invalid-missing-template.yaml"}, `spec.daemons[2].asset: no template "samp"`},
		{[]string{"render", "-f", seed, "-o", "xml"}, `unknown output format "xml"`},
		{[]string{"render"}, `required flag(s) "filename" not set`},
		{[]string{"render", "-f", "nonexistent.yaml"}, "no such file"},
		{[]string{"validate", "-f", "nonexistent.yaml"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := execute(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("lvc %v = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestRenderStdin(t *testing.T) {
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetIn(strings.NewReader("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: s}\nspec: {services: [ldmsd], daemons: [{host: a1}]}\n"))
	cmd.SetArgs([]string{"render", "-f", "-"})
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "node-1 (container s-1, role compute, alias a1)") {
		t.Errorf("render -f - printed %q", out.String())
	}
}

func TestGlobalFlags(t *testing.T) {
	t.Setenv("LVC_MANIFESTS", "/m")
	t.Setenv("LVC_STATUS_DIR", "")
	cmd := newRootCommand()
	if got := cmd.PersistentFlags().Lookup("manifests").DefValue; got != "/m" {
		t.Errorf("--manifests default = %q, want /m from LVC_MANIFESTS", got)
	}
	if got := cmd.PersistentFlags().Lookup("status-dir").DefValue; got != "./status" {
		t.Errorf("--status-dir default = %q, want ./status", got)
	}
}

func TestRunAndVersion(t *testing.T) {
	if err := run(t.Context(), []string{"validate", "-f", seed}); err != nil {
		t.Errorf("run(validate seed) = %v", err)
	}
	out, _, err := execute(t, "version")
	if err != nil || !strings.HasPrefix(out, "lvc dev") {
		t.Errorf("version = %q, %v", out, err)
	}
}

func TestGraph(t *testing.T) {
	for format, want := range map[string]string{
		"dot":     "n3 -> n4 [label=\"ldms\"]",
		"mermaid": "n5 -.->|slurm| n1",
		"svg":     `<g class="node" id="node-node-5">`,
	} {
		out, _, err := execute(t, "graph", "-f", seed, "-o", format)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("graph -o %s = %v, output lacks %q:\n%s", format, err, want, out)
		}
	}
	if _, _, err := execute(t, "graph", "-f", seed, "-o", "png"); err == nil || !strings.Contains(err.Error(), "dot, mermaid or svg") {
		t.Errorf("graph -o png = %v, want an error naming the formats", err)
	}
	if _, _, err := execute(t, "graph"); err == nil {
		t.Errorf("graph without NAME or -f succeeded")
	}
}

// A valid spec naming a host file that cannot be read (an atstart script)
// fails validate, naming the field and the file.
func TestValidateUnreadableHostFile(t *testing.T) {
	_, errOut, err := execute(t, "validate", "-f", atstartSpec(t, "/nonexistent/atstart.sh"))
	if err == nil || !strings.Contains(errOut, "spec.nodes[1].atstart") || !strings.Contains(errOut, "/nonexistent/atstart.sh") {
		t.Errorf("validate with a missing atstart script = %v, stderr %q; want an error naming spec.nodes[1].atstart and the file", err, errOut)
	}
	for _, f := range []string{atstartSpec(t, "/bin/true"), "../../apis/v1/testdata/ldms-test/ldms_ipv6_test.yaml", "../../apis/v1/testdata/ldms-test/agg_test.yaml"} {
		if out, _, err := execute(t, "validate", "-f", f); err != nil || !strings.Contains(out, "valid") {
			t.Errorf("validate of %s = %v, %q; want valid", f, err, out)
		}
	}
}

// lvc up and apply refuse at once a spec naming a host file that cannot
// be read, before they touch the engine or the manifests directory.
func TestUpRefusesUnreadableHostFile(t *testing.T) {
	for _, cmd := range []string{"up", "apply"} {
		_, errOut, err := execute(t, "--manifests", t.TempDir(), "--status-dir", t.TempDir(), cmd, "-f", atstartSpec(t, "/nonexistent/atstart.sh"))
		if err == nil || !strings.Contains(errOut, "spec.nodes[1].atstart") || !strings.Contains(errOut, "/nonexistent/atstart.sh") {
			t.Errorf("lvc %s with a missing atstart script = %v, stderr %q; want an error naming spec.nodes[1].atstart and the file", cmd, err, errOut)
		}
	}
}

// atstartSpec writes an ldms-test spec whose second node runs the host
// script atstart at its start.
func atstartSpec(t *testing.T, atstart string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "atstart.yaml")
	spec := `apiVersion: lvc/v1
kind: LDMSDCluster
metadata:
  name: atstart
spec:
  nodes:
  - hostname: a
    daemons: [{name: sshd, type: sshd}]
  - hostname: b
    atstart: ` + atstart + `
    daemons: [{name: sshd, type: sshd}]
`
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
