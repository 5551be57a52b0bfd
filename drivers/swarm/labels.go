package swarm

import (
	"fmt"
	"maps"

	"github.com/docker/docker/api/types/filters"
)

// filter selects lvc's objects of one cluster, or of all clusters when
// cluster is empty; with an owner, only that owner's.
func (e *Engine) filter(cluster string) filters.Args {
	f := filters.NewArgs(filters.Arg("label", LabelCluster))
	if cluster != "" {
		f = filters.NewArgs(filters.Arg("label", LabelCluster+"="+cluster))
	}
	if e.owner != "" {
		f.Add("label", LabelOwner+"="+e.owner)
	}
	return f
}

// labels returns l with the owner's label added.
func (e *Engine) labels(l map[string]string) map[string]string {
	out := maps.Clone(l)
	if out == nil {
		out = map[string]string{}
	}
	if e.owner != "" {
		out[LabelOwner] = e.owner
	}
	return out
}

// ours tells whether an object with labels belongs to cluster and owner.
func (e *Engine) ours(labels map[string]string, cluster string) error {
	if labels[LabelCluster] != cluster {
		return fmt.Errorf("it does not belong to cluster %q (label %s=%q): remove or rename it", cluster, LabelCluster, labels[LabelCluster])
	}
	if e.owner != "" && labels[LabelOwner] != e.owner {
		return fmt.Errorf("it belongs to the lvc of status directory %q, not %q: a cluster name is managed by one lvc per engine", labels[LabelOwner], e.owner)
	}
	return nil
}
