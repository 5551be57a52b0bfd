// Command lvc is the kubectl-style CLI of lvc: it renders, validates and
// (with later commands) manages LDMSDCluster virtual clusters.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lvc:", err)
		os.Exit(1)
	}
}

// run executes the command line args.
func run(ctx context.Context, args []string) error {
	cmd := newRootCommand()
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}
