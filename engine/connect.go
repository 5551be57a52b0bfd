package engine

import (
	"context"
	"errors"
	"sync"
)

// Connector connects to the engine the environment names (DOCKER_HOST and
// the like) and returns it with the function that closes it.
type Connector func(ctx context.Context) (Runtime, func() error, error)

var (
	connectorMu sync.Mutex
	connector   Connector
)

// Register makes c the Connector of Connect. A driver calls it from its
// init, so a program links the driver it wants with an import, as
// database/sql drivers are:
//
//	import _ "github.com/ovis-hpc/lvc/drivers/swarm"
func Register(c Connector) {
	connectorMu.Lock()
	defer connectorMu.Unlock()
	connector = c
}

// Connect connects through the registered driver.
func Connect(ctx context.Context) (Runtime, func() error, error) {
	connectorMu.Lock()
	c := connector
	connectorMu.Unlock()
	if c == nil {
		return nil, nil, errors.New(`no engine driver linked into this program: import _ "github.com/ovis-hpc/lvc/drivers/swarm"`)
	}
	return c(ctx)
}

// Ownable is a Runtime that can show one owner's objects only (see
// LabelOwner).
type Ownable interface {
	Runtime
	// Owner is the view's owner, "" for a view of every owner's objects.
	Owner() string
	// ForOwner returns the view that labels what it creates with owner
	// and sees only owner's objects.
	ForOwner(owner string) Runtime
}

// Refresher is a Runtime over several hosts that re-reads which hosts it
// has (swarm nodes lost or back, engines reached again).
type Refresher interface {
	Refresh(ctx context.Context) error
}
