package v1

import (
	"path/filepath"
	"slices"
	"strings"
)

// Default values, as the Python module had them except for the image.
const (
	DefaultImage         = "lvc-node:latest"
	DefaultOvisPrefix    = "/opt/ovis"
	DefaultCPUPerNode    = 1
	DefaultOversubscribe = "NO"
	DefaultSlurmLogLevel = "info"
	DefaultLogFile       = "/var/log/ldmsd.log"
	DefaultLogLevel      = "INFO"
	DefaultConfigFile    = "/etc/ldmsd.conf"
	DefaultListenXprt    = "sock"
	DefaultListenAuth    = "none"
	DefaultRestart       = RestartAlways
)

// SetDefaults fills in everything a manifest may leave out; it is the only
// place defaults live. It is idempotent. It also makes relative mount
// sources and ovis_prefix absolute, against the directory of c.Source.File
// (left relative when there is no file, for Validate to refuse).
//
// A daemon gets a default only for a field that neither it nor its
// template sets, so that a template's value is not hidden by a default.
//
// In the ldms-test format (spec.nodes) services stay as written (nil):
// the nodes' daemons say what runs, and ExpandNodes applies the defaults
// of nodes and daemons.
func SetDefaults(c *LDMSDCluster) {
	s := &c.Spec
	if s.Image == "" {
		s.Image = DefaultImage
	}
	if s.OvisPrefix == "" {
		s.OvisPrefix = DefaultOvisPrefix
	}
	if s.CPUPerNode == 0 {
		s.CPUPerNode = DefaultCPUPerNode
	}
	if s.Oversubscribe == "" {
		s.Oversubscribe = DefaultOversubscribe
	}
	if s.SlurmLogLevel == "" {
		s.SlurmLogLevel = DefaultSlurmLogLevel
	}
	if !s.IsNodeFormat() {
		s.Services = defaultServices(s)
	}

	dir := ""
	if c.Source.File != "" {
		if abs, err := filepath.Abs(c.Source.File); err == nil {
			dir = filepath.Dir(abs)
		}
	}
	s.OvisPrefix = absFrom(dir, s.OvisPrefix)
	for i, m := range s.Mounts {
		parts := strings.Split(m, ":")
		if len(parts) == 3 && parts[0] != "" {
			parts[0] = absFrom(dir, parts[0])
			s.Mounts[i] = strings.Join(parts, ":")
		}
	}

	templates := map[string]*DaemonSpec{}
	for i := range s.Define {
		if _, dup := templates[s.Define[i].Name]; !dup {
			templates[s.Define[i].Name] = &s.Define[i]
		}
	}
	for i := range s.Daemons {
		d := &s.Daemons[i]
		t := templates[d.Asset]
		if d.Asset == "" || t == nil {
			t = &DaemonSpec{}
		}
		def := func(own *string, tmpl, v string) {
			if *own == "" && tmpl == "" {
				*own = v
			}
		}
		def(&d.LogFile, t.LogFile, DefaultLogFile)
		def(&d.LogLevel, t.LogLevel, DefaultLogLevel)
		def(&d.ConfigFile, t.ConfigFile, DefaultConfigFile)
		def(&d.ListenXprt, t.ListenXprt, DefaultListenXprt)
		def(&d.ListenAuth, t.ListenAuth, DefaultListenAuth)
		def(&d.Restart, t.Restart, DefaultRestart)
	}
}

// defaultServices is all services when the field is absent (an explicit
// empty list means none), adds munged when slurm or a munge-authenticated
// ldmsd needs it, drops repeats and puts the known ones in start order
// (unknown names stay, for Validate to report). It never returns nil, so
// that applying it again keeps an empty list empty.
func defaultServices(s *LDMSDClusterSpec) []string {
	in := s.Services
	if in == nil {
		in = AllServices
	}
	want := map[string]bool{}
	for _, sv := range in {
		want[sv] = true
	}
	if want[ServiceSlurm] {
		want[ServiceMunged] = true
	}
	if want[ServiceLdmsd] && usesMunge(s) {
		want[ServiceMunged] = true
	}
	out := []string{}
	for _, sv := range AllServices {
		if want[sv] {
			out = append(out, sv)
		}
	}
	for _, sv := range in {
		if !slices.Contains(AllServices, sv) && !slices.Contains(out, sv) {
			out = append(out, sv)
		}
	}
	return out
}

func usesMunge(s *LDMSDClusterSpec) bool {
	for _, d := range s.Define {
		if d.ListenAuth == "munge" {
			return true
		}
	}
	for _, d := range s.Daemons {
		if d.ListenAuth == "munge" {
			return true
		}
	}
	return false
}

func absFrom(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}
