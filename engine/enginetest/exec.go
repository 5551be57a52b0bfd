package enginetest

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ovis-hpc/lvc/engine"
)

// Exec implements engine.Runtime for the commands lvc runs (see the
// package documentation); any other exits 127. Each exec's exec_die
// event follows it, with its command.
func (f *Fake) Exec(ctx context.Context, id string, opts engine.ExecOptions) (engine.ExecResult, error) {
	if err := f.before(ctx, f.callFor("Exec", id, opts.Argv)); err != nil {
		return engine.ExecResult{}, &engine.ExecError{Argv: opts.Argv, Err: err}
	}
	var stdin []byte
	if opts.Stdin != nil {
		var err error
		if stdin, err = io.ReadAll(opts.Stdin); err != nil {
			return engine.ExecResult{}, &engine.ExecError{Argv: opts.Argv, Err: err}
		}
	}
	w := f.w
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.byID(id)
	if c == nil {
		return engine.ExecResult{}, &engine.ExecError{Argv: opts.Argv, Err: fmt.Errorf("container %s: %w", id, engine.ErrNotFound)}
	}
	if !c.c.Running {
		return engine.ExecResult{}, &engine.ExecError{Argv: opts.Argv, Err: fmt.Errorf("container %s is not running", c.c.Name)}
	}
	r := w.run(c, opts.Argv, stdin)
	w.emit(engine.Event{Cluster: c.c.Cluster, Container: c.c.Name, Action: "exec_die", Exec: strings.Join(opts.Argv, " ")})
	return r, nil
}

// run runs one command in c; the caller holds the lock.
func (w *world) run(c *container, argv []string, stdin []byte) engine.ExecResult {
	name := ""
	if len(argv) > 0 {
		name = argv[0]
	}
	switch {
	case len(argv) == 2 && name == "sh" && argv[1] == "-s":
		w.count("write")
		c.scripts = append(c.scripts, string(stdin))
		for p, data := range parseWriteScript(string(stdin)) {
			c.files[p] = data
		}
		return engine.ExecResult{}
	case name == "cat" && len(argv) >= 2:
		w.count("read")
		p := argv[len(argv)-1]
		if data, ok := c.files[p]; ok {
			return engine.ExecResult{Stdout: slices.Clone(data)}
		}
		return engine.ExecResult{ExitCode: 1, Stderr: []byte("cat: " + p + ": No such file or directory\n")}
	case name == "pkill" && len(argv) >= 3:
		w.count("kill")
		match := func(p proc) bool { return engine.Program(p.Command) == argv[len(argv)-1] }
		if slices.Contains(argv, "-f") { // -f -x PATTERN: the whole command line
			re, err := regexp.Compile("^(?:" + argv[len(argv)-1] + ")$")
			if err != nil {
				return engine.ExecResult{ExitCode: 2, Stderr: []byte(err.Error())}
			}
			match = func(p proc) bool { return re.MatchString(p.Command) }
		}
		if w.killWhere(c, match) == 0 {
			return engine.ExecResult{ExitCode: 1}
		}
		return engine.ExecResult{}
	case name == "pgrep" && len(argv) >= 3:
		w.count("pgrep")
		var out strings.Builder
		for _, p := range c.procs {
			if engine.Program(p.Command) == argv[len(argv)-1] {
				fmt.Fprintf(&out, "%d\n", p.PID)
			}
		}
		if out.Len() == 0 {
			return engine.ExecResult{ExitCode: 1}
		}
		return engine.ExecResult{Stdout: []byte(out.String())}
	case name == "tail" && len(argv) >= 2:
		w.count("tail")
		n := 10
		if len(argv) >= 4 && argv[1] == "-n" {
			n, _ = strconv.Atoi(argv[2])
		}
		data, ok := c.files[argv[len(argv)-1]]
		if !ok {
			return engine.ExecResult{ExitCode: 1, Stderr: []byte("tail: cannot open '" + argv[len(argv)-1] + "' for reading: No such file or directory\n")}
		}
		lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
		return engine.ExecResult{Stdout: []byte(strings.Join(lines[max(0, len(lines)-n):], "") + "\n")}
	case name == "sinfo":
		w.count("sinfo")
		// Every node of the cluster that runs slurmd is idle.
		var out strings.Builder
		for _, o := range w.targets(nil) {
			if o.c.Cluster == c.c.Cluster && o.c.Running && slices.ContainsFunc(o.procs, func(p proc) bool { return engine.Program(p.Command) == "slurmd" }) {
				fmt.Fprintf(&out, "%s idle\n", o.c.Node)
			}
		}
		return engine.ExecResult{Stdout: []byte(out.String())}
	case len(argv) == 3 && name == "sh" && argv[1] == "-c":
		w.count("check")
		// The ldmsd check (ldmsd.CheckScript) sees a listening ldmsd with
		// sets while one runs; other probes succeed.
		if strings.Contains(argv[2], "ldms_ls") {
			if slices.ContainsFunc(c.procs, func(p proc) bool { return engine.Program(p.Command) == "ldmsd" }) {
				return engine.ExecResult{Stdout: []byte("listening\n3\n")}
			}
			return engine.ExecResult{Stdout: []byte("not-listening\n0\n")}
		}
		return engine.ExecResult{}
	case name == "true":
		w.count("exec")
		return engine.ExecResult{}
	case name == "hostname":
		w.count("exec")
		return engine.ExecResult{Stdout: []byte(c.c.Node + "\n")}
	}
	w.count("exec")
	return engine.ExecResult{ExitCode: 127, Stderr: []byte(fmt.Sprintf("fake engine: %s: command not found\n", name))}
}

