package swarm

import (
	"testing"

	"github.com/docker/docker/api/types/events"
)

// An exec_die carries its exec's command when this stream saw its
// exec_create, and says it did not otherwise.
func TestContainerEventsExecs(t *testing.T) {
	translate := containerEvents()
	msg := func(action, exec string) events.Message {
		return events.Message{Action: events.Action(action), Actor: events.Actor{Attributes: map[string]string{"execID": exec, LabelCluster: "c", "name": "c-1"}}}
	}
	if _, ok := translate(msg("exec_create: sh -c exec ldmsd "+DaemonTag+"ldmsd", "e1")); ok {
		t.Error("exec_create passed on, want it kept to itself")
	}
	ev, ok := translate(msg("exec_die", "e1"))
	if !ok || ev.ExecUnseen || ev.Exec != "sh -c exec ldmsd "+DaemonTag+"ldmsd" {
		t.Errorf("exec_die of a seen exec = %+v, %v; want its command", ev, ok)
	}
	ev, ok = translate(msg("exec_die", "e2"))
	if !ok || !ev.ExecUnseen || ev.Exec != "" || ev.Cluster != "c" {
		t.Errorf("exec_die of an unseen exec = %+v, %v; want ExecUnseen in cluster c", ev, ok)
	}
}
