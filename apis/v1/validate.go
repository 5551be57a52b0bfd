package v1

import (
	"net"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Limits of a cluster.
const (
	MaxNameLength = 40   // of metadata.name: container names stay short
	MaxDaemons    = 1000 // containers are daemons + 1
	MaxCPUPerNode = 4096
)

var (
	clusterName  = regexp.MustCompile(`^[a-z0-9]([a-z0-9_.-]*[a-z0-9])?$`)
	hostLabel    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	nodeHostname = regexp.MustCompile(`^node-[0-9]+$`)
	envName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	capName      = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	pluginName   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	oversub      = regexp.MustCompile(`^(NO|EXCLUSIVE|(YES|FORCE)(:[0-9]+)?)$`)
)

// Known values of enumerated fields.
var (
	ListenXprts    = []string{"sock", "rdma", "ugni", "fabric"}
	ListenAuths    = []string{"none", "ovis", "munge", "naive", "simple"}
	LogLevels      = []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "QUIET"}
	Restarts       = []string{RestartAlways, RestartNever, RestartManual}
	SlurmLogLevels = []string{"quiet", "fatal", "error", "info", "verbose", "debug", "debug2", "debug3", "debug4", "debug5"}
	MountModes     = []string{"ro", "rw"}
)

// hostPaths may not be mounted without allow_host_mounts: the root and
// every directory that holds the Docker socket give away the host.
var hostPaths = []string{"/", "/var", "/var/run", "/run", "/var/run/docker.sock", "/run/docker.sock"}

// exposesHost says why mounting the host path src is refused, or "". A
// path that exists is judged by what its symlinks resolve to, as Docker
// mounts that: a manifest directory (a git checkout) may hold a link to /.
func exposesHost(src string) string {
	c := path.Clean(src)
	if slices.Contains(hostPaths, c) {
		return "mounting " + c + " is refused: it exposes the host; set allow_host_mounts: true to allow it"
	}
	if r, err := filepath.EvalSymlinks(c); err == nil && slices.Contains(hostPaths, filepath.Clean(r)) {
		return "mounting " + c + " is refused: it resolves to " + filepath.Clean(r) + ", which exposes the host; set allow_host_mounts: true to allow it"
	}
	return ""
}

// ovisMount is where ovis_prefix is mounted in every container.
const ovisMount = "/opt/ovis"

// Validate checks a defaulted cluster and returns every problem found as
// an ErrorList, or nil. Each error names c.Source and the field path.
func Validate(c *LDMSDCluster) error {
	return validate(c).Err()
}

func validate(c *LDMSDCluster) ErrorList {
	e := &errs{src: c.Source}
	validateMeta(e, c)
	s := &c.Spec
	validateCluster(e, c.Metadata.Name, s)
	if s.Restart != "" && !s.IsNodeFormat() {
		e.add("spec.restart", "only for the ldms-test format (spec.nodes): in the seed format each daemon has its restart")
	}
	if s.IsNodeFormat() {
		validateNodeFormat(e, c)
		return e.list
	}

	names := map[string]string{}
	for j := range s.Define {
		p := index("spec.define", j)
		t := &s.Define[j]
		switch {
		case t.Name == "":
			e.add(field(p, "name"), "required: a template is used by its name")
		case names[t.Name] != "":
			e.add(field(p, "name"), "template %q is also defined at %s", t.Name, names[t.Name])
		default:
			names[t.Name] = p
		}
		if t.Host != "" {
			e.add(field(p, "host"), "a template cannot set host: set it on each daemon")
		}
		if t.Asset != "" {
			e.add(field(p, "asset"), "a template cannot use another template")
		}
		validateDaemonFields(e, p, t)
	}

	if len(s.Daemons) == 0 {
		e.add("spec.daemons", "at least one daemon is required")
	}
	if len(s.Daemons) > MaxDaemons {
		e.add("spec.daemons", "%d daemons, at most %d", len(s.Daemons), MaxDaemons)
	}
	hosts := map[string]string{}
	for i := range s.Daemons {
		p := index("spec.daemons", i)
		d := &s.Daemons[i]
		if d.Host != "" {
			hp := field(p, "host")
			if msg := checkHost(d.Host, c.Metadata.Name); msg != "" {
				e.add(hp, "%s", msg)
			} else if other, dup := hosts[d.Host]; dup {
				e.add(hp, "host %q is also used by %s", d.Host, other)
			} else {
				hosts[d.Host] = p
			}
		}
		validateDaemonFields(e, p, d)
	}

	// Merged daemons: what only the combination of template and daemon
	// tells (asset existence, values for %key% references).
	merged := expand(c, e, false)
	if slices.Contains(s.Services, ServiceSlurm) && len(s.Daemons) > 0 {
		if !slices.ContainsFunc(merged, func(d DaemonSpec) bool { return d.Type == DaemonTypeSampler }) {
			e.add("spec.services", "slurm runs slurmd on the nodes of daemons of type %q and there are none: give daemons that type or list services without slurm", DaemonTypeSampler)
		}
	}
	return e.list
}

