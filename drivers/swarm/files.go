package swarm

import (
	"bytes"
	"context"
)

// WriteFiles writes files into a container in one exec. Each file is
// rewritten in place (truncate, not rename), which /etc/hosts needs since
// it is a bind mount. The contents travel on stdin, never in argv, so
// secrets do not show up in the process table or in exec events.
func (e *Engine) WriteFiles(ctx context.Context, id string, files []File) error {
	if len(files) == 0 {
		return nil
	}
	_, err := Run(ctx, e, id, WriteFilesExec(files, ""))
	return err
}

// ReadFile returns a file's content from a container.
func (e *Engine) ReadFile(ctx context.Context, id, path string) ([]byte, error) {
	r, err := Run(ctx, e, id, ExecOptions{Argv: []string{"cat", "--", path}})
	if err != nil {
		return nil, err
	}
	return bytes.Clone(r.Stdout), nil
}
