package web

import (
	"github.com/prometheus/client_golang/prometheus"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/plan"
)

var (
	clustersDesc = prometheus.NewDesc("lvc_clusters", "Clusters by phase, from the status files.", []string{"phase"}, nil)
	restartsDesc = prometheus.NewDesc("lvc_daemon_restarts", "Restarts lvc made of the daemons now in the status files, by daemon kind.", []string{"kind"}, nil)
	daemonsDesc  = prometheus.NewDesc("lvc_daemons", "Daemons in the status files, by kind and state.", []string{"kind", "state"}, nil)
)

// statusCollector reads the status files at each scrape: they are the
// truth a restarted controller starts from too.
type statusCollector struct{ status store.Status }

func (statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- clustersDesc
	ch <- restartsDesc
	ch <- daemonsDesc
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	objs, err := readAll(c.status)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(clustersDesc, err)
		return
	}
	phases := map[string]float64{}
	for _, p := range []string{v1.PhasePending, v1.PhaseProgressing, v1.PhaseReady, v1.PhaseDegraded, v1.PhaseFailed, v1.PhaseDeleting} {
		phases[p] = 0
	}
	restarts := map[string]float64{}
	type ks struct{ kind, state string }
	daemons := map[ks]float64{}
	for _, st := range objs {
		if st.Status == nil {
			continue
		}
		phases[st.Status.Phase]++
		kinds := daemonKinds(st)
		for _, n := range st.Status.Nodes {
			for _, d := range n.Daemons {
				k := kinds[n.Hostname+"/"+d.Name]
				if k == "" {
					k = d.Name
				}
				restarts[k] += float64(d.Restarts)
				daemons[ks{k, d.State}]++
			}
		}
	}
	for p, n := range phases {
		ch <- prometheus.MustNewConstMetric(clustersDesc, prometheus.GaugeValue, n, p)
	}
	for k, n := range restarts {
		ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.GaugeValue, n, k)
	}
	for k, n := range daemons {
		ch <- prometheus.MustNewConstMetric(daemonsDesc, prometheus.GaugeValue, n, k.kind, k.state)
	}
}

// daemonKinds maps node/daemon to its kind, by the plan of st's spec.
func daemonKinds(st *v1.LDMSDCluster) map[string]string {
	out := map[string]string{}
	p, err := plan.FromStatus(st)
	if err != nil {
		return out
	}
	for _, n := range p.Nodes {
		for _, d := range n.Daemons {
			out[n.Hostname+"/"+d.Name] = d.Kind
		}
	}
	return out
}
