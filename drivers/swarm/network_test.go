package swarm

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// fakeNetworks is a Docker engine that knows networks only, and resolves
// names as the real one does: exact ID, exact name, then ID prefix.
type fakeNetworks struct {
	mu      sync.Mutex
	nets    []network.Inspect
	created []string
}

func (f *fakeNetworks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.Path[strings.Index(r.URL.Path[1:], "/")+1:] // drop /v1.xx
	switch {
	case path == "/networks/create" && r.Method == http.MethodPost:
		var req network.CreateRequest
		json.NewDecoder(r.Body).Decode(&req)
		id := "zz" + req.Name
		f.nets = append(f.nets, network.Inspect{ID: id, Name: req.Name, Labels: req.Labels})
		f.created = append(f.created, req.Name)
		json.NewEncoder(w).Encode(network.CreateResponse{ID: id})
	case strings.HasPrefix(path, "/networks/") && r.Method == http.MethodGet:
		term := strings.TrimPrefix(path, "/networks/")
		for _, match := range []func(network.Inspect) bool{
			func(n network.Inspect) bool { return n.ID == term },
			func(n network.Inspect) bool { return n.Name == term },
			func(n network.Inspect) bool { return strings.HasPrefix(n.ID, term) },
		} {
			for _, n := range f.nets {
				if match(n) {
					json.NewEncoder(w).Encode(n)
					return
				}
			}
		}
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"message": "network " + term + " not found"})
	default:
		w.WriteHeader(http.StatusNotImplemented)
	}
}

// A cluster whose name is a prefix of another network's ID gets its own
// network; the engine's prefix match must not be taken for it.
func TestEnsureNetworkIgnoresIDPrefixMatch(t *testing.T) {
	fake := &fakeNetworks{nets: []network.Inspect{{ID: "lpc4y0y2tlu4oo7j1zk9yppxl", Name: "ingress"}}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cli, err := client.NewClientWithOpts(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithVersion("1.41"), client.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(cli, "fake")
	defer e.Close()
	n, err := e.EnsureNetwork(t.Context(), NetworkSpec{Name: "lpc4", Cluster: "lpc4"})
	if err != nil {
		t.Fatalf("EnsureNetwork(lpc4) = %v, want a new network", err)
	}
	if n.Name != "lpc4" || n.ID != "zzlpc4" {
		t.Errorf("EnsureNetwork(lpc4) = %+v, want the network named lpc4", n)
	}
	if len(fake.created) != 1 || fake.created[0] != "lpc4" {
		t.Errorf("networks created = %v, want [lpc4]", fake.created)
	}
	// Once it exists it is found by name and reused.
	if _, err := e.EnsureNetwork(t.Context(), NetworkSpec{Name: "lpc4", Cluster: "lpc4"}); err != nil || len(fake.created) != 1 {
		t.Errorf("second EnsureNetwork(lpc4) = %v, created %v; want reuse", err, fake.created)
	}
}
