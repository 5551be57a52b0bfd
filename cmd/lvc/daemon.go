package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovis-hpc/lvc/cluster"
	"github.com/ovis-hpc/lvc/drivers/kinds"
)

func newStopCommand(g *globalOptions) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "stop NAME NODE DAEMON",
		Short: "Stop a daemon on a node on purpose (fault injection); it stays down until lvc start",
		Long: `stop marks DAEMON on NODE (a hostname or alias) stopped in the status
directory and kills it, so that neither lvc-controller nor lvc up restarts it
until lvc start. DAEMON is its name as lvc describe lists it: sshd, munged,
slurmctld, slurmd, ldmsd, or the name a spec in the ldms-test format gives it
(such as sampler-daemon). It returns once the status says it is stopped.`,
		Example:           `  lvc stop ldms_slurm sampler-1 ldmsd`,
		Args:              cobra.ExactArgs(3),
		ValidArgsFunction: completeClusterNode(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, ct, err := daemonNode(ctx, g, args)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Cluster(args[0]).StopDaemon(ctx, ct.Hostname, args[2], timeout); err != nil {
				if isTimeout(err) {
					return fmt.Errorf("%s/%s not stopped after %s: %w", ct.Hostname, args[2], timeout, err)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s stopped\n", ct.Hostname, args[2])
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for the process to end")
	return cmd
}

func newStartCommand(g *globalOptions) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "start NAME NODE DAEMON",
		Short: "Start again a daemon stopped with lvc stop, and wait until it runs",
		Long: `start clears the stopped mark of DAEMON on NODE and waits until the status
says it runs: lvc-controller starts it when one runs, otherwise this command
converges the cluster itself, as lvc up does.`,
		Example:           `  lvc start ldms_slurm sampler-1 ldmsd --timeout 1m`,
		Args:              cobra.ExactArgs(3),
		ValidArgsFunction: completeClusterNode(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, ct, err := daemonNode(ctx, g, args)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Cluster(args[0]).StartDaemon(ctx, ct.Hostname, args[2], timeout); err != nil {
				if isTimeout(err) {
					return fmt.Errorf("%s/%s not running after %s: %w", ct.Hostname, args[2], timeout, err)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s started\n", ct.Hostname, args[2])
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait until the daemon runs")
	return cmd
}

// daemonNode connects and resolves NAME NODE DAEMON; the daemon must be
// one the node runs, by its status, or a known one when there is no
// status. The caller closes the client.
func daemonNode(ctx context.Context, g *globalOptions, args []string) (*cluster.Client, *cluster.Container, error) {
	c, err := newClient(ctx, g, nil)
	if err != nil {
		return nil, nil, err
	}
	ct, err := node(ctx, c, args[0], args[1])
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	st, err := c.Cluster(args[0]).Status()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	known := kinds.Names()
	if st != nil && st.Status != nil {
		known = nil
		for _, n := range st.Status.Nodes {
			if n.Hostname == ct.Hostname {
				for _, d := range n.Daemons {
					known = append(known, d.Name)
				}
			}
		}
	}
	if !slices.Contains(known, args[2]) {
		c.Close()
		return nil, nil, fmt.Errorf("%s of %s runs no daemon %q (it runs: %s)", ct.Hostname, args[0], args[2], strings.Join(known, ", "))
	}
	return c, ct, nil
}
