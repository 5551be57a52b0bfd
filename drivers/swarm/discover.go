package swarm

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	swarmtypes "github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/go-logr/logr"
)

// Refresh re-reads the swarm's nodes and connects to engines not yet
// reached. A node the manager no longer reports ready is left out, so
// its containers are re-created elsewhere. A node the manager reports
// ready whose engine does not answer is unreachable: its containers are
// not given up (Containers fails until it answers or the manager reports
// it down), so that a blip never moves containers.
func (s *Swarm) Refresh(ctx context.Context) error {
	log := logr.FromContextOrDiscard(ctx)
	info, err := s.manager.cli.Info(ctx)
	if err != nil {
		return fmt.Errorf("swarm manager: %w", err)
	}
	list, err := s.manager.cli.NodeList(ctx, swarmtypes.NodeListOptions{})
	if err != nil {
		return fmt.Errorf("list swarm nodes (is %s a manager?): %w", s.manager.cli.DaemonHost(), err)
	}
	var (
		nodes []SwarmNode
		wg    sync.WaitGroup
		mu    sync.Mutex
	)
	found := map[string]reached{}
	s.mu.RLock()
	old := maps.Clone(s.engines)
	s.mu.RUnlock()
	// Engines are probed in parallel, each for at most EngineTimeout: a
	// node whose host is gone answers nothing, and one such node must not
	// hold up the others (nor a CLI command) for the dialer's timeout.
	for _, n := range list {
		sn := SwarmNode{ID: n.ID, Hostname: n.Description.Hostname, Labels: n.Spec.Labels,
			Ready: n.Status.State == swarmtypes.NodeStateReady && n.Spec.Availability == swarmtypes.NodeAvailabilityActive}
		sn.Engine = s.opts.Endpoints[sn.Hostname]
		if sn.Engine == "" {
			sn.Engine = n.Spec.Labels[LabelEngine]
		}
		nodes = append(nodes, sn)
		if !sn.Ready {
			continue
		}
		if sn.Engine == "" {
			if n.ID == info.Swarm.NodeID {
				found[n.ID] = reached{e: s.manager.view(s.owner, sn.Hostname)}
			} else {
				log.Info("swarm node has no engine endpoint: label it "+LabelEngine+"=tcp://HOST:2376 or pass its endpoint", "node", sn.Hostname)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.reach(ctx, sn, old[n.ID])
			mu.Lock()
			found[n.ID] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	engines := map[string]*Engine{}
	unreachable := map[string]error{}
	for _, sn := range nodes {
		r, ok := found[sn.ID]
		switch {
		case !ok:
		case r.err != nil:
			log.Error(r.err, "swarm node's engine does not answer", "node", sn.Hostname, "engine", sn.Engine)
			unreachable[sn.ID] = fmt.Errorf("swarm node %s is ready in the swarm but its engine does not answer: %w", sn.Hostname, r.err)
		default:
			engines[sn.ID] = r.e
		}
	}
	s.mu.Lock()
	if !maps.Equal(engines, s.engines) {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.nodes, s.engines, s.unreachable, s.refreshed = nodes, engines, unreachable, time.Now()
	s.managerNode = info.Swarm.NodeID
	s.mu.Unlock()
	return nil
}

// EngineTimeout bounds a probe of a swarm node's engine (a ping, or a
// connection and its first request); a listing on it may take twice as
// long.
const EngineTimeout = 5 * time.Second

// reached is a node's engine, or why it cannot be reached.
type reached struct {
	e   *Engine
	err error
}

// reach returns a node's engine: known, if it still answers at the same
// endpoint, else a new connection.
func (s *Swarm) reach(ctx context.Context, sn SwarmNode, known *Engine) (r reached) {
	ctx, cancel := context.WithTimeout(ctx, EngineTimeout)
	defer cancel()
	if known != nil && known.cli.DaemonHost() == sn.Engine {
		if _, err := known.cli.Ping(ctx); err != nil {
			r.err = fmt.Errorf("engine %s: %w", sn.Engine, err)
			return r
		}
		r.e = known
		return r
	}
	e, err := Dial(ctx, sn.Engine, s.certDir(sn.Hostname))
	if err != nil {
		r.err = err
		return r
	}
	s.shared.addCloser(e.Close)
	r.e = e.view(s.owner, sn.Hostname)
	return r
}

func (s *Swarm) certDir(hostname string) string {
	if s.opts.CertDir == "" {
		return ""
	}
	if st, err := os.Stat(filepath.Join(s.opts.CertDir, hostname)); err == nil && st.IsDir() {
		return filepath.Join(s.opts.CertDir, hostname)
	}
	return s.opts.CertDir
}

// Dial connects to one engine endpoint, with TLS material from certDir
// (ca.pem, cert.pem, key.pem) when it is set. The caller closes it.
func Dial(ctx context.Context, host, certDir string) (*Engine, error) {
	if err := checkEndpoint(host, certDir != "", os.Getenv(EnvAllowInsecureTCP) == "1"); err != nil {
		return nil, err
	}
	e := newEngine(nil, "")
	opts := []client.Opt{client.WithHost(host), client.WithAPIVersionNegotiation(), e.countRequests}
	if certDir != "" {
		opts = append(opts, client.WithTLSClientConfig(filepath.Join(certDir, "ca.pem"), filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem")))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", host, err)
	}
	info, err := cli.Info(ctx)
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("engine %s does not answer: %w", host, err)
	}
	e.cli, e.swarmNode = cli, info.Name
	return e, nil
}
