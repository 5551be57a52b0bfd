package swarm

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/ovis-hpc/lvc/engine"
)

// Containers implements Runtime with one list call: the summary carries
// state, labels and the network address.
func (e *Engine) Containers(ctx context.Context, cluster string) ([]Container, error) {
	list, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: e.filter(cluster)})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]Container, 0, len(list))
	for _, s := range list {
		c := Container{
			ID:        s.ID,
			Cluster:   s.Labels[LabelCluster],
			Node:      s.Labels[LabelNode],
			Hash:      s.Labels[LabelHash],
			Running:   s.State == container.StateRunning,
			State:     string(s.State),
			SwarmNode: e.swarmNode,
			Labels:    s.Labels,
		}
		if len(s.Names) > 0 {
			c.Name = trimSlash(s.Names[0])
		}
		if s.NetworkSettings != nil {
			if ep, ok := s.NetworkSettings.Networks[c.Cluster]; ok && ep != nil {
				c.IP, c.IPv6, c.Network = ep.IPAddress, ep.GlobalIPv6Address, c.Cluster
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// EnsureContainer implements Runtime: create, and on a name conflict
// inspect and reuse the existing container when it is ours.
func (e *Engine) EnsureContainer(ctx context.Context, spec ContainerSpec) (Container, error) {
	defer e.locks.lock("container/" + spec.Name)()
	labels := e.labels(spec.Labels)
	if labels[LabelCluster] == "" {
		return Container{}, fmt.Errorf("create container %q: no %s label", spec.Name, LabelCluster)
	}
	cfg := &container.Config{
		Image:    spec.Image,
		Hostname: spec.Hostname,
		Env:      spec.Env,
		Labels:   labels,
	}
	init := true
	host := &container.HostConfig{
		Init:          &init, // the engine's init reaps orphaned daemons
		NetworkMode:   container.NetworkMode(spec.Network),
		CapAdd:        spec.CapAdd,
		CapDrop:       spec.CapDrop,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
	}
	for _, m := range spec.Mounts {
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		host.Binds = append(host.Binds, m.Source+":"+m.Target+":"+mode)
	}
	host.Tmpfs = spec.Tmpfs
	if err := publish(cfg, host, spec.Ports); err != nil {
		return Container{}, fmt.Errorf("create container %q: %w", spec.Name, err)
	}
	if binds := e.agentBinds(spec.Name); binds != nil {
		host.Binds = append(host.Binds, binds...)
		e.agentCommand(ctx, cfg)
	}
	netcfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		spec.Network: {Aliases: append([]string{spec.Hostname}, spec.Aliases...)},
	}}
	id := ""
	resp, err := e.cli.ContainerCreate(ctx, cfg, host, netcfg, nil, spec.Name)
	switch {
	case err == nil:
		id = resp.ID
	case cerrdefs.IsConflict(err):
		ins, ierr := e.cli.ContainerInspect(ctx, spec.Name)
		if ierr != nil {
			return Container{}, fmt.Errorf("inspect container %q after conflict: %w", spec.Name, ierr)
		}
		if ins.Config == nil {
			return Container{}, fmt.Errorf("container %q exists without a config", spec.Name)
		}
		if err := e.ours(ins.Config.Labels, labels[LabelCluster]); err != nil {
			return Container{}, fmt.Errorf("container %q exists but %w", spec.Name, err)
		}
		id = ins.ID
	case cerrdefs.IsNotFound(err) && strings.Contains(err.Error(), "No such image"):
		return Container{}, fmt.Errorf("%w: %s is not on this engine: build it with make image, or load it (create container %q: %w)", engine.ErrImageMissing, spec.Image, spec.Name, err)
	case strings.Contains(err.Error(), "bind source path does not exist"):
		return Container{}, fmt.Errorf("%w: create container %q: %w", engine.ErrMountSource, spec.Name, err)
	default:
		return Container{}, fmt.Errorf("create container %q: %w", spec.Name, err)
	}
	if spec.BeforeStart != nil {
		if err := spec.BeforeStart(ctx); err != nil {
			return Container{}, err
		}
	}
	if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return Container{}, fmt.Errorf("start container %q: %w", spec.Name, err)
	}
	e.linkAgent(id, spec.Name)
	return e.inspectContainer(ctx, id)
}

func (e *Engine) inspectContainer(ctx context.Context, id string) (Container, error) {
	ins, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		return Container{}, fmt.Errorf("inspect container %s: %w", id, err)
	}
	c := Container{
		ID:        ins.ID,
		Name:      trimSlash(ins.Name),
		Cluster:   ins.Config.Labels[LabelCluster],
		Node:      ins.Config.Labels[LabelNode],
		Hash:      ins.Config.Labels[LabelHash],
		SwarmNode: e.swarmNode,
		Labels:    ins.Config.Labels,
	}
	if ins.State != nil {
		c.Running, c.State, c.InitPID = ins.State.Running, ins.State.Status, ins.State.Pid
	}
	if ins.NetworkSettings != nil {
		if ep, ok := ins.NetworkSettings.Networks[c.Cluster]; ok && ep != nil {
			c.IP, c.IPv6, c.Network = ep.IPAddress, ep.GlobalIPv6Address, c.Cluster
		}
	}
	return c, nil
}

// RemoveContainer implements Runtime.
func (e *Engine) RemoveContainer(ctx context.Context, id string) error {
	err := e.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	// Another caller removing it at the same time is as good as done.
	if err != nil && !cerrdefs.IsNotFound(err) && !strings.Contains(err.Error(), "already in progress") {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	removeAgent(id)
	return nil
}

// publish sets the container's published ports.
func publish(cfg *container.Config, host *container.HostConfig, ports []engine.PortBinding) error {
	if len(ports) == 0 {
		return nil
	}
	cfg.ExposedPorts, host.PortBindings = nat.PortSet{}, nat.PortMap{}
	for _, p := range ports {
		num, proto, _ := strings.Cut(p.ContainerPort, "/")
		port, err := nat.NewPort(cmp.Or(proto, "tcp"), num)
		if err != nil {
			return fmt.Errorf("port %q: %w", p.ContainerPort, err)
		}
		hostPort := ""
		if p.HostPort != 0 {
			hostPort = strconv.Itoa(p.HostPort)
		}
		cfg.ExposedPorts[port] = struct{}{}
		host.PortBindings[port] = append(host.PortBindings[port], nat.PortBinding{HostIP: p.HostIP, HostPort: hostPort})
	}
	return nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}
