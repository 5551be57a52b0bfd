package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ovis-hpc/lvc/drivers/swarm"
)

func newExecCommand(g *globalOptions) *cobra.Command {
	var interactive, tty bool
	var user, workdir string
	cmd := &cobra.Command{
		Use:   "exec NAME NODE [-i] [-t] -- COMMAND [ARG...]",
		Short: "Run a command on a node; lvc exits with its exit code",
		Long: `exec runs COMMAND on NODE (a hostname such as node-1, an alias such as
sampler-1, or a container name) of cluster NAME, with the container's
environment. Its stdout and stderr go to lvc's, and lvc exits with its exit
code. -i forwards lvc's standard input; -i -t gives an interactive terminal,
as docker exec -it does.`,
		Example: `  lvc exec mycluster sampler-1 -- ldms_ls -x sock -p 10000 -l
  lvc exec -it mycluster node-1 -- bash`,
		Args:              cobra.MinimumNArgs(3),
		ValidArgsFunction: completeClusterNode(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if at := cmd.ArgsLenAtDash(); at >= 0 && at != 2 {
				return fmt.Errorf("exec takes NAME NODE -- COMMAND: %d arguments before --", at)
			}
			c, err := newClient(cmd.Context(), g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			ct, err := node(cmd.Context(), c, args[0], args[1])
			if err != nil {
				return err
			}
			e, err := engine(cmd.Context(), c, ct.ID)
			if err != nil {
				return err
			}
			o := execIO{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(), tty: tty, user: user, workdir: workdir}
			if interactive {
				o.stdin = cmd.InOrStdin()
			}
			code, err := streamExec(cmd.Context(), e, ct.ID, args[2:], o)
			if err != nil {
				return err
			}
			return exitCode(code)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&interactive, "stdin", "i", false, "forward standard input to the command")
	f.BoolVarP(&tty, "tty", "t", false, "give the command a terminal (with -i: an interactive shell)")
	f.StringVarP(&user, "user", "u", "", "user to run the command as (default root)")
	f.StringVarP(&workdir, "workdir", "w", "", "working directory of the command")
	return cmd
}

// execIO is where a streamed exec's stdio goes.
type execIO struct {
	// stdin, when not nil, is forwarded; its end closes the command's
	// standard input.
	stdin          io.Reader
	stdout, stderr io.Writer
	// tty allocates a terminal; when stdin is a terminal it is put in
	// raw mode for the duration, and its size follows ours.
	tty           bool
	user, workdir string
	env           []string
}

// streamExec runs argv in a container with its output streamed as it
// comes, and returns its exit code. When ctx ends first, the connection
// is closed and ctx's error returned; a command that reads its standard
// input sees it end.
func streamExec(ctx context.Context, e *swarm.Engine, id string, argv []string, o execIO) (int, error) {
	cli := e.Client()
	opts := container.ExecOptions{
		Cmd:          argv,
		User:         o.user,
		WorkingDir:   o.workdir,
		Env:          o.env,
		Tty:          o.tty,
		AttachStdin:  o.stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
	}
	inFile, _ := o.stdin.(*os.File)
	outFile, _ := o.stdout.(*os.File)
	isTerm := func(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }
	var size *[2]uint
	if o.tty {
		t := os.Getenv("TERM")
		if t == "" {
			t = "xterm"
		}
		opts.Env = append(opts.Env, "TERM="+t)
		for _, f := range []*os.File{outFile, inFile} {
			if isTerm(f) {
				if w, h, err := term.GetSize(int(f.Fd())); err == nil && w > 0 && h > 0 {
					size = &[2]uint{uint(h), uint(w)}
					break
				}
			}
		}
		opts.ConsoleSize = size
	}
	created, err := cli.ContainerExecCreate(ctx, id, opts)
	if err != nil {
		return 0, &swarm.ExecError{Argv: argv, Err: err}
	}
	hijack, err := cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: o.tty, ConsoleSize: size})
	if err != nil {
		return 0, &swarm.ExecError{Argv: argv, Err: err}
	}
	defer hijack.Close()

	if o.tty && isTerm(inFile) {
		state, err := term.MakeRaw(int(inFile.Fd()))
		if err != nil {
			return 0, fmt.Errorf("terminal raw mode: %w", err)
		}
		defer func() { _ = term.Restore(int(inFile.Fd()), state) }()
	}
	if o.tty {
		sizeFrom := outFile
		if !isTerm(sizeFrom) {
			sizeFrom = inFile
		}
		if isTerm(sizeFrom) {
			stop := followSize(ctx, e, created.ID, sizeFrom)
			defer stop()
		}
	}
	if o.stdin != nil {
		go func() {
			_, _ = io.Copy(hijack.Conn, o.stdin)
			_ = hijack.CloseWrite()
		}()
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if o.tty {
			_, err = io.Copy(o.stdout, hijack.Reader)
		} else {
			_, err = stdcopy.StdCopy(o.stdout, o.stderr, hijack.Reader)
		}
		done <- err
	}()
	select {
	case <-ctx.Done():
		hijack.Close()
		return 0, ctx.Err()
	case err := <-done:
		if err != nil {
			return 0, &swarm.ExecError{Argv: argv, Err: err}
		}
	}
	return execExitCode(ctx, e, created.ID, argv)
}

// execExitCode inspects a finished exec. Its output can end a moment
// before the engine records the exit.
func execExitCode(ctx context.Context, e *swarm.Engine, execID string, argv []string) (int, error) {
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		ins, err := e.Client().ContainerExecInspect(ctx, execID)
		if err != nil {
			return 0, &swarm.ExecError{Argv: argv, Err: err}
		}
		if !ins.Running {
			return ins.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// followSize gives the exec's terminal the size of f now and at every
// SIGWINCH, until the returned stop is called.
func followSize(ctx context.Context, e *swarm.Engine, execID string, f *os.File) (stop func()) {
	resize := func() {
		w, h, err := term.GetSize(int(f.Fd()))
		if err != nil || w <= 0 || h <= 0 {
			return
		}
		_ = e.Client().ContainerExecResize(ctx, execID, container.ResizeOptions{Height: uint(h), Width: uint(w)})
	}
	resize()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				resize()
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(quit)
	}
}
