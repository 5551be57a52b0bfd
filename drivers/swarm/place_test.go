package swarm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/ovis-hpc/lvc/engine"
)

func TestLeastLoaded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cands   []candidate
		pending map[string]int
		want    int
	}{
		{name: "none", want: -1},
		{name: "one", cands: []candidate{{"a", 7}}, want: 0},
		{name: "fewest running", cands: []candidate{{"a", 3}, {"b", 1}, {"c", 2}}, want: 1},
		{name: "tie: first listed", cands: []candidate{{"a", 2}, {"b", 1}, {"c", 1}}, want: 1},
		{name: "all tied: first", cands: []candidate{{"a", 0}, {"b", 0}, {"c", 0}}, want: 0},
		{name: "pending counts as running", cands: []candidate{{"a", 0}, {"b", 1}},
			pending: map[string]int{"a": 2}, want: 1},
		{name: "pending makes a tie: first listed", cands: []candidate{{"a", 0}, {"b", 1}},
			pending: map[string]int{"a": 1}, want: 0},
		{name: "pending on a node not listed is ignored", cands: []candidate{{"a", 1}, {"b", 2}},
			pending: map[string]int{"z": 5}, want: 0},
		{name: "nil pending", cands: []candidate{{"a", 4}, {"b", 2}}, want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := leastLoaded(tc.cands, tc.pending); got != tc.want {
				t.Errorf("leastLoaded(%v, %v) = %d, want %d", tc.cands, tc.pending, got, tc.want)
			}
		})
	}
}

// probeResult is what a fake probe answers for one node.
type probeResult struct {
	running int
	missing bool
	err     error
}

