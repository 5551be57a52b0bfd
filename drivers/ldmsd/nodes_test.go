package ldmsd

import (
	"strings"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

func params(kv ...string) []v1.Param {
	var out []v1.Param
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, v1.Param{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// everything sets every part of the config, in an order unlike the
// file's, to show the file's order.
var everything = v1.NodeDaemon{
	Type:        v1.DaemonLdmsd,
	Config:      []string{"prdcr_start_regex regex=.*", "updtr_start name=all"},
	Prdcrs:      []v1.Prdcr{{Name: "s1", Params: params("host", "s1", "name", "s1", "port", "10000")}},
	PrdcrListen: []v1.PrdcrListen{{Name: "any", Params: params("name", "any", "regex", ".*")}},
	Advertisers: []v1.Advertiser{{Name: "agg", Params: params("name", "agg", "host", "agg", "port", "411")}},
	Samplers: []v1.NodeSampler{
		{Plugin: "meminfo", Interval: "1000000", Offset: "0", Start: true, Config: []string{"producer=n1", "instance=n1/meminfo"}},
		{Plugin: "vmstat", Interval: "2000000", ExclusiveThread: "1", Start: true, Config: []string{"producer=n1"}},
		{Plugin: "app", Interval: "", Start: true, Config: []string{}},
		{Plugin: "stream", Interval: "2000000", Config: []string{"stream=s"}},
	},
	Listen: []v1.Listen{{Params: params("port", "10000", "xprt", "sock", "auth", "munge")}},
	Auth:   []v1.AuthDomain{{Name: "munge", Params: params("name", "munge", "plugin", "munge", "socket", "/run/munge/sock")}},
	Quota:  "32",
}

func TestNodeConfigV4(t *testing.T) {
	want := `default_quota quota=32
auth_add name=munge plugin=munge socket=/run/munge/sock
listen  port=10000 xprt=sock auth=munge
load name=meminfo
config name=meminfo producer=n1 instance=n1/meminfo |
start name=meminfo interval=1000000 offset=0
load name=vmstat
config name=vmstat producer=n1 exclusive_thread=1
start name=vmstat interval=2000000 |
load name=app
config name=app  |
start name=app  |
load name=stream
config name=stream stream=s |
advertiser_add name=agg host=agg port=411
prdcr_listen_add name=any name=any regex=.*
prdcr_add name=s1 host=s1 port=10000
prdcr_start_regex regex=.*
updtr_start name=all
`
	want = strings.ReplaceAll(want, "|\n", "\n") // | marks a trailing space
	if got := NodeConfig(everything, SyntaxV4); got != want {
		t.Errorf("NodeConfig(v4) =\n%q\nwant\n%q", got, want)
	}
}

func TestNodeConfigV5(t *testing.T) {
	want := `default_quota quota=32
auth_add name=munge plugin=munge socket=/run/munge/sock
listen  port=10000 xprt=sock auth=munge
load name=meminfo
config name=meminfo producer=n1 instance=n1/meminfo
smplr_add name=meminfo_smplr instance=meminfo           interval=1000000 offset=0
smplr_start name=meminfo_smplr
load name=vmstat
config name=vmstat producer=n1
smplr_add name=vmstat_smplr instance=vmstat           interval=2000000 |
smplr_start name=vmstat_smplr
load name=app
config name=app |
smplr_add name=app_smplr instance=app            |
smplr_start name=app_smplr
load name=stream
config name=stream stream=s
advertiser_add name=agg host=agg port=411
prdcr_listen_add name=any name=any regex=.*
prdcr_add name=s1 host=s1 port=10000
prdcr_start_regex regex=.*
updtr_start name=all
`
	want = strings.ReplaceAll(want, "|\n", "\n")
	if got := NodeConfig(everything, SyntaxV5); got != want {
		t.Errorf("NodeConfig(v5) =\n%q\nwant\n%q", got, want)
	}
}

func TestNodeConfigEmpty(t *testing.T) {
	if got := NodeConfig(v1.NodeDaemon{Type: v1.DaemonLdmsd}, SyntaxV5); got != "" {
		t.Errorf("NodeConfig(empty) = %q", got)
	}
}

func TestNodeCommand(t *testing.T) {
	d := v1.NodeDaemon{ListenAuth: "none", ConfigFile: "/etc/ldmsd.conf", LogFile: "/var/log/ldmsd.log", LogLevel: "INFO"}
	if got, want := strings.Join(NodeCommand(d), " "), "ldmsd -a none -c /etc/ldmsd.conf -l /var/log/ldmsd.log -v INFO"; got != want {
		t.Errorf("NodeCommand = %q, want %q", got, want)
	}
	d.ListenPort = 10000
	if got := strings.Join(NodeCommand(d), " "); strings.Contains(got, "-x") {
		t.Errorf("NodeCommand with a port but no xprt = %q", got)
	}
	d.ListenXprt, d.ListenAuth, d.LogLevel = "rdma", "munge", "debug"
	if got, want := strings.Join(NodeCommand(d), " "), "ldmsd -x rdma:10000 -a munge -c /etc/ldmsd.conf -l /var/log/ldmsd.log -v debug"; got != want {
		t.Errorf("NodeCommand = %q, want %q", got, want)
	}
}

func TestSyntaxFor(t *testing.T) {
	for _, tt := range []struct {
		v    [3]int
		want Syntax
	}{
		{[3]int{4, 3, 11}, SyntaxV4},
		{[3]int{4, 99, 99}, SyntaxV4},
		{[3]int{4, 100, 0}, SyntaxV5},
		{[3]int{4, 101, 2}, SyntaxV5},
		{[3]int{5, 0, 0}, SyntaxV5},
		{[3]int{3, 200, 0}, SyntaxV4},
	} {
		if got := SyntaxFor(tt.v[0], tt.v[1], tt.v[2]); got != tt.want {
			t.Errorf("SyntaxFor(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// From a manifest through ExpandNodes to the config, as a user writes it.
func TestNodeConfigFromManifest(t *testing.T) {
	docs := v1.Load("m.yaml", []byte(`apiVersion: lvc/v1
kind: LDMSDCluster
metadata: {name: t}
spec:
  templates:
    samp: {interval: 1000000, offset: 0, start: true, config: ["instance=%hostname%/%plugin%"]}
  nodes:
  - hostname: n1
    daemons:
    - name: s
      type: ldmsd
      listen: [{port: 10000, xprt: sock}]
      samplers: [{plugin: meminfo, "!extends": samp}]
`))
	if err := docs[0].Errs.Err(); err != nil {
		t.Fatal(err)
	}
	nodes, err := v1.ExpandNodes(docs[0].Cluster)
	if err != nil {
		t.Fatal(err)
	}
	want := "listen  port=10000 xprt=sock\nload name=meminfo\nconfig name=meminfo instance=n1/meminfo \nstart name=meminfo interval=1000000 offset=0\n"
	if got := NodeConfig(nodes[0].Daemons[0], SyntaxV4); got != want {
		t.Errorf("NodeConfig =\n%q\nwant\n%q", got, want)
	}
}
