package swarm

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/go-logr/logr"
)

// Events implements Runtime: lvc's container events, and the network
// events that cut a container off its network (disconnect, destroy),
// which carry no labels and so name only the network. After a broken
// stream each reconnects with `since` set to the last event it saw, so
// nothing is lost in between; the engine replays from its event log.
func (e *Engine) Events(ctx context.Context) <-chan Event {
	out := make(chan Event, 256)
	var wg sync.WaitGroup
	wg.Add(2)
	containers := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)), filters.Arg("label", LabelCluster))
	go func() { defer wg.Done(); e.stream(ctx, containers, containerEvents(), out) }()
	networks := filters.NewArgs(filters.Arg("type", string(events.NetworkEventType)),
		filters.Arg("event", string(events.ActionDisconnect)), filters.Arg("event", string(events.ActionDestroy)), filters.Arg("event", string(events.ActionRemove)))
	go func() { defer wg.Done(); e.stream(ctx, networks, networkEvent, out) }()
	go func() { wg.Wait(); close(out) }()
	return out
}

// containerEvents translates container messages; it remembers each
// exec's command from exec_create for its exec_die.
func containerEvents() func(events.Message) (Event, bool) {
	execs := map[string]string{} // exec ID → command, from exec_create
	return func(m events.Message) (Event, bool) {
		action, detail, _ := strings.Cut(string(m.Action), ": ")
		ev := Event{Cluster: m.Actor.Attributes[LabelCluster], Container: m.Actor.Attributes["name"], Action: action}
		switch id := m.Actor.Attributes["execID"]; action {
		case "exec_create":
			if len(execs) > 10000 { // never grow without bound
				clear(execs)
			}
			execs[id] = detail
			return ev, false
		case "exec_start":
			return ev, false
		case "exec_die":
			cmd, seen := execs[id]
			ev.Exec, ev.ExecUnseen = cmd, !seen
			delete(execs, id)
		}
		return ev, true
	}
}

// networkEvent translates a network message: the network's name, and for
// a disconnect the container's ID.
func networkEvent(m events.Message) (Event, bool) {
	return Event{Network: m.Actor.Attributes["name"], Container: m.Actor.Attributes["container"], Action: string(m.Action)}, m.Actor.Attributes["name"] != ""
}

// stream follows the engine's events matching f until ctx ends.
func (e *Engine) stream(ctx context.Context, f filters.Args, translate func(events.Message) (Event, bool), out chan<- Event) {
	log := logr.FromContextOrDiscard(ctx)
	since := time.Now()
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		msgs, errs := e.cli.Events(ctx, events.ListOptions{Filters: f, Since: since.Format(time.RFC3339Nano)})
	stream:
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-msgs:
				t := time.Unix(0, m.TimeNano)
				if t.After(since) {
					since = t
				}
				pause = 100 * time.Millisecond
				ev, ok := translate(m)
				if !ok {
					continue
				}
				ev.Time = t
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-errs:
				if ctx.Err() == nil {
					log.V(1).Info("event stream broken, reconnecting", "error", err.Error(), "after", pause)
				}
				break stream
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}
