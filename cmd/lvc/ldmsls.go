package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ovis-hpc/lvc/cluster"
)

func newLdmsLsCommand(g *globalOptions) *cobra.Command {
	var on string
	cmd := &cobra.Command{
		Use:   "ldms-ls NAME [--node NODE] -- [ARG...]",
		Short: "Run ldms_ls on the service node (or --node); lvc exits with its exit code",
		Long: `ldms-ls runs ldms_ls with ARGs on the cluster's service node (its last
node), or on --node (a hostname or alias), with the node's OVIS
environment; its output is ours and lvc exits with its exit code. Daemons
are reached by their aliases, e.g. -h agg-2.`,
		Example: `  lvc ldms-ls ldms_slurm -- -x sock -p 20001 -h agg-2
  lvc ldms-ls ldms_slurm --node sampler-1 -- -x sock -p 10000 -h localhost -l`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if at := cmd.ArgsLenAtDash(); at > 1 || (at < 0 && len(args) > 1) {
				return fmt.Errorf("ldms-ls takes NAME -- ARGS: put ldms_ls arguments after --")
			}
			ctx := cmd.Context()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			var ct *cluster.Container
			if on != "" {
				ct, err = node(ctx, c, args[0], on)
			} else {
				ct, err = serviceNode(ctx, c, args[0])
			}
			if err != nil {
				return err
			}
			e, err := interactive(c)
			if err != nil {
				return err
			}
			code, err := streamExec(ctx, e, ct.ID, append([]string{"ldms_ls"}, args[1:]...), execIO{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			return exitCode(code)
		},
	}
	cmd.Flags().StringVar(&on, "node", "", "node to run ldms_ls on (default: the service node)")
	return cmd
}
