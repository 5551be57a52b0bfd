package swarm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvEngines names a file of "HOSTNAME ENDPOINT" lines giving swarm
// nodes' engine endpoints (they win over the nodes' lvc.engine labels).
const EnvEngines = "LVC_ENGINES"

// Connect returns the Runtime for the engine named by the environment:
// the engine itself, or, when it manages a swarm of more than one node, a
// Swarm over every node's engine (TLS material from DOCKER_CERT_PATH,
// endpoints from node labels or the LVC_ENGINES file). close releases it.
func Connect(ctx context.Context) (rt Runtime, close func() error, err error) {
	e, err := NewFromEnv(ctx)
	if err != nil {
		return nil, nil, err
	}
	info, err := e.cli.Info(ctx)
	if err != nil || !info.Swarm.ControlAvailable || info.Swarm.Nodes <= 1 {
		return e, e.Close, nil
	}
	opts := SwarmOptions{CertDir: os.Getenv("DOCKER_CERT_PATH")}
	if f := os.Getenv(EnvEngines); f != "" {
		if opts.Endpoints, err = readEndpoints(f); err != nil {
			e.Close()
			return nil, nil, err
		}
	}
	s, err := NewSwarm(ctx, e, opts)
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	return s, func() error { return errors.Join(s.Close(), e.Close()) }, nil
}

func readEndpoints(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvEngines, err)
	}
	out := map[string]string{}
	for i, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("%s line %d: want HOSTNAME ENDPOINT, got %q", path, i+1, l)
		}
		out[f[0]] = f[1]
	}
	return out, nil
}
