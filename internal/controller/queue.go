package controller

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// queue is a work queue of cluster names, as client-go's: a name waiting
// is queued once however often it is added, and a name being processed is
// never handed to a second worker; an add during processing runs it again
// afterwards.
type queue struct {
	mu         sync.Mutex
	cond       *sync.Cond
	order      []string
	dirty      map[string]bool
	processing map[string]bool
	failures   map[string]int
	timers     map[string]*delayed
	shutdown   bool
	clk        clock.WithDelayedExecution

	baseDelay, maxDelay time.Duration
}

func newQueue(clk clock.WithDelayedExecution) *queue {
	q := &queue{
		clk:   clk,
		dirty: map[string]bool{}, processing: map[string]bool{}, failures: map[string]int{}, timers: map[string]*delayed{},
		baseDelay: 250 * time.Millisecond, maxDelay: time.Minute,
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues name now.
func (q *queue) Add(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(name)
}

func (q *queue) addLocked(name string) {
	if q.shutdown || q.dirty[name] {
		return
	}
	q.dirty[name] = true
	if !q.processing[name] {
		q.order = append(q.order, name)
		q.cond.Signal()
	}
}

// delayed is a pending AddAfter.
type delayed struct {
	t   clock.Timer
	due time.Time
}

// AddAfter queues name after d. Of several pending AddAfters of a name the
// soonest wins: a short requeue is not held back by a long backoff
// pending from earlier failures.
func (q *queue) AddAfter(name string, d time.Duration) {
	if d <= 0 {
		q.Add(name)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	due := q.clk.Now().Add(d)
	if p, ok := q.timers[name]; ok {
		if !p.due.After(due) {
			return
		}
		p.t.Stop() // if it fires anyway, it only adds name once more
	}
	p := &delayed{}
	// The add runs on its own goroutine, as time.AfterFunc's does, also
	// under a fake clock that calls back while holding its own lock.
	p.t = q.clk.AfterFunc(d, func() { go q.fire(name, p) })
	// Read the clock again once the timer runs: a clock that moved in
	// between makes due late, never early, so a sooner AddAfter is never
	// dropped for a timer that fires after it.
	p.due = q.clk.Now().Add(d)
	q.timers[name] = p
}

// fire adds name once its pending AddAfter p is due.
func (q *queue) fire(name string, p *delayed) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.timers[name] == p {
		delete(q.timers, name)
	}
	q.addLocked(name)
}

// AddRateLimited queues name after an exponential backoff that grows with
// its consecutive failures.
func (q *queue) AddRateLimited(name string) time.Duration {
	q.mu.Lock()
	n := q.failures[name]
	q.failures[name] = n + 1
	q.mu.Unlock()
	d := q.baseDelay << min(n, 16)
	if d > q.maxDelay || d <= 0 {
		d = q.maxDelay
	}
	q.AddAfter(name, d)
	return d
}

// Forget resets name's backoff after a success.
func (q *queue) Forget(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.failures, name)
}

// Len is how many names wait, not counting those being processed.
func (q *queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

// Get blocks until a name is ready; ok is false after ShutDown.
func (q *queue) Get() (name string, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.shutdown {
		q.cond.Wait()
	}
	if q.shutdown {
		return "", false
	}
	name, q.order = q.order[0], q.order[1:]
	q.processing[name] = true
	delete(q.dirty, name)
	return name, true
}

// Done marks name processed; if it was added meanwhile it is queued again.
func (q *queue) Done(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, name)
	if q.dirty[name] {
		q.order = append(q.order, name)
		q.cond.Signal()
	}
}

// ShutDown wakes every Get; pending timers are stopped.
func (q *queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	for _, p := range q.timers {
		p.t.Stop()
	}
	q.cond.Broadcast()
}
