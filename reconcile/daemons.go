package reconcile

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
)

// daemonSpec is one daemon lvc keeps running on one node.
type daemonSpec struct {
	node    string // hostname
	name    string // sshd, munged, slurmd, slurmctld, ldmsd
	exe     string // basename of the process, to find it in the table
	pre     string // sh run as root before the daemon, may be empty
	argv    []string
	env     []string
	logFile string   // where its stdio goes
	logs    []string // every log of it, logFile first
	hash    string
	// peers identifies the addresses of the other nodes the daemon
	// resolved when it started ("" for none): when they change, it is
	// restarted. Unlike hash, it is not the plan's (lvc diff compares
	// that), and is kept in the status's annotations.
	peers   string
	restart string
	// match, when set, is the daemon's command line in the process table: several
	// daemons of its program run on its node, and only this tells them
	// apart in the process table.
	match string
}

// find returns d's top process in procs, or nil.
func (d *daemonSpec) find(procs []engine.Process) *engine.Process {
	if d.match == "" {
		return findDaemon(procs, d.exe)
	}
	for i := range procs {
		if procs[i].Command == d.match {
			return &procs[i]
		}
	}
	return nil
}

// pkill is the pkill argv that sends sig to d and nothing else.
func (d *daemonSpec) pkill(sig string) []string {
	if d.match == "" {
		return []string{"pkill", "-" + sig, "-x", d.exe}
	}
	return []string{"pkill", "-" + sig, "-f", "-x", regexp.QuoteMeta(d.match)}
}

// key names the daemon in the stopped set and in events.
func (d *daemonSpec) key() string { return d.node + "/" + d.name }

// script is the detached exec's command: prepare, then exec the daemon
// with stdio in its log file. The trailing tag (sh's $0) marks the exec as
// a daemon's, so that its exec_die triggers a reconcile.
func (d *daemonSpec) script() []string {
	var b strings.Builder
	if d.pre != "" {
		b.WriteString(d.pre + " && ")
	}
	fmt.Fprintf(&b, "mkdir -p %s && exec %s >>%s 2>&1 </dev/null",
		engine.ShellQuote([]string{path.Dir(d.logFile)}), engine.ShellQuote(d.argv), engine.ShellQuote([]string{d.logFile}))
	return []string{"sh", "-c", b.String(), engine.DaemonTag + d.name}
}

// findDaemon returns the daemon's top process: one whose executable is
// d.exe and whose parent is not (forks and sessions are skipped).
func findDaemon(procs []engine.Process, exe string) *engine.Process {
	byPID := map[int]*engine.Process{}
	for i := range procs {
		byPID[procs[i].PID] = &procs[i]
	}
	for i := range procs {
		p := &procs[i]
		if engine.Program(p.Command) != exe {
			continue
		}
		if parent, ok := byPID[p.PPID]; ok && engine.Program(parent.Command) == exe {
			continue
		}
		return p
	}
	return nil
}

// stableRun is how long a daemon must have run for its death to start a
// new count of quick deaths (and to be restarted at once).
const stableRun = 5 * time.Second

// backoff is how long after its last start a daemon is started again
// after its n-th quick death in a row: at once after the first, then
// 1s, 2s, 4s ... 60s.
func backoff(restarts int) time.Duration {
	if restarts <= 1 {
		return 0
	}
	return min(time.Second<<min(restarts-2, 6), time.Minute)
}

