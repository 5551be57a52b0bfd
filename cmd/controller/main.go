// Command lvc-controller watches a directory of LDMSDCluster manifests and
// keeps the clusters they describe converged on Docker Swarm, writing each
// cluster's status to the status directory.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	_ "github.com/ovis-hpc/lvc/drivers/swarm" // the engine driver engine.Connect uses
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/controller"
	"github.com/ovis-hpc/lvc/internal/logging"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/version"
	"github.com/ovis-hpc/lvc/internal/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := newCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lvc-controller:", err)
		os.Exit(1)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func newCommand() *cobra.Command {
	opts := controller.Options{}
	var verbosity int
	var jsonLogs bool
	var httpAddr string
	cmd := &cobra.Command{
		Use:           "lvc-controller",
		Short:         "Keep the LDMSDCluster manifests of a directory converged on Docker Swarm",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, flush := logging.New(verbosity, jsonLogs)
			defer flush()
			return run(logr.NewContext(cmd.Context(), log), opts, httpAddr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ManifestsDir, "manifests", envOr("LVC_MANIFESTS", "clusters"), "directory of manifests to watch (env LVC_MANIFESTS)")
	f.StringVar(&opts.StatusDir, "status-dir", envOr("LVC_STATUS_DIR", "status"), "directory to write status files to (env LVC_STATUS_DIR)")
	f.DurationVar(&opts.Resync, "resync", 60*time.Second, "period of the full resync")
	f.IntVar(&opts.Workers, "workers", 4, "clusters reconciled at once")
	f.BoolVar(&opts.Prune, "prune", true, "remove a cluster when its manifest is removed")
	f.IntVarP(&verbosity, "verbosity", "v", 0, "log detail: 0 actions, 1 decisions, 2 exec output")
	f.BoolVar(&jsonLogs, "log-json", false, "log JSON lines instead of console text")
	f.StringVar(&httpAddr, "http", "", "serve /metrics, /healthz, /readyz, /api/v1/clusters and a live page on this address (e.g. 127.0.0.1:8080); off when empty")
	return cmd
}

func run(ctx context.Context, opts controller.Options, httpAddr string) error {
	release, err := (store.Status{Dir: opts.StatusDir}).Lock()
	if err != nil {
		return err
	}
	defer release()
	rt, closeRT, err := engine.Connect(ctx)
	if err != nil {
		return err
	}
	defer closeRT()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if c, ok := rt.(interface{ Requests() int64 }); ok {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lvc_engine_requests_total",
			Help: "Requests lvc-controller sent to the engine's API.",
		}, func() float64 { return float64(c.Requests()) }))
	}
	opts.Metrics = reg
	ctl := controller.New(rt, opts)
	if httpAddr != "" {
		stop, err := serve(ctx, httpAddr, web.Handler(web.Options{Status: store.Status{Dir: opts.StatusDir}, Gatherer: reg, Registerer: reg, Ready: ctl.Ready}))
		if err != nil {
			return err
		}
		defer stop()
	}
	return ctl.Run(ctx)
}

// serve listens on addr (an error at once if it cannot) and serves h
// until stop is called.
func serve(ctx context.Context, addr string, h http.Handler) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log := logr.FromContextOrDiscard(ctx)
	log.Info("serving HTTP", "address", "http://"+ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "HTTP server")
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
