package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveAt starts an agent on a socket of the test's.
func serveAt(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	go func() { _ = Serve(sock) }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatal("agent socket never appeared")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runFile runs req with stdout and stderr both into one file, and returns
// the exit status and the file's path.
func runFile(t *testing.T, sock string, req Request) (int, string) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	code, err := Run(t.Context(), sock, req, null, out, out)
	if err != nil {
		t.Fatalf("Run(%q) = %v", req.Argv, err)
	}
	return code, out.Name()
}

// runTo is runFile, returning what the file holds.
func runTo(t *testing.T, sock string, req Request) (int, string) {
	t.Helper()
	code, path := runFile(t, sock, req)
	b, _ := os.ReadFile(path)
	return code, string(b)
}

func TestRunExitStatusOutputAndEnv(t *testing.T) {
	sock := serveAt(t)
	t.Setenv("LVC_AGENT_BASE", "base")
	code, out := runTo(t, sock, Request{
		Argv: []string{"sh", "-c", `echo out; echo err >&2; echo "$LVC_AGENT_BASE $A $HOME"; pwd; exit 3`},
		Env:  []string{"A=over", "HOME=/h"}, WorkDir: "/tmp"})
	if want := "out\nerr\nbase over /h\n/tmp\n"; code != 3 || out != want {
		t.Errorf("= %d %q, want 3 %q", code, out, want)
	}
}

func TestRunFindsTheCommandOnItsOwnPath(t *testing.T) {
	sock := serveAt(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "only-here"), []byte("#!/bin/sh\necho found\n"), 0o755)
	if code, out := runTo(t, sock, Request{Argv: []string{"only-here"}, Env: []string{"PATH=" + dir}}); code != 0 || out != "found\n" {
		t.Errorf("on its PATH = %d %q, want 0 found", code, out)
	}
	if code, out := runTo(t, sock, Request{Argv: []string{"no-such-command-here"}}); code != 126 || !strings.Contains(out, "not found") {
		t.Errorf("missing command = %d %q, want 126, as the engine answers, and why", code, out)
	}
}

func TestRunSignalledIs128PlusSignal(t *testing.T) {
	sock := serveAt(t)
	if code, _ := runTo(t, sock, Request{Argv: []string{"sh", "-c", "kill -9 $$"}}); code != 128+9 {
		t.Errorf("= %d, want 137", code)
	}
}

func TestRunAsUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching users needs root")
	}
	sock := serveAt(t)
	code, out := runTo(t, sock, Request{Argv: []string{"sh", "-c", "id -u; echo $HOME"}, User: "nobody"})
	if code != 0 || !strings.HasPrefix(out, "65534\n") {
		t.Errorf("as nobody = %d %q, want uid 65534", code, out)
	}
	if code, out := runTo(t, sock, Request{Argv: []string{"true"}, User: "no-such-user"}); code != 126 || !strings.Contains(out, "no such user") {
		t.Errorf("unknown user = %d %q, want 126 and why", code, out)
	}
}

// A child left running keeps the command's output pipe, not the caller's:
// the caller's ends with the command (its output up to then delivered).
func TestRunReturnsWhenTheCommandEnds(t *testing.T) {
	sock := serveAt(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	code, err := Run(t.Context(), sock, Request{Argv: []string{"sh", "-c", "sleep 300 & echo $!"}}, null, w, w)
	w.Close()
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	var out []byte
	select {
	case out = <-got:
	case <-time.After(60 * time.Second):
		t.Error("the caller's output stayed open while the command's child ran")
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if pid > 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if err != nil || code != 0 || pid == 0 {
		t.Fatalf("= %d, %v, output %q", code, err, out)
	}
}

// A Direct command writes into the caller's file itself: the file holds
// what it wrote, in order, and what a child it left writes later, which
// the agent's own pipes stop passing on once the command has ended.
func TestRunDirectGivesTheCallersFiles(t *testing.T) {
	code, path := runFile(t, serveAt(t), Request{Direct: true,
		Argv: []string{"sh", "-c", "echo a; echo b >&2; (sleep 0.5; echo late) & echo $!; exit 5"}})
	if code != 5 {
		t.Fatalf("= %d, want 5", code)
	}
	b, _ := os.ReadFile(path)
	if lines := strings.Split(string(b), "\n"); len(lines) < 3 || lines[0] != "a" || lines[1] != "b" {
		t.Fatalf("output %q, want a, b, the child's PID", b)
	}
	for deadline := time.Now().Add(time.Minute); !strings.HasSuffix(string(b), "\nlate\n"); b, _ = os.ReadFile(path) {
		if time.Now().After(deadline) {
			t.Fatalf("output %q: the child's line never came", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunCancelKillsTheCommand(t *testing.T) {
	sock := serveAt(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for {
			if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	_, err := Run(ctx, sock, Request{Argv: []string{"sh", "-c", "echo $$ > " + pidFile + "; exec sleep 300"}}, null, null, null)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	b, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for deadline := time.Now().Add(30 * time.Second); syscall.Kill(pid, 0) == nil; {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the command (pid %d) still runs 30 s after the cancel", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunWithoutAgentIsUnavailable(t *testing.T) {
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	_, err := Run(t.Context(), filepath.Join(t.TempDir(), "none.sock"), Request{Argv: []string{"true"}}, null, null, null)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("= %v, want ErrUnavailable", err)
	}
}

func TestRunSendsARequestLargerThanTheSocketBuffer(t *testing.T) {
	sock := serveAt(t)
	var env []string
	for i := range 16 { // 1 MiB, several times the socket's buffer
		env = append(env, fmt.Sprintf("A%d=%s", i, strings.Repeat("x", 64<<10)))
	}
	code, out := runTo(t, sock, Request{Argv: []string{"sh", "-c", `echo ${#A15}`}, Env: env})
	if code != 0 || out != "65536\n" {
		t.Errorf("= %d %q, want 0 %q", code, out, "65536\n")
	}
}
