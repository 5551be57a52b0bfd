package plan

import (
	"os"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
)

// Paths of the files every node gets.
const (
	HostsPath   = "/etc/hosts"
	ProfilePath = "/etc/profile.d/lvc-ovis.sh"
	// LdsoConfPath points the dynamic linker at the OVIS libraries;
	// ldconfig runs after it is written.
	LdsoConfPath = "/etc/ld.so.conf.d/lvc-ovis.conf"
	// AtstartPath is where a node's atstart script is written, as
	// ldms-test's docker runtime puts it.
	AtstartPath = "/atstart.sh"
)

// AtstartRun runs a node's atstart script once per container, as sh
// lines: the docker runtime runs it once, after the container's start.
const AtstartRun = "[ -e /var/lib/lvc/atstart.done ] || { /bin/bash " + AtstartPath +
	" && mkdir -p /var/lib/lvc && touch /var/lib/lvc/atstart.done; }\n"

// NodeFiles is everything written to node n: /etc/hosts from the nodes'
// addresses (ips by hostname), the OVIS environment for login shells, the
// linker's OVIS path, then its daemons' files.
func (p *Plan) NodeFiles(n *Node, ips map[string]string) []File {
	files := []File{
		{Path: HostsPath, Content: p.HostsFile(ips), Mode: 0o644},
		{Path: ProfilePath, Content: profileScript(n.Env), Mode: 0o644},
		{Path: LdsoConfPath, Content: OvisMount + "/lib\n", Mode: 0o644},
	}
	return append(files, n.Files...)
}

// profileScript exports the container env to login shells (ssh), which
// do not inherit it.
func profileScript(env v1.Env) string {
	var b strings.Builder
	b.WriteString("# Written by lvc: the node's environment for login shells.\n")
	for _, e := range env {
		b.WriteString("export " + e.Name + "=" + engine.ShellQuote([]string{e.Value}) + "\n")
	}
	return b.String()
}

// HostMounts returns the mounts of n that exist on this host, and the hash
// its container is labelled with. An ovis_prefix missing on the host is
// not mounted (Docker would create an empty directory there); the hash
// records that, so the node is recreated once it exists.
func HostMounts(n *Node) ([]Mount, string) {
	hash := n.ContainerHash
	var out []Mount
	for _, m := range n.Mounts {
		if m.Target == OvisMount {
			if _, err := os.Stat(m.Source); err != nil {
				hash += "-noovis"
				continue
			}
		}
		out = append(out, m)
	}
	return out, hash
}

// MissingSources lists the bind sources of n, other than ovis_prefix
// (see HostMounts), that do not exist on this host.
func MissingSources(n *Node) []string {
	var out []string
	for _, m := range n.Mounts {
		if _, err := os.Stat(m.Source); err != nil && m.Target != OvisMount {
			out = append(out, m.Source)
		}
	}
	return out
}
