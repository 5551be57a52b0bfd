package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ovis-hpc/lvc/cluster"
)

func newSbatchCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "sbatch NAME SCRIPT [-- OPTION...]",
		Short: "Submit a batch script from the host to the cluster's Slurm; print the job id",
		Long: `sbatch copies SCRIPT, a file on the host, to a new directory under /tmp
of the service node and submits it there with sbatch OPTIONs; the job is
named after the script. Slurm keeps its own copy, so the temporary file is
removed afterwards. It prints the job id alone, for scripts:
job=$(lvc sbatch NAME job.sh).`,
		Example: `  lvc sbatch ldms_slurm job.sh
  lvc sbatch ldms_slurm job.sh -- -N 2 --output=/tmp/job-%j.out`,
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if at := cmd.ArgsLenAtDash(); at >= 0 && at != 2 {
				return fmt.Errorf("sbatch takes NAME SCRIPT -- OPTIONS: %d arguments before --", at)
			}
			if cmd.ArgsLenAtDash() < 0 && len(args) > 2 {
				return fmt.Errorf("sbatch takes NAME SCRIPT -- OPTIONS: put sbatch options after --")
			}
			script, err := os.ReadFile(args[1])
			if err != nil {
				return fmt.Errorf("sbatch: %w", err)
			}
			ctx := cmd.Context()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			svc, err := serviceNode(ctx, c, args[0])
			if err != nil {
				return err
			}
			b := make([]byte, 6)
			_, _ = rand.Read(b)
			// The script keeps its name: Slurm names the job after it.
			dir := "/tmp/lvc-sbatch-" + hex.EncodeToString(b)
			tmp := path.Join(dir, filepath.Base(args[1]))
			if err := svc.WriteFile(ctx, tmp, script); err != nil {
				return fmt.Errorf("copy %s to %s:%s: %w", args[1], svc.Hostname, tmp, err)
			}
			defer func() { _, _ = svc.Exec(context.WithoutCancel(ctx), "rm", "-rf", dir) }()
			job, err := c.Cluster(args[0]).Sbatch(ctx, tmp, args[2:]...)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), job)
			return nil
		},
	}
}

func newSqueueCommand(g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "squeue NAME [JOBID...] [-o table|json]",
		Short: "List the cluster's Slurm jobs, or the given ones",
		Long: `squeue runs squeue on the service node. The table is squeue's own output;
-o json prints the jobs as a JSON list of objects keyed by squeue -o %all's
column names (JOBID, STATE, NODELIST, ...).`,
		Example: `  lvc squeue ldms_slurm
  lvc squeue ldms_slurm 3 -o json`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("unknown output format %q: table or json", output)
			}
			jobs, err := jobIDs(args[1:])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			svc, err := serviceNode(ctx, c, args[0])
			if err != nil {
				return err
			}
			if output == "json" {
				list, err := c.Cluster(args[0]).Squeue(ctx, jobs...)
				if err != nil {
					return err
				}
				if list == nil {
					list = []cluster.Job{}
				}
				data, err := json.MarshalIndent(list, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", data)
				return err
			}
			argv := []string{"squeue"}
			if len(args) > 1 {
				argv = append(argv, "-j", joinInts(jobs))
			}
			e, err := interactive(c)
			if err != nil {
				return err
			}
			code, err := streamExec(ctx, e, svc.ID, argv, execIO{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			return exitCode(code)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newScancelCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:               "scancel NAME JOBID...",
		Short:             "Cancel Slurm jobs of the cluster",
		Example:           `  lvc scancel ldms_slurm 3`,
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			jobs, err := jobIDs(args[1:])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := serviceNode(ctx, c, args[0]); err != nil {
				return err
			}
			for _, j := range jobs {
				if err := c.Cluster(args[0]).Scancel(ctx, j); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func joinInts(v []int) string {
	s := ""
	for i, n := range v {
		if i > 0 {
			s += ","
		}
		s += strconv.Itoa(n)
	}
	return s
}

// jobIDs parses Slurm job ids given as arguments.
func jobIDs(args []string) ([]int, error) {
	var jobs []int
	for _, a := range args {
		j, err := strconv.Atoi(a)
		if err != nil || j <= 0 {
			return nil, fmt.Errorf("job id %q is not a positive number", a)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}
