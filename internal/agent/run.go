package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// run runs req with the caller's stdio, as the engine's exec would: the
// container's environment with req.Env over it, HOME of the user, the
// command found on the resulting PATH. gone closing before the command
// ends kills its process group.
func run(req Request, stdin, stdout, stderr *os.File, gone <-chan struct{}) int {
	// Later entries win, in lookup and in exec.Cmd, which drops the
	// earlier ones.
	env := os.Environ()
	attr := &syscall.SysProcAttr{Setpgid: true}
	if req.User != "" {
		cred, home, err := credential(req.User)
		if err != nil {
			fmt.Fprintf(stderr, "lvc-agent: user %q: %v\n", req.User, err)
			return 126
		}
		attr.Credential = cred
		env = append(env, "HOME="+home)
	}
	env = append(env, req.Env...)
	path, err := lookPath(req.Argv[0], lookup(env, "PATH"))
	if err != nil {
		// 126 as the engine's exec answers: the command did not start.
		fmt.Fprintf(stderr, "lvc-agent: %s: %v\n", req.Argv[0], err)
		return 126
	}
	cmd := &exec.Cmd{Path: path, Args: req.Argv, Env: env, Dir: req.WorkDir,
		Stdin: stdin, Stdout: stdout, Stderr: stderr, SysProcAttr: attr}
	var outs *outputs // nil: Direct
	if !req.Direct {
		// The command writes into pipes of the agent's, copied to the
		// caller: children it leaves running (daemons) keep the pipes, not
		// the caller's output, which ends soon after the command (see drain).
		if outs, err = newOutputs(stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "lvc-agent: %v\n", err)
			return 126
		}
		cmd.Stdout, cmd.Stderr = outs.stdout, outs.stderr
	}
	err = cmd.Start()
	outs.started()
	if err != nil {
		outs.wait()
		fmt.Fprintf(stderr, "lvc-agent: %s: %v\n", req.Argv[0], err)
		return 126
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-gone:
			select {
			case <-done: // gone because the reply was sent
			default:
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}
	}()
	_ = cmd.Wait()
	outs.wait()
	close(done)
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// credential resolves NAME, UID, NAME:GROUP or UID:GID in the container's
// /etc/passwd and /etc/group, as the engine does; it also returns the
// user's home.
func credential(spec string) (*syscall.Credential, string, error) {
	name, group, hasGroup := strings.Cut(spec, ":")
	c := &syscall.Credential{}
	home := "/" // the engine's HOME for a user /etc/passwd lacks
	u, err := user.Lookup(name)
	if err != nil {
		u, err = user.LookupId(name)
	}
	switch {
	case err == nil:
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		c.Uid, c.Gid, home = uint32(uid), uint32(gid), u.HomeDir
		ids, _ := u.GroupIds()
		for _, g := range ids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				c.Groups = append(c.Groups, uint32(n))
			}
		}
	default:
		uid, perr := strconv.ParseUint(name, 10, 32)
		if perr != nil {
			return nil, "", fmt.Errorf("no such user")
		}
		c.Uid = uint32(uid)
	}
	if hasGroup {
		g, err := user.LookupGroup(group)
		if err != nil {
			g, err = user.LookupGroupId(group)
		}
		gid := uint64(0)
		if err == nil {
			gid, _ = strconv.ParseUint(g.Gid, 10, 32)
		} else if gid, err = strconv.ParseUint(group, 10, 32); err != nil {
			return nil, "", fmt.Errorf("no such group %q", group)
		}
		c.Gid, c.Groups = uint32(gid), nil
	}
	return c, home, nil
}

// lookPath finds name on path (the command's PATH, not the agent's).
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, executable(name)
	}
	err := error(fs.ErrNotExist)
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		e := executable(p)
		if e == nil {
			return p, nil
		}
		if errors.Is(e, fs.ErrPermission) {
			err = e
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "", errors.New("executable file not found in $PATH")
	}
	return "", err
}

func executable(p string) error {
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return err
	case st.IsDir() || st.Mode()&0o111 == 0:
		return fs.ErrPermission
	}
	return nil
}

// lookup is the value of k in env, the last one when it repeats.
func lookup(env []string, k string) string {
	v := ""
	for _, kv := range env {
		if name, value, _ := strings.Cut(kv, "="); name == k {
			v = value
		}
	}
	return v
}
