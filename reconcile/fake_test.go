package reconcile

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ovis-hpc/lvc/engine"
)

// fakeRuntime is an in-memory engine: containers with files and process
// tables, execs of the few commands the reconciler runs, and a count of
// every call by kind.
type fakeRuntime struct {
	mu      sync.Mutex
	nets    map[string]engine.Network
	ctrs    map[string]*fakeContainer // by name
	calls   map[string]int
	nextID  int
	nextPID int
	// slow delays the creation of these hostnames' containers, and the
	// start of these daemons (by name); noStart
	// lists daemons ("host/name") whose start leaves no process.
	slow    map[string]time.Duration
	noStart map[string]bool
	// log lists container and daemon starts in order: "container
	// node-1", "ldmsd node-1".
	log []string
}

type fakeContainer struct {
	c     engine.Container
	files map[string][]byte
	procs []engine.Process
}

var _ Runtime = (*fakeRuntime)(nil)

func newFake() *fakeRuntime {
	return &fakeRuntime{nets: map[string]engine.Network{}, ctrs: map[string]*fakeContainer{}, calls: map[string]int{}, nextPID: 100}
}

func (f *fakeRuntime) count(kind string) { f.calls[kind]++ }

// mutations counts the calls that change something.
func (f *fakeRuntime) mutations() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, k := range []string{"createNetwork", "removeNetwork", "createContainer", "removeContainer", "write", "start", "kill"} {
		if f.calls[k] > 0 {
			out[k] = f.calls[k]
		}
	}
	return out
}

func (f *fakeRuntime) resetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
}

func (f *fakeRuntime) EnsureNetwork(_ context.Context, spec engine.NetworkSpec) (engine.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("ensureNetwork")
	if n, ok := f.nets[spec.Name]; ok {
		return n, nil
	}
	f.count("createNetwork")
	n := engine.Network{ID: "net-" + spec.Name, Name: spec.Name, Cluster: spec.Cluster}
	f.nets[spec.Name] = n
	return n, nil
}

