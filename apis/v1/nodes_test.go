package v1

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// loadNodes loads a one-document manifest with the given spec body and
// returns its nodes and its errors (without the file prefix), one a line.
func loadNodes(t *testing.T, spec string) ([]NodeSpec, string) {
	t.Helper()
	docs := Load("m.yaml", []byte(head+"spec:\n"+spec))
	if len(docs) != 1 || docs[0].Cluster == nil {
		t.Fatalf("Load = %d documents, errors %v", len(docs), Errors(docs))
	}
	var msgs []string
	for _, e := range docs[0].Errs {
		msgs = append(msgs, strings.TrimPrefix(e.Error(), "m.yaml doc 1: "))
	}
	nodes, _ := ExpandNodes(docs[0].Cluster)
	return nodes, strings.Join(msgs, "\n")
}

func mustNodes(t *testing.T, spec string) []NodeSpec {
	t.Helper()
	nodes, errs := loadNodes(t, spec)
	if errs != "" {
		t.Fatalf("errors:\n%s", errs)
	}
	return nodes
}

func TestExtendsChain(t *testing.T) {
	nodes := mustNodes(t, `
  templates:
    base: {type: ldmsd, listen: [{port: 1, xprt: sock}], log_level: DEBUG, quota: 5}
    mid: {"!extends": base, log_level: ERROR, config: [a]}
    top: {"!extends": mid, quota: 7}
  nodes:
  - hostname: n1
    daemons: [{name: d, "!extends": top, config: [b]}]
`)
	d := nodes[0].Daemons[0]
	// Local attributes win over the template's, each template over the
	// one it extends; lists are replaced, not joined.
	if d.LogLevel != "ERROR" || d.Quota != "7" || !reflect.DeepEqual(d.Config, []string{"b"}) || d.Type != "ldmsd" {
		t.Errorf("daemon = %+v", d)
	}
}

// Python's dict.update order: the base's keys first, later layers' new
// keys after, so the listen line prints the template's attributes first.
func TestExtendsKeyOrder(t *testing.T) {
	nodes := mustNodes(t, `
  templates:
    l: {xprt: sock, port: 1}
  nodes:
  - hostname: n1
    daemons:
    - type: ldmsd
      listen: [{host: h, "!extends": l, port: 2}]
`)
	want := []Param{{"xprt", "sock"}, {"port", "2"}, {"host", "h"}}
	if got := nodes[0].Daemons[0].Listen[0].Params; !reflect.DeepEqual(got, want) {
		t.Errorf("params = %v, want %v", got, want)
	}
}

func TestSubstitutionScopes(t *testing.T) {
	nodes := mustNodes(t, `
  INTERVAL: 1000000
  templates:
    samp:
      interval: "%INTERVAL%"
      config: [component_id=%component_id%, instance=%hostname%/%plugin%, "x=%ratio%", "pct=50%%", "self=%name%"]
      start: true
  nodes:
  - hostname: node-1
    component_id: 7
    ratio: 1.5
    daemons:
    - name: sampler
      type: ldmsd
      listen: [{port: 10000, xprt: sock}]
      samplers: [{plugin: meminfo, "!extends": samp, name: inner}]
      env: {A: "%hostname%", B: "%A%-x", C: true}
`)
	d := nodes[0].Daemons[0]
	s := d.Samplers[0]
	// The nearest dict's attribute wins (the sampler's name, not the
	// daemon's); numbers print as Python does.
	want := []string{"component_id=7", "instance=node-1/meminfo", "x=1.5", "pct=50%", "self=inner"}
	if !reflect.DeepEqual(s.Config, want) || s.Interval != "1000000" {
		t.Errorf("sampler = %+v, want config %v", s, want)
	}
	// A variable's value is substituted where it is used: B sees the
	// env dict's A. Booleans print True.
	if got := d.Env.Strings(); !reflect.DeepEqual(got, []string{"A=node-1", "B=node-1-x", "C=True"}) {
		t.Errorf("env = %v", got)
	}
	if got := nodes[0].Vars; !reflect.DeepEqual(got, []Param{{"component_id", "7"}, {"ratio", "1.5"}}) {
		t.Errorf("node vars = %v", got)
	}
}

