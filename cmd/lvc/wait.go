package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
)

func newWaitCommand(g *globalOptions) *cobra.Command {
	var forCond string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait NAME --for=condition=TYPE[=STATUS]|--for=delete [--timeout=30s]",
		Short: "Wait until a cluster's condition holds, or until it is deleted",
		Long: `wait exits 0 once the condition holds and 1 with "timed out waiting for
the condition" when --timeout passes first. condition=TYPE waits for the
condition TYPE (Ready, NetworkReady, NodesReady, SshdReady, MungeReady,
SlurmReady, LdmsdReady, or any other) of the status file to be True (or
STATUS); Ready also needs the status to be of the current generation.
delete waits until no container or network is labelled for the cluster.
Status files change only while lvc-controller (or lvc up) runs.`,
		Example: `  lvc wait ldms_slurm --for=condition=Ready --timeout=2m
  lvc wait ldms_slurm --for=condition=LdmsdReady=False
  lvc wait ldms_slurm --for=delete`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeClusters(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			typ, want, isDelete, err := parseFor(forCond)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := newClient(ctx, g, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			cl := c.Cluster(name)
			if isDelete {
				err = cl.WaitDeleted(ctx)
			} else {
				err = waitCondition(ctx, cl, typ, want)
			}
			if isTimeout(err) {
				hint := ""
				if !isDelete && !c.ControllerRunning() {
					hint = "; " + noControllerMessage(g.StatusDir)
				}
				last := strings.TrimPrefix(strings.TrimPrefix(err.Error(), cluster.ErrTimeout.Error()+": "), name+": ")
				if !isDelete {
					last = conditionNow(cl, typ)
				}
				return fmt.Errorf("timed out waiting for the condition on ldmsdcluster/%s: %s%s", name, last, hint)
			}
			if err != nil {
				return err
			}
			what := "condition met"
			if isDelete {
				what = "deleted"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ldmsdcluster/%s %s\n", name, what)
			return nil
		},
	}
	cmd.Flags().StringVar(&forCond, "for", "", "condition=TYPE[=STATUS] or delete")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait")
	_ = cmd.MarkFlagRequired("for")
	return cmd
}

// parseFor reads --for: condition=TYPE[=STATUS] or delete.
func parseFor(s string) (typ, status string, isDelete bool, err error) {
	if s == "delete" {
		return "", "", true, nil
	}
	rest, ok := strings.CutPrefix(s, "condition=")
	if !ok || rest == "" {
		return "", "", false, fmt.Errorf("--for=%s: want condition=TYPE[=STATUS] or delete", s)
	}
	typ, status, _ = strings.Cut(rest, "=")
	if typ == "" {
		return "", "", false, fmt.Errorf("--for=%s: no condition type", s)
	}
	switch strings.ToLower(status) {
	case "", "true":
		status = v1.ConditionTrue
	case "false":
		status = v1.ConditionFalse
	case "unknown":
		status = v1.ConditionUnknown
	default:
		return "", "", false, fmt.Errorf("--for=%s: status %q is not True, False or Unknown", s, status)
	}
	return typ, status, false, nil
}

// waitCondition polls the status file until condition typ has status.
// Ready=True is Cluster.Wait's: of the current generation too.
func waitCondition(ctx context.Context, cl *cluster.Cluster, typ, status string) error {
	if status == v1.ConditionTrue {
		return cl.Wait(ctx, typ)
	}
	for pause := 50 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		st, err := cl.Status()
		if err != nil {
			return err
		}
		if c := st.Condition(typ); c != nil && c.Status == status {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s is not %s", cluster.ErrTimeout, typ, status)
		case <-time.After(pause):
		}
	}
}

// conditionNow says what the status file says of condition typ.
func conditionNow(cl *cluster.Cluster, typ string) string {
	st, err := cl.Status()
	switch {
	case err != nil:
		return err.Error()
	case st == nil || st.Status == nil:
		return "no status yet"
	}
	c := st.Condition(typ)
	if c == nil {
		return "the status has no condition " + typ
	}
	msg := fmt.Sprintf("%s is %s", typ, c.Status)
	if c.Reason != "" {
		msg += " (" + c.Reason + ": " + firstLine(c.Message) + ")"
	}
	if typ == v1.ConditionReady && c.Status == v1.ConditionTrue && st.Status.ObservedGeneration != st.Metadata.Generation {
		msg += fmt.Sprintf(" for generation %d, not %d", st.Status.ObservedGeneration, st.Metadata.Generation)
	}
	return msg
}
