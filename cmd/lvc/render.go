package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/plan"
)

// renderedCluster is what render prints for one cluster.
type renderedCluster struct {
	Cluster     string         `json:"cluster"`
	Network     string         `json:"network"`
	Subnet      string         `json:"subnet,omitempty"`
	IPv6        bool           `json:"ipv6,omitempty"`
	Image       string         `json:"image"`
	Services    []string       `json:"services"`
	ServiceNode string         `json:"serviceNode"`
	SlurmNodes  []string       `json:"slurmNodes,omitempty"`
	Nodes       []renderedNode `json:"nodes"`
}

type renderedNode struct {
	Hostname  string           `json:"hostname"`
	Container string           `json:"container"`
	Aliases   []string         `json:"aliases,omitempty"`
	Role      string           `json:"role"`
	Slurm     string           `json:"slurm,omitempty"`
	Image     string           `json:"image"`
	Env       []string         `json:"env"`
	Mounts    []string         `json:"mounts"`
	Ports     []string         `json:"ports,omitempty"`
	Tmpfs     []string         `json:"tmpfs,omitempty"`
	CapAdd    []string         `json:"capAdd,omitempty"`
	CapDrop   []string         `json:"capDrop,omitempty"`
	Daemons   []renderedDaemon `json:"daemons,omitempty"`
	Files     []renderedFile   `json:"files,omitempty"`
	Hash      string           `json:"hash"`
}

type renderedDaemon struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Pre     string   `json:"pre,omitempty"`
	Command string   `json:"command"`
	Argv    []string `json:"argv"`
	Env     []string `json:"env,omitempty"`
	Restart string   `json:"restart"`
	Logs    []string `json:"logs,omitempty"`
	After   []string `json:"after,omitempty"`
	Peers   []string `json:"peers,omitempty"`
}

type renderedFile struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

