package agent

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// As the container's command, the agent runs the image's command, serves
// meanwhile, passes on the signal that stops the container and exits with
// the command's status.
func TestWrapServesRunsAndPassesSignals(t *testing.T) {
	dir := t.TempDir()
	sock, ready := filepath.Join(dir, "agent.sock"), filepath.Join(dir, "ready")
	done := make(chan int, 1)
	go func() {
		done <- Wrap(sock, []string{"sh", "-c", `trap 'exit 7' TERM; : >"$0"; while :; do sleep 0.05; done`, ready})
	}()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		_, errSock := os.Stat(sock)
		_, errReady := os.Stat(ready)
		if errSock == nil && errReady == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command or the agent never started")
		}
	}
	if code, out := runTo(t, sock, Request{Argv: []string{"echo", "served"}}); code != 0 || out != "served\n" {
		t.Errorf("served command = %d %q", code, out)
	}
	// The signal reaches this process, where Wrap has it caught (the
	// command started after that), and goes on to the command.
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 7 {
			t.Errorf("Wrap = %d, want the command's 7", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("the command did not end on SIGTERM")
	}
}

func TestWrapCommandThatCannotStart(t *testing.T) {
	if code := Wrap(filepath.Join(t.TempDir(), "agent.sock"), []string{"/nonexistent/command"}); code != 127 {
		t.Errorf("Wrap = %d, want 127", code)
	}
}
