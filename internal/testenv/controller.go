package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Controller is lvc-controller run as a child process, its output in a
// log file; it is stopped with SIGTERM when the test ends.
type Controller struct {
	t      *testing.T
	bin    string
	args   []string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// NewController prepares bin (BuildController) on the manifests and
// status directories with more args; its log is controller.log in the
// test's artifact directory (kept with go test -artifacts).
func NewController(t *testing.T, bin, manifests, status string, args ...string) *Controller {
	c := &Controller{t: t, bin: bin, log: filepath.Join(t.ArtifactDir(), "controller.log"),
		args: append([]string{"--manifests", manifests, "--status-dir", status}, args...)}
	t.Cleanup(func() {
		if c.Running() {
			c.Stop()
		}
	})
	return c
}

// Start starts it (again, after Kill or Stop).
func (c *Controller) Start() {
	c.t.Helper()
	f, err := os.OpenFile(c.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "=== %s: lvc-controller %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(c.args, " "))
	c.cmd = exec.Command(c.bin, c.args...)
	c.cmd.Stdout, c.cmd.Stderr = f, f
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(c.cmd, c.exited)
}

// Running tells whether it runs.
func (c *Controller) Running() bool {
	if c.cmd == nil {
		return false
	}
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// PID is its process ID.
func (c *Controller) PID() int { return c.cmd.Process.Pid }

// Stop ends the controller with SIGTERM, as an operator would.
func (c *Controller) Stop() {
	c.t.Helper()
	c.signal(syscall.SIGTERM, 60*time.Second)
}

// Kill ends it with SIGKILL: no clean-up code runs.
func (c *Controller) Kill() {
	c.t.Helper()
	c.signal(syscall.SIGKILL, 10*time.Second)
}

func (c *Controller) signal(sig syscall.Signal, wait time.Duration) {
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(wait):
		_ = c.cmd.Process.Kill()
		<-c.exited
		c.t.Errorf("lvc-controller did not end within %s of %v", wait, sig)
	}
}

// Pause stops the controller (SIGSTOP) until Resume (SIGCONT): faults
// injected meanwhile happen at once, as far as it can tell.
func (c *Controller) Pause() { _ = c.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues it after Pause.
func (c *Controller) Resume() { _ = c.cmd.Process.Signal(syscall.SIGCONT) }

// Tail is the end of the controller's log, for failure messages.
func (c *Controller) Tail(n int) string { return Tail(c.log, n) }
