package swarm

import (
	"context"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/go-logr/logr"
)

// Events implements Runtime. After a broken stream it reconnects with
// `since` set to the last event seen, so nothing is lost in between; the
// engine replays from its event log.
func (e *Engine) Events(ctx context.Context) <-chan Event {
	out := make(chan Event, 256)
	go func() {
		defer close(out)
		log := logr.FromContextOrDiscard(ctx)
		since := time.Now()
		pause := 100 * time.Millisecond
		execs := map[string]string{} // exec ID → command, from exec_create
		for ctx.Err() == nil {
			f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)), filters.Arg("label", LabelCluster))
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
					action, detail, _ := strings.Cut(string(m.Action), ": ")
					ev := Event{Cluster: m.Actor.Attributes[LabelCluster], Container: m.Actor.Attributes["name"], Action: action, Time: t}
					switch id := m.Actor.Attributes["execID"]; action {
					case "exec_create":
						if len(execs) > 10000 { // never grow without bound
							clear(execs)
						}
						execs[id] = detail
						continue
					case "exec_start":
						continue
					case "exec_die":
						ev.Exec = execs[id]
						delete(execs, id)
					}
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
	}()
	return out
}