func validateMeta(e *errs, c *LDMSDCluster) {
	switch c.APIVersion {
	case APIVersion:
	case "":
		e.add("apiVersion", "required: %q", APIVersion)
	default:
		e.add("apiVersion", "%q is not %q", c.APIVersion, APIVersion)
	}
	switch c.Kind {
	case Kind:
	case "":
		e.add("kind", "required: %q", Kind)
	default:
		e.add("kind", "%q is not %q", c.Kind, Kind)
	}
	n := c.Metadata.Name
	switch {
	case n == "":
		e.add("metadata.name", "required")
	case len(n) > MaxNameLength:
		e.add("metadata.name", "%q is %d characters long, at most %d", truncate(n, 50), len(n), MaxNameLength)
	case !clusterName.MatchString(n):
		e.add("metadata.name", "%q must be lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit", n)
	}
	if c.Spec.Name != "" && c.Spec.Name != n {
		e.add("spec.name", "%q differs from metadata.name %q", c.Spec.Name, n)
	}
}

func validateCluster(e *errs, name string, s *LDMSDClusterSpec) {
	if s.Image == "" || strings.ContainsAny(s.Image, " \t\r\n") {
		e.add("spec.image", "%q is not an image reference", s.Image)
	}
	switch {
	case !path.IsAbs(s.OvisPrefix):
		e.add("spec.ovis_prefix", "%q must be an absolute path (relative paths need a manifest file)", s.OvisPrefix)
	case !s.AllowHostMounts:
		if msg := exposesHost(s.OvisPrefix); msg != "" {
			e.add("spec.ovis_prefix", "%s", msg)
		}
	}
	nodeFormat := s.IsNodeFormat()
	if nodeFormat {
		for _, v := range s.Env {
			if !envName.MatchString(v.Name) {
				e.add(field("spec.env", v.Name), "%q is not a valid variable name (letters, digits, '_', not starting with a digit)", v.Name)
			}
		}
	} else {
		validateEnv(e, "spec.env", s.Env, "daemon")
	}

	dsts := map[string]string{ovisMount: "spec.ovis_prefix"}
	for i, m := range s.Mounts {
		validateMount(e, index("spec.mounts", i), m, s.AllowHostMounts, dsts)
	}
	for _, caps := range []struct {
		path string
		list []string
	}{{"spec.cap_add", s.CapAdd}, {"spec.cap_drop", s.CapDrop}} {
		for i, c := range caps.list {
			if !capName.MatchString(c) {
				e.add(index(caps.path, i), "%q is not a capability name such as SYS_PTRACE or ALL", c)
			}
		}
	}
	for i, sv := range s.Services {
		if !slices.Contains(AllServices, sv) && !nodeFormat {
			e.add(index("spec.services", i), "unknown service %q, known: %s", sv, strings.Join(AllServices, ", "))
		}
	}
	if s.CPUPerNode < 1 || s.CPUPerNode > MaxCPUPerNode {
		e.add("spec.cpu_per_node", "%d is not between 1 and %d", s.CPUPerNode, MaxCPUPerNode)
	}
	if !oversub.MatchString(strings.ToUpper(string(s.Oversubscribe))) {
		e.add("spec.oversubscribe", "%q is not NO, YES, FORCE or EXCLUSIVE (YES and FORCE may end in :COUNT)", s.Oversubscribe)
	}
	if !slices.Contains(SlurmLogLevels, strings.ToLower(s.SlurmLogLevel)) {
		e.add("spec.slurm_loglevel", "%q is not one of %s", s.SlurmLogLevel, strings.Join(SlurmLogLevels, ", "))
	}
	for i, p := range s.Plugstack {
		if nodeFormat {
			break
		}
		pp := index("spec.plugstack", i)
		if !path.IsAbs(p.Path) || strings.ContainsAny(p.Path, " \t\r\n") {
			e.add(field(pp, "path"), "%q must be an absolute path without spaces", p.Path)
		}
		for k, a := range p.Args {
			if a == "" || strings.ContainsAny(a, " \t\r\n") {
				e.add(index(field(pp, "args"), k), "%q: an argument must be one word without spaces", a)
			}
		}
	}
	if s.Subnet != "" {
		n := len(s.Daemons) + 1
		if nodeFormat {
			n = len(s.Nodes)
		}
		validateSubnet(e, s.Subnet, n)
	}
}