func TestCandidatesOf(t *testing.T) {
	// n4 is down and n5 ready with an engine that does not answer: neither
	// has an engine, as Refresh leaves them.
	nodes := []SwarmNode{
		{ID: "id1", Hostname: "n1", Ready: true, Labels: map[string]string{"rack": "a", "gpu": "yes"}},
		{ID: "id2", Hostname: "n2", Ready: true, Labels: map[string]string{"rack": "a"}},
		{ID: "id3", Hostname: "n3", Ready: true, Labels: map[string]string{"rack": "b"}},
		{ID: "id4", Hostname: "n4", Ready: false, Labels: map[string]string{"rack": "a"}},
		{ID: "id5", Hostname: "n5", Ready: true, Labels: map[string]string{"rack": "b"}},
	}
	reachable := func(id string) bool { return id == "id1" || id == "id2" || id == "id3" }
	load := map[string]probeResult{"n1": {running: 2}, "n2": {running: 0}, "n3": {running: 1}}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		nodes     []SwarmNode // nodes when nil
		placement Placement
		probe     map[string]probeResult // overrides load
		want      []candidate
		probed    []string // hostnames probed, in order
		wantErr   string   // substring of the error
		wantMiss  *ImageMissingError
		wantIs    error
	}{
		{name: "anywhere: every reachable node, in order, with its load",
			want:   []candidate{{"id1", 2}, {"id2", 0}, {"id3", 1}},
			probed: []string{"n1", "n2", "n3"}},
		{name: "node", placement: Placement{Node: "n2"},
			want: []candidate{{"id2", 0}}, probed: []string{"n2"}},
		{name: "label", placement: Placement{Labels: map[string]string{"rack": "a"}},
			want: []candidate{{"id1", 2}, {"id2", 0}}, probed: []string{"n1", "n2"}},
		{name: "every label must match", placement: Placement{Labels: map[string]string{"rack": "a", "gpu": "yes"}},
			want: []candidate{{"id1", 2}}, probed: []string{"n1"}},
		{name: "node and labels must both match", placement: Placement{Node: "n2", Labels: map[string]string{"rack": "a"}},
			want: []candidate{{"id2", 0}}, probed: []string{"n2"}},
		{name: "node not matching the labels", placement: Placement{Node: "n3", Labels: map[string]string{"rack": "a"}},
			wantErr: "no ready swarm node matches the placement of c-1 (node n3, rack=a)"},
		{name: "unknown node", placement: Placement{Node: "n9"},
			wantErr: "no ready swarm node matches the placement of c-1 (node n9)"},
		{name: "unknown label", placement: Placement{Labels: map[string]string{"rack": "z"}},
			wantErr: "no ready swarm node matches the placement of c-1 (rack=z)"},
		{name: "down node is no candidate", placement: Placement{Node: "n4"},
			wantErr: "no ready swarm node matches the placement of c-1 (node n4)"},
		{name: "unreachable node is no candidate", placement: Placement{Node: "n5"},
			wantErr: "no ready swarm node matches the placement of c-1 (node n5)"},
		{name: "only unreachable and down nodes match", placement: Placement{Labels: map[string]string{"rack": "b"}},
			want: []candidate{{"id3", 1}}, probed: []string{"n3"}},
		{name: "no nodes at all", nodes: []SwarmNode{},
			wantErr: "no ready swarm node matches the placement of c-1 (anywhere)"},
		{name: "a node without the image is left out",
			probe:  map[string]probeResult{"n2": {missing: true, err: errors.New("no such image")}},
			want:   []candidate{{"id1", 2}, {"id3", 1}},
			probed: []string{"n1", "n2", "n3"}},
		{name: "no matching node has the image", placement: Placement{Labels: map[string]string{"rack": "a"}},
			probe:    map[string]probeResult{"n1": {missing: true}, "n2": {missing: true}},
			probed:   []string{"n1", "n2"},
			wantMiss: &ImageMissingError{Image: "lvc/node:1", Node: "n1, n2"}},
		{name: "image missing on the only matching node", placement: Placement{Node: "n3"},
			probe:    map[string]probeResult{"n3": {missing: true}},
			probed:   []string{"n3"},
			wantMiss: &ImageMissingError{Image: "lvc/node:1", Node: "n3"}},
		{name: "a failing probe fails the whole and stops",
			probe:   map[string]probeResult{"n2": {err: boom}},
			probed:  []string{"n1", "n2"},
			wantErr: "swarm node n2: boom", wantIs: boom},
		{name: "a failing probe wins over a missing image",
			probe:   map[string]probeResult{"n1": {missing: true}, "n2": {err: boom}},
			probed:  []string{"n1", "n2"},
			wantErr: "swarm node n2: boom", wantIs: boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := tc.nodes
			if ns == nil {
				ns = nodes
			}
			var probed []string
			probe := func(n SwarmNode) (int, bool, error) {
				probed = append(probed, n.Hostname)
				r, ok := tc.probe[n.Hostname]
				if !ok {
					r = load[n.Hostname]
				}
				return r.running, r.missing, r.err
			}
			spec := ContainerSpec{Name: "c-1", Image: "lvc/node:1", Placement: tc.placement}
			got, err := candidatesOf(spec, ns, reachable, probe)
			if !reflect.DeepEqual(probed, tc.probed) {
				t.Errorf("probed %v, want %v", probed, tc.probed)
			}
			switch {
			case tc.wantMiss != nil:
				var miss *ImageMissingError
				if !errors.As(err, &miss) || *miss != *tc.wantMiss {
					t.Fatalf("candidatesOf() = %v, %v; want %#v", got, err, tc.wantMiss)
				}
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("candidatesOf() = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				var miss *ImageMissingError
				if errors.As(err, &miss) {
					t.Errorf("candidatesOf() error %v is an ImageMissingError, want not", err)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("candidatesOf() error %v does not wrap %v", err, tc.wantIs)
				}
			default:
				if err != nil {
					t.Fatalf("candidatesOf() error: %v", err)
				}
			}
			if err != nil {
				if got != nil {
					t.Errorf("candidatesOf() = %v with an error, want none", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("candidatesOf() = %v, want %v", got, tc.want)
			}
		})
	}
}

// place creates on the least loaded candidate, counts the creation as
// pending while it runs, and forgets it once it ends, failed or not.
func TestPlacerPlace(t *testing.T) {
	cands := []candidate{{"a", 2}, {"b", 1}, {"c", 1}}
	var p placer
	for _, tc := range []struct {
		name      string
		createErr error
	}{{name: "created"}, {name: "creation fails", createErr: errors.New("create failed")}} {
		t.Run(tc.name, func(t *testing.T) {
			var created []string
			err := p.place(func() ([]candidate, error) { return cands, nil }, func(node string) error {
				created = append(created, node)
				if p.pending[node] != 1 {
					t.Errorf("pending during the creation on %s = %v, want it counted once", node, p.pending)
				}
				return tc.createErr
			})
			if !errors.Is(err, tc.createErr) || (tc.createErr == nil) != (err == nil) {
				t.Errorf("place() = %v, want %v", err, tc.createErr)
			}
			if !reflect.DeepEqual(created, []string{"b"}) {
				t.Errorf("created on %v, want [b]: least loaded, first of a tie", created)
			}
			if len(p.pending) != 0 {
				t.Errorf("pending after the creation = %v, want none", p.pending)
			}
		})
	}
	t.Run("listing fails", func(t *testing.T) {
		boom := errors.New("boom")
		err := p.place(func() ([]candidate, error) { return nil, boom }, func(node string) error {
			t.Errorf("create(%s) called after the listing failed", node)
			return nil
		})
		if !errors.Is(err, boom) {
			t.Errorf("place() = %v, want %v", err, boom)
		}
		// The placer is not left locked.
		if err := p.place(func() ([]candidate, error) { return cands, nil }, func(string) error { return nil }); err != nil {
			t.Errorf("place() after a failed listing = %v", err)
		}
	})
}

// imageEngine is a fakeSwarmEngine that also answers image inspections:
// found for the images it has, not found for others, or an error when
// broken.
type imageEngine struct {
	*fakeSwarmEngine
	images map[string]bool
	broken bool
}

func (f imageEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, "/v1.") {
		path = path[strings.Index(path[1:], "/")+1:]
	}
	name, isImage := strings.CutPrefix(path, "/images/")
	name, isInspect := strings.CutSuffix(name, "/json")
	if !isImage || !isInspect {
		f.fakeSwarmEngine.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Api-Version", "1.41")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case f.broken:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"message":"disk on fire"}`)
	case f.images[name]:
		json.NewEncoder(w).Encode(image.InspectResponse{ID: "sha256:" + name, RepoTags: []string{name}})
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message":"No such image: %s"}`, name)
	}
}

