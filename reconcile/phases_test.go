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

// A kind added to the registry gets a phase of its own, with a condition
// that counts towards Ready only when its service is on; the built-in
// kinds get none twice.
func TestOtherKindPhases(t *testing.T) {
	ps := otherKindPhases(append(kinds.All(), testKind{}))
	if len(ps) != 1 {
		t.Fatalf("phases for the registry plus one kind: %d, want 1", len(ps))
	}
	p := ps[0]
	if p.name != "rsyslogd" || p.condition != "RsyslogdReady" || p.run == nil {
		t.Errorf("phase = %+v, want rsyslogd with RsyslogdReady", p)
	}
	if p.wanted(&plan.Plan{Services: []string{"sshd"}}) || !p.wanted(&plan.Plan{Services: []string{"rsyslogd"}}) {
		t.Errorf("RsyslogdReady must count exactly when the service is on")
	}
	if n := len(otherKindPhases(kinds.All())); n != 0 {
		t.Errorf("the built-in kinds got %d extra phases, want 0", n)
	}
}