// A list or dict attribute does not hide a variable of the same name
// further out; a string is substituted until it no longer changes.
func TestSubstitutionNonPrimitiveAndRounds(t *testing.T) {
	nodes := mustNodes(t, `
  nodes:
  - hostname: n1
    config: "%b%"
    b: "%c%"
    c: deep
    daemons:
    - type: ldmsd
      listen: [{port: 1, xprt: sock}]
      config: ["x=%config%"]
`)
	if got := nodes[0].Daemons[0].Config; !reflect.DeepEqual(got, []string{"x=deep"}) {
		t.Errorf("config = %v", got)
	}
}

func TestExtraAttributeRule(t *testing.T) {
	// Referenced, or component_id/offset: accepted as variables.
	nodes := mustNodes(t, `
  nodes:
  - hostname: n1
    component_id: 1
    dom_name: d1
    daemons:
    - {type: munged, dom: "%dom_name%"}
    - {type: ldmsd, offset: 20, listen: [{port: 1, xprt: sock}]}
`)
	if got := nodes[0].Daemons[1].Vars; !reflect.DeepEqual(got, []Param{{"offset", "20"}}) {
		t.Errorf("daemon vars = %v", got)
	}
	// Not referenced, or not a string, number or boolean: unknown.
	_, errs := loadNodes(t, `
  templates:
    s: {plugin: meminfo, intervl: 1000000, config: []}
  nodes:
  - hostname: n1
    extra: [1]
    daemons:
    - {type: ldmsd, listen: [{port: 1, xprt: sock}], samplers: [{"!extends": s}]}
`)
	want := `spec.nodes[0].extra: unknown field (an attribute outside the schema must be a string, number or boolean that some %extra% in the spec refers to; component_id and offset need no reference)
spec.nodes[0].daemons[0].samplers[0].intervl: unknown field (an attribute outside the schema must be a string, number or boolean that some %intervl% in the spec refers to; component_id and offset need no reference) (written at spec.templates.s.intervl)`
	if !strings.Contains(errs, "spec.nodes[0].daemons[0].samplers[0].intervl: unknown field") || !sameLines(errs, want) {
		t.Errorf("errors =\n%s\nwant\n%s", errs, want)
	}
}

func sameLines(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	seen := map[string]int{}
	for _, l := range la {
		seen[l]++
	}
	for _, l := range lb {
		if seen[l] == 0 {
			return false
		}
		seen[l]--
	}
	return true
}

// Top-level attributes outside the schema follow the same rule.
func TestTopLevelVars(t *testing.T) {
	nodes := mustNodes(t, `
  libdir: /opt/ovis/lib
  nodes:
  - hostname: n1
    daemons:
    - {type: ldmsd, listen: [{port: 1, xprt: sock}], config: ["load path=%libdir%/x %name%"]}
`)
	if got := nodes[0].Daemons[0].Config[0]; got != "load path=/opt/ovis/lib/x t" {
		t.Errorf("config = %q", got)
	}
	_, errs := loadNodes(t, "  libdirr: /x\n  nodes: [{hostname: n1}]\n")
	if !strings.HasPrefix(errs, "spec.libdirr: unknown field") {
		t.Errorf("errors = %q", errs)
	}
}

