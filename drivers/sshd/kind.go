package sshd

import (
	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
)

// Kind runs sshd on every node. Its keys derive from the cluster secret
// and are written at run time (Files), not planned.
var Kind kind.Kind = sshdKind{}

type sshdKind struct{}

func (sshdKind) Name() string    { return "sshd" }
func (sshdKind) Service() string { return v1.ServiceSshd }

func (sshdKind) Plan(c *kind.Cluster, n *kind.Node) ([]kind.Daemon, []kind.File) {
	if c.NodeFormat && len(n.Declares(v1.DaemonSshd)) == 0 {
		return nil, nil
	}
	argv := Argv()
	return []kind.Daemon{{Name: "sshd", Kind: "sshd", Exe: "sshd", Pre: Pre, Argv: argv, Restart: v1.RestartAlways,
		Logs: []string{kind.LogDir + "/sshd.log"}, Listen: 22, Hash: kind.HashArgv(argv)}}, nil
}
