package reconcile

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/plan"
)

// twoLevels is agg_test in small: two samplers, an aggregator of both,
// and a top aggregator of that one, plus the service node.
const twoLevels = `  daemons:
  - {host: s-1, listen_port: 10000, config: ["load name=meminfo"]}
  - {host: s-2, listen_port: 10000, config: ["load name=meminfo"]}
  - host: agg-1
    listen_port: 20000
    config:
    - prdcr_add name=s-1 host=s-1 port=10000 xprt=sock type=active interval=1000000
    - prdcr_add name=s-2 host=s-2 port=10000 xprt=sock type=active interval=1000000
    - prdcr_start_regex regex=.*
  - host: agg-2
    listen_port: 20000
    config:
    - prdcr_add name=agg-1 host=agg-1 port=20000 xprt=sock type=active interval=1000000
    - prdcr_start_regex regex=.*
`

func TestLdmsdRanksAndFeeders(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", "  services: [sshd, ldmsd]\n"+twoLevels)
	p, err := plan.Build(f.src["c"].Cluster)
	if err != nil {
		t.Fatal(err)
	}
	got := plan.LdmsdRanks(p)
	want := map[string]int{"node-1": 0, "node-2": 0, "node-3": 1, "node-4": 2, "node-5": 5}
	if !maps.Equal(got, want) {
		t.Errorf("ldmsdRanks = %v, want %v", got, want)
	}
	if got, want := feeders(p, got), map[string]bool{"node-1": true, "node-2": true, "node-3": true}; !maps.Equal(got, want) {
		t.Errorf("feeders = %v, want %v", got, want)
	}

	// Two aggregators of each other: neither waits for the other.
	f.manifestYAML("cycle", `  services: [ldmsd]
  daemons:
  - {host: s-1, listen_port: 10000, config: ["load name=meminfo"]}
  - {host: a, listen_port: 20000, config: ["prdcr_add name=b host=b port=20000 xprt=sock type=active interval=1000000", "prdcr_add name=s host=s-1 port=10000 xprt=sock type=active interval=1000000"]}
  - {host: b, listen_port: 20000, config: ["prdcr_add name=a host=a port=20000 xprt=sock type=active interval=1000000"]}
`)
	p, err = plan.Build(f.src["cycle"].Cluster)
	if err != nil {
		t.Fatal(err)
	}
	got = plan.LdmsdRanks(p)
	want = map[string]int{"node-1": 0, "node-2": 1, "node-3": 1, "node-4": 4}
	if !maps.Equal(got, want) {
		t.Errorf("ldmsdRanks with a cycle = %v, want %v", got, want)
	}
	if got, want := feeders(p, got), map[string]bool{"node-1": true}; !maps.Equal(got, want) {
		t.Errorf("feeders with a cycle = %v, want %v", got, want)
	}
}

// indexOf is the position of entry in the fake's start log, -1 if absent.
func indexOf(log []string, entry string) int { return slices.Index(log, entry) }

