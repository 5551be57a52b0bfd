package swarm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovis-hpc/lvc/internal/agent"
	"github.com/ovis-hpc/lvc/ldmstest"
)

func TestCheckEndpoint(t *testing.T) {
	for _, tc := range []struct {
		host       string
		tls, allow bool
		wantErr    bool
	}{
		{host: ""},
		{host: "unix:///var/run/docker.sock"},
		{host: "tcp://127.0.0.1:2375"},
		{host: "tcp://localhost:2375"},
		{host: "tcp://[::1]:2375"},
		{host: "tcp://10.1.2.3:2375", wantErr: true},
		{host: "tcp://cygnus-05:2375", wantErr: true},
		{host: "tcp://cygnus-05:2376", tls: true},
		{host: "tcp://cygnus-05:2375", allow: true},
		{host: "ssh://user@cygnus-05"},
	} {
		err := checkEndpoint(tc.host, tc.tls, tc.allow)
		if (err != nil) != tc.wantErr {
			t.Errorf("checkEndpoint(%q, tls=%v, allow=%v) = %v, want error %v", tc.host, tc.tls, tc.allow, err, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), EnvAllowInsecureTCP) {
			t.Errorf("checkEndpoint(%q) = %v, want it to name %s", tc.host, err, EnvAllowInsecureTCP)
		}
	}
}

func TestPlacementMatches(t *testing.T) {
	n := SwarmNode{Hostname: "n2", Labels: map[string]string{"rack": "r1", "gpu": "no"}}
	for _, tc := range []struct {
		p    Placement
		want bool
	}{
		{Placement{}, true},
		{Placement{Node: "n2"}, true},
		{Placement{Node: "n1"}, false},
		{Placement{Labels: map[string]string{"rack": "r1"}}, true},
		{Placement{Labels: map[string]string{"rack": "r2"}}, false},
		{Placement{Node: "n2", Labels: map[string]string{"gpu": "no", "rack": "r1"}}, true},
		{Placement{Labels: map[string]string{"zone": "a"}}, false},
	} {
		if got := placementMatches(tc.p, n); got != tc.want {
			t.Errorf("%v.matches(n2 rack=r1 gpu=no) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestReadEndpoints(t *testing.T) {
	f := filepath.Join(t.TempDir(), "engines")
	os.WriteFile(f, []byte("# node engine\nn1 tcp://10.0.0.1:2376\n\nn2   tcp://10.0.0.2:2376\n"), 0o644)
	got, err := readEndpoints(f)
	if err != nil || len(got) != 2 || got["n2"] != "tcp://10.0.0.2:2376" {
		t.Errorf("readEndpoints() = %v, %v", got, err)
	}
	os.WriteFile(f, []byte("n1\n"), 0o644)
	if _, err := readEndpoints(f); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("readEndpoints(bad) = %v, want an error naming line 1", err)
	}
}

// The ldms-test plugin (ldmstest/runtime/lvc.py) reaches the agents itself,
// at the paths and with the switch this package gives them.
func TestThePluginFindsTheAgentsWhereTheyAre(t *testing.T) {
	module := string(ldmstest.Module())
	for _, want := range []string{
		`AGENT_ROOT = "` + agentRoot + `"`,
		`"` + filepath.Base(agent.Socket) + `"`,
		`os.environ.get("` + EnvAgent + `") == "none"`,
	} {
		if !strings.Contains(module, want) {
			t.Errorf("runtime/lvc.py lacks %s", want)
		}
	}
}
