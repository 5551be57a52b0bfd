package cluster

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ovis-hpc/lvc/engine"
)

// Container is one node of a cluster, as the Python LDMSDContainer was.
type Container struct {
	Hostname string
	Aliases  []string
	Name     string // Docker container name
	ID       string
	IP       string // first address on the cluster network
	Running  bool
	role     string // the status's node role (service, compute)
	rt       engine.Runtime
}

// Result is a finished command: exit code and separate outputs.
type Result struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
}

// Output is stdout then stderr, as the Python exec_run returned them.
func (r Result) Output() string { return string(r.Stdout) + string(r.Stderr) }

// Exec runs argv and returns its exit code and output; a non-zero exit
// code is not an error.
func (ct *Container) Exec(ctx context.Context, argv ...string) (Result, error) {
	return ct.ExecInput(ctx, nil, argv...)
}

// ExecInput is Exec with stdin.
func (ct *Container) ExecInput(ctx context.Context, stdin io.Reader, argv ...string) (Result, error) {
	r, err := ct.rt.Exec(ctx, ct.ID, engine.ExecOptions{Argv: argv, Stdin: stdin})
	return Result(r), err
}

// Shell runs a command line with sh -c, like the Python exec_run(str).
func (ct *Container) Shell(ctx context.Context, cmd string) (Result, error) {
	return ct.Exec(ctx, "sh", "-c", cmd)
}

// WriteFile writes content to path, in place.
func (ct *Container) WriteFile(ctx context.Context, path string, content []byte) error {
	return ct.rt.WriteFiles(ctx, ct.ID, []engine.File{{Path: path, Content: content}})
}

// ReadFile returns a file's content.
func (ct *Container) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return ct.rt.ReadFile(ctx, ct.ID, path)
}

// Interfaces maps each network interface to its addresses (CIDR form).
func (ct *Container) Interfaces(ctx context.Context) (map[string][]string, error) {
	r, err := ct.Exec(ctx, "ip", "-o", "addr", "show")
	if err != nil {
		return nil, err
	}
	if r.ExitCode != 0 {
		return nil, fmt.Errorf("ip addr: %s", r.Stderr)
	}
	return ParseIPAddr(string(r.Stdout)), nil
}

// ParseIPAddr reads `ip -o addr show`.
func ParseIPAddr(out string) map[string][]string {
	m := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && (f[2] == "inet" || f[2] == "inet6") {
			dev := strings.SplitN(f[1], "@", 2)[0]
			m[dev] = append(m[dev], f[3])
		}
	}
	return m
}

// Pgrep runs pgrep with args; exit code 0 means a match.
func (ct *Container) Pgrep(ctx context.Context, args ...string) (Result, error) {
	return ct.Exec(ctx, append([]string{"pgrep"}, args...)...)
}

// CheckLdmsd tells whether an ldmsd runs on the node.
func (ct *Container) CheckLdmsd(ctx context.Context) (bool, error) {
	r, err := ct.Pgrep(ctx, "-x", "ldmsd")
	return err == nil && r.ExitCode == 0, err
}

// LdmsLs runs ldms_ls with args on the node.
func (ct *Container) LdmsLs(ctx context.Context, args ...string) (Result, error) {
	return ct.Exec(ctx, append([]string{"ldms_ls"}, args...)...)
}

// Set is one set of ldms_ls -l output.
type Set struct {
	Name    string
	State   string // consistent or inconsistent
	Metrics map[string]Metric
}

// Metric is one metric line: M (meta) or D (data), its type and value.
type Metric struct {
	Kind  string
	Type  string
	Value string
}

// ParseLdmsLs reads ldms_ls output: plain (one set name a line) or -l.
func ParseLdmsLs(out string) []Set {
	var sets []Set
	var cur *Set
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if t == "" {
			cur = nil
			continue
		}
		f := strings.Fields(t)
		if cur != nil && len(f) >= 4 && (f[0] == "M" || f[0] == "D") {
			cur.Metrics[f[2]] = Metric{Kind: f[0], Type: f[1], Value: strings.Join(f[3:], " ")}
			continue
		}
		name, rest, long := strings.Cut(t, ": ")
		if !long {
			sets = append(sets, Set{Name: t, Metrics: map[string]Metric{}})
			cur = nil
			continue
		}
		state, _, _ := strings.Cut(rest, ",")
		sets = append(sets, Set{Name: name, State: state, Metrics: map[string]Metric{}})
		cur = &sets[len(sets)-1]
	}
	return sets
}
