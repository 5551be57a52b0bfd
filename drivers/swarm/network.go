package swarm

import (
	"context"
	"crypto/sha256"
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
	if spec.IPv6 {
		// A bridge on this host, not a swarm overlay: on an IPv6 overlay
		// this engine (20.10) failed 5 of 20 container starts made one
		// after the other ("Address already in use", "attaching to
		// network failed"), and each failure left an attachment that kept
		// the network from being removed until dockerd restarted
		// (moby/moby#41624). ldms-test's docker runtime gets by there
		// by waiting, after its first container, for the network's
		// load-balancer endpoint. There is no default IPv6 pool: a unique
		// local /64 is given.
		ipv6 := true
		opts.Driver, opts.Scope, opts.Attachable, opts.EnableIPv6 = "bridge", "local", false, &ipv6
		pools := []network.IPAMConfig{{Subnet: ipv6Subnet(spec.Name)}}
		if spec.Subnet != "" {
			pools = append(pools, network.IPAMConfig{Subnet: spec.Subnet})
		}
		opts.IPAM = &network.IPAM{Config: pools}
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
	return Network{ID: n.ID, Name: n.Name, Cluster: spec.Cluster, IPv6: n.EnableIPv6, Labels: n.Labels}, nil
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

// ipv6Subnet returns the IPv6 subnet of the network named name: a unique
// local /64 from a hash of the name.
func ipv6Subnet(name string) string {
	h := sha256.Sum256([]byte(name))
	return fmt.Sprintf("fd%02x:%02x%02x:%02x%02x:%02x%02x::/64", h[0], h[1], h[2], h[3], h[4], h[5], h[6])
}
