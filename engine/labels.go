package engine

// Labels put on every object lvc creates. Only objects carrying
// LabelCluster are ever changed or removed.
const (
	LabelCluster = "lvc.cluster" // cluster name
	LabelNode    = "lvc.node"    // node hostname, node-<i>
	LabelIndex   = "lvc.index"   // node index, 1-based
	LabelHash    = "lvc.hash"    // hash of what the container's creation depends on
	// LabelOwner names the status directory of the lvc that manages the
	// object, so that controllers with different manifests and status
	// directories on one engine never adopt or prune each other's clusters.
	LabelOwner = "lvc.owner"
)
