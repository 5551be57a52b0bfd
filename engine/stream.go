package engine

import (
	"context"
	"errors"
	"io"
	"io/fs"
)

// ErrNotFound is wrapped by errors about a container or a path that does
// not exist (detect with errors.Is).
var ErrNotFound = errors.New("not found")

// TermSize is a terminal's size in characters.
type TermSize struct{ Height, Width uint }

// StreamOptions configures Stream: an exec whose stdio is streamed as it
// comes, as docker exec's.
type StreamOptions struct {
	Argv    []string
	Env     []string
	User    string
	WorkDir string
	// TTY gives the command a terminal of Size (when set), resized to each
	// size Resize then sends; all its output goes to Stdout.
	TTY    bool
	Size   *TermSize
	Resize <-chan TermSize
	// Stdin, when not nil, is forwarded; its end closes the command's
	// standard input.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// LogOptions configures ContainerLogs.
type LogOptions struct {
	Follow bool
	Tail   int // lines from the end; -1 for all
}

// PathStat describes a path in a container.
type PathStat struct {
	Name       string
	Size       int64
	Mode       fs.FileMode
	LinkTarget string
}

// Interactive is what a user's commands need beyond Runtime: streamed and
// interactive execs, a container's own log, and copies in and out as tar
// streams, as docker exec, logs and cp do.
type Interactive interface {
	// Stream runs argv with its stdio streamed and returns its exit code.
	// When ctx ends first, the command's stdin is closed and ctx's error
	// returned.
	Stream(ctx context.Context, id string, opts StreamOptions) (int, error)
	// ContainerLogs copies the container's own output to stdout and stderr.
	ContainerLogs(ctx context.Context, id string, opts LogOptions, stdout, stderr io.Writer) error
	// StatPath describes path in the container; a missing path's error
	// wraps ErrNotFound.
	StatPath(ctx context.Context, id, path string) (PathStat, error)
	// CopyTo unpacks the tar stream r into the container's directory dir.
	CopyTo(ctx context.Context, id, dir string, r io.Reader) error
	// CopyFrom returns path in the container as a tar stream.
	CopyFrom(ctx context.Context, id, path string) (io.ReadCloser, PathStat, error)
}
