package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovis-hpc/lvc/tada"
)

// tadaStateEnv names the environment variable that gives --state a default.
const tadaStateEnv = "LVC_TADA_STATE"

func newTadaCommand(*globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tada",
		Short: "Report a shell test's assertions to a TADA daemon (tadad)",
		Long: `tada reports a test's results to tadad over UDP, as the Python LDMS_Test
module's TADATest did, from the separate commands of a shell test. start
declares the assertions and keeps the test in a JSON state file, assert
reports one result, finish reports every assertion never asserted as skipped
and exits 0 only if all passed. Nothing listening on the tadad port is not
an error.`,
		Example: `  export LVC_TADA_STATE=$(mktemp -u)
  lvc tada start --suite LDMSD --type LDMSD --name agg-slurm \
      --assert "1:ldms_ls agg-2" --assert "2:job_id on sampler-1"
  if ldms_ls -x sock -p 10000 -h agg-2 | grep -q node-1/meminfo; then r=PASS; else r=FAIL; fi
  lvc tada assert 1 $r "node-1/meminfo in ldms_ls agg-2"
  lvc tada finish   # assertion 2 is skipped: exits 1`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newTadaStartCommand(), newTadaAssertCommand(), newTadaFinishCommand())
	return cmd
}

// addStateFlag adds --state, defaulting to $LVC_TADA_STATE.
func addStateFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "state", os.Getenv(tadaStateEnv), "state file of the test (env "+tadaStateEnv+")")
}

func requireState(path string) error {
	if path == "" {
		return fmt.Errorf("--state FILE (or %s) is required", tadaStateEnv)
	}
	return nil
}

func newTadaStartCommand() *cobra.Command {
	var (
		state   string
		cfg     tada.Config
		asserts []string
	)
	cmd := &cobra.Command{
		Use:   "start --state FILE --suite S --type T --name N --assert NO:DESC...",
		Short: "Send test-start and save the test in a new state file",
		Long:  "start declares the assertions, sends test-start to tadad and writes the state file, which must not exist yet. The test-id is the hex SHA-256 of SUITE:TYPE:NAME:USER:COMMIT:START-SECONDS.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireState(state); err != nil {
				return err
			}
			declared, err := parseAsserts(asserts)
			if err != nil {
				return err
			}
			cfg.Out = cmd.OutOrStdout()
			test, err := tada.New(cfg)
			if err != nil {
				return err
			}
			for _, a := range declared {
				test.AddAssertion(a.No, a.Desc)
			}
			return withStateLock(cmd.Context(), state, func() error {
				if _, err := os.Stat(state); err == nil {
					return fmt.Errorf("state file %s exists: a test is in progress; finish it or remove the file", state)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				if err := test.Start(cmd.Context()); err != nil {
					return err
				}
				return writeTadaState(state, test.State())
			})
		},
	}
	addStateFlag(cmd, &state)
	f := cmd.Flags()
	f.StringVar(&cfg.Suite, "suite", "", "test suite (required)")
	f.StringVar(&cfg.Type, "type", "", "test type (required)")
	f.StringVar(&cfg.Name, "name", "", "test name (required)")
	f.StringVar(&cfg.Desc, "desc", "", "test description (default: the name)")
	f.StringVar(&cfg.Host, "host", tada.DefaultHost, "tadad host")
	f.IntVar(&cfg.Port, "port", tada.DefaultPort, "tadad UDP port")
	f.StringVar(&cfg.User, "user", "", "test user (default: the current user)")
	f.StringVar(&cfg.CommitID, "commit", tada.DefaultCommitID, "commit id of the program under test")
	f.StringArrayVar(&asserts, "assert", nil, "assertion NO:DESC, repeatable, in report order")
	for _, name := range []string{"suite", "type", "name"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// parseAsserts parses NO:DESC declarations; numbers must be unique.
func parseAsserts(specs []string) ([]tada.Assertion, error) {
	var out []tada.Assertion
	seen := map[int]bool{}
	for _, s := range specs {
		n, desc, ok := strings.Cut(s, ":")
		no, err := strconv.Atoi(strings.TrimSpace(n))
		if !ok || err != nil {
			return nil, fmt.Errorf("--assert %q: want NO:DESC with an integer NO", s)
		}
		if seen[no] {
			return nil, fmt.Errorf("--assert %q: assertion %d declared twice", s, no)
		}
		seen[no] = true
		out = append(out, tada.Assertion{No: no, Desc: desc})
	}
	return out, nil
}

func newTadaAssertCommand() *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "assert --state FILE NO true|false|PASS|FAIL COND",
		Short: "Send the result of one assertion and record it in the state file",
		Long:  "assert sends assert-status for the declared assertion NO, passed for true or PASS (also pass, passed) and failed for false or FAIL (also fail, failed), with COND as its condition, and records it. It exits 0 whatever the result; only a usage error (undeclared NO, bad result word, no state file) exits 1.",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireState(state); err != nil {
				return err
			}
			no, err := strconv.Atoi(args[0])
			if err != nil {
				return fmt.Errorf("assertion number %q is not an integer", args[0])
			}
			cond, err := parseResult(args[1])
			if err != nil {
				return err
			}
			return withStateLock(cmd.Context(), state, func() error {
				test, err := restoreTadaTest(cmd, state)
				if err != nil {
					return err
				}
				if !declared(test, no) {
					return fmt.Errorf("assertion %d is not declared in %s", no, state)
				}
				test.Assert(no, cond, args[2])
				return writeTadaState(state, test.State())
			})
		},
	}
	addStateFlag(cmd, &state)
	return cmd
}

