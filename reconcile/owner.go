package reconcile

import (
	"path/filepath"

	"github.com/ovis-hpc/lvc/drivers/swarm"
)

// OwnedBy returns the view of rt that belongs to the lvc writing
// statusDir: it labels what it creates with that owner and sees only its
// objects, so two lvcs on one engine never adopt or prune each other's
// clusters. Other runtimes are returned as they are.
func OwnedBy(rt Runtime, statusDir string) Runtime {
	abs, err := filepath.Abs(statusDir)
	if err != nil {
		abs = statusDir
	}
	switch e := rt.(type) {
	case *swarm.Engine:
		if e.Owner() == "" {
			return e.WithOwner(abs)
		}
	case *swarm.Swarm:
		if e.Owner() == "" {
			return e.WithOwner(abs)
		}
	}
	return rt
}
