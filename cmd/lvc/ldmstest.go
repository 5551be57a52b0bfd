package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ovis-hpc/lvc/ldmstest"
)

func newLdmsTestCommand(*globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ldms-test",
		Short: "Run ovis-hpc/ldms-test scripts on lvc (install the runtime plugin)",
	}
	var force bool
	install := &cobra.Command{
		Use:   "install DIR",
		Short: "Write lvc's runtime plugin into an ldms-test checkout (DIR/runtime/lvc.py)",
		Long: `install writes lvc's runtime plugin for ovis-hpc/ldms-test, a Python
module embedded in this lvc, to DIR/runtime/lvc.py, DIR being an ldms-test
checkout (it must hold LDMS_Test.py). A test script then runs its cluster
on lvc with --runtime lvc: lvc up creates the cluster from the script's spec
with every daemon the nodes declare running and restart: never, so that
the script's own kill_ldmsd() and start_ldmsd() decide. Rerun install after
updating lvc; a runtime/lvc.py that lvc did not write is kept unless --force.`,
		Example: `  lvc ldms-test install ~/ldms-test
  cd ~/ldms-test && ./agg_test --runtime lvc --image lvc-node:latest --prefix /opt/ovis`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := ldmstest.Install(args[0], force)
			if err != nil {
				return err
			}
			dir := args[0]
			if abs, err := filepath.Abs(dir); err == nil {
				dir = abs
			}
			fmt.Fprintf(cmd.OutOrStdout(), `wrote %s
Run a test on lvc (lvc on the PATH, Docker reachable, the node image built):
  cd %s && ./agg_test --runtime lvc --image lvc-node:latest --prefix /opt/ovis --clustername agg
or set runtime = lvc in the [ldms-test] section of %s.
Each cluster's manifest and status are kept in ~/.lvc/ldms-test/NAME (dir = ... in an [lvc] section);
lvc get NAME --manifests ~/.lvc/ldms-test/NAME/clusters --status-dir ~/.lvc/ldms-test/NAME/status shows one.
`, path, dir, filepath.Join(dir, "ldms-test.conf"))
			return nil
		},
	}
	install.Flags().BoolVar(&force, "force", false, "overwrite a runtime/lvc.py that lvc did not write")
	cmd.AddCommand(install)
	return cmd
}
