package agent

import (
	"os"
	"sync"
	"syscall"
	"time"
)

// After the command ends, its output is copied on while it keeps coming,
// until quiet passes without any or lastWords have passed: a child it left
// holding the pipes (a daemon that did not close its stdio) does not hold
// the caller. The engine's exec waits 2 s in that case.
const (
	quiet     = 100 * time.Millisecond
	lastWords = 2 * time.Second
)

// outputs are the command's stdout and stderr pipes and their copies to
// the caller's files. When the caller's stdout and stderr are one file
// (2>&1), one pipe serves both and keeps their order.
type outputs struct {
	stdout, stderr *os.File // the pipes' write ends, for the command
	readers        []*os.File
	copies         sync.WaitGroup
	exited         chan struct{}
}

func newOutputs(stdout, stderr *os.File) (*outputs, error) {
	o := &outputs{exited: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o.stdout, o.stderr = w, w
	o.copyTo(stdout, r)
	if !sameFile(stdout, stderr) {
		r, w, err := os.Pipe()
		if err != nil {
			o.stdout.Close()
			return nil, err
		}
		o.stderr = w
		o.copyTo(stderr, r)
	}
	return o, nil
}

// started closes the agent's write ends once the command has its own.
// The nil outputs (a Direct request) have none.
func (o *outputs) started() {
	if o == nil {
		return
	}
	o.stdout.Close()
	if o.stderr != o.stdout {
		o.stderr.Close()
	}
}

// wait returns once the output is copied, after the command has ended.
func (o *outputs) wait() {
	if o == nil {
		return
	}
	close(o.exited)
	o.copies.Wait()
}

func (o *outputs) copyTo(dst, r *os.File) {
	o.copies.Add(1)
	go func() {
		defer o.copies.Done()
		defer r.Close()
		drain(dst, r, o.exited)
	}()
}

// drain copies r to dst until r ends, or, once exited is closed, until r
// stays quiet or lastWords have passed.
func drain(dst, r *os.File, exited <-chan struct{}) {
	var end time.Time
	go func() {
		<-exited
		_ = r.SetReadDeadline(time.Now().Add(quiet))
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF, or quiet after the end (os.ErrDeadlineExceeded)
		}
		select {
		case <-exited:
			if end.IsZero() {
				end = time.Now().Add(lastWords)
			}
			if time.Now().After(end) {
				return
			}
			_ = r.SetReadDeadline(time.Now().Add(quiet))
		default:
		}
	}
}

// sameFile tells whether a and b are one open file (2>&1).
func sameFile(a, b *os.File) bool {
	var sa, sb syscall.Stat_t
	if syscall.Fstat(int(a.Fd()), &sa) != nil || syscall.Fstat(int(b.Fd()), &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
