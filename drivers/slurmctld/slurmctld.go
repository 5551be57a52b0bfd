// Package slurmctld is the slurmctld daemon kind: the Slurm controller,
// on the service node of a cluster with the slurm service.
package slurmctld

import (
	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
	"github.com/ovis-hpc/lvc/drivers/slurm"
)

// Kind runs slurmctld where the plan gives a node the slurmctld role.
var Kind kind.Kind = slurmctldKind{}

type slurmctldKind struct{}

func (slurmctldKind) Name() string    { return "slurmctld" }
func (slurmctldKind) Service() string { return v1.ServiceSlurm }

func (slurmctldKind) Plan(c *kind.Cluster, n *kind.Node) ([]kind.Daemon, []kind.File) {
	if n.SlurmRole != "slurmctld" {
		return nil, nil
	}
	ds, files := slurm.Daemon(c, "slurmctld", slurm.SlurmctldArgv())
	ds[0].Listen = slurm.SlurmctldPort
	return ds, files
}
