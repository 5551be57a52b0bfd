package enginetest

import (
	"context"
	"sync"
	"time"

	"github.com/ovis-hpc/lvc/engine"
)

// subscriber is one Events stream: what the fake sends waits in queue,
// without bound, so that the fake never blocks on a slow reader.
type subscriber struct {
	mu    sync.Mutex
	queue []engine.Event
	wake  chan struct{} // one pending wake-up at most
}

func (s *subscriber) push(ev engine.Event) {
	s.mu.Lock()
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) take() []engine.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// emit sends ev to every stream open now; the caller holds the lock.
func (w *world) emit(ev engine.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	for s := range w.subs {
		s.push(ev)
	}
}

// Events implements engine.Runtime: the events of everything the fake
// does from now on (every owner's, as the driver's), in order, until ctx
// ends; then the channel is closed.
func (f *Fake) Events(ctx context.Context) <-chan engine.Event {
	s := &subscriber{wake: make(chan struct{}, 1)}
	w := f.w
	w.mu.Lock()
	w.subs[s] = true
	w.mu.Unlock()
	out := make(chan engine.Event)
	go func() {
		defer close(out)
		defer func() {
			w.mu.Lock()
			delete(w.subs, s)
			w.mu.Unlock()
		}()
		for {
			for _, ev := range s.take() {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-s.wake:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Emit sends ev on every open Events stream, as if the engine had seen
// it happen (its Time is now when zero).
func (f *Fake) Emit(ev engine.Event) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.emit(ev)
}
