package swarm

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// Exec implements Runtime: create, attach, copy stdio in a goroutine, wait
// for it or for ctx, then inspect for the exit code.
func (e *Engine) Exec(ctx context.Context, id string, opts ExecOptions) (ExecResult, error) {
	created, err := e.cli.ContainerExecCreate(ctx, id, container.ExecOptions{
		Cmd:          opts.Argv,
		Env:          opts.Env,
		User:         opts.User,
		AttachStdin:  opts.Stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return ExecResult{}, &ExecError{Argv: opts.Argv, Err: err}
	}
	hijack, err := e.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return ExecResult{}, &ExecError{Argv: opts.Argv, Err: err}
	}
	defer hijack.Close()

	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		if opts.Stdin != nil {
			go func() {
				_, _ = io.Copy(hijack.Conn, opts.Stdin)
				_ = hijack.CloseWrite()
			}()
		}
		_, err := stdcopy.StdCopy(&stdout, &stderr, hijack.Reader)
		done <- err
	}()
	select {
	case <-ctx.Done():
		return ExecResult{}, &ExecError{Argv: opts.Argv, Err: ctx.Err()}
	case err := <-done:
		if err != nil {
			return ExecResult{}, &ExecError{Argv: opts.Argv, Err: err}
		}
	}
	ins, err := e.cli.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return ExecResult{}, &ExecError{Argv: opts.Argv, Err: err}
	}
	return ExecResult{ExitCode: ins.ExitCode, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, nil
}

// Start implements Runtime.
func (e *Engine) Start(ctx context.Context, id string, argv, env []string, user string) error {
	created, err := e.cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: argv, Env: env, User: user})
	if err != nil {
		return &ExecError{Argv: argv, Err: err}
	}
	if err := e.cli.ContainerExecStart(ctx, created.ID, container.ExecStartOptions{Detach: true}); err != nil {
		return &ExecError{Argv: argv, Err: err}
	}
	return nil
}

var errNoProcessTable = errors.New("no process table")
