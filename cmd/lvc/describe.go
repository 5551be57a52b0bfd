package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
)

// describeEvents is how many of the last events describe shows.
const describeEvents = 20

func newDescribeCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a cluster's conditions, nodes, daemons and recent events",
		Long: `describe prints what the status file and the engine say about a cluster:
its owner (the status directory of the lvc managing it, from the lvc.owner
label); its conditions with reason, message and age; its nodes with aliases,
container, IP address, swarm node and state; its daemons with state, pid,
restarts, ldms sets and last error; and its last 20 events.`,
		Example:           `  lvc describe ldms_slurm`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			s, err := summary(ctx, c, args[0])
			if err != nil {
				return err
			}
			live, err := c.Cluster(s.Name).Containers(ctx)
			if err != nil {
				return err
			}
			events, err := c.Events(s.Name)
			if err != nil {
				return err
			}
			owners, err := clusterOwners(ctx, c.Runtime())
			if err != nil {
				return err
			}
			return describe(cmd.OutOrStdout(), s, owners[s.Name], live, events, time.Now())
		},
	}
}

func describe(w io.Writer, s cluster.Summary, owner string, live []*cluster.Container, events []v1.Event, now time.Time) error {
	st := s.Status
	manifest := s.Manifest
	if manifest == "" {
		manifest = "<none>: orphaned, remove it with lvc delete " + s.Name
	}
	fmt.Fprintf(w, "Name:         %s\n", s.Name)
	fmt.Fprintf(w, "Manifest:     %s\n", manifest)
	fmt.Fprintf(w, "Phase:        %s\n", phase(s))
	if st != nil && st.Status != nil {
		fmt.Fprintf(w, "Generation:   %d (observed %d)\n", st.Metadata.Generation, st.Status.ObservedGeneration)
	}
	fmt.Fprintf(w, "Containers:   %d running of %d\n", s.Running, s.Containers)
	network := "absent"
	if s.Network {
		network = s.Name
	}
	fmt.Fprintf(w, "Network:      %s\n", network)
	fmt.Fprintf(w, "Owner:        %s\n", dash(owner))

	fmt.Fprintln(w, "Conditions:")
	if st == nil || st.Status == nil || len(st.Status.Conditions) == 0 {
		fmt.Fprintln(w, "  <none>")
	} else {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tAGE\tMESSAGE")
		for _, c := range st.Status.Conditions {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, dash(c.Reason), age(c.LastTransitionTime, now), oneLine(c.Message))
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "Nodes:")
	nodes := nodeRows(st, live)
	if len(nodes) == 0 {
		fmt.Fprintln(w, "  <none>")
	} else {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  HOSTNAME\tALIASES\tROLE\tCONTAINER\tIP\tSWARM NODE\tSTATE")
		for _, n := range nodes {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Hostname, dash(strings.Join(n.Aliases, ",")), dash(n.Role), dash(n.Container), dash(n.IP), dash(n.SwarmNode), dash(n.State))
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "Daemons:")
	var daemons int
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  NODE\tDAEMON\tSTATE\tPID\tRESTARTS\tSETS\tSTARTED\tLAST ERROR")
	for _, n := range nodes {
		for _, d := range n.Daemons {
			daemons++
			sets := "-"
			if d.Name == v1.ServiceLdmsd {
				sets = strconv.Itoa(d.Sets)
			}
			pid := "-"
			if d.PID > 0 {
				pid = strconv.Itoa(d.PID)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", n.Hostname, d.Name, dash(d.State), pid, d.Restarts, sets, age(d.StartTime, now), dash(oneLine(d.LastError)))
		}
	}
	if daemons == 0 {
		fmt.Fprintln(w, "  <none>")
	} else {
		tw.Flush()
	}

	fmt.Fprintln(w, "Events:")
	if len(events) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	if len(events) > describeEvents {
		events = events[len(events)-describeEvents:]
	}
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  AGE\tTYPE\tREASON\tOBJECT\tMESSAGE")
	for _, e := range events {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", age(e.Time, now), e.Type, e.Reason, dash(e.Object), oneLine(e.Message))
	}
	return tw.Flush()
}

// nodeRows are the status file's nodes, or the live containers when it
// has none (an orphan without status).
func nodeRows(st *v1.LDMSDCluster, live []*cluster.Container) []v1.NodeStatus {
	if st != nil && st.Status != nil && len(st.Status.Nodes) > 0 {
		return st.Status.Nodes
	}
	var out []v1.NodeStatus
	for _, ct := range live {
		state := "exited"
		if ct.Running {
			state = "running"
		}
		out = append(out, v1.NodeStatus{Hostname: ct.Hostname, Aliases: ct.Aliases, Container: ct.Name, IP: ct.IP, State: state})
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine joins a multi-line message with " | ", to keep tables aligned.
func oneLine(s string) string {
	return strings.Join(strings.Split(strings.TrimSpace(s), "\n"), " | ")
}