// superviseNode converges the daemons of one node: starts what is
// missing, restarts what changed, stops what was stopped on purpose. It
// returns the daemons' status and whether any was (re)started.
func (s *state) superviseNode(ctx context.Context, specs []daemonSpec) ([]v1.DaemonStatus, bool, error) {
	if len(specs) == 0 {
		return nil, false, nil
	}
	node := specs[0].node
	c := s.containers[node]
	procs := s.procsOf(node)
	var out []v1.DaemonStatus
	started := false
	for i := range specs {
		d := &specs[i]
		prev := s.prevDaemon(node, d.name)
		st := v1.DaemonStatus{Name: d.name, Hash: d.hash}
		if prev != nil {
			st.Restarts, st.QuickDeaths, st.StartTime, st.PID = prev.Restarts, prev.QuickDeaths, prev.StartTime, prev.PID
			if prev.Hash != "" && prev.Hash != d.hash {
				st.QuickDeaths = 0 // new inputs: earlier deaths say nothing of them
			}
		}
		p := d.find(procs)
		switch {
		case s.stopped[d.key()]:
			if p != nil {
				if err := s.kill(ctx, c, p.PID, d); err != nil {
					return nil, started, err
				}
				s.r.event(ctx, s.name(), "Normal", "Stopped", d.key(), "%s stopped on request", d.name)
			}
			st.State, st.PID = v1.DaemonStopped, 0
			out = append(out, st)
			continue
		case d.restart == v1.RestartManual:
			// The user starts it and restarts it; lvc reports it.
			st.State, st.PID = v1.DaemonNotStarted, 0
			if p != nil {
				st.State = v1.DaemonRunning
				if prev == nil || prev.PID != p.PID {
					st.PID, st.StartTime = p.PID, s.r.clock().UTC().Truncate(time.Second)
				}
			}
			out = append(out, st)
			continue
		case p != nil && (prev == nil || prev.Hash == "" || prev.Hash == d.hash) && !s.peersChanged(d, prev):
			s.setPeers(d)
			st.State = v1.DaemonRunning
			if prev == nil || prev.PID != p.PID {
				st.PID, st.StartTime = p.PID, s.r.clock().UTC().Truncate(time.Second)
			}
			out = append(out, st)
			continue
		case p != nil && (prev.Hash == "" || prev.Hash == d.hash): // so its peers changed, and prev != nil
			s.r.event(ctx, s.name(), "Normal", "Restarting", d.key(), "%s: nodes it connects to have new addresses: restarting it", d.name)
			if err := s.kill(ctx, c, p.PID, d); err != nil {
				return nil, started, err
			}
		case p != nil:
			s.r.event(ctx, s.name(), "Normal", "Restarting", d.key(), "%s inputs changed (config, env or command): restarting it", d.name)
			if err := s.kill(ctx, c, p.PID, d); err != nil {
				return nil, started, err
			}
		case prev != nil && prev.State == v1.DaemonExited && d.restart == v1.RestartNever && (prev.Hash == "" || prev.Hash == d.hash):
			st.State, st.PID = v1.DaemonExited, 0 // and stays so
			out = append(out, st)
			continue
		case prev != nil && (prev.PID != 0 || prev.State == v1.DaemonBackOff) && prev.State != v1.DaemonStopped:
			// It ran and died (and may be waiting out its backoff already).
			if d.restart == v1.RestartNever {
				st.State, st.PID = v1.DaemonExited, 0
				if prev.State != v1.DaemonExited {
					s.r.event(ctx, s.name(), "Warning", "Exited", d.key(), "%s (pid %d) exited; restart policy never", d.name, prev.PID)
				}
				out = append(out, st)
				continue
			}
			ran := s.r.clock().Sub(prev.StartTime)
			switch {
			case prev.State == v1.DaemonBackOff: // this death is counted already
			case ran >= stableRun:
				st.QuickDeaths = 1
			default:
				st.QuickDeaths = prev.QuickDeaths + 1
			}
			if wait := backoff(st.QuickDeaths) - ran; wait > 0 {
				st.State, st.PID = v1.DaemonBackOff, 0
				s.requeueAfter(wait)
				out = append(out, st)
				continue
			}
			st.Restarts++
			died := fmt.Sprintf("%s (pid %d) died", d.name, prev.PID)
			if prev.State == v1.DaemonBackOff {
				died = d.name + " died, back-off over"
			}
			s.r.event(ctx, s.name(), "Warning", "Restarting", d.key(), "%s: starting it again (restart %d)", died, st.Restarts)
		case prev != nil && prev.State == v1.DaemonFailed && prev.Hash == d.hash && s.r.clock().Sub(prev.StartTime) < backoff(prev.QuickDeaths):
			// It could not start a moment ago: wait out the back-off,
			// whatever brings a reconcile meanwhile.
			st.State, st.PID, st.LastError = v1.DaemonFailed, 0, prev.LastError
			s.requeueAfter(backoff(prev.QuickDeaths) - s.r.clock().Sub(prev.StartTime))
			out = append(out, st)
			continue
		case s.early.failure(d.key()) != nil:
			err := s.early.failure(d.key())
			st.State, st.PID, st.LastError = v1.DaemonFailed, 0, err.Error()
			st.StartTime = s.r.clock().UTC().Truncate(time.Second)
			s.requeueAfter(time.Second)
			s.r.event(ctx, s.name(), "Warning", "StartFailed", d.key(), "%s", err.Error())
			out = append(out, st)
			continue
		default:
			s.r.event(ctx, s.name(), "Normal", "Starting", d.key(), "starting %s", d.name)
		}
		pid, err := s.start(ctx, c, d)
		s.setPeers(d)
		started = true
		st.StartTime = s.r.clock().UTC().Truncate(time.Second)
		if err != nil {
			// A start that fails counts as a quick death.
			st.State, st.PID, st.LastError = v1.DaemonFailed, 0, err.Error()
			st.QuickDeaths = 1
			if prev != nil && prev.State == v1.DaemonFailed && prev.Hash == d.hash {
				st.QuickDeaths = prev.QuickDeaths + 1
			}
			s.requeueAfter(max(backoff(st.QuickDeaths), time.Second))
			s.r.event(ctx, s.name(), "Warning", "StartFailed", d.key(), "%s", err.Error())
		} else {
			st.State, st.PID = v1.DaemonRunning, pid
		}
		out = append(out, st)
	}
	s.crashLoops(node, out)
	return out, started, nil
}

