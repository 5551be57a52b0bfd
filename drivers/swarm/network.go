package swarm

import (
	"context"
	"fmt"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
)

// EnsureNetwork implements Runtime: inspect, create when missing, and on a
// conflict inspect again and reuse.
func (e *Engine) EnsureNetwork(ctx context.Context, spec NetworkSpec) (Network, error) {
	defer e.locks.lock("network/" + spec.Name)()
	if n, err := e.inspectNetwork(ctx, spec); err == nil || !cerrdefs.IsNotFound(err) {
		return n, err
	}
	labels := e.labels(spec.Labels)
	labels[LabelCluster] = spec.Cluster
	opts := network.CreateOptions{
		Driver:     "overlay",
		Scope:      "swarm",
		Attachable: true,
		Labels:     labels,
	}
	if spec.Subnet != "" {
		opts.IPAM = &network.IPAM{Config: []network.IPAMConfig{{Subnet: spec.Subnet}}}
	}
	if _, err := e.cli.NetworkCreate(ctx, spec.Name, opts); err != nil && !cerrdefs.IsConflict(err) {
		return Network{}, fmt.Errorf("create network %q: %w", spec.Name, err)
	}
	return e.inspectNetwork(ctx, spec)
}

func (e *Engine) inspectNetwork(ctx context.Context, spec NetworkSpec) (Network, error) {
	n, err := e.cli.NetworkInspect(ctx, spec.Name, network.InspectOptions{})
	if err != nil {
		return Network{}, err
	}
	// The engine resolves a name that no network has as a prefix of
	// another network's ID: cluster "lpc4" would find "ingress" (ID
	// lpc4y0y2...). Only a network of exactly this name is the cluster's.
	if n.Name != spec.Name {
		return Network{}, fmt.Errorf("network %q: %w (the engine matched %q by ID prefix)", spec.Name, cerrdefs.ErrNotFound, n.Name)
	}
	if err := e.ours(n.Labels, spec.Cluster); err != nil {
		return Network{}, fmt.Errorf("network %q exists but %w", spec.Name, err)
	}
	return Network{ID: n.ID, Name: n.Name, Cluster: spec.Cluster, Labels: n.Labels}, nil
}

// Networks implements Runtime.
func (e *Engine) Networks(ctx context.Context, cluster string) ([]Network, error) {
	list, err := e.cli.NetworkList(ctx, network.ListOptions{Filters: e.filter(cluster)})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	out := make([]Network, 0, len(list))
	for _, n := range list {
		out = append(out, Network{ID: n.ID, Name: n.Name, Cluster: n.Labels[LabelCluster], Labels: n.Labels})
	}
	return out, nil
}

// RemoveNetwork implements Runtime. Swarm frees a removed container's
// network attachment a moment later, so "in use by task" is retried for
// a while before it is reported.
func (e *Engine) RemoveNetwork(ctx context.Context, id string) error {
	pause := 100 * time.Millisecond
	for deadline := time.Now().Add(10 * time.Second); ; pause = min(2*pause, time.Second) {
		err := e.cli.NetworkRemove(ctx, id)
		// A swarm network being removed by another caller may answer 500
		// "not found" rather than 404.
		if err == nil || cerrdefs.IsNotFound(err) || strings.Contains(err.Error(), "not found") {
			return nil
		}
		if !strings.Contains(err.Error(), "in use by task") || time.Now().After(deadline) {
			if strings.Contains(err.Error(), "in use by task") {
				return fmt.Errorf("remove network %s: %w (no container uses it: a stale swarm attachment, moby/moby#31068; restarting dockerd clears it)", id, err)
			}
			return fmt.Errorf("remove network %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}
