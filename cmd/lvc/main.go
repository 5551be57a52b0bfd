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

// exitStatus is the exit code for what run returned, and the error to
// print (nil for none): 0 for nil, an *exitError's code, else 1.
func exitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, ee.err
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
