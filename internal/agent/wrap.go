package agent

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// Wrap serves sock while it runs argv, the container's own command, and
// returns argv's exit status. As the container's command, the agent is
// there from the container's start, and again after each restart, without
// an exec of its own. Signals the container gets are passed to argv. An
// agent that cannot serve leaves argv running: the engine's exec serves.
// Without argv it serves until it is killed.
func Wrap(sock string, argv []string) int {
	served := make(chan error, 1)
	go func() { served <- Serve(sock) }()
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "lvc-agent:", <-served)
		return 1
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "lvc-agent:", err)
		return 127 // as a shell, or the engine, answers a command it cannot run
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	go func() {
		if err := <-served; err != nil {
			fmt.Fprintln(os.Stderr, "lvc-agent: no exec agent:", err)
		}
	}()
	_ = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