// candidates asks each reachable engine for the image and its running
// containers: a not-found image leaves the node out, any other failure is
// an error naming the node.
func TestSwarmCandidates(t *testing.T) {
	const img = "lvc/node:1"
	running := func(n int) []container.Summary {
		var cs []container.Summary
		for i := range n {
			cs = append(cs, container.Summary{ID: fmt.Sprintf("x%d", i), State: container.StateRunning})
		}
		return cs
	}
	fakeEngine := func(t *testing.T, name string, h imageEngine) *Engine {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		cli, err := client.NewClientWithOpts(client.WithHost(srv.URL), client.WithAPIVersionNegotiation())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Close() })
		return newEngine(cli, name)
	}
	nodes := []SwarmNode{
		{ID: "id1", Hostname: "n1", Ready: true},
		{ID: "id2", Hostname: "n2", Ready: true},
		{ID: "id3", Hostname: "n3", Ready: true},
	}
	for _, tc := range []struct {
		name    string
		n2      imageEngine
		want    []candidate
		wantErr string
	}{
		{name: "every node has the image",
			n2:   imageEngine{images: map[string]bool{img: true}},
			want: []candidate{{"id1", 2}, {"id2", 0}}},
		{name: "n2 lacks the image",
			n2:   imageEngine{},
			want: []candidate{{"id1", 2}}},
		{name: "n2 fails", n2: imageEngine{broken: true},
			wantErr: "swarm node n2: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.n2.fakeSwarmEngine = &fakeSwarmEngine{name: "n2"}
			// n3 is down: no engine.
			engines := map[string]*Engine{
				"id1": fakeEngine(t, "n1", imageEngine{fakeSwarmEngine: &fakeSwarmEngine{name: "n1", containers: running(2)}, images: map[string]bool{img: true}}),
				"id2": fakeEngine(t, "n2", tc.n2),
			}
			s := &Swarm{nodes: nodes}
			got, err := s.candidates(t.Context(), ContainerSpec{Name: "c-1", Image: img}, engines)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("candidates() = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				var miss *ImageMissingError
				if errors.As(err, &miss) {
					t.Errorf("candidates() error %v is an ImageMissingError, want not", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("candidates() error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("candidates() = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("no node has the image", func(t *testing.T) {
		engines := map[string]*Engine{
			"id1": fakeEngine(t, "n1", imageEngine{fakeSwarmEngine: &fakeSwarmEngine{name: "n1"}}),
			"id2": fakeEngine(t, "n2", imageEngine{fakeSwarmEngine: &fakeSwarmEngine{name: "n2"}}),
		}
		s := &Swarm{nodes: nodes}
		_, err := s.candidates(t.Context(), ContainerSpec{Name: "c-1", Image: img}, engines)
		var miss *ImageMissingError
		if !errors.As(err, &miss) || *miss != (ImageMissingError{Image: img, Node: "n1, n2"}) {
			t.Errorf("candidates() = %v, want an ImageMissingError for %s on n1, n2", err, img)
		}
	})
}

// An IPv6 network is a bridge on the manager's host: its containers go
// there, and one that must go elsewhere, or finds no manager engine, is
// refused as a placement that cannot be met.
func TestIPv6ContainersStayOnTheManager(t *testing.T) {
	s := &Swarm{managerNode: "id1"}
	spec := ContainerSpec{Name: "c-1", NetworkIPv6: true, Placement: Placement{Node: "n2"}}
	if _, err := s.EnsureContainer(t.Context(), spec); !errors.Is(err, engine.ErrPlacement) || !strings.Contains(err.Error(), "node n2") {
		t.Errorf("EnsureContainer with a placement = %v, want ErrPlacement naming node n2", err)
	}
	spec.Placement = Placement{}
	if _, err := s.EnsureContainer(t.Context(), spec); !errors.Is(err, engine.ErrPlacement) || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("EnsureContainer without the manager's engine = %v, want ErrPlacement", err)
	}
	s.manager = &Engine{locks: &keyedMutex{}}
	if v := s.WithOwner("o"); v.managerNode != "id1" {
		t.Errorf("WithOwner's view has manager node %q, want id1", v.managerNode)
	}
}
