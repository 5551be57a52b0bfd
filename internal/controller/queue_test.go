package controller

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// A short requeue (a reconcile asking to look again in a second) is not
// held back by a long retry backoff pending from earlier failures, as
// after the engine was down for a while; nor does a later, longer
// AddAfter postpone a sooner one.
func TestAddAfterSoonestWins(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	q := newQueue(clk)
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
		for _, d := range tc.delay {
			q.AddAfter(tc.name, d)
		}
		clk.Step(49 * time.Millisecond)
		if n := q.Len(); n != 0 {
			t.Fatalf("AddAfter(%s, %v): %d queued 1ms before the sooner delay, want 0", tc.name, tc.delay, n)
		}
		clk.Step(time.Millisecond)
		select {
		case n := <-got:
			if n != tc.name {
				t.Fatalf("Get() = %q, want %q", n, tc.name)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("AddAfter(%s, %v): nothing once 50ms passed; the sooner delay must win", tc.name, tc.delay)
		}
	}
}
