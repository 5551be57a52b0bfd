// Package testenv gives end-to-end tests a real Docker engine, unique
// cluster names and cleanup by label that runs even when a test fails.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/engine"
)

// EnvE2E set to 1 makes a missing engine a test failure instead of a skip;
// `make test` sets it.
const EnvE2E = "LVC_E2E"

// Image is the node image end-to-end tests run.
func Image() string {
	if img := os.Getenv("LVC_IMAGE"); img != "" {
		return img
	}
	return "lvc-node:latest"
}

// Engine connects to the real engine, or skips (fails under LVC_E2E=1)
// when none answers.
func Engine(t testing.TB) *swarm.Engine {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := swarm.NewFromEnv(ctx)
	if err != nil {
		if os.Getenv(EnvE2E) == "1" {
			t.Fatalf("end-to-end test needs a Docker engine: %v", err)
		}
		t.Skipf("no Docker engine (run hack/ensure-docker.sh, or make test): %v", err)
	}
	if _, err := e.Client().ImageInspect(ctx, Image()); err != nil {
		e.Close()
		if os.Getenv(EnvE2E) == "1" {
			t.Fatalf("end-to-end test needs image %s: %v", Image(), err)
		}
		t.Skipf("no image %s (run hack/build-image.sh): %v", Image(), err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// ClusterName returns a cluster name unique to this test run, and removes
// every object labelled with it when the test ends, pass or fail.
func ClusterName(t testing.TB, rt engine.Runtime) string {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := "t-" + strings.ToLower(sanitize(t.Name())) + "-" + hex.EncodeToString(b)
	if len(name) > 40 {
		name = name[len(name)-40:]
		name = strings.TrimLeft(name, "-_.")
	}
	t.Cleanup(func() { RemoveCluster(t, rt, name) })
	return name
}

// RemoveCluster removes every container and network labelled for cluster.
func RemoveCluster(t testing.TB, rt engine.Runtime, cluster string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs, err := rt.Containers(ctx, cluster)
	if err != nil {
		t.Errorf("cleanup %s: %v", cluster, err)
	}
	for _, c := range cs {
		if err := rt.RemoveContainer(ctx, c.ID); err != nil {
			t.Errorf("cleanup %s: %v", cluster, err)
		}
	}
	ns, err := rt.Networks(ctx, cluster)
	if err != nil {
		t.Errorf("cleanup %s: %v", cluster, err)
	}
	for _, n := range ns {
		if err := rt.RemoveNetwork(ctx, n.ID); err != nil {
			t.Errorf("cleanup %s: %v", cluster, err)
		}
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '-'
	}, s)
}

// OvisPrefix is the host's OVIS build: LVC_OVIS_PREFIX or /opt/ovis.
func OvisPrefix() string {
	if p := os.Getenv("LVC_OVIS_PREFIX"); p != "" {
		return p
	}
	return "/opt/ovis"
}

// HaveOvis tells whether OvisPrefix holds an ldmsd.
func HaveOvis() bool {
	_, err := os.Stat(OvisPrefix() + "/sbin/ldmsd")
	return err == nil
}

// OvisMissing says what is missing for ldmsd tests.
func OvisMissing() string {
	return "no ldmsd at " + OvisPrefix() + "/sbin/ldmsd: build OVIS there (or set LVC_OVIS_PREFIX) to run the ldmsd tests"
}

// NeedOvis skips a test that needs a real ldmsd when there is none.
func NeedOvis(t testing.TB) {
	t.Helper()
	if !HaveOvis() {
		t.Skip(OvisMissing())
	}
}

// Eventually retries f every 100 ms until it returns "" and fails the test
// with f's last message when timeout passes first.
func Eventually(t testing.TB, timeout time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WithAgent builds lvc-agent and makes the engines the test connects to
// afterwards give it to the containers they create.
func WithAgent(t *testing.T) {
	t.Helper()
	t.Setenv(swarm.EnvAgent, AgentProgram(t))
}

// AgentProgram builds lvc-agent (static) for the test and returns its path.
func AgentProgram(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lvc-agent")
	build := exec.Command("go", "build", "-o", bin, "github.com/ovis-hpc/lvc/cmd/lvc-agent")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build lvc-agent: %v\n%s", err, out)
	}
	return bin
}

// OutputFile is a file to give a command as its stdout or stderr (lvc
// exec's agent path takes files only), closed when the test ends.
func OutputFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
