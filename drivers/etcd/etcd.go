// Package etcd is the etcd daemon kind: the members of an ldms-test spec's
// etcd daemons form one etcd cluster (maestro keeps its configuration
// there), as ldms-test's start_etcd starts them.
package etcd

import (
	"strconv"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
)

// Ports of a member: clients, then peers.
const (
	ClientPort = 2379
	PeerPort   = 2380
	DataDir    = "/var/lib/etcd/default.etcd"
)

// Kind runs etcd on the nodes of an ldms-test format spec that declare it.
var Kind kind.Kind = etcdKind{}

type etcdKind struct{}

func (etcdKind) Name() string    { return "etcd" }
func (etcdKind) Service() string { return "etcd" }

func (etcdKind) Plan(c *kind.Cluster, n *kind.Node) ([]kind.Daemon, []kind.File) {
	ds := n.Declares(v1.DaemonEtcd)
	if !c.NodeFormat || len(ds) == 0 {
		return nil, nil
	}
	var members, peers []string
	for _, o := range c.Nodes {
		if len(o.Declares(v1.DaemonEtcd)) > 0 {
			members = append(members, o.Hostname+"="+url(o.Hostname, PeerPort))
			if o.Hostname != n.Hostname {
				peers = append(peers, o.Hostname)
			}
		}
	}
	argv := Argv(n.Hostname, members)
	name := ds[0].Name
	if name == "" {
		name = "etcd"
	}
	return []kind.Daemon{{
		Name: name, Kind: "etcd", Exe: "etcd", Argv: argv, Restart: v1.RestartAlways,
		Logs:   []string{"/var/log/etcd.log"},
		Listen: ClientPort,
		// Members find each other by name, resolved when they start.
		Peers: peers,
		Hash:  kind.HashArgv(argv),
	}}, nil
}

// Argv runs member host of an etcd cluster of members (NAME=PEER-URL),
// listening on every address; URLs name hosts, which /etc/hosts resolves.
// Each cluster has a network of its own: no token keeps clusters apart.
func Argv(host string, members []string) []string {
	return []string{"etcd", "--data-dir", DataDir, "--name", host,
		"--initial-advertise-peer-urls", url(host, PeerPort),
		"--listen-peer-urls", url("0.0.0.0", PeerPort),
		"--advertise-client-urls", url(host, ClientPort),
		"--listen-client-urls", url("0.0.0.0", ClientPort),
		"--initial-cluster", strings.Join(members, ","),
		"--initial-cluster-state", "new"}
}

func url(host string, port int) string { return "http://" + host + ":" + strconv.Itoa(port) }