// crashLoops stalls the cluster for each daemon of node that died
// crashLoopDeaths times in a row soon after its start, while it waits out
// its back-off or until its new run has lasted stableRun: Ready would
// only flap in between.
func (s *state) crashLoops(node string, ds []v1.DaemonStatus) {
	for _, d := range ds {
		if d.QuickDeaths < crashLoopDeaths {
			continue
		}
		switch {
		case d.State == v1.DaemonFailed:
			s.stall("CrashLoopBackOff", fmt.Sprintf("%s on %s failed to start %d times in a row; it is tried again with back-off: %s",
				d.Name, node, d.QuickDeaths, d.LastError))
		case d.State == v1.DaemonBackOff || (d.State == v1.DaemonRunning && s.r.clock().Sub(d.StartTime) < stableRun):
			s.stall("CrashLoopBackOff", fmt.Sprintf("%s on %s died %d times in a row soon after its start (lvc logs %s %s %s); it is restarted with back-off",
				d.Name, node, d.QuickDeaths, s.name(), node, d.Name))
		}
	}
}

// start runs the daemon detached and waits until it shows up in the
// process table; a daemon that dies at once fails with its log's tail.
func (s *state) start(ctx context.Context, c engine.Container, d *daemonSpec) (int, error) {
	if err := s.r.Runtime.Start(ctx, c.ID, d.script(), d.env, ""); err != nil {
		return 0, err
	}
	// Daemons show up within about 0.1 s: short pauses find them soon.
	pause := 10 * time.Millisecond
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); pause = min(2*pause, 50*time.Millisecond) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(pause):
		}
		procs, err := s.r.Runtime.Top(ctx, c.ID)
		if err != nil {
			return 0, err
		}
		if p := d.find(procs); p != nil {
			s.setProcs(d.node, procs)
			return p.PID, nil
		}
	}
	// Its last lines, from each of its logs that has some (ldmsd says why
	// in its log_file, not on its stdio).
	logs := d.logs
	if len(logs) == 0 {
		logs = []string{d.logFile}
	}
	r, _ := s.r.Runtime.Exec(ctx, c.ID, engine.ExecOptions{Argv: append([]string{"sh", "-c", `for f; do [ -s "$f" ] && { echo "$f:"; tail -n 3 -- "$f"; }; done; true`, "sh"}, logs...)})
	return 0, fmt.Errorf("%s did not stay up; its logs end: %s", d.name, strings.Join(strings.Fields(string(r.Stdout)), " "))
}

// kill ends a daemon (TERM, then KILL after 5s) and waits until it is gone.
func (s *state) kill(ctx context.Context, c engine.Container, pid int, d *daemonSpec) error {
	// docker top shows host PIDs; inside the container PIDs differ, so
	// kill by name and host PID is only used to tell when it is gone.
	sig := "TERM"
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := s.r.Runtime.Exec(ctx, c.ID, engine.ExecOptions{Argv: d.pkill(sig)}); err != nil {
			return err
		}
		for pause := 20 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
			procs, err := s.r.Runtime.Top(ctx, c.ID)
			if err != nil {
				return err
			}
			if findByPID(procs, pid) == nil {
				s.setProcs(c.Node, procs)
				return nil
			}
			if time.Now().After(deadline) {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		}
		if sig == "KILL" {
			return fmt.Errorf("%s (pid %d) does not die", d.name, pid)
		}
		sig, deadline = "KILL", time.Now().Add(5*time.Second)
	}
}

func findByPID(procs []engine.Process, pid int) *engine.Process {
	for i := range procs {
		if procs[i].PID == pid {
			return &procs[i]
		}
	}
	return nil
}

// prevDaemon is the daemon's status from the last status file.
func (s *state) prevDaemon(node, name string) *v1.DaemonStatus {
	if s.prev == nil || s.prev.Status == nil {
		return nil
	}
	for _, n := range s.prev.Status.Nodes {
		if n.Hostname != node {
			continue
		}
		// A re-created container starts with no daemons.
		if n.ContainerID != shortID(s.containers[node].ID) {
			return nil
		}
		for i := range n.Daemons {
			if n.Daemons[i].Name == name {
				return &n.Daemons[i]
			}
		}
	}
	return nil
}

// annotationPeers, in the status file, maps each daemon with peers
// (node/daemon) to the peers it started with (daemonSpec.peers).
const annotationPeers = "lvc/peers"

// peersChanged tells whether the running daemon started with other peers
// than it has now. A daemon of another container, or never recorded (as
// after an upgrade of lvc), is taken to have the current ones.
func (s *state) peersChanged(d *daemonSpec, prev *v1.DaemonStatus) bool {
	if d.peers == "" || prev == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	had := s.peers[d.key()]
	return had != "" && had != d.peers
}

// setPeers records the peers a daemon runs with.
func (s *state) setPeers(d *daemonSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.peers == "" {
		delete(s.peers, d.key())
		return
	}
	s.peers[d.key()] = d.peers
}
