package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/ovis-hpc/lvc/drivers/swarm"
)

func newImageCommand(*globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage the node image on the swarm's engines"}
	var from, certDir string
	load := &cobra.Command{
		Use:   "load IMAGE",
		Short: "Copy an image to every swarm node's engine that lacks it (there is no registry)",
		Long: "Save IMAGE once from the source engine (--from, default the local engine) and load it into every\n" +
			"swarm node's engine that does not have the same image ID.",
		Example: "  lvc image load lvc-node:latest",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			rt, closeRT, err := swarm.Connect(ctx)
			if err != nil {
				return err
			}
			defer closeRT()
			targets := map[string]*swarm.Engine{}
			var unreachable map[string]error
			switch r := rt.(type) {
			case *swarm.Swarm:
				targets, unreachable = r.Engines(), r.Unreachable()
			case *swarm.Engine:
				fmt.Fprintln(cmd.ErrOrStderr(), "single engine, not a multi-node swarm: nothing to distribute")
				return nil
			}
			src, err := swarm.Dial(ctx, from, certDir)
			if err != nil {
				return err
			}
			defer src.Close()
			if err := swarm.DistributeImage(ctx, src, targets, args[0], func(node, what string) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", node, what)
			}); err != nil {
				return err
			}
			// A ready node whose engine does not answer did not get it.
			for _, node := range slices.Sorted(maps.Keys(unreachable)) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: not reached: %v\n", node, unreachable[node])
			}
			if len(unreachable) > 0 {
				return fmt.Errorf("%s not loaded into %d swarm node(s) whose engine does not answer", args[0], len(unreachable))
			}
			return nil
		},
	}
	load.Flags().StringVar(&from, "from", "unix:///var/run/docker.sock", "engine that has the image")
	load.Flags().StringVar(&certDir, "from-cert-path", "", "TLS material (ca.pem, cert.pem, key.pem) for a tcp:// --from")
	cmd.AddCommand(load)
	return cmd
}
