// Package munged is the munged daemon kind: MUNGE authentication for
// Slurm and for ldmsd's munge auth, with a key derived from the cluster
// secret.
package munged

import (
	"crypto/hkdf"
	"crypto/sha256"
	"slices"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
)

// Munge paths and owner.
const (
	KeyPath = "/etc/munge/munge.key"
	User    = "munge"
	// OwnLog is the default domain's own log; lvc sends a munged's
	// stdio to /var/log/munge/NAME.out beside it.
	OwnLog = "/var/log/munge/munged.log"
)

// Key derives the cluster's 1024-byte munge key from its secret: every
// node gets the same key, and it survives a controller restart and a
// node's re-creation without being stored anywhere else.
func Key(secret []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, "lvc/munge", 1024)
}

// Pre prepares munged's directories as root, before it drops to the
// munge user.
const Pre = "mkdir -p /run/munge /var/log/munge && chown munge:munge /run/munge /var/log/munge && chmod 0755 /run/munge"

// Argv runs munged in the foreground as the munge user.
func Argv() []string {
	return []string{"setpriv", "--reuid=munge", "--regid=munge", "--init-groups", "/usr/sbin/munged", "-F"}
}

// Kind runs munged on every node of the seed format, and the munged
// daemons an ldms-test format node declares, one per domain.
var Kind kind.Kind = mungedKind{}

type mungedKind struct{}

func (mungedKind) Name() string    { return "munged" }
func (mungedKind) Service() string { return v1.ServiceMunged }

func (mungedKind) Plan(c *kind.Cluster, n *kind.Node) ([]kind.Daemon, []kind.File) {
	if !c.NodeFormat {
		return []kind.Daemon{daemon("munged", Argv(), Pre, OwnLog)}, nil
	}
	var ds []kind.Daemon
	var files []kind.File
	for _, s := range declared(c, n) {
		name, argv, pre, keyFile, log := s.Name, Argv(), Pre, KeyPath, OwnLog
		if s.Dom != "" {
			// ldms-test's layout: /munge/DOM/{key,sock,pid}; the base
			// class's Munged finds it running by that pid file.
			dir := "/munge/" + s.Dom
			keyFile, log = dir+"/key", dir+"/log"
			argv = append(argv, "--socket="+dir+"/sock", "--pid-file="+dir+"/pid",
				"--seed-file="+dir+"/seed", "--log-file="+dir+"/log")
			// The files lvc writes make /munge/DOM root's, 0700.
			pre += " && mkdir -p " + dir + " && chown munge:munge " + dir + " && chmod 0755 /munge " + dir
			if name == "" {
				name = "munged-" + s.Dom
			}
		} else if s.Key != "" {
			keyFile = "/etc/munge/spec.key"
		}
		if name == "" {
			name = "munged"
		}
		if s.Key != "" {
			files = append(files, kind.File{Path: keyFile, Content: s.Key, Mode: 0o400, Owner: User + ":" + User})
		} else {
			// A domain without a key shares the cluster's: as with
			// ldms-test's default key, all such domains trust each other.
			keyFile = KeyPath
		}
		if keyFile != KeyPath || s.Dom != "" {
			argv = append(argv, "--key-file="+keyFile)
		}
		d := daemon(name, argv, pre, log)
		d.Hash = kind.HashArgv(argv, []string{s.Key})
		ds = append(ds, d)
	}
	return ds, files
}

// declared are the munged daemons of a node in the ldms-test format: those
// it declares and, in a cluster with Slurm, one in the default domain if
// it declares none there, since Slurm authenticates with munge (ldms-test's
// start_slurm starts that munged on every node).
func declared(c *kind.Cluster, n *kind.Node) []v1.NodeDaemon {
	ds := n.Declares(v1.DaemonMunged)
	slurm := slices.ContainsFunc(c.Nodes, func(o kind.Node) bool { return o.SlurmRole != "" })
	if !slurm || slices.ContainsFunc(ds, func(d v1.NodeDaemon) bool { return d.Dom == "" }) {
		return ds
	}
	name := "munged"
	if slices.ContainsFunc(ds, func(d v1.NodeDaemon) bool { return d.Name == name }) {
		name = "munged-default"
	}
	return append([]v1.NodeDaemon{{Name: name, Type: v1.DaemonMunged}}, ds...)
}

// daemon is a munged named name, its own log at log.
func daemon(name string, argv []string, pre, log string) kind.Daemon {
	return kind.Daemon{Name: name, Kind: "munged", Exe: "munged", Pre: pre, Argv: argv, Restart: v1.RestartAlways,
		Logs: []string{"/var/log/munge/" + name + ".out", log}, Hash: kind.HashArgv(argv)}
}