func (f *fakeRuntime) Networks(_ context.Context, cluster string) ([]engine.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.Network
	for _, n := range f.nets {
		if cluster == "" || n.Cluster == cluster {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f *fakeRuntime) RemoveNetwork(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("removeNetwork")
	for k, n := range f.nets {
		if n.ID == id {
			delete(f.nets, k)
		}
	}
	return nil
}

func (f *fakeRuntime) Containers(_ context.Context, cluster string) ([]engine.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("list")
	var out []engine.Container
	for _, c := range f.ctrs {
		if cluster == "" || c.c.Cluster == cluster {
			out = append(out, c.c)
		}
	}
	return out, nil
}

func (f *fakeRuntime) EnsureContainer(ctx context.Context, spec engine.ContainerSpec) (engine.Container, error) {
	f.mu.Lock()
	_, exists := f.ctrs[spec.Name]
	slow := f.slow[spec.Hostname]
	f.mu.Unlock()
	if !exists {
		time.Sleep(slow)
	}
	if spec.BeforeStart != nil {
		if err := spec.BeforeStart(ctx); err != nil {
			return engine.Container{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "container "+spec.Hostname)
	if c, ok := f.ctrs[spec.Name]; ok {
		c.c.Running, c.c.State = true, "running"
		return c.c, nil
	}
	f.count("createContainer")
	f.nextID++
	c := &fakeContainer{files: map[string][]byte{}, c: engine.Container{
		ID: fmt.Sprintf("%064d", f.nextID), Name: spec.Name, Cluster: spec.Labels[engine.LabelCluster], Node: spec.Hostname,
		Hash: spec.Labels[engine.LabelHash], Running: true, State: "running", IP: fmt.Sprintf("10.0.0.%d", f.nextID),
		Network: spec.Network, Labels: spec.Labels,
	}}
	f.nextPID++
	c.procs = []engine.Process{{PID: f.nextPID, PPID: 1, Command: "/sbin/docker-init -- sleep infinity"}}
	c.c.InitPID = f.nextPID
	f.ctrs[spec.Name] = c
	return c.c, nil
}

func (f *fakeRuntime) byID(id string) *fakeContainer {
	for _, c := range f.ctrs {
		if c.c.ID == id {
			return c
		}
	}
	return nil
}

func (f *fakeRuntime) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("removeContainer")
	if c := f.byID(id); c != nil {
		delete(f.ctrs, c.c.Name)
	}
	return nil
}

func (f *fakeRuntime) Exec(_ context.Context, id string, opts engine.ExecOptions) (engine.ExecResult, error) {
	var stdin []byte
	if opts.Stdin != nil {
		stdin, _ = io.ReadAll(opts.Stdin)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.byID(id)
	if c == nil {
		return engine.ExecResult{}, fmt.Errorf("no container %s", id)
	}
	argv := opts.Argv
	switch {
	case len(argv) == 2 && argv[0] == "sh" && argv[1] == "-s":
		f.count("write")
		for path, data := range parseWriteScript(string(stdin)) {
			c.files[path] = data
		}
		return engine.ExecResult{}, nil
	case len(argv) == 2 && argv[0] == "cat":
		f.count("read")
		if data, ok := c.files[argv[1]]; ok {
			return engine.ExecResult{Stdout: data}, nil
		}
		return engine.ExecResult{ExitCode: 1}, nil
	case len(argv) >= 3 && argv[0] == "pkill":
		f.count("kill")
		c.procs = removeExe(c.procs, argv[len(argv)-1])
		return engine.ExecResult{}, nil
	case len(argv) > 0 && argv[0] == "sinfo":
		f.count("sinfo")
		return engine.ExecResult{Stdout: []byte("node-1 idle\n")}, nil
	case len(argv) == 3 && argv[0] == "sh" && argv[1] == "-c":
		f.count("check")
		return engine.ExecResult{Stdout: []byte("listening\n3\n")}, nil
	}
	return engine.ExecResult{ExitCode: 127, Stderr: []byte("fake: unknown command")}, nil
}

func removeExe(ps []engine.Process, exe string) []engine.Process {
	var out []engine.Process
	for _, p := range ps {
		if procExe(p.Command) != exe {
			out = append(out, p)
		}
	}
	return out
}

// parseWriteScript reads back the files of engine.WriteFilesExec's script.
func parseWriteScript(s string) map[string][]byte {
	out := map[string][]byte{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		rest, ok := strings.CutPrefix(lines[i], "base64 -d > ")
		if !ok {
			continue
		}
		path := strings.Trim(strings.TrimSuffix(rest, " <<'LVC_EOF'"), "'")
		var enc strings.Builder
		for i++; i < len(lines) && lines[i] != "LVC_EOF"; i++ {
			enc.WriteString(lines[i])
		}
		out[path], _ = base64.StdEncoding.DecodeString(enc.String())
	}
	return out
}

func (f *fakeRuntime) Start(_ context.Context, id string, argv, env []string, _ string) error {
	tag := argv[len(argv)-1]
	name := strings.TrimPrefix(tag, engine.DaemonTag)
	f.mu.Lock()
	slow := f.slow[name]
	f.mu.Unlock()
	time.Sleep(slow)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("start")
	c := f.byID(id)
	f.log = append(f.log, name+" "+c.c.Node)
	for path, data := range parseWriteScript(argv[2]) { // files written by the daemon's own script
		c.files[path] = data
	}
	if f.noStart[c.c.Node+"/"+name] {
		return nil
	}
	f.nextPID++
	c.procs = append(c.procs, engine.Process{PID: f.nextPID, PPID: 1, Command: "/usr/sbin/" + name + " " + strings.Join(env, " ")})
	return nil
}

func (f *fakeRuntime) Top(_ context.Context, id string) ([]engine.Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("top")
	c := f.byID(id)
	if c == nil {
		return nil, fmt.Errorf("no container %s", id)
	}
	return append([]engine.Process(nil), c.procs...), nil
}

func (f *fakeRuntime) WriteFiles(ctx context.Context, id string, files []engine.File) error {
	_, err := f.Exec(ctx, id, engine.WriteFilesExec(files, ""))
	return err
}

func (f *fakeRuntime) ReadFile(ctx context.Context, id, path string) ([]byte, error) {
	r, err := f.Exec(ctx, id, engine.ExecOptions{Argv: []string{"cat", path}})
	return r.Stdout, err
}

func (f *fakeRuntime) Events(ctx context.Context) <-chan engine.Event {
	ch := make(chan engine.Event)
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}