func TestReconcileStartsLdmsdEarlyProducersFirst(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", "  services: [sshd, ldmsd]\n"+twoLevels)
	// The producers' containers are slow to create: without ordering, the
	// top aggregator and the service node would start first.
	f.rt.SetSlow("node-1", 30*time.Millisecond)
	f.rt.SetSlow("node-2", 60*time.Millisecond)
	f.rt.SetSlow("node-3", 20*time.Millisecond)
	st := f.reconcile("c")
	if st.Status.Phase != v1.PhaseReady {
		t.Fatalf("phase = %s, want Ready; %+v", st.Status.Phase, st.Status.Conditions)
	}
	log := f.rt.Log()
	before := func(a, b string) {
		t.Helper()
		if i, j := indexOf(log, a), indexOf(log, b); i < 0 || j < 0 || i > j {
			t.Errorf("%q (at %d) does not come before %q (at %d) in %q", a, i, b, j, log)
		}
	}
	// The containers of producers run before the others start: the top
	// aggregator and the service node, without ldmsd.
	for _, a := range []string{"node-1", "node-2", "node-3"} {
		for _, b := range []string{"node-4", "node-5"} {
			before("container "+a, "container "+b)
		}
	}
	// Each aggregator starts after its producers, and every ldmsd before
	// the sshd phase: they did not wait for the other services.
	before("ldmsd node-1", "ldmsd node-3")
	before("ldmsd node-2", "ldmsd node-3")
	before("ldmsd node-3", "ldmsd node-4")
	for _, n := range []string{"node-1", "node-2", "node-3", "node-4"} {
		before("ldmsd "+n, "sshd node-1")
	}
	if n := len(slices.DeleteFunc(slices.Clone(log), func(e string) bool { return !strings.HasPrefix(e, "ldmsd ") })); n != 4 {
		t.Errorf("ldmsd started %d times, want 4: %q", n, log)
	}
	if got := len(events(t, f, "c", "Starting")); got != 9 {
		t.Errorf("%d Starting events, want 9 (5 sshd, 4 ldmsd)", got)
	}
	// Files written early are not written again: the files phase adds
	// what needs every address (/etc/hosts) and the secrets.
	cs, _ := f.rt.Containers(t.Context(), "c")
	for _, c := range cs {
		files := f.rt.Files(c.ID)
		if files["/etc/hosts"] == nil || files["/etc/ldmsd.conf"] == nil && c.Node != "node-5" {
			t.Errorf("%s: files %v, want /etc/hosts and, with ldmsd, /etc/ldmsd.conf", c.Node, slices.Sorted(maps.Keys(files)))
		}
	}
	if got := f.rt.Calls()["write"]; got != 5 {
		t.Errorf("%d file writes, want 5: one per node (an early ldmsd's exec writes its node's files)", got)
	}
}

func TestReconcileLdmsdWithMungeWaitsForMunged(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", `  services: [sshd, munged, ldmsd]
  daemons:
  - {host: s-1, listen_port: 10000, listen_auth: munge, config: ["load name=meminfo"]}
  - {host: s-2, listen_port: 10000, config: ["load name=meminfo"]}
`)
	if st := f.reconcile("c"); st.Status.Phase != v1.PhaseReady {
		t.Fatalf("phase = %s, want Ready; %+v", st.Status.Phase, st.Status.Conditions)
	}
	log := f.rt.Log()
	last := indexOf(log, "munged node-3")
	for _, n := range []string{"node-1", "node-2", "node-3"} {
		if i := indexOf(log, "munged "+n); i > last {
			last = i
		}
	}
	for _, n := range []string{"node-1", "node-2"} {
		if i := indexOf(log, "ldmsd "+n); i < last {
			t.Errorf("ldmsd on %s started at %d, before the munged phase ended (%d): %q", n, i, last, log)
		}
	}
}

func TestReconcileEarlyStartFailureIsReportedOnce(t *testing.T) {
	f := newFixture(t)
	f.manifestYAML("c", "  services: [ldmsd]\n"+twoLevels)
	f.rt.SetNoStart("node-1", "ldmsd", true)
	if _, err := f.r.Reconcile(t.Context(), "c"); err != nil {
		t.Fatal(err)
	}
	st, err := f.r.Status.Read("c")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status.Phase == v1.PhaseReady {
		t.Fatal("phase Ready with an ldmsd that does not start")
	}
	var got *v1.DaemonStatus
	for _, n := range st.Status.Nodes {
		for i := range n.Daemons {
			if n.Hostname == "node-1" && n.Daemons[i].Name == "ldmsd" {
				got = &n.Daemons[i]
			}
		}
	}
	if got == nil || got.State != v1.DaemonFailed || !strings.Contains(got.LastError, "did not stay up") {
		t.Errorf("node-1 ldmsd status = %+v, want Failed, did not stay up", got)
	}
	log := f.rt.Log()
	if n := len(slices.DeleteFunc(slices.Clone(log), func(e string) bool { return e != "ldmsd node-1" })); n != 1 {
		t.Errorf("node-1's ldmsd was started %d times in one reconcile, want 1: %q", n, log)
	}
	// Its aggregator still started: a producer that failed does not hold
	// the others.
	if indexOf(log, "ldmsd node-3") < 0 {
		t.Errorf("aggregator not started: %q", log)
	}
}
