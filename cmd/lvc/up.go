package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newUpCommand(g *globalOptions) *cobra.Command {
	var files []string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "up -f FILE [--timeout 5m]",
		Short: "Apply manifests and converge them here, without lvc-controller",
		Long: `up validates and applies manifests as apply does, then converges each
cluster in this process with the controller's reconciler until it is Ready,
showing each condition as it changes (as kind create cluster does). It
holds the status directory's writer lock meanwhile, and refuses to start
when an lvc-controller holds it: then use lvc apply --wait. The cluster
stays up after lvc up returns; nothing repairs it until the next lvc up or
a controller.`,
		Example: `  lvc up -f manifests/ldms-slurm.yaml
  lvc down ldms_slurm`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := loadValid(cmd.ErrOrStderr(), cmd.InOrStdin(), files)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, progress, err := newProgressClient(ctx, g)
			if err != nil {
				return err
			}
			defer c.Close()
			if c.ControllerRunning() {
				return fmt.Errorf("lvc-controller is running on %s: use lvc apply -f FILE --wait", g.StatusDir)
			}
			for _, obj := range objs {
				if err := applyOne(cmd, c, obj); err != nil {
					return err
				}
				progress.p = newProgressPrinter(cmd, nil)
				if _, err := c.Up(ctx, obj, timeout); err != nil {
					if isTimeout(err) {
						return fmt.Errorf("ldmsdcluster/%s not Ready after %s: %w", obj.Metadata.Name, timeout, err)
					}
					return err
				}
				progress.p.done(obj.Metadata.Name)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file or directory, repeatable (- for standard input)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for each cluster to be Ready")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}
