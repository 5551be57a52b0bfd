// Package slurmd is the slurmd daemon kind: a Slurm compute node, on the
// sampler nodes of a cluster with the slurm service.
package slurmd

import (
	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
	"github.com/ovis-hpc/lvc/drivers/slurm"
)

// Kind runs slurmd where the plan gives a node the slurmd role.
var Kind kind.Kind = slurmdKind{}

type slurmdKind struct{}

func (slurmdKind) Name() string    { return "slurmd" }
func (slurmdKind) Service() string { return v1.ServiceSlurm }

func (slurmdKind) Plan(c *kind.Cluster, n *kind.Node) ([]kind.Daemon, []kind.File) {
	if n.SlurmRole != "slurmd" {
		return nil, nil
	}
	// A slurmd that finds slurmctld not yet listening registers only on
	// its next try, a second later.
	ds, files := slurm.Daemon(c, "slurmd", slurm.SlurmdArgv())
	ds[0].After = []string{"slurmctld"}
	return ds, files
}