// validateNodeFormat checks what is particular to the ldms-test format:
// no seed format fields, no references in the top-level fields, and the
// nodes (see ExpandNodes).
func validateNodeFormat(e *errs, c *LDMSDCluster) {
	s := &c.Spec
	with := "spec.nodes"
	if s.Nodes == nil {
		with = "spec.templates"
	}
	if s.Define != nil {
		e.add("spec.define", "cannot be used with %s: define and daemons are the seed format, nodes and templates the ldms-test format; use one format", with)
	}
	if s.Daemons != nil {
		e.add("spec.daemons", "cannot be used with %s: define and daemons are the seed format, nodes and templates the ldms-test format; use one format", with)
	}
	if s.Services != nil {
		e.add("spec.services", "cannot be used with %s (the ldms-test format): each node's daemons say what runs", with)
	}
	if s.Plugstack != nil {
		e.add("spec.plugstack", "cannot be used with %s (the ldms-test format): give the slurmd daemon a plugstack", with)
	}
	checkEnum(e, "spec.restart", s.Restart, Restarts, false)
	noRefs := func(p, v string) {
		if m := firstRef(v); m != "" {
			e.add(p, "%q holds %s: references are replaced only under spec.nodes (and the templates they extend), so write the value here", v, m)
		}
	}
	noRefs("spec.image", s.Image)
	noRefs("spec.ovis_prefix", s.OvisPrefix)
	noRefs("spec.subnet", s.Subnet)
	noRefs("spec.oversubscribe", string(s.Oversubscribe))
	noRefs("spec.slurm_loglevel", s.SlurmLogLevel)
	for _, l := range []struct {
		path string
		list []string
	}{{"spec.mounts", s.Mounts}, {"spec.cap_add", s.CapAdd}, {"spec.cap_drop", s.CapDrop}} {
		for i, v := range l.list {
			noRefs(index(l.path, i), v)
		}
	}
	for _, v := range s.Env {
		noRefs(field("spec.env", v.Name), v.Value)
	}
	expandNodes(c, e)
}

func validateSubnet(e *errs, subnet string, nodes int) {
	ip, n, err := net.ParseCIDR(subnet)
	if err != nil {
		e.add("spec.subnet", "%q is not a CIDR such as 10.11.0.0/24", subnet)
		return
	}
	if !ip.Equal(n.IP) {
		e.add("spec.subnet", "%q has host bits set: did you mean %s?", subnet, n)
		return
	}
	ones, bits := n.Mask.Size()
	// Network, gateway and broadcast addresses are not for containers.
	if free := bits - ones; free < 31 && (1<<free)-3 < nodes {
		e.add("spec.subnet", "%s has room for %d containers, the cluster needs %d", subnet, max((1<<free)-3, 0), nodes)
	}
}

func validateMount(e *errs, p, m string, allowHost bool, dsts map[string]string) {
	parts := strings.Split(m, ":")
	if len(parts) != 3 {
		e.add(p, "%q must be SRC:DST:MODE", m)
		return
	}
	src, dst, mode := parts[0], parts[1], parts[2]
	switch {
	case src == "":
		e.add(p, "%q has an empty source", m)
	case !path.IsAbs(src):
		e.add(p, "source %q must be absolute (relative sources need a manifest file)", src)
	case !allowHost:
		if msg := exposesHost(src); msg != "" {
			e.add(p, "%s", msg)
		}
	}
	if !path.IsAbs(dst) {
		e.add(p, "destination %q must be an absolute path", dst)
	} else if other, dup := dsts[path.Clean(dst)]; dup {
		e.add(p, "destination %s is also mounted by %s", path.Clean(dst), other)
	} else {
		dsts[path.Clean(dst)] = p
	}
	if !slices.Contains(MountModes, mode) {
		e.add(p, "mode %q must be ro or rw", mode)
	}
}

