package swarm

import (
	"context"
	"maps"
	"sync"
)

// Events merges the events of every reachable engine, following Refresh:
// an engine reached later (a node that joined or came back) is streamed
// from then on, and one that is gone is no longer.
func (s *Swarm) Events(ctx context.Context) <-chan Event {
	out := make(chan Event, 256)
	go func() {
		type stream struct {
			e      *Engine
			cancel context.CancelFunc
		}
		streams := map[string]stream{} // swarm node ID → its engine's stream
		var wg sync.WaitGroup
		defer func() {
			for _, st := range streams {
				st.cancel()
			}
			wg.Wait()
			close(out)
		}()
		for {
			s.mu.RLock()
			engines, changed := maps.Clone(s.engines), s.changed
			s.mu.RUnlock()
			for id, st := range streams {
				if engines[id] != st.e {
					st.cancel()
					delete(streams, id)
				}
			}
			for id, e := range engines {
				if _, ok := streams[id]; ok {
					continue
				}
				sctx, cancel := context.WithCancel(ctx)
				streams[id] = stream{e, cancel}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ev := range e.Events(sctx) {
						select {
						case out <- ev:
						case <-sctx.Done():
							return
						}
					}
				}()
			}
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
		}
	}()
	return out
}