func newRenderCommand(*globalOptions) *cobra.Command {
	var file, output string
	cmd := &cobra.Command{
		Use:   "render -f FILE [-o text|yaml|json]",
		Short: "Print the plan of a manifest: nodes, env, files and daemon command lines",
		Long: `render prints, for each cluster of a manifest, what every node gets:
hostname, aliases, role, env, mounts, every daemon of every kind (sshd,
munged, slurmctld, slurmd, ldmsd) with its command line and log files,
and every file with its content: /etc/hosts (addresses shown as <NODE IP>,
known once the containers run), slurm.conf, the ldmsd configs. Files made
from the cluster secret (SSH and munge keys) are not shown. It needs no
engine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRender(cmd.OutOrStdout(), cmd.InOrStdin(), file, output)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "manifest file (- for standard input)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, yaml or json")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

func runRender(w io.Writer, stdin io.Reader, file, output string) error {
	if output != "text" && output != "yaml" && output != "json" {
		return fmt.Errorf("unknown output format %q: text, yaml or json", output)
	}
	docs, err := loadManifest(file, stdin)
	if err != nil {
		return err
	}
	if errs := v1.Errors(docs); len(errs) > 0 {
		return errs
	}
	var out []renderedCluster
	for _, d := range docs {
		p, err := plan.Build(d.Cluster)
		if err != nil {
			return err
		}
		out = append(out, rendered(p))
	}
	if len(out) == 0 {
		return fmt.Errorf("%s: no documents", file)
	}
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		for _, c := range out {
			if err := enc.Encode(c); err != nil {
				return fmt.Errorf("write json: %w", err)
			}
		}
		return nil
	case "yaml":
		for i, c := range out {
			data, err := yaml.Marshal(c)
			if err != nil {
				return fmt.Errorf("write yaml: %w", err)
			}
			if i > 0 {
				fmt.Fprintln(w, "---")
			}
			if _, err := w.Write(data); err != nil {
				return fmt.Errorf("write yaml: %w", err)
			}
		}
		return nil
	}
	for i, c := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := writeText(w, c); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}

func rendered(p *plan.Plan) renderedCluster {
	c := renderedCluster{
		Cluster:     p.Cluster,
		Network:     p.Network,
		Subnet:      p.Subnet,
		IPv6:        p.IPv6,
		Image:       p.Image,
		Services:    p.Services,
		ServiceNode: p.ServiceNode,
		SlurmNodes:  p.SlurmNodes,
	}
	ips := map[string]string{}
	for _, n := range p.Nodes {
		ips[n.Hostname] = "<" + n.Hostname + " IP>"
	}
	for _, n := range p.Nodes {
		rn := renderedNode{
			Hostname:  n.Hostname,
			Container: n.ContainerName,
			Aliases:   n.Aliases,
			Role:      n.Role,
			Slurm:     n.SlurmRole,
			Image:     n.Image,
			Env:       n.Env.Strings(),
			Tmpfs:     n.Tmpfs,
			CapAdd:    n.CapAdd,
			CapDrop:   n.CapDrop,
			Hash:      n.Hash(),
		}
		for _, p := range n.Ports {
			host := "any port"
			if p.HostPort != 0 {
				host = strconv.Itoa(p.HostPort)
			}
			if p.HostIP != "" {
				host = p.HostIP + " " + host
			}
			rn.Ports = append(rn.Ports, p.ContainerPort+" on the host's "+host)
		}
		for _, m := range n.Mounts {
			rn.Mounts = append(rn.Mounts, m.String())
		}
		for _, d := range n.Daemons {
			rn.Daemons = append(rn.Daemons, renderedDaemon{
				Name:    d.Name,
				Kind:    d.Kind,
				Pre:     d.Pre,
				Command: engine.ShellQuote(d.Argv),
				Argv:    d.Argv,
				Env:     d.Env.Strings(),
				Restart: d.Restart,
				Logs:    d.Logs,
				After:   d.After,
				Peers:   d.Peers,
			})
		}
		for _, f := range p.NodeFiles(&n, ips) {
			rn.Files = append(rn.Files, renderedFile{Path: f.Path, Content: f.Content})
		}
		c.Nodes = append(c.Nodes, rn)
	}
	return c
}

// writeText prints a cluster for people.
func writeText(w io.Writer, c renderedCluster) error {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster %s (network %s", c.Cluster, c.Network)
	if c.Subnet != "" {
		fmt.Fprintf(&b, ", subnet %s", c.Subnet)
	}
	if c.IPv6 {
		b.WriteString(", IPv6: a bridge on the swarm manager's host")
	}
	fmt.Fprintf(&b, ", image %s)\n", c.Image)
	fmt.Fprintf(&b, "services: %s\n", strings.Join(c.Services, " "))
	fmt.Fprintf(&b, "service node: %s\n", c.ServiceNode)
	if len(c.SlurmNodes) > 0 {
		fmt.Fprintf(&b, "slurm nodes: %s\n", strings.Join(c.SlurmNodes, ","))
	}
	seen := map[renderedFile]string{} // file -> first node that has it
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "\n%s (container %s, role %s", n.Hostname, n.Container, n.Role)
		if len(n.Aliases) > 0 {
			fmt.Fprintf(&b, ", alias %s", strings.Join(n.Aliases, " "))
		}
		if n.Slurm != "" {
			fmt.Fprintf(&b, ", runs %s", n.Slurm)
		}
		b.WriteString(")\n")
		list(&b, "  ", "container env", n.Env)
		list(&b, "  ", "mounts", n.Mounts)
		list(&b, "  ", "published ports", n.Ports)
		list(&b, "  ", "tmpfs", n.Tmpfs)
		list(&b, "  ", "cap_add", n.CapAdd)
		list(&b, "  ", "cap_drop", n.CapDrop)
		for _, d := range n.Daemons {
			fmt.Fprintf(&b, "  daemon %s (kind %s, restart %s)\n", d.Name, d.Kind, d.Restart)
			if d.Pre != "" {
				fmt.Fprintf(&b, "    before: %s\n", d.Pre)
			}
			fmt.Fprintf(&b, "    command: %s\n", d.Command)
			list(&b, "    ", "env", d.Env)
			if len(d.Logs) > 0 {
				fmt.Fprintf(&b, "    logs: %s\n", strings.Join(d.Logs, " "))
			}
			if len(d.After) > 0 {
				fmt.Fprintf(&b, "    after: %s\n", strings.Join(d.After, " "))
			}
			if len(d.Peers) > 0 {
				fmt.Fprintf(&b, "    peers: %s\n", strings.Join(d.Peers, " "))
			}
		}
		for _, f := range n.Files {
			// A file the same as on an earlier node (/etc/hosts, the
			// slurm files) is printed once.
			if first, ok := seen[f]; ok {
				fmt.Fprintf(&b, "  file %s: same as on %s\n", f.Path, first)
				continue
			}
			seen[f] = n.Hostname
			fmt.Fprintf(&b, "  file %s:\n", f.Path)
			for _, l := range strings.SplitAfter(strings.TrimSuffix(f.Content, "\n"), "\n") {
				fmt.Fprintf(&b, "    | %s\n", strings.TrimSuffix(l, "\n"))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func list(b *strings.Builder, indent, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "%s%s:\n", indent, title)
	for _, it := range items {
		fmt.Fprintf(b, "%s  %s\n", indent, it)
	}
}
