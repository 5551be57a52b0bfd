// Package web is lvc-controller's read-only HTTP side: Prometheus
// metrics, health and readiness probes, the status objects as JSON, and a
// small live page of every cluster with its conditions, picture and
// recent events.
package web

import (
	"embed"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/plan"
	"github.com/ovis-hpc/lvc/topology"
)

//go:embed index.html
var page embed.FS

// Options configure the handler.
type Options struct {
	Status store.Status
	// Gatherer serves /metrics; the status files' figures are added to
	// Registerer when it is set.
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	// Ready answers /readyz: true once the controller's first sync is done.
	Ready func() bool
}

// recentEvents is how many of a cluster's last events the API returns.
const recentEvents = 20

// Handler serves the endpoints. Nothing it serves changes anything.
func Handler(o Options) http.Handler {
	if o.Registerer != nil {
		o.Registerer.MustRegister(statusCollector{o.Status})
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if o.Ready != nil && !o.Ready() {
			http.Error(w, "first sync not done\n", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /api/v1/clusters", func(w http.ResponseWriter, _ *http.Request) {
		objs, err := readAll(o.Status)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, objs)
	})
	mux.HandleFunc("GET /api/v1/clusters/{name}", func(w http.ResponseWriter, r *http.Request) {
		if st := read(w, o.Status, r.PathValue("name")); st != nil {
			writeJSON(w, st)
		}
	})
	mux.HandleFunc("GET /api/v1/clusters/{name}/events", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if read(w, o.Status, name) == nil {
			return
		}
		evs, err := o.Status.Events(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, evs[max(0, len(evs)-recentEvents):])
	})
	mux.HandleFunc("GET /api/v1/clusters/{name}/graph.svg", func(w http.ResponseWriter, r *http.Request) {
		st := read(w, o.Status, r.PathValue("name"))
		if st == nil {
			return
		}
		p, err := plan.FromStatus(st)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write([]byte(topology.Build(p, st).SVG()))
	})
	mux.Handle("GET /{$}", http.FileServerFS(page))
	return mux
}

// read returns the status object of name, or answers 404 and returns nil.
func read(w http.ResponseWriter, s store.Status, name string) *v1.LDMSDCluster {
	st, err := s.Read(name)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	case st == nil:
		http.Error(w, "ldmsdcluster "+name+" not found\n", http.StatusNotFound)
	}
	if err != nil {
		return nil
	}
	return st
}

// readAll returns every status object, by name.
func readAll(s store.Status) ([]*v1.LDMSDCluster, error) {
	names, err := s.Names()
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := []*v1.LDMSDCluster{}
	for _, n := range names {
		st, err := s.Read(n)
		if err != nil {
			return nil, err
		}
		if st != nil {
			out = append(out, st)
		}
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
