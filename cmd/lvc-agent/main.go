// Command lvc-agent runs in a node's container and runs commands for lvc
// exec (see internal/agent). lvc builds it static and bind-mounts it.
package main

import (
	"fmt"
	"os"

	"github.com/ovis-hpc/lvc/internal/agent"
)

func main() {
	sock := agent.Socket
	if len(os.Args) > 1 {
		sock = os.Args[1]
	}
	if err := agent.Serve(sock); err != nil {
		fmt.Fprintln(os.Stderr, "lvc-agent:", err)
		os.Exit(1)
	}
}
