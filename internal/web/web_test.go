package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/internal/store"
)

// seedStatus writes the seed cluster's status file, Ready, with node-4's
// ldmsd restarted twice.
func seedStatus(t *testing.T, st store.Status) {
	t.Helper()
	docs, err := v1.LoadFile("../../manifests/ldms-slurm.yaml")
	if err == nil {
		err = v1.Errors(docs).Err()
	}
	if err != nil {
		t.Fatal(err)
	}
	obj := docs[0].Cluster
	obj.Metadata.Generation = 1
	obj.Status = &v1.LDMSDClusterStatus{Phase: v1.PhaseReady, ObservedGeneration: 1,
		Conditions: []v1.Condition{{Type: v1.ConditionReady, Status: v1.ConditionTrue, Reason: "AllReady"}},
		Nodes: []v1.NodeStatus{
			{Hostname: "node-3", Daemons: []v1.DaemonStatus{{Name: "sshd", State: v1.DaemonRunning}, {Name: "ldmsd", State: v1.DaemonRunning, Sets: 8}}},
			{Hostname: "node-4", Daemons: []v1.DaemonStatus{{Name: "ldmsd", State: v1.DaemonRunning, Restarts: 2}}},
		}}
	if err := st.Write(obj); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendEvent(obj.Metadata.Name, v1.Event{Time: time.Now(), Type: "Normal", Reason: "Starting", Object: "node-1/ldmsd", Message: "starting ldmsd"}); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, srv *httptest.Server, path string) (int, string, string) {
	t.Helper()
	r, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return r.StatusCode, r.Header.Get("Content-Type"), string(body)
}

func TestEndpoints(t *testing.T) {
	st := store.Status{Dir: t.TempDir()}
	seedStatus(t, st)
	reg := prometheus.NewRegistry()
	ready := false
	srv := httptest.NewServer(Handler(Options{Status: st, Gatherer: reg, Registerer: reg, Ready: func() bool { return ready }}))
	defer srv.Close()

	if code, _, _ := get(t, srv, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code, _, _ := get(t, srv, "/readyz"); code != 503 {
		t.Errorf("/readyz before the first sync = %d, want 503", code)
	}
	ready = true
	if code, _, _ := get(t, srv, "/readyz"); code != 200 {
		t.Errorf("/readyz after the first sync = %d, want 200", code)
	}

	code, ctype, body := get(t, srv, "/api/v1/clusters")
	var list []v1.LDMSDCluster
	if err := json.Unmarshal([]byte(body), &list); code != 200 || ctype != "application/json" || err != nil || len(list) != 1 || list[0].Metadata.Name != "ldms_slurm" || !list[0].IsReady() {
		t.Errorf("/api/v1/clusters = %d %s %v: %s", code, ctype, err, body)
	}
	if code, _, body := get(t, srv, "/api/v1/clusters/ldms_slurm"); code != 200 || !strings.Contains(body, `"phase": "Ready"`) {
		t.Errorf("/api/v1/clusters/ldms_slurm = %d: %s", code, body)
	}
	if code, _, _ := get(t, srv, "/api/v1/clusters/nope"); code != 404 {
		t.Errorf("/api/v1/clusters/nope = %d, want 404", code)
	}
	if code, _, body := get(t, srv, "/api/v1/clusters/ldms_slurm/events"); code != 200 || !strings.Contains(body, "starting ldmsd") {
		t.Errorf("events = %d: %s", code, body)
	}
	if code, ctype, body := get(t, srv, "/api/v1/clusters/ldms_slurm/graph.svg"); code != 200 || ctype != "image/svg+xml" || !strings.Contains(body, `id="node-node-5"`) || !strings.Contains(body, "8 sets") {
		t.Errorf("graph.svg = %d %s: %.200s", code, ctype, body)
	}
	if code, _, body := get(t, srv, "/"); code != 200 || !strings.Contains(body, "api/v1/clusters") {
		t.Errorf("/ = %d: %.200s", code, body)
	}
	resp, err := http.Post(srv.URL+"/api/v1/clusters", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /api/v1/clusters = %d, want 405: the API is read-only", resp.StatusCode)
		}
	}
}

// /metrics parses as Prometheus text and carries the status files'
// figures.
func TestMetricsParse(t *testing.T) {
	st := store.Status{Dir: t.TempDir()}
	seedStatus(t, st)
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(Handler(Options{Status: st, Gatherer: reg, Registerer: reg}))
	defer srv.Close()
	_, _, body := get(t, srv, "/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		f := families[name]
		if f == nil {
			return 0, false
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			return m.GetGauge().GetValue(), true
		}
		return 0, false
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"lvc_clusters", map[string]string{"phase": "Ready"}, 1},
		{"lvc_clusters", map[string]string{"phase": "Failed"}, 0},
		{"lvc_daemon_restarts", map[string]string{"kind": "ldmsd"}, 2},
		{"lvc_daemons", map[string]string{"kind": "sshd", "state": "Running"}, 1},
	} {
		if got, ok := value(tc.name, tc.labels); !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
}
