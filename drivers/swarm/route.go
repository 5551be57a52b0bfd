package swarm

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
)

// engineFor routes a container ID to its engine, listing all engines once
// when the ID is not known yet.
func (s *Swarm) engineFor(ctx context.Context, id string) (*Engine, error) {
	s.mu.RLock()
	node, ok := s.where[id]
	e := s.engines[node]
	s.mu.RUnlock()
	if ok && e != nil {
		return e, nil
	}
	if _, err := s.Containers(ctx, ""); err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("listing containers to route a call", "error", err.Error())
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e := s.engines[s.where[id]]; e != nil {
		return e, nil
	}
	return nil, fmt.Errorf("container %s is on no reachable swarm node", id)
}

func (s *Swarm) RemoveContainer(ctx context.Context, id string) error {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return nil // on no reachable node: nothing to remove from here
	}
	if err := e.RemoveContainer(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.where, id)
	s.mu.Unlock()
	return nil
}

func (s *Swarm) Exec(ctx context.Context, id string, opts ExecOptions) (ExecResult, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return ExecResult{}, err
	}
	return e.Exec(ctx, id, opts)
}

func (s *Swarm) Start(ctx context.Context, id string, argv, env []string, user string) error {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return err
	}
	return e.Start(ctx, id, argv, env, user)
}

func (s *Swarm) Top(ctx context.Context, id string) ([]Process, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.Top(ctx, id)
}

func (s *Swarm) WriteFiles(ctx context.Context, id string, files []File) error {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return err
	}
	return e.WriteFiles(ctx, id, files)
}

func (s *Swarm) ReadFile(ctx context.Context, id, path string) ([]byte, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.ReadFile(ctx, id, path)
}

// EngineOf returns the engine that hosts a container, for what Runtime
// does not offer (streamed and interactive exec, copy, container logs).
func EngineOf(ctx context.Context, rt Runtime, containerID string) (*Engine, error) {
	switch r := rt.(type) {
	case *Engine:
		return r, nil
	case *Swarm:
		return r.engineFor(ctx, containerID)
	}
	return nil, fmt.Errorf("runtime %T is not a Docker engine", rt)
}
