// Command lvc-agent runs in a node's container and runs commands for lvc
// exec (see internal/agent). lvc builds it static and bind-mounts it.
//
//	lvc-agent [SOCKET] [-- COMMAND [ARG...]]
//
// With a command (the container's own, when lvc makes the agent the
// container's command), it runs it, passes signals on and exits with its
// status, serving meanwhile.
package main

import (
	"os"
	"slices"

	"github.com/ovis-hpc/lvc/internal/agent"
)

func main() {
	args, argv := os.Args[1:], []string(nil)
	if i := slices.Index(args, "--"); i >= 0 {
		args, argv = args[:i], args[i+1:]
	}
	sock := agent.Socket
	if len(args) > 0 {
		sock = args[0]
	}
	os.Exit(agent.Wrap(sock, argv))
}
