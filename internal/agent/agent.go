// Package agent runs commands on a node without the engine's exec.
//
// An engine exec costs about 65 ms (create, attach, start, inspect, and
// runc joining the container), and ldms-test's scripts run hundreds. lvc
// starts a small server in each container of a local engine; lvc exec hands
// it the command with its own stdin, stdout and stderr (passed over a unix
// socket, SCM_RIGHTS) and gets the exit status back: a fork in the
// container, a few milliseconds. Where no agent answers, lvc exec uses the
// engine's exec, which stays the reference.
package agent

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// In the container: the agent's program (bind-mounted read-only) and the
// directory of its socket (bind-mounted from the host, so that lvc finds
// the socket on the host).
const (
	Program   = "/run/lvc-agent/bin/lvc-agent"
	SocketDir = "/run/lvc-agent/sock"
	Socket    = SocketDir + "/agent.sock"
)

// Request is one command to run.
type Request struct {
	Argv    []string `json:"argv"`
	Env     []string `json:"env,omitempty"` // over the container's own
	User    string   `json:"user,omitempty"`
	WorkDir string   `json:"workdir,omitempty"`
	// Direct gives the command the caller's descriptors themselves: its
	// output ends with it, and what children it leaves running write later
	// is not waited for. For a caller whose stdout and stderr are files it
	// reads once the reply came.
	Direct bool `json:"direct,omitempty"`
}

// reply ends a request: the command's exit status (128+N when signal N
// killed it, as the engine reports), or why it did not run.
type reply struct {
	Exit  int    `json:"exit"`
	Error string `json:"error,omitempty"`
}

// ErrUnavailable means that no agent answers at the socket: use the
// engine's exec.
var ErrUnavailable = errors.New("no agent answers")

// maxRequest bounds a request's encoding: argv and env together are
// bounded by the kernel's ARG_MAX (2 MiB) anyway.
const maxRequest = 8 << 20

// Run has the agent at sock run req with stdin, stdout and stderr as the
// command's own, and returns its exit status. Ending ctx kills the command.
// It returns ErrUnavailable (wrapped) when no agent answers.
func Run(ctx context.Context, sock string, req Request, stdin, stdout, stderr *os.File) (int, error) {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	uc := conn.(*net.UnixConn)
	defer uc.Close()
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	rights := unix.UnixRights(int(stdin.Fd()), int(stdout.Fd()), int(stderr.Fd()))
	msg = append(msg, body...)
	n, _, err := uc.WriteMsgUnix(msg, rights, nil)
	if err == nil && n < len(msg) {
		// One sendmsg takes what the socket's buffer holds; the
		// descriptors went with its first byte.
		_, err = uc.Write(msg[n:])
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	stop := context.AfterFunc(ctx, func() { uc.Close() }) // the agent kills the command
	defer stop()
	var r reply
	if err := json.NewDecoder(uc).Decode(&r); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("agent at %s: %w", sock, err)
	}
	if r.Error != "" {
		return r.Exit, errors.New(r.Error)
	}
	return r.Exit, nil
}

// Serve answers requests on sock until listening fails.
func Serve(sock string) error {
	// Bound under another name and renamed once listening: a client that
	// finds sock can connect (a bound socket refuses until it listens).
	tmp := sock + ".new"
	_ = os.Remove(tmp) // a previous run's
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return err
	}
	ln.SetUnlinkOnClose(false) // it is no longer at tmp
	defer ln.Close()
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, sock); err != nil {
		return err
	}
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			return err
		}
		go serve(c)
	}
}

func serve(c *net.UnixConn) {
	defer c.Close()
	req, files, err := readRequest(c)
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if err != nil {
		_ = json.NewEncoder(c).Encode(reply{Exit: 126, Error: "agent: " + err.Error()})
		return
	}
	// The caller hanging up (lvc killed, ctx ended) kills the command.
	gone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c)
		close(gone)
	}()
	code := run(req, files[0], files[1], files[2], gone)
	_ = json.NewEncoder(c).Encode(reply{Exit: code})
}

// readRequest reads the length-prefixed request and the three descriptors
// sent with its first byte.
func readRequest(c *net.UnixConn) (Request, []*os.File, error) {
	var req Request
	head := make([]byte, 4)
	oob := make([]byte, unix.CmsgSpace(3*4))
	n, oobn, _, _, err := c.ReadMsgUnix(head, oob)
	if err != nil {
		return req, nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return req, nil, err
	}
	var fds []int
	for _, m := range msgs {
		r, err := unix.ParseUnixRights(&m)
		if err == nil {
			fds = append(fds, r...)
		}
	}
	files := make([]*os.File, 0, len(fds))
	for _, fd := range fds {
		files = append(files, os.NewFile(uintptr(fd), "fd"))
	}
	if len(files) != 3 {
		return req, files, fmt.Errorf("%d descriptors with the request, want stdin, stdout and stderr", len(fds))
	}
	if _, err := io.ReadFull(c, head[n:]); err != nil {
		return req, files, err
	}
	size := binary.BigEndian.Uint32(head)
	if size > maxRequest {
		return req, files, fmt.Errorf("request of %d bytes", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(c, body); err != nil {
		return req, files, err
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, files, err
	}
	if len(req.Argv) == 0 {
		return req, files, errors.New("no command")
	}
	return req, files, nil
}
