package reconcile

import (
	"testing"

	"github.com/ovis-hpc/lvc/drivers/kind"
	"github.com/ovis-hpc/lvc/drivers/kinds"
	"github.com/ovis-hpc/lvc/plan"
)

// testKind is a kind no built-in phase runs.
type testKind struct{}

func (testKind) Name() string    { return "rsyslogd" }
func (testKind) Service() string { return "rsyslogd" }
func (testKind) Plan(*kind.Cluster, *kind.Node) ([]kind.Daemon, []kind.File) {
	return nil, nil
}

// A kind without a built-in phase (etcd in the registry, and one added to
// it) gets a phase of its own, with a condition that counts towards Ready
// only when its service is on; the built-in kinds get none twice.
func TestOtherKindPhases(t *testing.T) {
	reg := otherKindPhases(kinds.All())
	if len(reg) != 1 || reg[0].name != "etcd" || reg[0].condition != "EtcdReady" {
		t.Fatalf("the registry's extra phases: %+v, want etcd with EtcdReady", reg)
	}
	ps := otherKindPhases(append(kinds.All(), testKind{}))
	if len(ps) != 2 {
		t.Fatalf("phases for the registry plus one kind: %d, want 2", len(ps))
	}
	p := ps[1]
	if p.name != "rsyslogd" || p.condition != "RsyslogdReady" || p.run == nil {
		t.Errorf("phase = %+v, want rsyslogd with RsyslogdReady", p)
	}
	if p.wanted(&plan.Plan{Services: []string{"sshd"}}) || !p.wanted(&plan.Plan{Services: []string{"rsyslogd"}}) {
		t.Errorf("RsyslogdReady must count exactly when the service is on")
	}
}
