package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
	"github.com/ovis-hpc/lvc/drivers/ldmsd"
	"github.com/ovis-hpc/lvc/drivers/munged"
	"github.com/ovis-hpc/lvc/drivers/slurm"
	"github.com/ovis-hpc/lvc/drivers/sshd"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/plan"
)

func wants(service string) func(*plan.Plan) bool {
	return func(p *plan.Plan) bool { return slices.Contains(p.Services, service) }
}

// runDaemons supervises specs on their nodes in parallel and records
// their status. It reports whether any daemon was (re)started.
func (s *state) runDaemons(ctx context.Context, specs []daemonSpec) (bool, error) {
	byNode := map[string][]daemonSpec{}
	var nodes []string
	for _, d := range specs {
		if _, ok := byNode[d.node]; !ok {
			nodes = append(nodes, d.node)
		}
		byNode[d.node] = append(byNode[d.node], d)
	}
	var mu sync.Mutex
	started := false
	err := forEach(ctx, s.r.workers(), nodes, func(ctx context.Context, node string) error {
		st, any, err := s.superviseNode(ctx, byNode[node])
		mu.Lock()
		defer mu.Unlock()
		started = started || any
		s.daemons[node] = append(s.daemons[node], st...)
		return err
	})
	return started, err
}

// daemonsReady tells whether every daemon named name that lvc starts is
// running, and lists those that are not.
func (s *state) daemonsReady(name string) (bool, string) {
	var bad []string
	for _, n := range s.plan.Nodes {
		for _, d := range s.daemons[n.Hostname] {
			if d.Name == name && d.State != v1.DaemonRunning && !s.manual(n.Hostname, d.Name) {
				bad = append(bad, fmt.Sprintf("%s on %s is %s", name, n.Hostname, d.State))
			}
		}
	}
	sort.Strings(bad)
	return len(bad) == 0, strings.Join(bad, "; ")
}

// manual tells whether the daemon name of node is restart: manual.
func (s *state) manual(node, name string) bool {
	n := s.plan.Node(node)
	if n == nil {
		return false
	}
	for _, d := range n.Daemons {
		if d.Name == name {
			return d.Restart == v1.RestartManual
		}
	}
	return false
}

// allManual sets condition True when every daemon of specs (some) is
// restart: manual, which lvc neither starts nor waits for, and tells
// whether it did.
func (s *state) allManual(specs []daemonSpec, condition, what string) bool {
	if len(specs) == 0 {
		return false
	}
	running := 0
	for _, d := range specs {
		if d.restart != v1.RestartManual {
			return false
		}
		if ds := s.daemon(d.node, d.name); ds != nil && ds.State == v1.DaemonRunning {
			running++
		}
	}
	s.setCondition(condition, v1.ConditionTrue, "Manual",
		fmt.Sprintf("restart: manual: %s started by the user, %d of %d running", what, running, len(specs)))
	return true
}

// Daemon kinds the phases below run (drivers/kinds).
const (
	sshdKind      = "sshd"
	mungedKind    = "munged"
	slurmctldKind = "slurmctld"
	slurmdKind    = "slurmd"
	ldmsdKind     = "ldmsd"
)

// specsOf lists the plan's daemons of kind k on every node.
func (s *state) specsOf(k string) []daemonSpec {
	var out []daemonSpec
	for i := range s.plan.Nodes {
		n := &s.plan.Nodes[i]
		for _, d := range n.DaemonsOf(k) {
			out = append(out, newDaemonSpec(n, d, s.peersOf(d)))
		}
	}
	return out
}

// kindPhase runs the daemons of kind k and sets condition from them.
func kindPhase(k, condition string) func(context.Context, *state) error {
	return func(ctx context.Context, s *state) error {
		specs := s.specsOf(k)
		if _, err := s.runDaemons(ctx, specs); err != nil {
			return err
		}
		if s.allManual(specs, condition, k) {
			return nil
		}
		if ok, msg := s.daemonsReady(k); !ok {
			s.setCondition(condition, v1.ConditionFalse, "NotRunning", msg)
			return nil
		}
		s.setCondition(condition, v1.ConditionTrue, "Running", fmt.Sprintf("%s runs on %d nodes", k, len(specs)))
		return nil
	}
}

var ensureSshd = kindPhase(sshdKind, v1.ConditionSshdReady)

var ensureMunged = kindPhase(mungedKind, v1.ConditionMungeReady)

