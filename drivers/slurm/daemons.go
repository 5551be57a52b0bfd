package slurm

import (
	"strings"
)

// SlurmPre makes the spool directories slurm.conf names.
const SlurmPre = "mkdir -p /var/spool/slurmd /var/spool/slurmctld /var/log"

// SlurmctldPort is where slurmctld listens (Slurm's default; slurm.conf
// does not set it).
const SlurmctldPort = 6817

// SlurmctldArgv and SlurmdArgv run the daemons in the foreground.
func SlurmctldArgv() []string { return []string{"/usr/sbin/slurmctld", "-D"} }

// SlurmdArgv runs slurmd in the foreground.
func SlurmdArgv() []string { return []string{"/usr/sbin/slurmd", "-D"} }

// SinfoArgv lists node states, one "NODE STATE" per line.
func SinfoArgv() []string { return []string{"sinfo", "-h", "-N", "-o", "%N %T"} }

// ParseSinfo maps node name to state from SinfoArgv's output; a state
// suffix such as * (not responding) is kept.
func ParseSinfo(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			m[f[0]] = strings.ToLower(f[1])
		}
	}
	return m
}

// Usable tells whether a node state from sinfo can run jobs.
func Usable(state string) bool {
	switch state {
	case "idle", "allocated", "mixed", "completing":
		return true
	}
	return false
}
