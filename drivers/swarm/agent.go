package swarm

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/go-logr/logr"

	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/agent"
)

// The exec agent (internal/agent) runs in the containers of the local
// engine: its program is bind-mounted from this host, and its socket
// directory is agentRoot/NAME here, which agentRoot/ID links to.
const agentRoot = "/run/lvc/agent"

// agentSocket is the host's path of the agent socket of container ref
// (its name or ID).
func agentSocket(ref string) string {
	return filepath.Join(agentRoot, ref, filepath.Base(agent.Socket))
}

// EnvAgent names the lvc-agent program to use; "none" turns the agent
// off. Unset, it is lvc-agent beside this program, when there is one.
const EnvAgent = "LVC_AGENT"

// findAgent returns the agent program for containers of the local engine,
// "" when there is none.
func findAgent() string {
	p := os.Getenv(EnvAgent)
	switch p {
	case "none":
		return ""
	case "":
		exe, err := os.Executable()
		if err != nil {
			return ""
		}
		p = filepath.Join(filepath.Dir(exe), "lvc-agent")
	}
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	return p
}

// agentBinds prepares the socket directory of container name and returns
// the binds that give it the agent; none without an agent.
func (e *Engine) agentBinds(name string) []string {
	if e.agent == "" {
		return nil
	}
	dir := filepath.Join(agentRoot, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil // the engine's exec does without
	}
	return []string{e.agent + ":" + agent.Program + ":ro", dir + ":" + agent.SocketDir + ":rw"}
}

// agentCommand makes the agent the command of a container of cfg, which
// runs the image's own command under it (agent.Wrap): the agent serves
// from the container's start, and after each restart, for no exec. When
// the image cannot be read, cfg is left as it is: creating the container
// says why, and the agent starts at its first exec.
func (e *Engine) agentCommand(ctx context.Context, cfg *container.Config) {
	img, err := e.cli.ImageInspect(ctx, cfg.Image)
	if err != nil || img.Config == nil {
		return
	}
	cfg.Entrypoint = []string{agent.Program}
	cfg.Cmd = append(append([]string{agent.Socket, "--"}, img.Config.Entrypoint...), img.Config.Cmd...)
}

// linkAgent names container id's socket directory by its ID too, for
// Stream, which knows containers by ID.
func (e *Engine) linkAgent(id, name string) {
	if e.agent == "" {
		return
	}
	link := filepath.Join(agentRoot, id)
	_ = os.Remove(link)
	_ = os.Symlink(name, link)
}

// startAgent starts the agent in container id, which has its program and
// socket directory, unless one answers there (it is the container's
// command, but a container made by an earlier lvc has it only this way).
// The engine's exec that called it ran without; the next command will not.
func (e *Engine) startAgent(ctx context.Context, id string) {
	if e.agent == "" {
		return
	}
	link := filepath.Join(agentRoot, id)
	if _, err := os.Readlink(link); err != nil {
		return // not a container lvc gave an agent
	}
	if c, err := net.DialTimeout("unix", agentSocket(id), time.Second); err == nil {
		c.Close()
		return
	}
	if err := e.Start(ctx, id, []string{agent.Program, agent.Socket}, nil, ""); err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("no exec agent: the engine's exec serves", "container", id, "error", err.Error())
	}
}

// removeAgent removes the socket directory of container id.
func removeAgent(id string) {
	link := filepath.Join(agentRoot, id)
	if name, err := os.Readlink(link); err == nil && filepath.Base(name) == name {
		_ = os.RemoveAll(filepath.Join(agentRoot, name))
	}
	_ = os.Remove(link)
}

// streamByAgent runs o through container id's agent when it has one and
// o's stdio are files; ok is false when the engine's exec must run it.
func (e *Engine) streamByAgent(ctx context.Context, id string, o engine.StreamOptions) (code int, ok bool, err error) {
	if e.agent == "" {
		return 0, false, nil
	}
	return StreamByAgent(ctx, id, o)
}

// StreamByAgent runs o through the exec agent of container ref (its ID or
// name) on this host, without the engine: ok is false when the container
// has no agent here that answers, o asks for a terminal, or o's stdio are
// not files.
func StreamByAgent(ctx context.Context, ref string, o engine.StreamOptions) (code int, ok bool, err error) {
	if o.TTY || ref == "" || filepath.Base(ref) != ref || os.Getenv(EnvAgent) == "none" {
		return 0, false, nil
	}
	stdout, isOut := o.Stdout.(*os.File)
	stderr, isErr := o.Stderr.(*os.File)
	if !isOut || !isErr {
		return 0, false, nil
	}
	stdin, isIn := o.Stdin.(*os.File)
	if o.Stdin == nil {
		null, err := os.Open(os.DevNull)
		if err != nil {
			return 0, false, nil
		}
		defer null.Close()
		stdin, isIn = null, true
	}
	if !isIn {
		return 0, false, nil
	}
	req := agent.Request{Argv: o.Argv, Env: o.Env, User: o.User, WorkDir: o.WorkDir}
	code, err = agent.Run(ctx, agentSocket(ref), req, stdin, stdout, stderr)
	if errors.Is(err, agent.ErrUnavailable) {
		return 0, false, nil
	}
	return code, true, err
}
