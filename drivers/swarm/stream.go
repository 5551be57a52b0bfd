package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/ovis-hpc/lvc/engine"
)

var (
	_ engine.Interactive = (*Engine)(nil)
	_ engine.Interactive = (*Swarm)(nil)
)

// Stream implements engine.Interactive with docker exec's attach.
func (e *Engine) Stream(ctx context.Context, id string, o engine.StreamOptions) (int, error) {
	if code, ok, err := e.streamByAgent(ctx, id, o); ok {
		return code, err
	}
	defer e.startAgent(ctx, id)
	opts := container.ExecOptions{
		Cmd:          o.Argv,
		User:         o.User,
		WorkingDir:   o.WorkDir,
		Env:          o.Env,
		Tty:          o.TTY,
		AttachStdin:  o.Stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
	}
	var size *[2]uint
	if o.TTY && o.Size != nil {
		size = &[2]uint{o.Size.Height, o.Size.Width}
		opts.ConsoleSize = size
	}
	created, err := e.cli.ContainerExecCreate(ctx, id, opts)
	if err != nil {
		return 0, &ExecError{Argv: o.Argv, Err: err}
	}
	hijack, err := e.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: o.TTY, ConsoleSize: size})
	if err != nil {
		return 0, &ExecError{Argv: o.Argv, Err: err}
	}
	defer hijack.Close()
	if o.TTY && o.Size != nil {
		// Engines before API 1.42 ignore ConsoleSize: size it once attached.
		_ = e.cli.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Height: o.Size.Height, Width: o.Size.Width})
	}
	if o.TTY && o.Resize != nil {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case s, ok := <-o.Resize:
					if !ok {
						return
					}
					_ = e.cli.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Height: s.Height, Width: s.Width})
				}
			}
		}()
	}
	if o.Stdin != nil {
		go func() {
			_, _ = io.Copy(hijack.Conn, o.Stdin)
			_ = hijack.CloseWrite()
		}()
	}
	done := make(chan error, 1)
	go func() {
		var err error
		if o.TTY {
			_, err = io.Copy(o.Stdout, hijack.Reader)
		} else {
			_, err = stdcopy.StdCopy(o.Stdout, o.Stderr, hijack.Reader)
		}
		done <- err
	}()
	select {
	case <-ctx.Done():
		hijack.Close()
		return 0, ctx.Err()
	case err := <-done:
		if err != nil {
			return 0, &ExecError{Argv: o.Argv, Err: err}
		}
	}
	return e.execExitCode(ctx, created.ID, o.Argv)
}

// execExitCode inspects a finished exec. Its output can end a moment
// before the engine records the exit.
func (e *Engine) execExitCode(ctx context.Context, execID string, argv []string) (int, error) {
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		ins, err := e.cli.ContainerExecInspect(ctx, execID)
		if err != nil {
			return 0, &ExecError{Argv: argv, Err: err}
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

// ContainerLogs implements engine.Interactive as docker logs does.
func (e *Engine) ContainerLogs(ctx context.Context, id string, o engine.LogOptions, stdout, stderr io.Writer) error {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: "all"}
	if o.Tail >= 0 {
		opts.Tail = strconv.Itoa(o.Tail)
	}
	rc, err := e.cli.ContainerLogs(ctx, id, opts)
	if err != nil {
		return fmt.Errorf("container logs: %w", notFound(err))
	}
	defer rc.Close()
	_, err = stdcopy.StdCopy(stdout, stderr, rc)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// StatPath implements engine.Interactive.
func (e *Engine) StatPath(ctx context.Context, id, path string) (engine.PathStat, error) {
	st, err := e.cli.ContainerStatPath(ctx, id, path)
	if err != nil {
		return engine.PathStat{}, notFound(err)
	}
	return pathStat(st), nil
}

// CopyTo implements engine.Interactive as docker cp does.
func (e *Engine) CopyTo(ctx context.Context, id, dir string, r io.Reader) error {
	return notFound(e.cli.CopyToContainer(ctx, id, dir, r, container.CopyToContainerOptions{}))
}

// CopyFrom implements engine.Interactive as docker cp does.
func (e *Engine) CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, engine.PathStat, error) {
	rc, st, err := e.cli.CopyFromContainer(ctx, id, path)
	if err != nil {
		return nil, engine.PathStat{}, notFound(err)
	}
	return rc, pathStat(st), nil
}

func pathStat(st container.PathStat) engine.PathStat {
	return engine.PathStat{Name: st.Name, Size: st.Size, Mode: st.Mode, LinkTarget: st.LinkTarget}
}

// notFound makes the engine's "no such container or path" wrap
// engine.ErrNotFound, keeping its message.
func notFound(err error) error {
	if err != nil && cerrdefs.IsNotFound(err) && !errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("%w (%w)", err, engine.ErrNotFound)
	}
	return err
}

// The swarm routes each call to the engine of the node hosting id.

func (s *Swarm) Stream(ctx context.Context, id string, o engine.StreamOptions) (int, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return 0, err
	}
	return e.Stream(ctx, id, o)
}

func (s *Swarm) ContainerLogs(ctx context.Context, id string, o engine.LogOptions, stdout, stderr io.Writer) error {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return err
	}
	return e.ContainerLogs(ctx, id, o, stdout, stderr)
}

func (s *Swarm) StatPath(ctx context.Context, id, path string) (engine.PathStat, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return engine.PathStat{}, err
	}
	return e.StatPath(ctx, id, path)
}

func (s *Swarm) CopyTo(ctx context.Context, id, dir string, r io.Reader) error {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return err
	}
	return e.CopyTo(ctx, id, dir, r)
}

func (s *Swarm) CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, engine.PathStat, error) {
	e, err := s.engineFor(ctx, id)
	if err != nil {
		return nil, engine.PathStat{}, err
	}
	return e.CopyFrom(ctx, id, path)
}
