// Command lvc is the kubectl-style CLI of lvc: it renders, validates,
// applies and manages LDMSDCluster virtual clusters.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ovis-hpc/lvc/cluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	code, msg := exitStatus(err)
	if msg != nil {
		fmt.Fprintln(os.Stderr, "lvc:", msg)
	}
	if code != 0 {
		os.Exit(code)
	}
}

// exitStalled is lvc's exit code when a cluster it waits for cannot
// become Ready until its manifest or the host changes (1 is any other
// failure; lvc diff uses 1 for differences and 2 for errors, as diff does).
const exitStalled = 3

// exitStatus is the exit code for what run returned, and the error to
// print (nil for none): 0 for nil, an *exitError's code, exitStalled for
// a stalled cluster, else 1.
func exitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, ee.err
	}
	if errors.Is(err, cluster.ErrStalled) {
		return exitStalled, err
	}
	return 1, err
}

// run executes the command line args with the process's stdio.
func run(ctx context.Context, args []string) error {
	return runStdio(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}

// runStdio executes the command line args with the given stdio. An
// *exitError asks for a particular exit code.
func runStdio(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := newRootCommand()
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	return cmd.ExecuteContext(ctx)
}
