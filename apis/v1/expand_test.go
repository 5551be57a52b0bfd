package v1

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// expandSpec decodes a spec body, applies defaults and expands it,
// without validation, so that Expand's own errors show.
func expandSpec(t *testing.T, spec string) ([]DaemonSpec, error) {
	t.Helper()
	c := decodeOne(t, head+"spec:\n"+spec)
	SetDefaults(c)
	return Expand(c)
}

func TestExpandEnv(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []Env // per daemon
	}{
		{
			name: "list and dict forms mixed",
			spec: `
  env: [S=spec]
  define: [{name: t, env: {T: tmpl}}]
  daemons: [{asset: t, env: [D=daemon]}]`,
			want: []Env{{{"S", "spec"}, {"T", "tmpl"}, {"D", "daemon"}}},
		},
		{
			name: "defined in all three places: daemon wins, spec's position kept",
			spec: `
  env: {V: spec, S: s}
  define: [{name: t, env: [V=tmpl, T=t]}]
  daemons: [{asset: t, env: {V: daemon}}, {asset: t}, {}]`,
			want: []Env{
				{{"S", "s"}, {"V", "daemon"}, {"T", "t"}},
				{{"S", "s"}, {"V", "tmpl"}, {"T", "t"}},
				{{"S", "s"}, {"V", "spec"}},
			},
		},
		{
			name: "repeated in one list: last wins",
			spec: `
  daemons: [{env: [A=1, A=2]}]`,
			want: []Env{{{"A", "2"}}},
		},
		{
			name: "%host% and other daemon keys",
			spec: `
  define: [{name: t, type: sampler, listen_port: 411, env: [H=%host%]}]
  daemons: [{host: s1, asset: t, env: ["X=%type%:%listen_port%:%listen_xprt%:%asset%"]}]`,
			want: []Env{{{"H", "s1"}, {"X", "sampler:411:sock:t"}}},
		},
		{
			name: "%host% in spec env resolves per daemon",
			spec: `
  env: [HOSTNAME=%host%]
  daemons: [{host: a}, {host: b}]`,
			want: []Env{{{"HOSTNAME", "a"}}, {{"HOSTNAME", "b"}}},
		},
		{
			name: "%% literal, lone % kept, ${VAR} untouched",
			spec: `
  daemons: [{host: h, env: ["P=100%%", "Q=50% of %Y-%m", "R=${HOME}/%host%", "S=%%host%%", "U=%HOST%"]}]`,
			want: []Env{{{"P", "100%"}, {"Q", "50% of %Y-%m"}, {"R", "${HOME}/h"}, {"S", "%host%"}, {"U", "%HOST%"}}},
		},
		{
			name: "overridden template value is not substituted",
			spec: `
  define: [{name: t, env: [H=%host%]}]
  daemons: [{asset: t, env: [H=plain]}]`,
			want: []Env{{{"H", "plain"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := expandSpec(t, tt.spec)
			if err != nil {
				t.Fatalf("Expand error: %v", err)
			}
			var got []Env
			for _, d := range ds {
				got = append(got, d.Env)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Expand env = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExpandSamplers(t *testing.T) {
	ds, err := expandSpec(t, `
  define:
  - name: t
    samplers: [{plugin: meminfo, config: ["instance=${HOSTNAME}/%plugin%", "x=%start%", "p=10%%"]}]
  daemons:
  - asset: t
    samplers: [{plugin: vmstat, start: true, config: ["i=%plugin%"]}]`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sampler{
		{Plugin: "meminfo", Config: []string{"instance=${HOSTNAME}/meminfo", "x=false", "p=10%"}},
		{Plugin: "vmstat", Start: true, Config: []string{"i=vmstat"}},
	}
	if got := ds[0].Samplers; !reflect.DeepEqual(got, want) {
		t.Errorf("Expand samplers = %+v, want %+v", got, want)
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string
	}{
		{"unknown key in env", `
  daemons: [{host: h, env: [X=%hots%]}]`,
			`m.yaml doc 1: spec.daemons[0].env.X: unknown key %hots% (a daemon has no field "hots"; write %% for a literal %)`},
		{"unknown key in sampler config", `
  daemons: [{samplers: [{plugin: p, config: [a=%host%]}]}]`,
			`m.yaml doc 1: spec.daemons[0].samplers[0].config[0]: unknown key %host% (a sampler has no field "host"; write %% for a literal %)`},
		{"template sampler path", `
  define: [{name: t, samplers: [{plugin: p, config: [a=%nope%]}]}]
  daemons: [{asset: t}]`,
			`m.yaml doc 1: spec.define[0].samplers[0].config[0]: unknown key %nope% (a sampler has no field "nope"; write %% for a literal %)`},
		{"key without value", `
  define: [{name: t, env: [H=%host%]}]
  daemons: [{asset: t}]`,
			`m.yaml doc 1: spec.daemons[0].env.H: %host% has no value: the daemon sets no host (value from spec.define[0].env.H)`},
		{"missing template", `
  daemons: [{asset: nope}]`,
			`m.yaml doc 1: spec.daemons[0].asset: no template "nope" in spec.define`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := expandSpec(t, tt.spec)
			var l ErrorList
			if !errors.As(err, &l) {
				t.Fatalf("Expand error = %v, want an ErrorList", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Expand error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	tmpl := DaemonSpec{
		Name: "tmpl", Type: "sampler", ListenPort: 1, ListenXprt: "rdma", LogLevel: "DEBUG",
		Env:      Env{{"A", "t"}, {"B", "t"}},
		Samplers: []Sampler{{Plugin: "a", Config: []string{"x"}}},
		Config:   []string{"t1"},
	}
	d := DaemonSpec{
		Host: "h", Asset: "tmpl", ListenPort: 2, Restart: "never",
		Env:      Env{{"B", "d"}, {"C", "d"}},
		Samplers: []Sampler{{Plugin: "b"}},
		Config:   []string{"d1"},
	}
	got := Merge(tmpl, d)
	want := DaemonSpec{
		Host: "h", Asset: "tmpl", Type: "sampler", ListenPort: 2, ListenXprt: "rdma", LogLevel: "DEBUG", Restart: "never",
		Env:      Env{{"A", "t"}, {"B", "d"}, {"C", "d"}},
		Samplers: []Sampler{{Plugin: "a", Config: []string{"x"}}, {Plugin: "b"}},
		Config:   []string{"t1", "d1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge =\n%+v\nwant\n%+v", got, want)
	}
	got.Samplers[0].Config[0] = "changed"
	if tmpl.Samplers[0].Config[0] != "x" {
		t.Errorf("Merge shares sampler config with the template")
	}
}

func TestSubstitute(t *testing.T) {
	vals := map[string]string{"host": "h", "a_1": "A"}
	lookup := func(k string) (string, error) {
		if v, ok := vals[k]; ok {
			return v, nil
		}
		return "?", errors.New("unknown " + k)
	}
	tests := []struct {
		in, want string
		err      bool
	}{
		{"plain", "plain", false},
		{"%host%", "h", false},
		{"%host%%host%", "hh", false},
		{"%%", "%", false},
		{"%%%host%", "%h", false},
		{"%a_1%-%host", "A-%host", false},
		{"%1a%", "%1a%", false},
		{"%", "%", false},
		{"%%host%%", "%host%", false},
		{"%x%", "?", true},
		{"${X}%", "${X}%", false},
	}
	for _, tt := range tests {
		got, err := substitute(tt.in, lookup)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("substitute(%q) = %q, %v, want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSetDefaults(t *testing.T) {
	c := decodeOne(t, head+`spec:
  ovis_prefix: ovis
  mounts: ["db:/db:rw", "/abs:/abs:ro", "bad"]
  define: [{name: t, log_level: DEBUG}]
  daemons: [{asset: t}, {listen_auth: munge}]
`)
	c.Source.File = "/m/dir/c.yaml"
	SetDefaults(c)
	s := c.Spec
	if s.Image != DefaultImage || s.CPUPerNode != 1 || s.Oversubscribe != "NO" || s.SlurmLogLevel != "info" {
		t.Errorf("SetDefaults cluster = %q %d %q %q", s.Image, s.CPUPerNode, s.Oversubscribe, s.SlurmLogLevel)
	}
	if got, want := s.OvisPrefix, "/m/dir/ovis"; got != want {
		t.Errorf("ovis_prefix = %q, want %q", got, want)
	}
	if got, want := s.Mounts, []string{"/m/dir/db:/db:rw", "/abs:/abs:ro", "bad"}; !reflect.DeepEqual(got, want) {
		t.Errorf("mounts = %q, want %q", got, want)
	}
	if got, want := s.Services, AllServices; !reflect.DeepEqual(got, want) {
		t.Errorf("services = %v, want %v", got, want)
	}
	if d := s.Daemons[0]; d.LogLevel != "" || d.LogFile != DefaultLogFile || d.Restart != RestartAlways {
		t.Errorf("daemon 0 = %+v: log_level must stay for the template, others defaulted", d)
	}
	if d := s.Daemons[1]; d.LogLevel != DefaultLogLevel || d.ListenAuth != "munge" || d.ConfigFile != DefaultConfigFile {
		t.Errorf("daemon 1 = %+v", d)
	}
	before := mustJSON(t, c)
	SetDefaults(c)
	if after := mustJSON(t, c); after != before {
		t.Errorf("SetDefaults is not idempotent:\n%s\n%s", before, after)
	}
}

func TestDefaultServices(t *testing.T) {
	tests := []struct {
		in   []string
		auth string
		want []string
	}{
		{nil, "", AllServices},
		{[]string{}, "", []string{}},
		{[]string{"ldmsd", "slurm"}, "", []string{"munged", "slurm", "ldmsd"}},
		{[]string{"ldmsd", "sshd", "ldmsd"}, "", []string{"sshd", "ldmsd"}},
		{[]string{"ldmsd"}, "munge", []string{"munged", "ldmsd"}},
		{[]string{"nfs", "sshd"}, "", []string{"sshd", "nfs"}},
	}
	for _, tt := range tests {
		s := &LDMSDClusterSpec{Services: tt.in, Daemons: []DaemonSpec{{ListenAuth: tt.auth}}}
		if got := defaultServices(s); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("defaultServices(%v, auth %q) = %v, want %v", tt.in, tt.auth, got, tt.want)
		}
	}
}

func TestDeepCopy(t *testing.T) {
	docs := Load("testdata/valid-seed.yaml", mustRead(t, "testdata/valid-seed.yaml"))
	c := docs[0].Cluster
	cp := c.DeepCopy()
	if mustJSON(t, cp) != mustJSON(t, c) || cp.Source != c.Source {
		t.Fatalf("DeepCopy differs")
	}
	cp.Spec.Daemons[0].Env[0].Value = "changed"
	cp.Spec.Define[0].Samplers[0].Config[0] = "changed"
	if strings.Contains(mustJSON(t, c), "changed") {
		t.Errorf("DeepCopy shares memory with the original")
	}
}

func TestEmptyServices(t *testing.T) {
	c := decodeOne(t, head+"spec:\n  services: []\n  daemons: [{host: a1}]\n")
	SetDefaults(c)
	if c.Spec.Services == nil || len(c.Spec.Services) != 0 {
		t.Fatalf("services: [] defaulted to %#v, want empty", c.Spec.Services)
	}
	if cp := c.DeepCopy(); cp.Spec.Services == nil || len(cp.Spec.Services) != 0 {
		t.Errorf("DeepCopy services = %#v, want empty", cp.Spec.Services)
	}
	if err := Validate(c); err != nil {
		t.Errorf("Validate(services: []) = %v", err)
	}
}