// Start implements engine.Runtime for lvc's daemon start scripts (sh -c
// SCRIPT TAG, the daemon's argv exec'd last in SCRIPT): files the script
// writes are written, and the daemon runs under its own command line
// (setpriv's exec done) until killed; with SetNoStart it exits at once.
func (f *Fake) Start(ctx context.Context, id string, argv, env []string, user string) error {
	if err := f.before(ctx, f.callFor("Start", id, argv)); err != nil {
		return &engine.ExecError{Argv: argv, Err: err}
	}
	name := ""
	if len(argv) > 0 {
		name = strings.TrimPrefix(argv[len(argv)-1], engine.DaemonTag)
	}
	w := f.w
	w.mu.Lock()
	slow := w.slow[name]
	w.mu.Unlock()
	if err := sleep(ctx, slow); err != nil {
		return &engine.ExecError{Argv: argv, Err: err}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.byID(id)
	if c == nil {
		return &engine.ExecError{Argv: argv, Err: fmt.Errorf("container %s: %w", id, engine.ErrNotFound)}
	}
	if !c.c.Running {
		return &engine.ExecError{Argv: argv, Err: fmt.Errorf("container %s is not running", c.c.Name)}
	}
	w.count("start")
	w.log = append(w.log, name+" "+c.c.Node)
	script := ""
	if len(argv) >= 3 && argv[0] == "sh" && argv[1] == "-c" {
		script = argv[2]
	}
	for p, data := range parseWriteScript(script) { // files written by the daemon's own script
		c.files[p] = data
	}
	cmdline, logFile := daemonCommand(script)
	if cmdline == "" {
		cmdline = "/usr/sbin/" + name
	}
	exec := strings.Join(argv, " ")
	if w.noStart[c.c.Node+"/"+name] {
		if logFile != "" {
			c.files[logFile] = append(c.files[logFile], []byte("fake engine: "+name+" exited at once\n")...)
		}
		w.emit(engine.Event{Cluster: c.c.Cluster, Container: c.c.Name, Action: "exec_die", Exec: exec})
		return nil
	}
	w.nextPID++
	c.procs = append(c.procs, proc{Process: engine.Process{PID: w.nextPID, PPID: 1, Command: cmdline}, exec: exec, env: slices.Clone(env)})
	return nil
}

// WriteFiles implements engine.Runtime with the exec the driver runs.
func (f *Fake) WriteFiles(ctx context.Context, id string, files []engine.File) error {
	if len(files) == 0 {
		return nil
	}
	_, err := engine.Run(ctx, f, id, engine.WriteFilesExec(files, ""))
	return err
}

// ReadFile implements engine.Runtime with the exec the driver runs.
func (f *Fake) ReadFile(ctx context.Context, id, p string) ([]byte, error) {
	r, err := engine.Run(ctx, f, id, engine.ExecOptions{Argv: []string{"cat", "--", p}})
	if err != nil {
		return nil, err
	}
	return r.Stdout, nil
}

// parseWriteScript reads back the files of engine.WriteFilesScript.
func parseWriteScript(s string) map[string][]byte {
	out := map[string][]byte{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		rest, ok := strings.CutPrefix(lines[i], "base64 -d > ")
		if !ok {
			continue
		}
		words := shellWords(strings.TrimSuffix(rest, " <<'LVC_EOF'"))
		if len(words) != 1 {
			continue
		}
		var enc strings.Builder
		for i++; i < len(lines) && lines[i] != "LVC_EOF"; i++ {
			enc.WriteString(lines[i])
		}
		data, err := base64.StdEncoding.DecodeString(enc.String())
		if err == nil {
			out[words[0]] = data
		}
	}
	return out
}

// daemonCommand finds, in a start script (reconcile's daemonSpec.script:
// "... && exec ARGV >>LOG 2>&1 </dev/null"), the daemon's command line as
// the process table shows it, and its log file.
func daemonCommand(script string) (cmdline, logFile string) {
	i := strings.LastIndex(script, "&& exec ")
	switch {
	case i >= 0:
		script = script[i+len("&& exec "):]
	case strings.HasPrefix(script, "exec "):
		script = script[len("exec "):]
	default:
		return "", ""
	}
	argv, redir, _ := strings.Cut(script, " >>")
	if w := shellWords(redir); len(w) > 0 {
		logFile = w[0]
	}
	words := shellWords(argv)
	// setpriv execs its program: the process table shows that.
	if len(words) > 0 && path.Base(words[0]) == "setpriv" {
		words = words[1:]
		for len(words) > 0 && strings.HasPrefix(words[0], "-") {
			words = words[1:]
		}
	}
	return strings.Join(words, " "), logFile
}

// shellWords splits a line of engine.ShellQuote's words.
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, quoted := false, false // in a word; in single quotes
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quoted && ch == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(ch)
		case ch == '\'':
			quoted, in = true, true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(ch)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