func TestNodeFormatErrors(t *testing.T) {
	for _, tt := range []struct {
		name, spec string
		want       []string
	}{
		{"mixed formats", "  daemons: [{host: a}]\n  define: [{name: x}]\n  services: [ldmsd]\n  plugstack: [{path: /x}]\n  nodes: [{hostname: n1}]\n", []string{
			"spec.define: cannot be used with spec.nodes: define and daemons are the seed format, nodes and templates the ldms-test format; use one format",
			"spec.daemons: cannot be used with spec.nodes: define and daemons are the seed format, nodes and templates the ldms-test format; use one format",
			"spec.services: cannot be used with spec.nodes (the ldms-test format): each node's daemons say what runs",
			"spec.plugstack: cannot be used with spec.nodes (the ldms-test format): give the slurmd daemon a plugstack",
		}},
		{"templates without nodes", "  templates: {}\n", []string{"spec.nodes: at least one node is required"}},
		{"missing and duplicate hostnames", "  nodes: [{hostname: a, aliases: b}, {hostname: b}, {daemons: []}, {hostname: 'bad name'}]\n", []string{
			`spec.nodes[2].hostname: required`,
			`spec.nodes[3].hostname: "bad name" is not a hostname: letters, digits, '-', '_' and '.', at most 63, starting and ending with a letter or digit`,
			`spec.nodes[1].hostname: "b" is also the name of spec.nodes[0].aliases[0]`,
		}},
		{"missing template", "  nodes: [{hostname: a, '!extends': nope}]\n", []string{
			`spec.nodes[0]["!extends"]: no template "nope" in spec.templates`,
		}},
		{"template cycle", "  templates: {a: {'!extends': b}, b: {'!extends': a}}\n  nodes: [{hostname: a, '!extends': a}]\n", []string{
			`spec.nodes[0]["!extends"]: template "a" extends itself (written at spec.templates.b["!extends"])`,
		}},
		{"recursive template", "  templates: {a: {x: {'!extends': a}}}\n  nodes: [{hostname: a, '!extends': a}]\n", []string{
			"x.x: nested deeper than 64 levels under spec.nodes (does a template extend itself through a nested value?) (written at spec.templates.a.x)",
			"spec.nodes[0].x: unknown field",
		}},
		{"unknown variable", "  templates: {t: {type: ldmsd, listen: [{port: 1, xprt: sock}], config: ['x=%nope%']}}\n  nodes: [{hostname: a, daemons: [{'!extends': t}]}, {hostname: b, daemons: [{'!extends': t}]}]\n", []string{
			`spec.nodes[0].daemons[0].config[0]: unknown variable %nope%: no string, number or boolean attribute "nope" in this object, the objects around it or the spec (write %% for a literal %) (written at spec.templates.t.config[0])`,
		}},
		{"daemons", `  nodes:
  - hostname: a
    daemons:
    - {name: x, type: sshd, samplers: []}
    - {name: x, type: sshd}
    - {type: teapot}
    - {name: y}
    - {type: ldmsd}
    - {type: munged}
    - {type: munged, dom: d}
    - {type: munged}
`, []string{
			`spec.nodes[0].daemons[0].samplers: not a field of a sshd daemon (it is one of ldmsd daemons)`,
			`spec.nodes[0].daemons[2].type: unknown daemon type "teapot", known: sshd, munged, slurmd, slurmctld, ldmsd, etcd`,
			`spec.nodes[0].daemons[3].type: required: one of sshd, munged, slurmd, slurmctld, ldmsd, etcd`,
			`spec.nodes[0].daemons[4]: an ldmsd needs a listen entry or listen_port: the Python module cannot tell its port otherwise`,
			`spec.nodes[0].daemons[1].name: daemon name "x" is also used by spec.nodes[0].daemons[0]`,
			`spec.nodes[0].daemons[1].type: a second sshd daemon on the node (the first is spec.nodes[0].daemons[0]): the Python module starts only one`,
			`spec.nodes[0].daemons[7]: a second munged for the default domain (the first is spec.nodes[0].daemons[5])`,
		}},
		{"ldmsd fields", `  nodes:
  - hostname: a
    daemons:
    - type: ldmsd
      listen: [{port: 70000, xprt: tcp}, {port: "10x", xprt: sock, auth: dom9}, {xprt: sock}]
      listen_auth: kerberos
      auth: [{name: dom1, plugin: munge, socket: /s}, {name: dom1}]
      prdcrs: [{name: p, host: h, port: 1, xprt: sock, type: active, intervl: 1}, {host: h}, {name: p, auth: dom1}]
      samplers: [{plugin: "mem info", start: "yes"}]
      log_level: loud
      config_file: etc/ldmsd.conf
      config: ["two\nlines"]
`, []string{
			`spec.nodes[0].daemons[0].auth[1].name: auth domain "dom1" is also defined at spec.nodes[0].daemons[0].auth[0]`,
			`spec.nodes[0].daemons[0].listen[0].xprt: unknown value "tcp", known: sock, rdma, ugni, fabric`,
			`spec.nodes[0].daemons[0].listen[0].port: 70000 is not a port between 1 and 65535`,
			`spec.nodes[0].daemons[0].listen[1].port: expected a port number, got string "10x"`,
			`spec.nodes[0].daemons[0].listen[1].auth: no auth domain "dom9" in this daemon's auth (nor an auth plugin: none, ovis, munge, naive, simple)`,
			`spec.nodes[0].daemons[0].listen[2].port: required`,
			`spec.nodes[0].daemons[0].listen_auth: unknown value "kerberos", known: none, ovis, munge, naive, simple`,
			`spec.nodes[0].daemons[0].samplers[0].plugin: "mem info" is not a plugin name`,
			`spec.nodes[0].daemons[0].samplers[0].start: expected a boolean (true or false), got string "yes"`,
			`spec.nodes[0].daemons[0].samplers[0].config: required: a list of NAME=VALUE strings (may be empty)`,
			`spec.nodes[0].daemons[0].prdcrs[0].intervl: unknown field (an attribute outside the schema must be a string, number or boolean that some %intervl% in the spec refers to; component_id and offset need no reference)`,
			`spec.nodes[0].daemons[0].prdcrs[1].name: required`,
			`spec.nodes[0].daemons[0].prdcrs[2].name: prdcr "p" is also defined at spec.nodes[0].daemons[0].prdcrs[0]`,
			`spec.nodes[0].daemons[0].config[0]: a config entry must be one line`,
			`spec.nodes[0].daemons[0].config_file: "etc/ldmsd.conf" must be an absolute path`,
			`spec.nodes[0].daemons[0].log_level: unknown value "loud", known: DEBUG, INFO, WARNING, ERROR, CRITICAL, QUIET`,
		}},
		{"slurm", "  nodes: [{hostname: a, daemons: [{type: slurmd, plugstack: [{path: x, args: ['a b']}]}]}]\n", []string{
			`spec.nodes[0].daemons[0].plugstack[0].path: "x" must be an absolute path without spaces`,
			`spec.nodes[0].daemons[0].plugstack[0].args[0]: "a b": an argument must be one word without spaces`,
			`spec.nodes[0]: the node runs slurmd but no node runs slurmctld, the controller slurm.conf names`,
		}},
		{"two controllers", "  nodes: [{hostname: a, daemons: [{type: slurmctld}]}, {hostname: b, daemons: [{type: slurmctld}]}]\n", []string{
			`spec.nodes[1].daemons[0]: a second slurmctld (the first is spec.nodes[0].daemons[0]): slurm.conf names one controller`,
		}},
		{"node fields", "  nodes: [{hostname: a, image: 'x y', env: {1A: b}, mounts: ['/:/x:rw', 'a:b'], binds: {'22/tcp': 70000, 'x': 1}, tmpfs: [rel]}]\n", []string{
			`spec.nodes[0].image: "x y" is not an image reference`,
			`spec.nodes[0].env.1A: "1A" is not a valid variable name (letters, digits, '_', not starting with a digit)`,
			`spec.nodes[0].mounts[0]: mounting / is refused: it exposes the host; set allow_host_mounts: true to allow it`,
			`spec.nodes[0].mounts[1]: "a:b" must be SRC:DST:MODE`,
			`spec.nodes[0].binds["22/tcp"]: 70000 is not a port between 1 and 65535`,
			`spec.nodes[0].binds.x: "x" is not a container port such as 10000 or 10000/udp`,
			`spec.nodes[0].tmpfs[0]: "rel" must be an absolute path`,
		}},
		{"top-level references", "  image: 'img:%v%'\n  env: {A: '%v%'}\n  mounts: ['/a:/%v%:ro']\n  v: x\n  nodes: [{hostname: a}]\n", []string{
			`spec.v: unknown field (an attribute outside the schema must be a string, number or boolean that some %v% in the spec refers to; component_id and offset need no reference)`,
			`spec.image: "img:%v%" holds %v%: references are replaced only under spec.nodes (and the templates they extend), so write the value here`,
			`spec.mounts[0]: "/a:/%v%:ro" holds %v%: references are replaced only under spec.nodes (and the templates they extend), so write the value here`,
			`spec.env.A: "%v%" holds %v%: references are replaced only under spec.nodes (and the templates they extend), so write the value here`,
		}},
		{"not dicts", "  templates: {t: 5}\n  nodes: [5, {hostname: a, daemons: [x]}]\n", []string{
			`spec.nodes[0]: expected a dict, got number 5`,
			`spec.templates.t: expected a dict, got number 5`,
			`spec.nodes[1].daemons[0]: expected a dict, got string "x"`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := loadNodes(t, tt.spec)
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("missing error %q", w)
				}
			}
			if got, want := strings.Count(errs, "\n")+1, len(tt.want); errs == "" || got != want {
				t.Errorf("%d errors, want %d:\n%s", got, want, errs)
			}
		})
	}
}

