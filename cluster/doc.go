// Package cluster is lvc's Go API for test programs: the utilities of the
// Python LDMS_Test module (create, get, exec, files, ldmsd, ldms_ls, Slurm
// jobs) over clusters that lvc converges. It works with a running
// lvc-controller (it writes the manifest and waits) and without one (it
// converges in-process, as `lvc up` does).
//
// New connects through the engine driver the program links, as
// database/sql does:
//
//	import _ "github.com/ovis-hpc/lvc/drivers/swarm"
package cluster
