package swarm_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// The agent is the container's command, with the image's under it: it
// answers from the container's start, before any exec, and again after
// the container restarts.
func TestIntegrationAgentIsTheContainersCommand(t *testing.T) {
	testenv.WithAgent(t)
	e := testenv.Engine(t)
	_, cs := twoNodes(t, e)
	c := cs[0]
	procs := func() string {
		t.Helper()
		f := testenv.OutputFile(t)
		o := engine.StreamOptions{Argv: []string{"ps", "-eo", "args"}, Stdout: f, Stderr: f}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			code, ok, err := swarm.StreamByAgent(t.Context(), c.Name, o)
			if ok {
				if err != nil || code != 0 {
					t.Fatalf("ps through the agent = %d, %v", code, err)
				}
				return readBack(t, f)
			}
			if time.Now().After(deadline) {
				t.Fatal("no agent answers 30 s after the container started, with no exec")
			}
		}
	}
	check := func(when string) {
		t.Helper()
		out := procs()
		if !strings.Contains(out, "lvc-agent /run/lvc-agent/sock/agent.sock -- sleep infinity") || !strings.Contains(out, "\nsleep infinity") {
			t.Errorf("%s: processes\n%s\nwant the agent with the image's command under it", when, out)
		}
	}
	check("after EnsureContainer")
	if err := e.Client().ContainerRestart(t.Context(), c.ID, container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	check("after a restart")
}

// With the exec agent, Stream runs a command as the engine's exec does
// (environment, user, working directory, output, exit status), without
// the engine.
func TestIntegrationAgentRunsAsTheEngineExecDoes(t *testing.T) {
	testenv.WithAgent(t)
	e := testenv.Engine(t)
	_, cs := twoNodes(t, e)
	id := cs[0].ID
	// The agent answers once the container runs.
	parent := func() string {
		f := testenv.OutputFile(t)
		if _, err := e.Stream(t.Context(), id, engine.StreamOptions{Argv: []string{"sh", "-c", `tr '\0' ' ' </proc/$PPID/cmdline`}, Stdout: f, Stderr: f}); err != nil {
			t.Fatal(err)
		}
		return readBack(t, f)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(parent(), "lvc-agent"); {
		if time.Now().After(deadline) {
			t.Fatal("no agent answers 30 s after the container started")
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
