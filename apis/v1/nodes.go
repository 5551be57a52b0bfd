package v1

import (
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MaxNodes is the most nodes an ldms-test format cluster may have.
const MaxNodes = MaxDaemons + 1

var (
	// nodeName is a container hostname: ldms-test specs use upper case
	// (L1) and "_" (node-config_file), which Docker accepts.
	nodeName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$`)
	// mungeDom is a munge domain: a directory name under /munge.
	mungeDom    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	containerPt = regexp.MustCompile(`^[0-9]{1,5}(/(tcp|udp|sctp))?$`)
)

// ExpandNodes resolves the nodes of an ldms-test format cluster (one
// whose spec has nodes or templates) that went through SetDefaults (Load
// does it). It returns one NodeSpec per spec.nodes entry, in spec order,
// or the ErrorList of every problem found (then the nodes are partial).
// Validate reports the same errors.
//
// It does what LDMS_Test.py's Spec does to the spec dict, then reads each
// node as LDMSDCluster and LDMSDContainer do:
//
//   - Templates: a dict with "!extends": NAME is the template NAME
//     (spec.templates) overridden by the dict's own attributes; a template
//     may extend another, base first. Dicts nested anywhere under a node
//     may extend templates, and those under templates too.
//   - Substitution: then every %NAME% in a string under a node is replaced
//     by the string, number or boolean attribute NAME of the nearest dict
//     that holds the string (itself first, then the dicts around it up to
//     the node, then the spec's top level: name, description, type, image,
//     ovis_prefix, ... and Vars), printed as Python's str() does (True,
//     1000000, 1.5). %% is "%". A string is substituted again until it no
//     longer changes, so a variable's value may itself hold references,
//     resolved from where the string is. An unknown NAME is an error.
//     Top-level fields (image, env, mounts, ...) are not substituted:
//     references there are errors.
//   - Decoding: each node, daemon and object in them is then read
//     strictly into the typed fields. An attribute outside their schema is
//     accepted only as a variable: a string, number or boolean that some
//     %NAME% in the spec refers to, or component_id or offset (see
//     extraAllowed); it then shows in Vars of its node or daemon. Any
//     other is an unknown field, e.g.
//     spec.nodes[3].daemons[1].samplers[0].intervl, with where a template
//     wrote it.
//   - Defaults: an ldmsd daemon gets the module's log_file, log_level,
//     listen_auth and config_file defaults, a sampler its interval, a
//     node spec.image, and Env the merges documented on NodeSpec and
//     NodeDaemon.
//
// It also checks what would fail or misbehave in the Python module or in
// Docker: hostnames and aliases (unique), daemon types and names (unique
// in a node; one daemon of each type per node but munged, one munged per
// domain), one slurmctld in the cluster when slurmd runs, ports from 1 to
// 65535, known transports, auth domains that listen and prdcrs name, and
// paths.
//
// The package drivers/ldmsd renders an ldmsd NodeDaemon's command line and
// config file.
func ExpandNodes(c *LDMSDCluster) ([]NodeSpec, error) {
	e := errs{src: c.Source}
	nodes := expandNodes(c, &e)
	return nodes, e.list.Err()
}

// expandNodes does ExpandNodes' work, reporting to e.
func expandNodes(c *LDMSDCluster, e *errs) []NodeSpec {
	s := &c.Spec
	if !s.IsNodeFormat() {
		e.add("spec.nodes", "required: the spec is in the seed format (spec.daemons); Expand resolves it")
		return nil
	}
	refs := map[string]bool{}
	collectRefs(s.Templates, refs)
	for _, n := range s.Nodes {
		collectRefs(n, refs)
	}
	collectRefs(s.Vars, refs)
	for _, k := range s.Templates.Keys() {
		if t, _ := s.Templates.Get(k); !isDict(t) {
			e.add(field("spec.templates", k), "expected a dict, got %s", kindOf(t))
		}
	}
	switch {
	case len(s.Nodes) == 0:
		e.add("spec.nodes", "at least one node is required")
		return nil
	case len(s.Nodes) > MaxNodes:
		e.add("spec.nodes", "%d nodes, at most %d", len(s.Nodes), MaxNodes)
		return nil
	}
	dir := ""
	if c.Source.File != "" {
		if abs, err := filepath.Abs(c.Source.File); err == nil {
			dir = filepath.Dir(abs)
		}
	}
	r := &resolver{templates: s.Templates, top: topVars(c), e: e}
	nr := &nodeReader{r: r, refs: refs, spec: s, dir: dir}
	out := make([]NodeSpec, 0, len(s.Nodes))
	for i, n := range s.Nodes {
		p := index("spec.nodes", i)
		if n == nil {
			e.add(p, "expected a dict, got null")
			out = append(out, NodeSpec{})
			continue
		}
		x, _ := r.expand(n, p, p, 1).(*Dict)
		if r.overflow {
			return nil
		}
		sd, _ := r.substitute(x, nil, p, p).(*Dict)
		out = append(out, nr.node(sd, p))
	}
	nr.checkCluster(out)
	return out
}

func isDict(v any) bool {
	d, ok := v.(*Dict)
	return ok && d != nil
}

// topVars are the variables of the spec's top level, the outermost scope
// of substitution: its string, number and boolean fields as set (after
// SetDefaults), name being metadata.name when spec.name is not set, and
// Vars.
func topVars(c *LDMSDCluster) map[string]any {
	s := &c.Spec
	top := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			top[k] = v
		}
	}
	set("name", c.Metadata.Name)
	set("name", s.Name)
	set("description", s.Description)
	set("type", s.Type)
	set("image", s.Image)
	set("ovis_prefix", s.OvisPrefix)
	set("subnet", s.Subnet)
	set("oversubscribe", string(s.Oversubscribe))
	set("slurm_loglevel", s.SlurmLogLevel)
	if s.CPUPerNode != 0 {
		top["cpu_per_node"] = json.Number(strconv.Itoa(s.CPUPerNode))
	}
	if s.IPv6 {
		top["ipv6"] = true
	}
	if s.AllowHostMounts {
		top["allow_host_mounts"] = true
	}
	for _, k := range s.Vars.Keys() {
		v, _ := s.Vars.Get(k)
		top[k] = v
	}
	return top
}

// nodeReader reads expanded, substituted nodes into NodeSpecs.
type nodeReader struct {
	r    *resolver
	refs map[string]bool
	spec *LDMSDClusterSpec
	dir  string // of the manifest, for relative paths
}

// obj reads the attributes of one dict, remembering which it used.
type obj struct {
	nr   *nodeReader
	d    *Dict
	path string
	used map[string]bool
}

func (nr *nodeReader) obj(d *Dict, path string) *obj {
	return &obj{nr: nr, d: d, path: path, used: map[string]bool{}}
}

// errf reports a problem of attribute k (of the dict itself when k is "").
func (o *obj) errf(k, format string, args ...any) {
	p, src := o.path, o.src("")
	if k != "" {
		p, src = field(o.path, k), o.src(k)
	}
	o.nr.r.add(p, src, fmt.Sprintf(format, args...))
}

// src is where attribute k was written ("" for the dict itself).
func (o *obj) src(k string) string {
	if k == "" {
		return ""
	}
	return srcOf(o.d, k, o.path)
}

// get returns attribute k, marking it used; null counts as not set.
func (o *obj) get(k string) (any, bool) {
	o.used[k] = true
	v, ok := o.d.Get(k)
	return v, ok && v != nil
}

func (o *obj) str(k string) (string, bool) {
	v, ok := o.get(k)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		o.errf(k, "expected a string, got %s", kindOf(v))
		return "", false
	}
	return s, true
}

// scalar returns a string, number or boolean attribute as str() prints it.
func (o *obj) scalar(k string) (string, bool) {
	v, ok := o.get(k)
	if !ok {
		return "", false
	}
	if !isPrimitive(v) {
		o.errf(k, "expected a string, number or boolean, got %s", kindOf(v))
		return "", false
	}
	return pyStr(v), true
}

func (o *obj) boolean(k string) bool {
	v, ok := o.get(k)
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		o.errf(k, "expected a boolean (true or false), got %s", kindOf(v))
	}
	return b
}

// port reads a port number: an integer, or a string of one (what a
// substituted %port% gives), from 1 to 65535.
func (o *obj) port(k string) (int, bool) {
	v, ok := o.get(k)
	if !ok {
		return 0, false
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		o.errf(k, "expected a port number, got %s", kindOf(v))
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || strconv.Itoa(n) != s {
		o.errf(k, "expected a port number, got %s", kindOf(v))
		return 0, false
	}
	if n < 1 || n > 65535 {
		o.errf(k, "%d is not a port between 1 and 65535", n)
		return 0, false
	}
	return n, true
}

// required reports attribute k when it is not set (or null).
func (o *obj) required(k, what string) {
	if v, ok := o.d.Get(k); !ok || v == nil {
		if what == "" {
			o.errf(k, "required")
		} else {
			o.errf(k, "required: %s", what)
		}
	}
}

// list returns a list attribute.
func (o *obj) list(k string) []any {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		o.errf(k, "expected a list, got %s", kindOf(v))
		return nil
	}
	return l
}

// dicts returns a list attribute of dicts, each with its path.
func (o *obj) dicts(k string) []*obj {
	var out []*obj
	for i, x := range o.list(k) {
		p := index(field(o.path, k), i)
		d, ok := x.(*Dict)
		if !ok || d == nil {
			o.nr.r.add(p, index(o.src(k), i), fmt.Sprintf("expected a dict, got %s", kindOf(x)))
			continue
		}
		out = append(out, o.nr.obj(d, p))
	}
	return out
}

// strs returns a list attribute of strings; one string stands for a list
// of it when one is true.
func (o *obj) strs(k string, one bool) []string {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	if s, isStr := v.(string); isStr && one {
		return []string{s}
	}
	l, isList := v.([]any)
	if !isList {
		want := "a list of strings"
		if one {
			want = "a string or a list of strings"
		}
		o.errf(k, "expected %s, got %s", want, kindOf(v))
		return nil
	}
	out := make([]string, 0, len(l))
	for i, x := range l {
		s, isStr := x.(string)
		if !isStr {
			o.nr.r.add(index(field(o.path, k), i), index(o.src(k), i), fmt.Sprintf("expected a string, got %s", kindOf(x)))
			continue
		}
		out = append(out, s)
	}
	return out
}

// lines returns a list of one-line strings.
func (o *obj) lines(k string) []string {
	out := o.strs(k, false)
	for i, l := range out {
		if strings.ContainsAny(l, "\r\n") {
			o.nr.r.add(index(field(o.path, k), i), index(o.src(k), i), "a config entry must be one line")
		}
	}
	return out
}

// env reads an env attribute: a dict (values printed by str()) or a list
// of NAME=VALUE strings, in spec order.
func (o *obj) env(k string) Env {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	var out Env
	p := field(o.path, k)
	switch x := v.(type) {
	case *Dict:
		for _, name := range x.keys {
			val := x.vals[name]
			if !isPrimitive(val) {
				o.nr.r.add(field(p, name), srcOf(x, name, o.src(k)), fmt.Sprintf("expected string, number or boolean, got %s", kindOf(val)))
				continue
			}
			out = append(out, EnvVar{Name: name, Value: pyStr(val)})
		}
	case []any:
		for i, s := range x {
			str, isStr := s.(string)
			if !isStr {
				o.nr.r.add(index(p, i), index(o.src(k), i), fmt.Sprintf("expected a NAME=VALUE string, got %s", kindOf(s)))
				continue
			}
			ev, err := ParseEnvEntry(str)
			if err != nil {
				o.nr.r.add(index(p, i), index(o.src(k), i), err.Error())
				continue
			}
			out = append(out, ev)
		}
	default:
		o.errf(k, "expected a list of NAME=VALUE or a dict, got %s", kindOf(v))
		return nil
	}
	for _, ev := range out {
		if !envName.MatchString(ev.Name) {
			o.nr.r.add(field(p, ev.Name), o.src(k), fmt.Sprintf("%q is not a valid variable name (letters, digits, '_', not starting with a digit)", ev.Name))
		}
	}
	return out.Merge()
}

// check runs a validation written for errs on attribute k, reporting its
// errors with where k was written.
func (o *obj) check(k string, fn func(e *errs, p string)) {
	var tmp errs
	p := field(o.path, k)
	fn(&tmp, p)
	for _, fe := range tmp.list {
		src := o.src(k)
		if fe.Path != p && strings.HasPrefix(fe.Path, p) {
			src += fe.Path[len(p):]
		}
		o.nr.r.add(fe.Path, src, fe.Msg)
	}
}

// rest reports the attributes not used, unless extraAllowed takes them
// as variables, which it returns as Params in spec order. other, when not
// nil, explains an attribute that belongs to other objects.
func (o *obj) rest(other func(k string) string) []Param {
	var vars []Param
	for _, k := range o.d.keys {
		if o.used[k] {
			continue
		}
		v := o.d.vals[k]
		if extraAllowed(k, v, o.nr.refs) {
			vars = append(vars, Param{Name: k, Value: pyStr(v)})
			continue
		}
		if other != nil {
			if msg := other(k); msg != "" {
				o.errf(k, "%s", msg)
				continue
			}
		}
		o.errf(k, "%s", unknownFieldMsg(k))
	}
	return vars
}

// params returns every attribute of a command object in spec order, as
// str() prints it; known lists its schema, open accepts any attribute
// (auth_add passes plugin options through).
func (o *obj) params(known []string, open bool) []Param {
	var out []Param
	for _, k := range o.d.keys {
		v := o.d.vals[k]
		switch {
		case v == nil:
			o.errf(k, "expected a string, number or boolean, got null")
			continue
		case !slices.Contains(known, k) && !open && !extraAllowed(k, v, o.nr.refs):
			o.errf(k, "%s", unknownFieldMsg(k))
			continue
		case !isPrimitive(v):
			o.errf(k, "expected a string, number or boolean, got %s", kindOf(v))
			continue
		}
		out = append(out, Param{Name: k, Value: pyStr(v)})
	}
	return out
}

// Schemas of the objects, as the Python module and ldmsd read them.
var (
	nodeFields     = []string{"hostname", "aliases", "image", "env", "mounts", "binds", "tmpfs", "atstart", "daemons"}
	daemonCommon   = []string{"name", "type", "requires"}
	daemonTypeOnly = map[string][]string{
		DaemonSshd:      nil,
		DaemonEtcd:      nil,
		DaemonMunged:    {"dom", "key"},
		DaemonSlurmd:    {"plugstack"},
		DaemonSlurmctld: {"plugstack"},
		DaemonLdmsd: {"listen", "listen_port", "listen_xprt", "listen_auth", "auth", "samplers", "prdcrs",
			"prdcr_listen", "advertisers", "quota", "config", "log_file", "log_level", "config_file", "env"},
	}
	samplerFields     = []string{"plugin", "interval", "offset", "exclusive_thread", "start", "config"}
	listenFields      = []string{"xprt", "port", "host", "auth", "quota", "rx_rate"}
	prdcrFields       = []string{"name", "host", "port", "xprt", "type", "interval", "reconnect", "auth", "perm", "rail", "quota", "rx_rate", "cache_ip"}
	prdcrListenFields = []string{"name", "type", "regex", "ip", "disable_start", "reconnect", "advertiser_xprt", "advertiser_port", "advertiser_auth", "auth", "rail", "quota", "rx_rate"}
	advertiserFields  = []string{"name", "xprt", "host", "port", "reconnect", "auth", "perm", "rail", "quota", "rx_rate"}
)

// node reads one expanded, substituted node.
func (nr *nodeReader) node(d *Dict, p string) NodeSpec {
	var n NodeSpec
	if d == nil {
		return n
	}
	o := nr.obj(d, p)
	o.required("hostname", "")
	if h, ok := o.str("hostname"); ok {
		n.Hostname = h
		if !nodeName.MatchString(h) {
			o.errf("hostname", "%q is not a hostname: letters, digits, '-', '_' and '.', at most 63, starting and ending with a letter or digit", h)
		}
	}
	n.Aliases = o.strs("aliases", true)
	for i, a := range n.Aliases {
		if !nodeName.MatchString(a) {
			nr.r.add(index(field(p, "aliases"), i), "", fmt.Sprintf("%q is not a hostname: letters, digits, '-', '_' and '.', at most 63, starting and ending with a letter or digit", a))
		}
	}
	n.Image = nr.spec.Image
	if img, ok := o.str("image"); ok {
		n.Image = img
		if img == "" || strings.ContainsAny(img, " \t\r\n") {
			o.errf("image", "%q is not an image reference", img)
		}
	}
	n.Env = nr.spec.Env.Merge(o.env("env"))
	n.Mounts = o.strs("mounts", false)
	for i, m := range n.Mounts {
		parts := strings.Split(m, ":")
		if len(parts) == 3 && parts[0] != "" {
			parts[0] = absFrom(nr.dir, parts[0])
			n.Mounts[i] = strings.Join(parts, ":")
		}
	}
	o.check("mounts", func(e *errs, mp string) {
		dsts := map[string]string{}
		for i, m := range n.Mounts {
			validateMount(e, index(mp, i), m, nr.spec.AllowHostMounts, dsts)
		}
	})
	n.Binds = o.binds("binds")
	n.Tmpfs = o.tmpfs("tmpfs")
	if a, ok := o.str("atstart"); ok && a != "" {
		n.Atstart = absFrom(nr.dir, a)
		if !path.IsAbs(n.Atstart) {
			o.errf("atstart", "%q must be absolute (relative paths need a manifest file)", a)
		}
	}
	for _, do := range o.dicts("daemons") {
		n.Daemons = append(n.Daemons, nr.daemon(do))
	}
	n.Vars = o.rest(nil)
	nr.checkNode(o, &n)
	return n
}

// binds reads the node's port bindings: a dict of container port ("PORT"
// or "PORT/PROTO") to host port (a number, null for any, or [HOST_IP,
// PORT]).
func (o *obj) binds(k string) []PortBind {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	d, isDict := v.(*Dict)
	if !isDict {
		o.errf(k, "expected a dict of container port to host port, got %s", kindOf(v))
		return nil
	}
	bo := o.nr.obj(d, field(o.path, k))
	var out []PortBind
	for _, cp := range d.keys {
		if !containerPt.MatchString(cp) {
			bo.errf(cp, "%q is not a container port such as 10000 or 10000/udp", cp)
			continue
		}
		b := PortBind{ContainerPort: cp}
		switch x := d.vals[cp].(type) {
		case nil:
		case []any:
			if len(x) != 2 {
				bo.errf(cp, "expected [HOST_IP, PORT], got a list of %d", len(x))
				continue
			}
			ip, isStr := x[0].(string)
			if !isStr {
				bo.errf(cp, "expected [HOST_IP, PORT], got %s for HOST_IP", kindOf(x[0]))
				continue
			}
			b.HostIP = ip
			po := o.nr.obj(&Dict{keys: []string{"port"}, vals: map[string]any{"port": x[1]}}, field(bo.path, cp))
			b.HostPort, _ = po.port("port")
		default:
			b.HostPort, _ = bo.port(cp)
		}
		out = append(out, b)
	}
	return out
}

// tmpfs reads a list of "PATH[:OPTIONS]" or a dict of PATH to OPTIONS.
func (o *obj) tmpfs(k string) []string {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	var out []string
	if d, isDict := v.(*Dict); isDict {
		to := o.nr.obj(d, field(o.path, k))
		for _, pth := range d.keys {
			opts, _ := to.str(pth)
			if opts != "" {
				out = append(out, pth+":"+opts)
			} else {
				out = append(out, pth)
			}
		}
	} else {
		out = o.strs(k, false)
	}
	for i, t := range out {
		pth, _, _ := strings.Cut(t, ":")
		if !path.IsAbs(pth) {
			o.nr.r.add(index(field(o.path, k), i), "", fmt.Sprintf("%q must be an absolute path", pth))
		}
	}
	return out
}

// daemon reads one daemon of a node.
func (nr *nodeReader) daemon(o *obj) NodeDaemon {
	var d NodeDaemon
	d.Name, _ = o.str("name")
	o.required("type", "one of "+strings.Join(DaemonTypes, ", "))
	typ, ok := o.str("type")
	if !ok {
		return d
	}
	d.Type = typ
	if _, known := daemonTypeOnly[typ]; !known {
		o.errf("type", "unknown daemon type %q, known: %s", typ, strings.Join(DaemonTypes, ", "))
		return d
	}
	d.Requires = o.strs("requires", false)
	switch typ {
	case DaemonMunged:
		if dom, ok := o.str("dom"); ok {
			d.Dom = dom
			if !mungeDom.MatchString(dom) || dom == "." || dom == ".." {
				o.errf("dom", "%q is not a munge domain: letters, digits, '_', '.' and '-', a directory name under /munge", dom)
			}
		}
		d.Key, _ = o.str("key")
	case DaemonSlurmd, DaemonSlurmctld:
		for _, po := range o.dicts("plugstack") {
			d.Plugstack = append(d.Plugstack, nr.plugstack(po))
		}
	case DaemonLdmsd:
		nr.ldmsd(o, &d)
	}
	d.Vars = o.rest(func(k string) string {
		for _, t := range DaemonTypes {
			if t != typ && slices.Contains(daemonTypeOnly[t], k) {
				return fmt.Sprintf("not a field of a %s daemon (it is one of %s daemons)", typ, t)
			}
		}
		return ""
	})
	return d
}

func (nr *nodeReader) plugstack(o *obj) PlugstackEntry {
	var pe PlugstackEntry
	pe.Required = o.boolean("required")
	if p, ok := o.str("path"); ok {
		pe.Path = p
		if !path.IsAbs(p) || strings.ContainsAny(p, " \t\r\n") {
			o.errf("path", "%q must be an absolute path without spaces", p)
		}
	}
	o.required("path", "")
	pe.Args = o.strs("args", false)
	for k, a := range pe.Args {
		if a == "" || strings.ContainsAny(a, " \t\r\n") {
			nr.r.add(index(field(o.path, "args"), k), index(o.src("args"), k), fmt.Sprintf("%q: an argument must be one word without spaces", a))
		}
	}
	o.rest(nil)
	return pe
}

// ldmsd reads the fields of an ldmsd daemon, with the module's defaults.
func (nr *nodeReader) ldmsd(o *obj, d *NodeDaemon) {
	// The auth domains first: listen, prdcrs and advertisers name them.
	authNames := map[string]string{}
	for _, ao := range o.dicts("auth") {
		a := AuthDomain{Params: ao.params(nil, true)}
		ao.required("name", "")
		if name, ok := ao.str("name"); ok {
			a.Name = name
			if other, dup := authNames[name]; dup {
				ao.errf("name", "auth domain %q is also defined at %s", name, other)
			} else {
				authNames[name] = ao.path
			}
		}
		a.Plugin, _ = ao.str("plugin")
		d.Auth = append(d.Auth, a)
	}
	authRef := func(ob *obj, k, v string) {
		if v == "" || authNames[v] != "" || slices.Contains(ListenAuths, v) || v == "DEFAULT" {
			return
		}
		ob.errf(k, "no auth domain %q in this daemon's auth (nor an auth plugin: %s)", v, strings.Join(ListenAuths, ", "))
	}

	for _, lo := range o.dicts("listen") {
		l := Listen{Params: lo.params(listenFields, false)}
		lo.required("xprt", "one of "+strings.Join(ListenXprts, ", "))
		lo.required("port", "")
		l.Xprt, _ = lo.str("xprt")
		lo.enum("xprt", l.Xprt, ListenXprts)
		l.Port, _ = lo.port("port")
		l.Host, _ = lo.str("host")
		l.Auth, _ = lo.str("auth")
		authRef(lo, "auth", l.Auth)
		d.Listen = append(d.Listen, l)
	}
	d.ListenPort, _ = o.port("listen_port")
	d.ListenXprt, _ = o.str("listen_xprt")
	o.enum("listen_xprt", d.ListenXprt, ListenXprts)
	d.ListenAuth = DefaultListenAuth
	if a, ok := o.str("listen_auth"); ok {
		d.ListenAuth = a
		o.enum("listen_auth", a, ListenAuths)
	}
	if len(d.Listen) == 0 && d.ListenPort == 0 {
		if _, set := o.d.Get("listen_port"); !set {
			o.errf("", "an ldmsd needs a listen entry or listen_port: the Python module cannot tell its port otherwise")
		}
	}

	for _, so := range o.dicts("samplers") {
		d.Samplers = append(d.Samplers, nr.sampler(so))
	}

	names := map[string]string{}
	named := func(ob *obj, what string) string {
		ob.required("name", "")
		name, ok := ob.str("name")
		if !ok {
			return ""
		}
		key := what + "\x00" + name
		if other, dup := names[key]; dup {
			ob.errf("name", "%s %q is also defined at %s", what, name, other)
		} else {
			names[key] = ob.path
		}
		return name
	}
	for _, po := range o.dicts("prdcrs") {
		pr := Prdcr{Params: po.params(prdcrFields, false), Name: named(po, "prdcr")}
		pr.Host, _ = po.str("host")
		pr.Port, _ = po.port("port")
		pr.Xprt, _ = po.str("xprt")
		po.enum("xprt", pr.Xprt, ListenXprts)
		pr.Type, _ = po.str("type")
		po.enum("type", pr.Type, []string{"active", "passive"})
		pr.Auth, _ = po.str("auth")
		authRef(po, "auth", pr.Auth)
		d.Prdcrs = append(d.Prdcrs, pr)
	}
	for _, lo := range o.dicts("prdcr_listen") {
		pl := PrdcrListen{Params: lo.params(prdcrListenFields, false), Name: named(lo, "prdcr_listen")}
		if _, set := lo.d.Get("advertiser_port"); set {
			lo.port("advertiser_port")
		}
		d.PrdcrListen = append(d.PrdcrListen, pl)
	}
	for _, ao := range o.dicts("advertisers") {
		ad := Advertiser{Params: ao.params(advertiserFields, false), Name: named(ao, "advertiser")}
		ad.Host, _ = ao.str("host")
		ad.Port, _ = ao.port("port")
		ad.Xprt, _ = ao.str("xprt")
		ao.enum("xprt", ad.Xprt, ListenXprts)
		ad.Auth, _ = ao.str("auth")
		authRef(ao, "auth", ad.Auth)
		d.Advertisers = append(d.Advertisers, ad)
	}

	if q, ok := o.get("quota"); ok {
		if !isPrimitive(q) {
			o.errf("quota", "expected a string, number or boolean, got %s", kindOf(q))
		} else if truthy(q) {
			d.Quota = pyStr(q)
		}
	}
	d.Config = o.lines("config")

	d.LogFile, d.LogLevel, d.ConfigFile = DefaultLogFile, DefaultLogLevel, DefaultConfigFile
	for _, f := range []struct {
		k string
		v *string
	}{{"log_file", &d.LogFile}, {"config_file", &d.ConfigFile}} {
		if v, ok := o.str(f.k); ok {
			*f.v = v
			if !path.IsAbs(v) || strings.ContainsAny(v, "\r\n") {
				o.errf(f.k, "%q must be an absolute path", v)
			}
		}
	}
	if v, ok := o.scalar("log_level"); ok {
		d.LogLevel = v
		if !slices.Contains(LogLevels, strings.ToUpper(v)) {
			o.errf("log_level", "unknown value %q, known: %s", v, strings.Join(LogLevels, ", "))
		}
	}
	d.Env = nr.spec.Env.Merge(o.env("env"))
}

// enum reports a value of attribute k that is not one of known.
func (o *obj) enum(k, v string, known []string) {
	if v != "" && !slices.Contains(known, v) {
		o.errf(k, "unknown value %q, known: %s", v, strings.Join(known, ", "))
	}
}

// sampler reads one sampler of an ldmsd.
func (nr *nodeReader) sampler(o *obj) NodeSampler {
	s := NodeSampler{Interval: DefaultSamplerInterval}
	o.required("plugin", "")
	if p, ok := o.str("plugin"); ok {
		s.Plugin = p
		if !pluginName.MatchString(p) {
			o.errf("plugin", "%q is not a plugin name", p)
		}
	}
	if v, ok := o.scalar("interval"); ok {
		s.Interval = v
	}
	s.Offset, _ = o.scalar("offset")
	s.ExclusiveThread, _ = o.scalar("exclusive_thread")
	s.Start = o.boolean("start")
	o.required("config", "a list of NAME=VALUE strings (may be empty)")
	s.Config = o.lines("config")
	if s.Config == nil {
		s.Config = []string{}
	}
	o.rest(nil)
	return s
}

// checkNode checks the daemons of one node together.
func (nr *nodeReader) checkNode(o *obj, n *NodeSpec) {
	names := map[string]int{}
	types := map[string]int{}
	doms := map[string]int{}
	for i, d := range n.Daemons {
		p := index(field(o.path, "daemons"), i)
		if d.Name != "" {
			if j, dup := names[d.Name]; dup {
				nr.r.add(field(p, "name"), "", fmt.Sprintf("daemon name %q is also used by %s", d.Name, index(field(o.path, "daemons"), j)))
			} else {
				names[d.Name] = i
			}
		}
		switch {
		case d.Type == "":
		case d.Type == DaemonMunged:
			if j, dup := doms[d.Dom]; dup {
				dom := "the default domain"
				if d.Dom != "" {
					dom = fmt.Sprintf("domain %q", d.Dom)
				}
				nr.r.add(p, "", fmt.Sprintf("a second munged for %s (the first is %s)", dom, index(field(o.path, "daemons"), j)))
			} else {
				doms[d.Dom] = i
			}
		default:
			if j, dup := types[d.Type]; dup {
				nr.r.add(field(p, "type"), "", fmt.Sprintf("a second %s daemon on the node (the first is %s): the Python module starts only one", d.Type, index(field(o.path, "daemons"), j)))
			} else {
				types[d.Type] = i
			}
		}
	}
}

// checkCluster checks the nodes together: names, and slurm's controller.
func (nr *nodeReader) checkCluster(nodes []NodeSpec) {
	seen := map[string]string{}
	ctl := ""
	var slurmd []int
	for i, n := range nodes {
		p := index("spec.nodes", i)
		if n.Hostname != "" {
			if other, dup := seen[n.Hostname]; dup {
				nr.r.add(field(p, "hostname"), "", fmt.Sprintf("%q is also the name of %s", n.Hostname, other))
			} else {
				seen[n.Hostname] = p
			}
			if n.Hostname == "localhost" {
				nr.r.add(field(p, "hostname"), "", `"localhost" is reserved`)
			}
		}
		for j, a := range n.Aliases {
			ap := index(field(p, "aliases"), j)
			if other, dup := seen[a]; dup {
				nr.r.add(ap, "", fmt.Sprintf("%q is also the name of %s", a, other))
			} else {
				seen[a] = ap
			}
			if a == "localhost" {
				nr.r.add(ap, "", `"localhost" is reserved`)
			}
		}
		for j, d := range n.Daemons {
			switch d.Type {
			case DaemonSlurmctld:
				dp := index(field(p, "daemons"), j)
				if ctl != "" {
					nr.r.add(dp, "", fmt.Sprintf("a second slurmctld (the first is %s): slurm.conf names one controller", ctl))
				} else {
					ctl = dp
				}
			case DaemonSlurmd:
				slurmd = append(slurmd, i)
			}
		}
	}
	if ctl == "" && len(slurmd) > 0 {
		nr.r.add(index("spec.nodes", slurmd[0]), "", "the node runs slurmd but no node runs slurmctld, the controller slurm.conf names")
	}
}
