package controller

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the controller's own figures, as controller-runtime's:
// reconciles by result and their duration, and the work queue's depth.
// Figures read from the status files (clusters by phase, restarts by
// daemon kind) are internal/web's.
type metrics struct {
	reconciles *prometheus.CounterVec
	duration   prometheus.Histogram
}

// Reconcile results.
const (
	resultSuccess = "success"
	resultRequeue = "requeue"
	resultError   = "error"
)

func newMetrics(reg prometheus.Registerer, q *queue) *metrics {
	m := &metrics{
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lvc_reconcile_total",
			Help: "Reconciles of a cluster, by result: success, requeue (success, to look again later) or error.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lvc_reconcile_duration_seconds",
			Help:    "How long one reconcile of a cluster took.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
	}
	for _, r := range []string{resultSuccess, resultRequeue, resultError} {
		m.reconciles.WithLabelValues(r) // so every series exists from the start
	}
	if reg != nil {
		reg.MustRegister(m.reconciles, m.duration, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lvc_workqueue_depth",
			Help: "Clusters waiting in the work queue to be reconciled.",
		}, func() float64 { return float64(q.Len()) }))
	}
	return m
}
