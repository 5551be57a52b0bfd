package reconcile

import (
	"path/filepath"

	"github.com/ovis-hpc/lvc/engine"
)

// OwnedBy returns the view of rt that belongs to the lvc writing
// statusDir: it labels what it creates with that owner and sees only its
// objects, so two lvcs on one engine never adopt or prune each other's
// clusters. Other runtimes, and views with an owner already, are returned
// as they are.
func OwnedBy(rt Runtime, statusDir string) Runtime {
	abs, err := filepath.Abs(statusDir)
	if err != nil {
		abs = statusDir
	}
	if o, ok := rt.(engine.Ownable); ok && o.Owner() == "" {
		return o.ForOwner(abs)
	}
	return rt
}
