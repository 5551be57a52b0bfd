// Command lvc-controller watches a directory of LDMSDCluster manifests and
// keeps the clusters they describe converged on Docker Swarm, writing each
// cluster's status to the status directory.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	_ "github.com/ovis-hpc/lvc/drivers/swarm" // the engine driver engine.Connect uses
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/controller"
	"github.com/ovis-hpc/lvc/internal/logging"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/version"
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
			return run(logr.NewContext(cmd.Context(), log), opts)
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
	return cmd
}

func run(ctx context.Context, opts controller.Options) error {
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
	return controller.New(rt, opts).Run(ctx)
}
