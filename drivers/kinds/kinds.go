// Package kinds is the registry of daemon kinds, in the order their
// daemons start on a node. Adding a kind is a package under drivers/
// implementing kind.Kind and one line here.
package kinds

import (
	"github.com/ovis-hpc/lvc/drivers/etcd"
	"github.com/ovis-hpc/lvc/drivers/kind"
	"github.com/ovis-hpc/lvc/drivers/ldmsd"
	"github.com/ovis-hpc/lvc/drivers/munged"
	"github.com/ovis-hpc/lvc/drivers/slurmctld"
	"github.com/ovis-hpc/lvc/drivers/slurmd"
	"github.com/ovis-hpc/lvc/drivers/sshd"
)

var all = []kind.Kind{
	sshd.Kind,
	munged.Kind,
	slurmctld.Kind,
	slurmd.Kind,
	ldmsd.Kind,
	etcd.Kind,
}

// All returns every kind, in start order.
func All() []kind.Kind { return all }

// Lookup returns the kind named name, or nil.
func Lookup(name string) kind.Kind {
	for _, k := range all {
		if k.Name() == name {
			return k
		}
	}
	return nil
}

// Names returns the kinds' names, in start order.
func Names() []string {
	out := make([]string, len(all))
	for i, k := range all {
		out[i] = k.Name()
	}
	return out
}
