package ldmsd

import (
	"encoding/json"
	"slices"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
)

// Kind runs the ldmsd the spec gives a node, with its config file.
var Kind kind.Kind = ldmsdKind{}

type ldmsdKind struct{}

func (ldmsdKind) Name() string    { return "ldmsd" }
func (ldmsdKind) Service() string { return v1.ServiceLdmsd }

func (ldmsdKind) Plan(c *kind.Cluster, n *kind.Node) ([]kind.Daemon, []kind.File) {
	if c.NodeFormat {
		return declared(c, n)
	}
	if n.LDMSD == nil {
		return nil, nil
	}
	d := Daemon(*n.LDMSD)
	return []kind.Daemon{d}, []kind.File{{Path: d.ConfigFile, Content: d.Config, Mode: 0o644}}
}

// Daemon is the ldmsd of a resolved daemon spec.
func Daemon(s v1.DaemonSpec) kind.Daemon {
	d := kind.Daemon{
		Name:       "ldmsd",
		Kind:       "ldmsd",
		Exe:        "ldmsd",
		Argv:       Command(s),
		Env:        slices.Clone(s.Env),
		ConfigFile: s.ConfigFile,
		Config:     Config(s),
		Restart:    s.Restart,
		Listen:     s.ListenPort,
		Xprt:       s.ListenXprt,
		Auth:       s.ListenAuth,
	}
	d.Logs = []string{kind.LogDir + "/" + d.Name + ".out"}
	if s.LogFile != "" {
		d.Logs = append(d.Logs, s.LogFile)
	}
	d.Peers = Producers(d.Config)
	if s.ListenAuth == "munge" {
		d.After = []string{"munged"}
	}
	d.Hash = hashInputs(d)
	return d
}

// hashInputs identifies what an ldmsd starts with: argv, env, config.
func hashInputs(d kind.Daemon) string {
	data, _ := json.Marshal(struct {
		Argv   []string
		Env    []string
		Config string
	}{d.Argv, d.Env.Strings(), d.Config})
	return kind.Hash(string(data))
}

// declared are the ldmsd daemons an ldms-test format node declares, their
// config in the syntax of the cluster's ldmsd.
func declared(c *kind.Cluster, n *kind.Node) ([]kind.Daemon, []kind.File) {
	var ds []kind.Daemon
	var files []kind.File
	syn := SyntaxOf(c.Spec.OvisPrefix)
	for _, s := range n.Declares(v1.DaemonLdmsd) {
		d := kind.Daemon{
			Name:       s.Name,
			Kind:       "ldmsd",
			Exe:        "ldmsd",
			Argv:       NodeCommand(s),
			Env:        slices.Clone(s.Env),
			ConfigFile: s.ConfigFile,
			Config:     NodeConfig(s, syn),
			Restart:    v1.RestartAlways,
			Listen:     s.ListenPort,
			Xprt:       s.ListenXprt,
			Auth:       s.ListenAuth,
		}
		if d.Name == "" {
			d.Name = "ldmsd"
		}
		if len(s.Listen) > 0 && d.Listen == 0 {
			d.Listen, d.Xprt, d.Auth = s.Listen[0].Port, s.Listen[0].Xprt, s.Listen[0].Auth
		}
		if d.Auth == "" {
			d.Auth = "none"
		}
		d.Logs = []string{kind.LogDir + "/" + d.Name + ".out", s.LogFile}
		for _, p := range s.Prdcrs {
			if p.Host != "" && !slices.Contains(d.Peers, p.Host) {
				d.Peers = append(d.Peers, p.Host)
			}
		}
		for _, a := range s.Auth {
			if a.Plugin == "munge" {
				d.After = []string{"munged"}
			}
		}
		d.Hash = hashInputs(d)
		ds = append(ds, d)
		files = append(files, kind.File{Path: d.ConfigFile, Content: d.Config, Mode: 0o644})
	}
	return ds, files
}

// Producers lists the hosts a config names (host=NAME, as in prdcr_add),
// in order, once each: an aggregator's producers.
func Producers(config string) []string {
	var out []string
	for _, w := range strings.Fields(config) {
		if host, ok := strings.CutPrefix(w, "host="); ok && !slices.Contains(out, host) {
			out = append(out, host)
		}
	}
	return out
}
