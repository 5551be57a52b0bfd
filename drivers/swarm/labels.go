package swarm

import (
	"github.com/docker/docker/api/types/filters"
)

// Labels put on every object lvc creates. Only objects carrying
// LabelCluster are ever changed or removed.
const (
	LabelCluster = "lvc.cluster" // cluster name
	LabelNode    = "lvc.node"    // node hostname, node-<i>
	LabelIndex   = "lvc.index"   // node index, 1-based
	LabelHash    = "lvc.hash"    // hash of what the container's creation depends on
)

// clusterFilter selects lvc's objects of one cluster, or of all clusters
// when cluster is empty.
func clusterFilter(cluster string) filters.Args {
	if cluster == "" {
		return filters.NewArgs(filters.Arg("label", LabelCluster))
	}
	return filters.NewArgs(filters.Arg("label", LabelCluster+"="+cluster))
}
