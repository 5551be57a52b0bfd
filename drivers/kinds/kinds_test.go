package kinds

import (
	"slices"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// Every kind has its own name, a service the manifest accepts (but etcd), and is
// found by Lookup; the start order puts munged before the Slurm daemons
// and slurmctld before slurmd.
func TestRegistry(t *testing.T) {
	names := Names()
	for i, k := range All() {
		if slices.Index(names, k.Name()) != i {
			t.Errorf("kind %s is registered twice", k.Name())
		}
		// etcd runs only the daemons ldms-test format nodes declare; the
		// seed format's spec.services has no etcd.
		if !slices.Contains(v1.AllServices, k.Service()) && k.Name() != "etcd" {
			t.Errorf("kind %s: service %q is not one spec.services accepts (%v)", k.Name(), k.Service(), v1.AllServices)
		}
		if Lookup(k.Name()) != k {
			t.Errorf("Lookup(%s) does not return it", k.Name())
		}
	}
	if Lookup("nope") != nil {
		t.Errorf("Lookup(nope) = %v, want nil", Lookup("nope"))
	}
	at := func(n string) int { return slices.Index(names, n) }
	if !(at("munged") < at("slurmctld") && at("slurmctld") < at("slurmd")) {
		t.Errorf("start order %v: want munged, slurmctld, slurmd in that order", names)
	}
}