func ensureSlurm(ctx context.Context, s *state) error {
	// slurmctld first, listening: a slurmd that finds it not yet
	// listening registers only on its next try, a second later.
	ctld := s.specsOf(slurmctldKind)
	started, err := s.runDaemons(ctx, ctld)
	if err != nil {
		return err
	}
	if started {
		if err := s.waitListening(ctx, slurmctldKind); err != nil {
			return err
		}
	}
	slurmd := s.specsOf(slurmdKind)
	specs := append(slices.Clone(ctld), slurmd...)
	more, err := s.runDaemons(ctx, slurmd)
	if err != nil {
		return err
	}
	started = started || more
	if s.allManual(specs, v1.ConditionSlurmReady, "slurmctld and slurmd") {
		return nil
	}
	for _, name := range []string{slurmctldKind, slurmdKind} {
		if ok, msg := s.daemonsReady(name); !ok {
			s.setCondition(v1.ConditionSlurmReady, v1.ConditionFalse, "NotRunning", msg)
			return nil
		}
	}
	if len(s.plan.SlurmNodes) == 0 {
		s.setCondition(v1.ConditionSlurmReady, v1.ConditionTrue, "NoComputeNodes", "slurmctld runs; no sampler nodes run slurmd")
		return nil
	}
	// sinfo only while something changed: Slurm nodes that were idle stay
	// usable while the same daemons run.
	if prev := s.prevCondition(v1.ConditionSlurmReady); !started && prev != nil && prev.Status == v1.ConditionTrue && s.sameDaemonPIDs(specs) {
		return nil
	}
	svc := s.containers[s.plan.ServiceNode]
	r, err := s.r.Runtime.Exec(ctx, svc.ID, engine.ExecOptions{Argv: slurm.SinfoArgv()})
	if err != nil {
		return err
	}
	states := slurm.ParseSinfo(string(r.Stdout))
	var bad []string
	for _, n := range s.plan.SlurmNodes {
		if !slurm.Usable(states[n]) {
			bad = append(bad, fmt.Sprintf("%s is %q", n, states[n]))
		}
	}
	if len(bad) > 0 {
		s.setCondition(v1.ConditionSlurmReady, v1.ConditionFalse, "NodesNotIdle", "sinfo: "+strings.Join(bad, ", "))
		s.requeueAfter(250 * time.Millisecond) // slurmd registers within moments
		return nil
	}
	s.setCondition(v1.ConditionSlurmReady, v1.ConditionTrue, "NodesIdle", fmt.Sprintf("slurmctld on %s; %d slurmd nodes idle or allocated", s.plan.ServiceNode, len(s.plan.SlurmNodes)))
	return nil
}

// ovisLdmsd is the host path whose absence makes LdmsdReady OvisNotFound.
func ovisLdmsd(c *v1.LDMSDCluster) string {
	return filepath.Join(c.Spec.OvisPrefix, "sbin", "ldmsd")
}

