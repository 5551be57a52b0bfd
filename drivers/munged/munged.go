// Package munged is the munged daemon kind: MUNGE authentication for
// Slurm and for ldmsd's munge auth, with a key derived from the cluster
// secret.
package munged

import (
	"crypto/hkdf"
	"crypto/sha256"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
)

// Munge paths and owner.
const (
	KeyPath = "/etc/munge/munge.key"
	User    = "munge"
	Log     = "/var/log/munge/munged.out"
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

// Kind runs munged on every node. Its key is written at run time.
var Kind kind.Kind = mungedKind{}

type mungedKind struct{}

func (mungedKind) Name() string    { return "munged" }
func (mungedKind) Service() string { return v1.ServiceMunged }

// Plan runs munged in its default domain (/etc/munge, /run/munge). The
// plan refuses other domains (ldms-test's dom) until they are supported.
func (mungedKind) Plan(c *kind.Cluster, n *kind.Node) ([]kind.Daemon, []kind.File) {
	if c.NodeFormat && len(n.Declares(v1.DaemonMunged)) == 0 {
		return nil, nil
	}
	argv := Argv()
	return []kind.Daemon{{Name: "munged", Kind: "munged", Exe: "munged", Pre: Pre, Argv: argv, Restart: v1.RestartAlways,
		Logs: []string{Log, "/var/log/munge/munged.log"}, Hash: kind.HashArgv(argv)}}, nil
}