// A template that multiplies values at each level is stopped.
func TestExpansionBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("  templates:\n")
	b.WriteString("    t0: {v: x}\n")
	for i := 1; i <= 12; i++ {
		b.WriteString("    t" + strconv.Itoa(i) + ": {l: [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{'!extends': t" + strconv.Itoa(i-1) + "}")
		}
		b.WriteString("]}\n")
	}
	b.WriteString("  nodes: [{hostname: a, x: {'!extends': t12}}]\n")
	_, errs := loadNodes(t, b.String())
	if !strings.Contains(errs, "spec.nodes: expanding the templates makes more than 200000 values") {
		t.Errorf("errors = %q", errs)
	}
}

func TestSubstitutionLimits(t *testing.T) {
	_, errs := loadNodes(t, "  nodes: [{hostname: a, x: '%x%%x%', y: '%x%'}]\n")
	if !strings.Contains(errs, "spec.nodes[0].x: substitution makes a string longer than 1048576 bytes") {
		t.Errorf("errors = %q", errs)
	}
	_, errs = loadNodes(t, "  nodes: [{hostname: a, x: '%y%a', y: '%x%b', z: '%x%'}]\n")
	if !strings.Contains(errs, "substitution") {
		t.Errorf("errors = %q", errs)
	}
}

