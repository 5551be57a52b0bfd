package swarm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	swarmtypes "github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"
)

// Containers placed at once are spread over the nodes: each pending
// creation counts on its node, so the first node's emptiness is not
// taken by all of them.
func TestPlacerSpreadsConcurrentPlacements(t *testing.T) {
	var p placer
	nodes := []candidate{{node: "n1"}, {node: "n2"}, {node: "n3", running: 1}}
	var (
		mu      sync.Mutex
		counts  = map[string]int{}
		wg      sync.WaitGroup
		release = make(chan struct{})
		started sync.WaitGroup
	)
	started.Add(8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.place(func() ([]candidate, error) { return nodes, nil }, func(node string) error {
				mu.Lock()
				counts[node]++
				mu.Unlock()
				started.Done()
				<-release // all creations are under way at once
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	started.Wait()
	close(release)
	wg.Wait()
	// 8 new + 1 running = 9 over 3 nodes.
	if counts["n1"] != 3 || counts["n2"] != 3 || counts["n3"] != 2 {
		t.Errorf("placements = %v, want n1:3 n2:3 n3:2", counts)
	}
	if len(p.pending) != 0 {
		t.Errorf("pending after every creation ended = %v, want none", p.pending)
	}
}

// fakeSwarmEngine is a Docker engine that answers what Swarm asks: ping,
// info, the swarm's nodes (on the manager) and a container listing.
type fakeSwarmEngine struct {
	mu         sync.Mutex
	name       string
	nodeID     string
	nodes      []swarmtypes.Node // non-nil on the manager
	containers []container.Summary
}

func (f *fakeSwarmEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.Path
	if strings.HasPrefix(path, "/v1.") {
		path = path[strings.Index(path[1:], "/")+1:]
	}
	w.Header().Set("Api-Version", "1.41")
	switch path {
	case "/_ping":
		fmt.Fprint(w, "OK")
	case "/info":
		json.NewEncoder(w).Encode(system.Info{Name: f.name, Swarm: swarmtypes.Info{NodeID: f.nodeID, ControlAvailable: f.nodes != nil, Nodes: len(f.nodes)}})
	case "/nodes":
		json.NewEncoder(w).Encode(f.nodes)
	case "/containers/json":
		json.NewEncoder(w).Encode(f.containers)
	default:
		w.WriteHeader(http.StatusNotImplemented)
	}
}

func (f *fakeSwarmEngine) setState(id string, state swarmtypes.NodeState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.nodes {
		if f.nodes[i].ID == id {
			f.nodes[i].Status.State = state
		}
	}
}

// A node whose engine stops answering keeps its containers (listing is
// an error) while the manager reports it ready, and gives them up once
// the manager reports it down; an answering node again is listed again.
func TestSwarmContainersNodeLoss(t *testing.T) {
	engines := make([]*fakeSwarmEngine, 3)
	servers := make([]*httptest.Server, 3)
	var nodes []swarmtypes.Node
	for i := range engines {
		id, name := fmt.Sprintf("id%d", i+1), fmt.Sprintf("n%d", i+1)
		engines[i] = &fakeSwarmEngine{name: name, nodeID: id, containers: []container.Summary{{
			ID: fmt.Sprintf("c%d", i+1), Names: []string{fmt.Sprintf("/c-%d", i+1)}, State: container.StateRunning,
			Labels: map[string]string{LabelCluster: "c", LabelNode: fmt.Sprintf("node-%d", i+1)},
		}}}
		servers[i] = httptest.NewServer(engines[i])
		t.Cleanup(servers[i].Close)
		n := swarmtypes.Node{ID: id, Description: swarmtypes.NodeDescription{Hostname: name},
			Status: swarmtypes.NodeStatus{State: swarmtypes.NodeStateReady}}
		n.Spec.Availability = swarmtypes.NodeAvailabilityActive
		if i > 0 { // the manager's own node is reached through the manager
			n.Spec.Labels = map[string]string{LabelEngine: "tcp://" + strings.TrimPrefix(servers[i].URL, "http://")}
		}
		nodes = append(nodes, n)
	}
	manager := engines[0]
	manager.nodes = nodes
	cli, err := client.NewClientWithOpts(client.WithHost(servers[0].URL), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSwarm(t.Context(), newEngine(cli, "n1"), SwarmOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); cli.Close() })

	names := func() string {
		cs, err := s.Containers(t.Context(), "c")
		if err != nil {
			return "error: " + err.Error()
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Name+"@"+c.SwarmNode)
		}
		return strings.Join(out, " ")
	}
	if got, want := names(), "c-1@n1 c-2@n2 c-3@n3"; got != want {
		t.Fatalf("Containers() = %s, want %s", got, want)
	}

	servers[2].Close() // n3's engine is gone; the manager still says Ready
	start := time.Now()
	for range 2 { // a second listing still refuses to give n3's containers up
		if got := names(); !strings.HasPrefix(got, "error: ") || !strings.Contains(got, "n3") {
			t.Fatalf("Containers() with n3's engine gone but n3 Ready = %s, want an error naming n3", got)
		}
	}
	if u := s.Unreachable(); len(u) != 1 || u["n3"] == nil {
		t.Errorf("Unreachable() with n3's engine gone = %v, want n3", u)
	}
	if d := time.Since(start); d > 2*EngineTimeout {
		t.Errorf("two listings with an engine gone took %s, want them bounded by EngineTimeout", d)
	}

	manager.setState("id3", swarmtypes.NodeStateDown)
	s.mu.Lock()
	s.refreshed = time.Time{} // a while later: the nodes are read again
	s.mu.Unlock()
	if got, want := names(), "c-1@n1 c-2@n2"; got != want {
		t.Fatalf("Containers() with n3 down = %s, want %s", got, want)
	}
	if _, ok := s.Engines()["n3"]; ok {
		t.Errorf("Engines() with n3 down includes n3")
	}
	if u := s.Unreachable(); len(u) != 0 {
		t.Errorf("Unreachable() with n3 down = %v, want none: it is not in the swarm's service", u)
	}
}
