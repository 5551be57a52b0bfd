package plan

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
)

// declaredNodes are the nodes of an ldms-test format spec (spec.nodes),
// in order, with the hostnames, aliases, images and daemons they declare.
// The service node (ldms_ls, job submission) is the one with slurmctld,
// else the last.
func declaredNodes(c *v1.LDMSDCluster) (*Plan, *kind.Cluster, error) {
	nodes, err := v1.ExpandNodes(c)
	if err != nil {
		return nil, nil, err
	}
	s := &c.Spec
	p := newPlan(c)
	clusterMounts, err := specMounts(s)
	if err != nil {
		return nil, nil, err
	}
	kc := &kind.Cluster{Spec: s, NodeFormat: true}
	ovis := ovisEnv(s.OvisPrefix) // globs the host's prefix: once per plan
	for i, ns := range nodes {
		node := Node{
			Index:         i + 1,
			ContainerName: c.Metadata.Name + "-" + strconv.Itoa(i+1),
			Hostname:      ns.Hostname,
			Aliases:       slices.Clone(ns.Aliases),
			Role:          RoleCompute,
			Image:         ns.Image,
			Env:           ovis.Merge(ns.Env),
			Mounts:        slices.Clone(clusterMounts),
			CapAdd:        slices.Clone(s.CapAdd),
			CapDrop:       slices.Clone(s.CapDrop),
			Ports:         slices.Clone(ns.Binds),
			Tmpfs:         slices.Clone(ns.Tmpfs),
		}
		if len(ns.Mounts) > 0 { // a node's own mounts replace the cluster's, OVIS kept
			node.Mounts = node.Mounts[:1]
			for _, m := range ns.Mounts {
				mt, err := parseMount(m)
				if err != nil {
					return nil, nil, fmt.Errorf("spec.nodes[%d].mounts: %w", i, err)
				}
				node.Mounts = append(node.Mounts, mt)
			}
		}
		if ns.Atstart != "" {
			script, err := os.ReadFile(ns.Atstart)
			if err != nil {
				return nil, nil, fmt.Errorf("spec.nodes[%d].atstart: %w: %w", i, ErrHostFile, err)
			}
			node.Atstart, node.atstartHash = ns.Atstart, kind.Hash(string(script))
			node.Files = append(node.Files, File{Path: AtstartPath, Content: string(script), Mode: 0o755})
		}
		kn := kind.Node{Hostname: ns.Hostname, Aliases: node.Aliases, Declared: ns.Daemons}
		switch {
		case len(kn.Declares(v1.DaemonSlurmctld)) > 0:
			node.SlurmRole, node.Role = Slurmctld, RoleService
			p.ServiceNode = node.Hostname
		case len(kn.Declares(v1.DaemonSlurmd)) > 0:
			node.SlurmRole = Slurmd
			p.SlurmNodes = append(p.SlurmNodes, node.Hostname)
		}
		kn.SlurmRole = node.SlurmRole
		node.ContainerHash = containerHash(&node)
		p.Nodes = append(p.Nodes, node)
		kc.Nodes = append(kc.Nodes, kn)
	}
	if p.ServiceNode == "" {
		p.ServiceNode = p.Nodes[len(p.Nodes)-1].Hostname
		p.Nodes[len(p.Nodes)-1].Role = RoleService
	}
	kc.ServiceNode, kc.SlurmNodes = p.ServiceNode, p.SlurmNodes
	// The Slurm files' plugstack is the one a Slurm daemon declares.
	for _, n := range kc.Nodes {
		for _, d := range n.Declared {
			if len(d.Plugstack) > 0 && len(s.Plugstack) == 0 {
				spec := *s
				spec.Plugstack = d.Plugstack
				kc.Spec = &spec
			}
		}
	}
	return p, kc, nil
}

// ErrHostFile is wrapped by Build's error for a valid spec naming a host
// file that cannot be read (an atstart script).
var ErrHostFile = errors.New("host file cannot be read")
