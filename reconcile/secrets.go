package reconcile

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/ovis-hpc/lvc/engine"
)

// SecretPath holds the cluster's secret on every node (mode 0400). The
// munge key and every SSH key are derived from it, so they live only in
// the cluster's containers: never in a label, a status file or a log.
const SecretPath = "/etc/lvc/cluster.secret"

// secrets remembers each cluster's secret once read or made.
type secrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *secrets) forget(cluster string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, cluster)
}

// get returns the cluster's secret: remembered, else read back from the
// first node that has it (a controller restart, or a node re-created next
// to kept ones), else new.
func (s *secrets) get(ctx context.Context, rt Runtime, cluster string, nodes []engine.Container) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.m[cluster]; ok {
		return k, nil
	}
	var key []byte
	for _, c := range nodes {
		r, err := rt.Exec(ctx, c.ID, engine.ExecOptions{Argv: []string{"cat", SecretPath}})
		if err != nil {
			return nil, err
		}
		if k, err := hex.DecodeString(string(bytes.TrimSpace(r.Stdout))); r.ExitCode == 0 && err == nil && len(k) == 32 {
			key = k
			break
		}
	}
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("make cluster secret: %w", err)
		}
	}
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[cluster] = key
	return key, nil
}
