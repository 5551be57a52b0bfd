package slurm

import (
	"slices"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
)

// Files returns the Slurm files every Slurm node of c gets, and their
// hash: slurmctld and slurmd restart when it changes (Slurm 22.05 cannot
// add nodes by reconfigure).
func Files(c *kind.Cluster) ([]kind.File, string) {
	s := c.Spec
	conf := SlurmConf(ConfOptions{
		ControlHost:   c.ServiceNode,
		Nodes:         c.SlurmNodes,
		CPUs:          s.CPUPerNode,
		Oversubscribe: string(s.Oversubscribe),
		LogLevel:      s.SlurmLogLevel,
		Plugstack:     len(s.Plugstack) > 0,
	})
	files := []kind.File{
		{Path: ConfPath, Content: conf, Mode: 0o644},
		{Path: CgroupConfPath, Content: CgroupConf(), Mode: 0o644},
	}
	plugstack := ""
	if len(s.Plugstack) > 0 {
		plugstack = PlugstackConf(s.Plugstack)
		files = append(files, kind.File{Path: PlugstackConfPath, Content: plugstack, Mode: 0o644})
	}
	return files, kind.Hash(conf, CgroupConf(), plugstack)
}

// Daemon is the Slurm daemon of role (slurmctld or slurmd) on a node of
// c, with the Slurm files. slurm.conf is in its hash: a new node set
// restarts the daemons, not the containers.
func Daemon(c *kind.Cluster, role string, argv []string) ([]kind.Daemon, []kind.File) {
	files, hash := Files(c)
	d := kind.Daemon{Name: role, Kind: role, Exe: role, Pre: SlurmPre, Argv: argv, Restart: v1.RestartAlways,
		Logs: []string{kind.LogDir + "/" + role + ".log", "/var/log/" + role + ".log"}, Hash: kind.HashArgv(argv, []string{hash}),
		// slurmctld and slurmd resolve node names once and keep the
		// address: a node re-created with another stays NOT_RESPONDING.
		Peers: append(slices.Clone(c.SlurmNodes), c.ServiceNode)}
	return []kind.Daemon{d}, files
}
