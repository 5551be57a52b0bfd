package swarm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	"github.com/go-logr/logr"
)

// Containers lists the cluster's containers on every reachable engine,
// each with the swarm node it runs on. When an engine fails, the node
// list is read again: a node the manager no longer reports ready is left
// out (its containers are then re-created elsewhere); a node it still
// reports ready is an error, so that a blip never moves containers.
func (s *Swarm) Containers(ctx context.Context, cluster string) ([]Container, error) {
	out, failed, err := s.listAll(ctx, cluster)
	if len(failed) == 0 {
		return out, err
	}
	// Unless a Refresh just said so (as one does when a CLI connects).
	s.mu.RLock()
	fresh := time.Since(s.refreshed) < time.Second && s.allUnreachable(failed)
	s.mu.RUnlock()
	if fresh {
		return out, err
	}
	if rerr := s.Refresh(ctx); rerr != nil {
		return out, errors.Join(err, rerr)
	}
	if !s.allLost(failed) {
		return out, err
	}
	logr.FromContextOrDiscard(ctx).Info("swarm nodes lost: their containers will be re-created elsewhere", "error", err.Error())
	return out, nil
}

// allUnreachable tells whether the last Refresh found every one of the
// nodes unreachable; the caller holds s.mu.
func (s *Swarm) allUnreachable(ids []string) bool {
	for _, id := range ids {
		if _, ok := s.unreachable[id]; !ok {
			return false
		}
	}
	return true
}

// allLost tells whether the manager no longer reports any of the nodes
// ready (as of the last Refresh).
func (s *Swarm) allLost(ids []string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range ids {
		if _, ok := s.engines[id]; ok {
			return false
		}
		if _, ok := s.unreachable[id]; ok {
			return false
		}
	}
	return true
}

// listAll lists on every engine in parallel; failed names the nodes
// whose engine failed, unreachable ones included.
func (s *Swarm) listAll(ctx context.Context, cluster string) (out []Container, failed []string, err error) {
	type res struct {
		node string
		cs   []Container
		err  error
	}
	s.mu.RLock()
	engines := maps.Clone(s.engines)
	var errs []error
	for id, uerr := range s.unreachable {
		failed = append(failed, id)
		errs = append(errs, uerr)
	}
	s.mu.RUnlock()
	ch := make(chan res, len(engines))
	for id, e := range engines {
		go func() {
			ctx, cancel := context.WithTimeout(ctx, 2*EngineTimeout)
			defer cancel()
			cs, err := e.Containers(ctx, cluster)
			ch <- res{id, cs, err}
		}()
	}
	for range engines {
		r := <-ch
		if r.err != nil {
			failed = append(failed, r.node)
			errs = append(errs, fmt.Errorf("swarm node %s: %w", engines[r.node].swarmNode, r.err))
			continue
		}
		s.mu.Lock()
		for _, c := range r.cs {
			s.where[c.ID] = r.node
		}
		s.mu.Unlock()
		out = append(out, r.cs...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].SwarmNode < out[j].SwarmNode
	})
	return out, failed, errors.Join(errs...)
}
