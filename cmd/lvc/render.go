package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/slurm"
	"github.com/ovis-hpc/lvc/plan"
)

// renderedCluster is what render prints for one cluster.
type renderedCluster struct {
	Cluster     string         `json:"cluster"`
	Network     string         `json:"network"`
	Subnet      string         `json:"subnet,omitempty"`
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
	CapAdd    []string         `json:"capAdd,omitempty"`
	CapDrop   []string         `json:"capDrop,omitempty"`
	Daemons   []renderedDaemon `json:"daemons,omitempty"`
	Files     []renderedFile   `json:"files,omitempty"`
	Hash      string           `json:"hash"`
}

type renderedDaemon struct {
	Name    string   `json:"name"`
	Command string   `json:"command"`
	Argv    []string `json:"argv"`
	Env     []string `json:"env,omitempty"`
	Restart string   `json:"restart"`
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
		Long:  "render prints, for each cluster of a manifest, what every node gets: hostname, aliases, role, env, mounts, files with their content and daemon command lines. It needs no Docker.",
		Args:  cobra.NoArgs,
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
		Image:       p.Image,
		Services:    p.Services,
		ServiceNode: p.ServiceNode,
		SlurmNodes:  p.SlurmNodes,
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
			CapAdd:    n.CapAdd,
			CapDrop:   n.CapDrop,
			Hash:      n.Hash(),
		}
		for _, m := range n.Mounts {
			rn.Mounts = append(rn.Mounts, m.String())
		}
		for _, d := range n.Daemons {
			rn.Daemons = append(rn.Daemons, renderedDaemon{
				Name:    d.Name,
				Command: shellJoin(d.Argv),
				Argv:    d.Argv,
				Env:     d.Env.Strings(),
				Restart: d.Restart,
			})
		}
		for _, f := range n.Files {
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
		list(&b, "  ", "cap_add", n.CapAdd)
		list(&b, "  ", "cap_drop", n.CapDrop)
		for _, d := range n.Daemons {
			fmt.Fprintf(&b, "  daemon %s (restart %s)\n", d.Name, d.Restart)
			fmt.Fprintf(&b, "    command: %s\n", d.Command)
			list(&b, "    ", "env", d.Env)
		}
		for _, f := range n.Files {
			// The slurm files are the same on every slurm node: print
			// them once. Daemon configs are printed on every node.
			if first, ok := seen[f]; ok && strings.HasPrefix(f.Path, slurmDir) {
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

var slurmDir = path.Dir(slurm.ConfPath) + "/"

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellJoin prints argv as a shell command line.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if shellSafe.MatchString(a) {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