// validateDaemonFields checks the fields a template or daemon sets.
func validateDaemonFields(e *errs, p string, d *DaemonSpec) {
	if d.ListenPort < 0 || d.ListenPort > 65535 {
		e.add(field(p, "listen_port"), "%d is not a port between 1 and 65535", d.ListenPort)
	}
	checkEnum(e, field(p, "listen_xprt"), d.ListenXprt, ListenXprts, false)
	checkEnum(e, field(p, "listen_auth"), d.ListenAuth, ListenAuths, false)
	checkEnum(e, field(p, "log_level"), d.LogLevel, LogLevels, true)
	checkEnum(e, field(p, "restart"), d.Restart, Restarts, false)
	for _, f := range []struct{ name, v string }{{"log_file", d.LogFile}, {"config_file", d.ConfigFile}} {
		if f.v != "" && (!path.IsAbs(f.v) || strings.ContainsAny(f.v, "\r\n")) {
			e.add(field(p, f.name), "%q must be an absolute path", f.v)
		}
	}
	validateEnv(e, field(p, "env"), d.Env, "daemon")
	if pl := d.Placement; pl != nil {
		if pl.Node != "" && (len(pl.Node) > 253 || strings.ContainsAny(pl.Node, " \t\r\n/")) {
			e.add(field(field(p, "placement"), "node"), "%q is not a swarm node hostname", pl.Node)
		}
		for k := range pl.Labels {
			if k == "" || strings.ContainsAny(k, " \t\r\n=") {
				e.add(field(field(p, "placement"), "labels"), "%q is not a node label name", k)
			}
		}
	}
	for k, sm := range d.Samplers {
		sp := index(field(p, "samplers"), k)
		if !pluginName.MatchString(sm.Plugin) {
			e.add(field(sp, "plugin"), "%q is not a plugin name", sm.Plugin)
		}
		for l, line := range sm.Config {
			lp := index(field(sp, "config"), l)
			if strings.ContainsAny(line, "\r\n") {
				e.add(lp, "a config entry must be one line")
			}
			checkRefs(e, lp, line, samplerKeys(sm), "sampler")
		}
	}
	for l, line := range d.Config {
		if strings.ContainsAny(line, "\r\n") {
			e.add(index(field(p, "config"), l), "a config entry must be one line")
		}
	}
}

func validateEnv(e *errs, p string, env Env, what string) {
	keys := daemonKeys(DaemonSpec{})
	for _, v := range env {
		vp := field(p, v.Name)
		if !envName.MatchString(v.Name) {
			e.add(vp, "%q is not a valid variable name (letters, digits, '_', not starting with a digit)", v.Name)
		}
		checkRefs(e, vp, v.Value, keys, what)
	}
}

// checkRefs reports %key% references to keys an entry does not have.
func checkRefs(e *errs, p, s string, keys map[string]string, what string) {
	for _, k := range references(s) {
		if _, ok := keys[k]; !ok {
			e.add(p, "%v", errUnknownKey{k, what})
		}
	}
}

func checkEnum(e *errs, p, v string, known []string, foldCase bool) {
	if v == "" {
		return
	}
	if foldCase && slices.Contains(known, strings.ToUpper(v)) || slices.Contains(known, v) {
		return
	}
	e.add(p, "unknown value %q, known: %s", v, strings.Join(known, ", "))
}

// checkHost returns why h cannot be a node alias, or "".
func checkHost(h, cluster string) string {
	if len(h) > 253 {
		return "a hostname is at most 253 characters"
	}
	for _, l := range strings.Split(h, ".") {
		if !hostLabel.MatchString(l) {
			return strconv.Quote(h) + " is not a hostname: lowercase letters, digits and '-' in dot-separated labels of at most 63 characters, each starting and ending with a letter or digit"
		}
	}
	if nodeHostname.MatchString(h) {
		return strconv.Quote(h) + " collides with the node hostnames node-1..node-N"
	}
	if h == "localhost" {
		return `"localhost" is reserved`
	}
	if rest, ok := strings.CutPrefix(h, cluster+"-"); ok && cluster != "" && isDigits(rest) {
		return strconv.Quote(h) + " collides with the container names " + cluster + "-1.." + cluster + "-N"
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
