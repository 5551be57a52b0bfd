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
	"github.com/ovis-hpc/lvc/drivers/slurm"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/plan"
)

// lvcLogDir holds the stdio of the daemons lvc starts (reconcile's logDir).
const lvcLogDir = "/var/log/lvc"

// daemonLogFiles are the log files of each daemon inside a node: the
// stdio lvc redirects, then the daemon's own log file. ldmsd's own log
// is its log_file, looked up in the spec.
var daemonLogFiles = map[string][]string{
	"sshd":      {lvcLogDir + "/sshd.log"},
	"munged":    {slurm.MungeLog, "/var/log/munge/munged.log"},
	"slurmd":    {lvcLogDir + "/slurmd.log", "/var/log/slurmd.log"},
	"slurmctld": {lvcLogDir + "/slurmctld.log", "/var/log/slurmctld.log"},
	"ldmsd":     {lvcLogDir + "/ldmsd.out"},
}

func newLogsCommand(g *globalOptions) *cobra.Command {
	var follow bool
	var tail int
	cmd := &cobra.Command{
		Use:   "logs NAME NODE [DAEMON] [-f] [--tail N]",
		Short: "Print a daemon's log on a node, or the container's log",
		Long: `logs prints the log files of DAEMON (sshd, munged, slurmctld, slurmd or
ldmsd) inside NODE, a hostname or alias: the output lvc redirects from the
daemon (/var/log/lvc/DAEMON.log or .out, /var/log/munge/munged.out) and the
daemon's own log (ldmsd's log_file, /var/log/slurmd.log, ...), each under a
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

// logFiles returns the log files of daemon on the node hostname.
func logFiles(st *v1.LDMSDCluster, hostname, daemon string) ([]string, error) {
	files, ok := daemonLogFiles[daemon]
	if !ok {
		known := make([]string, 0, len(daemonLogFiles))
		for d := range daemonLogFiles {
			known = append(known, d)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("unknown daemon %q: %s", daemon, strings.Join(known, ", "))
	}
	files = slices.Clone(files)
	if daemon == v1.ServiceLdmsd {
		files = append(files, ldmsdLogFile(st, hostname))
	}
	return files, nil
}

// ldmsdLogFile is the log_file of the ldmsd of a node, by the spec the
// status file was computed from; the default when that is unknown.
func ldmsdLogFile(st *v1.LDMSDCluster, hostname string) string {
	if st != nil {
		obj := st.DeepCopy()
		obj.Status = nil
		if p, err := plan.Build(obj); err == nil {
			if n := p.Node(hostname); n != nil {
				for _, d := range n.Daemons {
					if d.LogFile != "" {
						return d.LogFile
					}
				}
			}
		}
	}
	return v1.DefaultLogFile
}

// containerLogs prints a container's own log, as docker logs does.
func containerLogs(ctx context.Context, cmd *cobra.Command, e engine.Interactive, id string, follow bool, tail int) error {
	return e.ContainerLogs(ctx, id, engine.LogOptions{Follow: follow, Tail: tail}, cmd.OutOrStdout(), cmd.ErrOrStderr())
}
