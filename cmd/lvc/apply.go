package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
	"github.com/ovis-hpc/lvc/plan"
)

func newApplyCommand(g *globalOptions) *cobra.Command {
	var files []string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|- [--wait] [--timeout 5m]",
		Short: "Write manifests to the manifests directory for lvc-controller to converge",
		Long: `apply loads and validates every document of the given manifests first; when
any is invalid it prints every error and writes nothing. Otherwise it writes
each cluster atomically to the manifests directory (the file that already
declares it, else NAME.yaml) and prints ldmsdcluster/NAME created,
configured or unchanged. lvc-controller, watching that directory, then
converges the cluster; --wait waits until it is Ready and shows each
condition as it changes. Without a controller, use lvc up.`,
		Example: `  lvc apply -f manifests/ldms-slurm.yaml --wait
  lvc render -f cluster.yaml -o yaml | lvc apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := loadValid(cmd.ErrOrStderr(), cmd.InOrStdin(), files)
			if err != nil {
				return err
			}
			return runApply(cmd, g, objs, wait, timeout)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file or directory, repeatable (- for standard input)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until each cluster is Ready, showing its conditions")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long --wait waits for each cluster")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// loadValid loads every document of the manifests. When any is invalid
// it prints every error to errOut and returns an error; the clusters are
// returned only when all are valid, at least one, with distinct names.
func loadValid(errOut io.Writer, stdin io.Reader, paths []string) ([]*v1.LDMSDCluster, error) {
	files, err := manifestFiles(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no manifest files in %v", paths)
	}
	var objs []*v1.LDMSDCluster
	var errs []string
	from := map[string]string{}
	for _, f := range files {
		docs, err := loadManifest(f, stdin)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if len(docs) == 0 {
			errs = append(errs, f+": no documents")
		}
		for _, d := range docs {
			for _, e := range d.Errs {
				errs = append(errs, e.Error())
			}
			if len(d.Errs) > 0 || d.Cluster == nil {
				continue
			}
			if _, err := plan.Build(d.Cluster); errors.Is(err, plan.ErrHostFile) {
				errs = append(errs, fmt.Sprintf("%s doc %d: %v", f, d.Source.Doc, err))
				continue
			}
			name := d.Cluster.Metadata.Name
			if prev, dup := from[name]; dup {
				errs = append(errs, (&v1.FieldError{File: f, Doc: d.Source.Doc, Path: "metadata.name", Msg: fmt.Sprintf("cluster %s is also declared in %s", name, prev)}).Error())
				continue
			}
			from[name] = fmt.Sprintf("%s doc %d", f, d.Source.Doc)
			objs = append(objs, d.Cluster)
		}
	}
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(errOut, e)
		}
		return nil, fmt.Errorf("%d errors in %d manifest files: nothing applied", len(errs), len(files))
	}
	return objs, nil
}

func runApply(cmd *cobra.Command, g *globalOptions, objs []*v1.LDMSDCluster, wait bool, timeout time.Duration) error {
	ctx := cmd.Context()
	c, progress, err := newProgressClient(ctx, g)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, obj := range objs {
		if err := applyOne(cmd, c, obj); err != nil {
			return err
		}
	}
	if !c.ControllerRunning() {
		if wait {
			return errors.New(noControllerMessage(g.StatusDir))
		}
		fmt.Fprintln(cmd.ErrOrStderr(), noControllerMessage(g.StatusDir))
		return nil
	}
	if !wait {
		return nil
	}
	for _, obj := range objs {
		progress.p = newProgressPrinter(cmd, func(st *v1.LDMSDCluster) bool { return cluster.Applied(st, obj) })
		if err := waitApplied(ctx, c, obj, timeout); err != nil {
			return err
		}
		progress.p.done(obj.Metadata.Name)
	}
	return nil
}

// waitApplied waits until the controller has made obj Ready.
func waitApplied(ctx context.Context, c *cluster.Client, obj *v1.LDMSDCluster, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := c.Cluster(obj.Metadata.Name).WaitApplied(ctx, obj)
	if isTimeout(err) {
		return fmt.Errorf("timed out after %s waiting for ldmsdcluster/%s to be Ready: %w", timeout, obj.Metadata.Name, err)
	}
	return err
}
