package controller

import (
	"testing"

	"github.com/ovis-hpc/lvc/engine"
)

func TestTriggers(t *testing.T) {
	for _, tc := range []struct {
		ev   engine.Event
		want bool
	}{
		{engine.Event{Cluster: "c", Action: "die"}, true},
		{engine.Event{Cluster: "c", Action: "exec_die", Exec: "sh -c exec ldmsd " + engine.DaemonTag + "ldmsd"}, true},
		{engine.Event{Cluster: "c", Action: "exec_die", Exec: "ldms_ls -x sock"}, false}, // a probe of ours
		// A daemon a previous controller started: its exec_create came
		// before this controller's stream.
		{engine.Event{Cluster: "c", Action: "exec_die", ExecUnseen: true}, true},
		{engine.Event{Action: "exec_die", ExecUnseen: true}, false}, // no cluster
		{engine.Event{Cluster: "c", Action: "exec_start"}, false},
	} {
		if got := triggers(tc.ev); got != tc.want {
			t.Errorf("triggers(%+v) = %v, want %v", tc.ev, got, tc.want)
		}
	}
}
