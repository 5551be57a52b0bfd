package swarm

import (
	"context"
	"fmt"
	"strconv"
)

// Top implements Runtime with ContainerTop (docker top): no exec is
// started, so it is cheap and works while the container is busy.
func (e *Engine) Top(ctx context.Context, id string) ([]Process, error) {
	top, err := e.cli.ContainerTop(ctx, id, []string{"-eo", "pid,ppid,args"})
	if err != nil {
		return nil, fmt.Errorf("top %s: %w", id, err)
	}
	col := map[string]int{}
	for i, t := range top.Titles {
		col[t] = i
	}
	pi, ok1 := col["PID"]
	ppi, ok2 := col["PPID"]
	ci, ok3 := col["COMMAND"]
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("top %s: %w: titles %v", id, errNoProcessTable, top.Titles)
	}
	out := make([]Process, 0, len(top.Processes))
	for _, row := range top.Processes {
		if len(row) <= max(pi, ppi, ci) {
			continue
		}
		pid, _ := strconv.Atoi(row[pi])
		ppid, _ := strconv.Atoi(row[ppi])
		out = append(out, Process{PID: pid, PPID: ppid, Command: row[ci]})
	}
	return out, nil
}
