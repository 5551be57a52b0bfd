package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovis-hpc/lvc/cluster"
)

func newDeleteCommand(g *globalOptions) *cobra.Command {
	var files []string
	var wait, ignoreNotFound bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "delete NAME...|-f FILE [--wait=false]",
		Short: "Remove clusters: manifest, every labelled container and network, status",
		Long: `delete removes each named cluster (or each cluster a manifest declares):
its manifest file, when it declares nothing else, every container and
network labelled for it, and its status file and event log. It works when
the manifest or the status is already gone, so it also cleans up what a
crashed run left behind. As kubectl delete does, it then waits until no
labelled object is left; --wait=false returns at once.`,
		Example: `  lvc delete ldms_slurm
  lvc delete -f manifests/ldms-slurm.yaml --wait`,
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := args
			if len(files) > 0 {
				if len(args) > 0 {
					return errors.New("give cluster names or -f, not both")
				}
				var err error
				if names, err = manifestNames(cmd, files); err != nil {
					return err
				}
			}
			if len(names) == 0 {
				return errors.New("give cluster names or -f FILE")
			}
			return runDelete(cmd, g, names, wait, ignoreNotFound, timeout)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "delete the clusters this manifest file or directory declares")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until no object labelled for the cluster is left (swarm removes networks a moment later)")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "a cluster that does not exist is not an error")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long --wait waits")
	return cmd
}

func newDownCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:               "down NAME...",
		Short:             "Remove clusters brought up by lvc up (same as delete)",
		Example:           `  lvc down ldms_slurm`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDelete(cmd, g, args, true, false, time.Minute)
		},
	}
}

// manifestNames returns the names the manifests declare; documents too
// broken to have a name are skipped.
func manifestNames(cmd *cobra.Command, paths []string) ([]string, error) {
	files, err := manifestFiles(paths)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		docs, err := loadManifest(f, cmd.InOrStdin())
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			if d.Cluster != nil && d.Cluster.Metadata.Name != "" {
				names = append(names, d.Cluster.Metadata.Name)
			}
		}
	}
	return names, nil
}

func runDelete(cmd *cobra.Command, g *globalOptions, names []string, wait, ignoreNotFound bool, timeout time.Duration) error {
	ctx := cmd.Context()
	c, err := newClient(ctx, g, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	all, err := c.List(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, s := range all {
		known[s.Name] = true
	}
	var errs []error
	for _, name := range names {
		if !known[name] {
			if !ignoreNotFound {
				errs = append(errs, notFound(name))
			}
			continue
		}
		if err := c.Delete(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", name, err))
			continue
		}
		if wait {
			if err := waitDeleted(ctx, c.Cluster(name), timeout); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		fmt.Fprintf(cmd.OutOrStdout(), "ldmsdcluster/%s deleted\n", name)
	}
	return errors.Join(errs...)
}

func waitDeleted(ctx context.Context, cl *cluster.Cluster, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cl.WaitDeleted(ctx); err != nil {
		if isTimeout(err) {
			return fmt.Errorf("timed out waiting for the deletion of ldmsdcluster/%s: %w", cl.Name, err)
		}
		return err
	}
	return nil
}
