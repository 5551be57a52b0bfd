package main

import (
	"os"

	"github.com/spf13/cobra"
)

// globalOptions are the persistent flags every subcommand may use.
type globalOptions struct {
	// Manifests is the directory of manifests the controller watches.
	Manifests string
	// StatusDir is where the controller writes status files.
	StatusDir string
}

// subcommands make the children of the root command. To add a command,
// write newXxxCommand in its own file and list it here.
var subcommands = []func(*globalOptions) *cobra.Command{
	newApplyCommand,
	newCpCommand,
	newDeleteCommand,
	newDescribeCommand,
	newDiffCommand,
	newDownCommand,
	newEventsCommand,
	newExecCommand,
	newGetCommand,
	newGraphCommand,
	newImageCommand,
	newLdmsTestCommand,
	newLdmsLsCommand,
	newLogsCommand,
	newRenderCommand,
	newSbatchCommand,
	newScancelCommand,
	newSqueueCommand,
	newStartCommand,
	newStopCommand,
	newTadaCommand,
	newUpCommand,
	newValidateCommand,
	newVersionCommand,
	newWaitCommand,
}

// newRootCommand returns the lvc command with every subcommand. Errors
// are returned, not printed: main prints them and exits 1, or with the
// code of an *exitError.
func newRootCommand() *cobra.Command {
	opts := &globalOptions{}
	cmd := &cobra.Command{
		Use:           "lvc",
		Short:         "Virtual HPC clusters for testing LDMS daemons",
		Long:          "lvc builds virtual HPC clusters of Docker containers from LDMSDCluster manifests, to test LDMS (OVIS) daemons.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&opts.Manifests, "manifests", envOr("LVC_MANIFESTS", "./clusters"), "directory of manifests (env LVC_MANIFESTS)")
	f.StringVar(&opts.StatusDir, "status-dir", envOr("LVC_STATUS_DIR", "./status"), "directory of status files (env LVC_STATUS_DIR)")
	for _, sub := range subcommands {
		cmd.AddCommand(sub(opts))
	}
	return cmd
}

// envOr returns the environment variable name, or def when it is unset
// or empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
