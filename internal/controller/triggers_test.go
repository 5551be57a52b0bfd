package controller

import (
	"testing"

	"github.com/ovis-hpc/lvc/drivers/swarm"
)

func TestTriggers(t *testing.T) {
	for _, tc := range []struct {
		ev   swarm.Event
		want bool
	}{
		{swarm.Event{Cluster: "c", Action: "die"}, true},
		{swarm.Event{Cluster: "c", Action: "exec_die", Exec: "sh -c exec ldmsd " + swarm.DaemonTag + "ldmsd"}, true},
		{swarm.Event{Cluster: "c", Action: "exec_die", Exec: "ldms_ls -x sock"}, false}, // a probe of ours
		// A daemon a previous controller started: its exec_create came
		// before this controller's stream.
		{swarm.Event{Cluster: "c", Action: "exec_die", ExecUnseen: true}, true},
		{swarm.Event{Action: "exec_die", ExecUnseen: true}, false}, // no cluster
		{swarm.Event{Cluster: "c", Action: "exec_start"}, false},
	} {
		if got := triggers(tc.ev); got != tc.want {
			t.Errorf("triggers(%+v) = %v, want %v", tc.ev, got, tc.want)
		}
	}
}
