package swarm

import (
	"context"

	"github.com/ovis-hpc/lvc/engine"
)

// The engine seam's names, for this driver's own code.
type (
	Runtime           = engine.Runtime
	NetworkSpec       = engine.NetworkSpec
	Network           = engine.Network
	Mount             = engine.Mount
	ContainerSpec     = engine.ContainerSpec
	Placement         = engine.Placement
	Container         = engine.Container
	ExecOptions       = engine.ExecOptions
	ExecResult        = engine.ExecResult
	Process           = engine.Process
	Event             = engine.Event
	File              = engine.File
	ExecError         = engine.ExecError
	ImageMissingError = engine.ImageMissingError
)

const (
	DaemonTag    = engine.DaemonTag
	LabelCluster = engine.LabelCluster
	LabelNode    = engine.LabelNode
	LabelIndex   = engine.LabelIndex
	LabelHash    = engine.LabelHash
	LabelOwner   = engine.LabelOwner
)

var (
	Run               = engine.Run
	ShellQuote        = engine.ShellQuote
	WriteFilesExec    = engine.WriteFilesExec
	WriteFilesScript  = engine.WriteFilesScript
	ListeningTest     = engine.ListeningTest
	WaitListeningExec = engine.WaitListeningExec
)

func init() {
	engine.Register(func(ctx context.Context) (engine.Runtime, func() error, error) { return Connect(ctx) })
}

var (
	_ engine.Ownable   = (*Engine)(nil)
	_ engine.Ownable   = (*Swarm)(nil)
	_ engine.Refresher = (*Swarm)(nil)
)

// ForOwner implements engine.Ownable.
func (e *Engine) ForOwner(owner string) engine.Runtime { return e.WithOwner(owner) }

// ForOwner implements engine.Ownable.
func (s *Swarm) ForOwner(owner string) engine.Runtime { return s.WithOwner(owner) }
