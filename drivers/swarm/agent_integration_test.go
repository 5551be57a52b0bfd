package swarm_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// With the exec agent, started by the first engine exec, Stream runs a
// command as the engine's exec does
// (environment, user, working directory, output, exit status), without
// the engine.
func TestIntegrationAgentRunsAsTheEngineExecDoes(t *testing.T) {
	testenv.WithAgent(t)
	e := testenv.Engine(t)
	_, cs := twoNodes(t, e)
	id := cs[0].ID
	// The agent starts at the container's first engine exec.
	parent := func() string {
		f := testenv.OutputFile(t)
		if _, err := e.Stream(t.Context(), id, engine.StreamOptions{Argv: []string{"sh", "-c", `tr '\0' ' ' </proc/$PPID/cmdline`}, Stdout: f, Stderr: f}); err != nil {
			t.Fatal(err)
		}
		return readBack(t, f)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(parent(), "lvc-agent"); {
		if time.Now().After(deadline) {
			t.Fatal("no agent answers 30 s after the first exec")
		}
		time.Sleep(50 * time.Millisecond)
	}
	script := `env | grep -v '^_=' | sort; id; pwd; echo err >&2; exit 5`
	for _, o := range []engine.StreamOptions{
		{Argv: []string{"sh", "-c", script}},
		{Argv: []string{"sh", "-c", script}, User: "munge", Env: []string{"A=1", "PATH=/bin:/usr/bin"}, WorkDir: "/tmp"},
		{Argv: []string{"sh", "-c", script}, User: "1234:100"},
		{Argv: []string{"no-such-program"}},
	} {
		// Buffers make Stream use the engine's exec; files, the agent.
		var eout, eerr bytes.Buffer
		o.Stdout, o.Stderr = &eout, &eerr
		ecode, err := e.Stream(t.Context(), id, o)
		if err != nil {
			t.Fatal(err)
		}
		aout, aerr := testenv.OutputFile(t), testenv.OutputFile(t)
		o.Stdout, o.Stderr = aout, aerr
		acode, err := e.Stream(t.Context(), id, o)
		if err != nil {
			t.Fatal(err)
		}
		gotOut, gotErr := readBack(t, aout), readBack(t, aerr)
		if ecode == 126 {
			// It did not start; the messages differ (the engine's is runc's).
			if acode != ecode || gotErr == "" {
				t.Errorf("%q: agent %d %q, engine %d", o.Argv, acode, gotErr, ecode)
			}
			continue
		}
		if acode != ecode || gotOut != eout.String() || gotErr != eerr.String() {
			t.Errorf("%q as %q: agent %d\n%s%s\nengine %d\n%s%s", o.Argv, o.User, acode, gotOut, gotErr, ecode, eout.String(), eerr.String())
		}
	}
}

func readBack(t *testing.T, f *os.File) string {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
