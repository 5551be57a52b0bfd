package slurm

import (
	"crypto/hkdf"
	"crypto/sha256"
	"strings"
)

// Munge paths and owner.
const (
	MungeKeyPath = "/etc/munge/munge.key"
	MungeUser    = "munge"
	MungeLog     = "/var/log/munge/munged.out"
)

// MungeKey derives the cluster's 1024-byte munge key from its secret:
// every node gets the same key, and it survives a controller restart and
// a node's re-creation without being stored anywhere else.
func MungeKey(secret []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, "lvc/munge", 1024)
}

// MungedPre prepares munged's directories as root, before it drops to
// the munge user.
const MungedPre = "mkdir -p /run/munge /var/log/munge && chown munge:munge /run/munge /var/log/munge && chmod 0755 /run/munge"

// MungedArgv runs munged in the foreground as the munge user.
func MungedArgv() []string {
	return []string{"setpriv", "--reuid=munge", "--regid=munge", "--init-groups", "/usr/sbin/munged", "-F"}
}

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
