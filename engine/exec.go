package engine

import (
	"context"
	"fmt"
	"strings"
)

// ExecError is an exec that could not run or finished badly; it prints the
// command as a shell line with what it said.
type ExecError struct {
	Argv   []string
	Result ExecResult
	Err    error
}

func (e *ExecError) Error() string {
	msg := fmt.Sprintf("exec %s", ShellQuote(e.Argv))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	} else {
		msg += fmt.Sprintf(": exit code %d", e.Result.ExitCode)
	}
	if out := strings.TrimSpace(string(e.Result.Stderr)); out != "" {
		msg += ": " + out
	}
	return msg
}

func (e *ExecError) Unwrap() error { return e.Err }

// Run is Exec for callers to whom a non-zero exit code is an error.
func Run(ctx context.Context, rt Runtime, id string, opts ExecOptions) (ExecResult, error) {
	r, err := rt.Exec(ctx, id, opts)
	if err == nil && r.ExitCode != 0 {
		err = &ExecError{Argv: opts.Argv, Result: r}
	}
	return r, err
}

// ShellQuote renders argv as one POSIX shell line.
func ShellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r == '-' || r == '_' || r == '.' || r == '/' || r == '=' || r == ':' || r == ',' || r == '@' || r == '%' || r == '+' ||
				(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
