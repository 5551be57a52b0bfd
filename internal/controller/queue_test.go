package controller

import (
	"testing"
	"time"
)

// A short requeue (a reconcile asking to look again in a second) is not
// held back by a long retry backoff pending from earlier failures, as
// after the engine was down for a while; nor does a later, longer
// AddAfter postpone a sooner one.
func TestAddAfterSoonestWins(t *testing.T) {
	q := newQueue()
	defer q.ShutDown()
	got := make(chan string)
	go func() {
		for {
			name, ok := q.Get()
			if !ok {
				close(got)
				return
			}
			q.Done(name)
			got <- name
		}
	}()
	for _, tc := range []struct {
		name  string
		delay []time.Duration
	}{
		{"a", []time.Duration{time.Hour, 50 * time.Millisecond}},
		{"b", []time.Duration{50 * time.Millisecond, time.Hour}},
	} {
		start := time.Now()
		for _, d := range tc.delay {
			q.AddAfter(tc.name, d)
		}
		select {
		case n := <-got:
			if n != tc.name {
				t.Fatalf("Get() = %q, want %q", n, tc.name)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s came after %s, want about 50ms", tc.name, d)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("AddAfter(%s, %v): nothing within 2s; the sooner delay must win", tc.name, tc.delay)
		}
	}
}