func ensureLdmsd(ctx context.Context, s *state) error {
	if bin := ovisLdmsd(s.obj); !fileExists(bin) {
		msg := fmt.Sprintf("%s does not exist on the host: build OVIS and set spec.ovis_prefix to its prefix", bin)
		s.setCondition(v1.ConditionLdmsdReady, v1.ConditionFalse, "OvisNotFound", msg)
		s.stall("OvisNotFound", msg)
		return nil
	}
	specs := s.specsOf(ldmsdKind)
	type check struct {
		node string
		d    plan.Daemon
	}
	var checks []check
	for _, n := range s.plan.Nodes {
		for _, d := range n.DaemonsOf(ldmsdKind) {
			checks = append(checks, check{n.Hostname, d})
		}
	}
	if _, err := s.runDaemons(ctx, specs); err != nil {
		return err
	}
	// Listening and sets, one exec per ldmsd.
	var mu sync.Mutex
	var notListening []string
	err := forEach(ctx, s.r.workers(), checks, func(ctx context.Context, c check) error {
		node, d := c.node, c.d
		ds := s.daemon(node, d.Name)
		if ds == nil || ds.State != v1.DaemonRunning || d.Listen == 0 {
			return nil
		}
		// An idle resync costs no exec: a daemon seen listening with sets,
		// same process, needs no second look.
		if prev := s.prevDaemon(node, d.Name); prev != nil && prev.PID == ds.PID && prev.Listening && prev.Sets > 0 {
			ds.Listening, ds.Sets = true, prev.Sets
			return nil
		}
		r, err := s.r.Runtime.Exec(ctx, s.containers[node].ID, engine.ExecOptions{Argv: []string{"sh", "-c", ldmsd.CheckScript(d.Xprt, d.Listen, d.Auth)}})
		if err != nil {
			return err
		}
		listening, sets := ldmsd.ParseCheck(string(r.Stdout))
		mu.Lock()
		defer mu.Unlock()
		ds.Listening, ds.Sets = listening, sets
		if !listening && d.Restart != v1.RestartManual {
			notListening = append(notListening, fmt.Sprintf("%s on %s does not listen on %d yet", d.Name, node, d.Listen))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.allManual(specs, v1.ConditionLdmsdReady, "ldmsd") {
		return nil
	}
	if ok, msg := s.daemonsReady(ldmsdKind); !ok {
		s.setCondition(v1.ConditionLdmsdReady, v1.ConditionFalse, "NotRunning", msg)
		return nil
	}
	if len(notListening) > 0 {
		sort.Strings(notListening)
		s.setCondition(v1.ConditionLdmsdReady, v1.ConditionFalse, "NotListening", strings.Join(notListening, "; "))
		s.requeueAfter(200 * time.Millisecond)
		return nil
	}
	s.setCondition(v1.ConditionLdmsdReady, v1.ConditionTrue, "Listening", fmt.Sprintf("%d ldmsd running and listening", len(specs)))
	return nil
}

// prevCondition is a condition of the last status file.
func (s *state) prevCondition(typ string) *v1.Condition {
	if s.prev == nil || s.prev.Status == nil {
		return nil
	}
	return v1.FindCondition(s.prev.Status.Conditions, typ)
}

// sameDaemonPIDs tells whether every daemon of specs runs with the PID the
// last status file recorded.
func (s *state) sameDaemonPIDs(specs []daemonSpec) bool {
	for _, d := range specs {
		prev, now := s.prevDaemon(d.node, d.name), s.daemon(d.node, d.name)
		if prev == nil || now == nil || prev.PID != now.PID || now.State != v1.DaemonRunning {
			return false
		}
	}
	return true
}

// daemon returns the status being built for a daemon of a node.
func (s *state) daemon(node, name string) *v1.DaemonStatus {
	for i := range s.daemons[node] {
		if s.daemons[node][i].Name == name {
			return &s.daemons[node][i]
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// serviceFiles are the secret-derived files of a node: the cluster
// secret itself, SSH keys and known_hosts, and the munge key.
func (s *state) serviceFiles(n *plan.Node, hosts []sshd.Host) ([]engine.File, error) {
	files := []engine.File{{Path: SecretPath, Content: []byte(fmt.Sprintf("%x\n", s.secret)), Mode: 0o400}}
	if slices.Contains(s.plan.Services, v1.ServiceSshd) {
		sf, err := s.r.sshKeys.Files(s.secret, s.name(), n.Hostname, hosts)
		if err != nil {
			return nil, err
		}
		for _, f := range sf {
			files = append(files, engine.File{Path: f.Path, Content: f.Content, Mode: f.Mode})
		}
	}
	if slices.Contains(s.plan.Services, v1.ServiceMunged) {
		key, err := munged.Key(s.secret)
		if err != nil {
			return nil, err
		}
		files = append(files, engine.File{Path: munged.KeyPath, Content: key, Mode: 0o400, Owner: munged.User + ":" + munged.User})
	}
	return files, nil
}

// newDaemonSpec is the daemon lvc keeps running for d on n.
func newDaemonSpec(n *plan.Node, d plan.Daemon, peers string) daemonSpec {
	spec := daemonSpec{node: n.Hostname, name: d.Name, exe: d.Exe, pre: d.Pre, argv: d.Argv, env: d.Env.Strings(),
		logFile: d.LogFile(), logs: d.Logs, hash: d.Hash, peers: peers, restart: d.Restart}
	same := 0
	for _, o := range n.Daemons {
		if o.Exe == d.Exe {
			same++
		}
	}
	if same > 1 {
		// From the program on: a wrapper (setpriv) execs it, so the
		// process table shows the program's own command line.
		argv := d.Argv
		if i := slices.IndexFunc(argv, func(a string) bool { return engine.Program(a) == d.Exe }); i > 0 {
			argv = argv[i:]
		}
		spec.match = strings.Join(argv, " ")
	}
	return spec
}

// peersOf identifies the addresses of the cluster's nodes among d's peers,
// "" when it has none: a daemon resolves them once, when it starts (ldmsd
// at prdcr_add, Slurm's daemons their nodes), so one whose peer is
// re-created with another address (moved to another swarm node, say)
// must be restarted to reach it again.
func (s *state) peersOf(d plan.Daemon) string {
	var addrs []string
	for _, host := range d.Peers {
		if n := s.plan.Node(host); n != nil {
			addrs = append(addrs, host+"="+s.containers[n.Hostname].IP)
		}
	}
	if len(addrs) == 0 {
		return ""
	}
	slices.Sort(addrs)
	return kind.HashStrings(addrs...)
}

// waitListening waits until the daemons of kind k that serve a port
// listen on it.
func (s *state) waitListening(ctx context.Context, k string) error {
	for _, n := range s.plan.Nodes {
		for _, d := range n.DaemonsOf(k) {
			if d.Listen == 0 {
				continue
			}
			if _, err := s.r.Runtime.Exec(ctx, s.containers[n.Hostname].ID, engine.WaitListeningExec(d.Listen, 3*time.Second)); err != nil {
				return err
			}
		}
	}
	return nil
}