func declared(test *tada.Test, no int) bool {
	for _, a := range test.Assertions() {
		if a.No == no {
			return true
		}
	}
	return false
}

// parseResult reads a shell test's result word. 0 and 1 are refused: an
// exit status 0 means success, a boolean 0 means false.
func parseResult(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "pass", "passed":
		return true, nil
	case "false", "fail", "failed":
		return false, nil
	}
	return false, fmt.Errorf("result %q: want true, false, PASS or FAIL", s)
}

func newTadaFinishCommand() *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "finish --state FILE",
		Short: "Send skipped assertions and test-finish; exit 0 only if all passed",
		Long:  "finish sends every declared assertion never asserted as skipped, then test-finish, prints a summary and removes the state file. It exits 0 only if every declared assertion passed.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireState(state); err != nil {
				return err
			}
			return withStateLock(cmd.Context(), state, func() error {
				test, err := restoreTadaTest(cmd, state)
				if err != nil {
					return err
				}
				ferr := test.Finish()
				if err := os.Remove(state); err != nil {
					return err
				}
				if ferr != nil {
					return ferr
				}
				counts := map[tada.Status]int{}
				for _, a := range test.Assertions() {
					counts[a.Status]++
				}
				st := test.State()
				fmt.Fprintf(cmd.OutOrStdout(), "test %s: %d passed, %d failed, %d skipped\n",
					st.Name, counts[tada.Passed], counts[tada.Failed], counts[tada.Skipped])
				if test.ExitCode() != 0 {
					return fmt.Errorf("test %s did not pass", st.Name)
				}
				return nil
			})
		},
	}
	addStateFlag(cmd, &state)
	return cmd
}

// restoreTadaTest reads the state file and restores its test.
func restoreTadaTest(cmd *cobra.Command, path string) (*tada.Test, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no state file %s: run lvc tada start first", path)
	}
	if err != nil {
		return nil, err
	}
	var st tada.State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("read state file %s: %w", path, err)
	}
	st.Out = cmd.OutOrStdout()
	test, err := tada.Restore(cmd.Context(), st)
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return test, nil
}

// writeTadaState replaces the state file atomically.
func writeTadaState(path string, st tada.State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write state file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write state file %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write state file %s: %w", path, err)
	}
	return nil
}

// Lock timing for the state file: asserts of one test may run in parallel
// (shell jobs), each a read-modify-write of the state file.
const (
	stateLockWait  = 10 * time.Second
	stateLockStale = time.Minute
	stateLockPoll  = 10 * time.Millisecond
)

// withStateLock runs fn holding FILE.lock, created exclusively so that it
// works on every OS. A lock older than stateLockStale is left over from a
// killed command and is removed.
func withStateLock(ctx context.Context, path string, fn func() error) error {
	lock := path + ".lock"
	ctx, cancel := context.WithTimeout(ctx, stateLockWait)
	defer cancel()
	for {
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, os.Getpid())
			f.Close()
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("lock state file: %w", err)
		}
		if fi, serr := os.Stat(lock); serr == nil && time.Since(fi.ModTime()) > stateLockStale {
			os.Remove(lock)
			continue
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lock state file %s: held by another lvc tada (remove %s if none runs): %w", path, lock, ctx.Err())
		case <-time.After(stateLockPoll):
		}
	}
	defer os.Remove(lock)
	return fn()
}
