package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
)

func newLogsCommand(g *globalOptions) *cobra.Command {
	var follow bool
	var tail int
	cmd := &cobra.Command{
		Use:   "logs NAME NODE [DAEMON] [-f] [--tail N]",
		Short: "Print a daemon's log on a node, or the container's log",
		Long: `logs prints the log files of DAEMON (sshd, munged, slurmctld, slurmd,
ldmsd: lvc render lists each node's) inside NODE, a hostname or alias: the
output lvc redirects from the daemon (/var/log/lvc/DAEMON.log or .out,
/var/log/munge/munged.out) and the daemon's own log (ldmsd's log_file,
/var/log/slurmd.log, ...), each under a
==> FILE <== header when there are several. Without DAEMON it prints the
container's log (docker logs). -f follows until interrupted.`,
		Example: `  lvc logs ldms_slurm sampler-1 ldmsd
  lvc logs ldms_slurm node-5 slurmctld -f
  lvc logs ldms_slurm node-1`,
		Args:              cobra.RangeArgs(2, 3),
		ValidArgsFunction: completeClusterNode(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			ct, err := node(ctx, c, args[0], args[1])
			if err != nil {
				return err
			}
			e, err := interactive(c)
			if err != nil {
				return err
			}
			if len(args) == 2 {
				return containerLogs(ctx, cmd, e, ct.ID, follow, tail)
			}
			st, err := c.Cluster(args[0]).Status()
			if err != nil {
				return err
			}
			files, err := logFiles(st, ct.Hostname, args[2])
			if err != nil {
				return err
			}
			// Only files that exist, unless following: tail -F waits for
			// the others.
			if !follow {
				r, err := ct.Exec(ctx, append([]string{"sh", "-c", `for f; do [ -e "$f" ] && printf '%s\n' "$f"; done; true`, "sh"}, files...)...)
				if err != nil {
					return err
				}
				existing := strings.Fields(string(r.Stdout))
				if len(existing) == 0 {
					return fmt.Errorf("%s on %s has no log yet: none of %s exists", args[2], ct.Hostname, strings.Join(files, ", "))
				}
				files = existing
			}
			n := "+1"
			if tail >= 0 {
				n = strconv.Itoa(tail)
			}
			o := execIO{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()}
			if !follow {
				code, err := streamExec(ctx, e, ct.ID, append([]string{"tail", "-n", n, "--"}, files...), o)
				if err != nil {
					return err
				}
				return exitCode(code)
			}
			// tail -F never ends by itself: it runs until our side of its
			// standard input closes, which happens when ctx ends.
			stdin, w := io.Pipe()
			stop := context.AfterFunc(ctx, func() { w.Close() })
			defer stop()
			o.stdin = stdin
			script := `tail -n "$0" -F -- "$@" & t=$!; cat >/dev/null; kill $t 2>/dev/null; wait $t; true`
			_, err = streamExec(ctx, e, ct.ID, append([]string{"sh", "-c", script, n}, files...), o)
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return nil
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until interrupted")
	cmd.Flags().IntVar(&tail, "tail", -1, "lines to show from the end of each log (-1: all)")
	return cmd
}

// logFiles returns the log files of daemon on the node hostname, by the
// plan of the spec the status file was computed from.
func logFiles(st *v1.LDMSDCluster, hostname, daemon string) ([]string, error) {
	p, err := statusPlan(st)
	if err != nil {
		return nil, err
	}
	n := p.Node(hostname)
	if n == nil {
		return nil, fmt.Errorf("%s is not a node of %s", hostname, p.Cluster)
	}
	d := n.Daemon(daemon)
	if d == nil {
		var known []string
		for _, d := range n.Daemons {
			known = append(known, d.Name)
		}
		return nil, fmt.Errorf("%s runs no daemon %q (it runs: %s)", hostname, daemon, strings.Join(known, ", "))
	}
	return slices.Clone(d.Logs), nil
}

// containerLogs prints a container's own log, as docker logs does.
func containerLogs(ctx context.Context, cmd *cobra.Command, e engine.Interactive, id string, follow bool, tail int) error {
	return e.ContainerLogs(ctx, id, engine.LogOptions{Follow: follow, Tail: tail}, cmd.OutOrStdout(), cmd.ErrOrStderr())
}