// The Python module's defaults and the documented merges.
func TestNodeDefaults(t *testing.T) {
	nodes := mustNodes(t, `
  image: img-1
  env: {FOO: BAR, X: "1"}
  nodes:
  - hostname: a
    env: {X: "2", Y: "3"}
    aliases: alias-a
    mounts: [db:/db:rw]
    daemons:
    - type: ldmsd
      listen_port: 411
      listen_xprt: sock
      env: [X=4]
      samplers: [{plugin: meminfo, config: []}]
  - {hostname: b, image: img-2, aliases: [b1, b2]}
`)
	a, b := nodes[0], nodes[1]
	if a.Image != "img-1" || b.Image != "img-2" {
		t.Errorf("images %q %q", a.Image, b.Image)
	}
	if got := a.Env.Strings(); !reflect.DeepEqual(got, []string{"FOO=BAR", "X=2", "Y=3"}) {
		t.Errorf("node env = %v", got)
	}
	if !reflect.DeepEqual(a.Aliases, []string{"alias-a"}) || !reflect.DeepEqual(b.Aliases, []string{"b1", "b2"}) {
		t.Errorf("aliases %v %v", a.Aliases, b.Aliases)
	}
	if len(a.Mounts) != 1 || !strings.HasSuffix(a.Mounts[0], "/db:/db:rw") || !strings.HasPrefix(a.Mounts[0], "/") {
		t.Errorf("mounts = %v", a.Mounts)
	}
	d := a.Daemons[0]
	want := NodeDaemon{Type: "ldmsd", ListenPort: 411, ListenXprt: "sock", ListenAuth: "none",
		Samplers: []NodeSampler{{Plugin: "meminfo", Interval: "2000000", Config: []string{}}},
		LogFile:  "/var/log/ldmsd.log", LogLevel: "INFO", ConfigFile: "/etc/ldmsd.conf",
		Env: Env{{"FOO", "BAR"}, {"X", "4"}}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("daemon =\n%+v\nwant\n%+v", d, want)
	}
}

// ExpandNodes reports what Load does for the nodes.
func TestExpandNodesErrorsMatchLoad(t *testing.T) {
	docs := Load("m.yaml", []byte(head+"spec:\n  nodes: [{hostname: a, daemons: [{type: x}]}, {hostname: a}]\n"))
	_, err := ExpandNodes(docs[0].Cluster)
	if err == nil || err.Error() != docs[0].Errs.Error() {
		t.Errorf("ExpandNodes error\n%v\nLoad errors\n%v", err, docs[0].Errs)
	}
}

// The seed format is left to Expand.
func TestExpandNodesSeedFormat(t *testing.T) {
	docs := Load("m.yaml", []byte(head+"spec: {daemons: [{host: a}]}\n"))
	if _, err := ExpandNodes(docs[0].Cluster); err == nil || !strings.Contains(err.Error(), "spec.nodes: required: the spec is in the seed format") {
		t.Errorf("ExpandNodes(seed) error = %v", err)
	}
	if len(docs[0].Cluster.Spec.Services) != 4 {
		t.Errorf("seed services = %v", docs[0].Cluster.Spec.Services)
	}
}
