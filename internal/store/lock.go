package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// LockFile is held locked by the one writer of a status directory: a
// running lvc-controller, or `lvc up` while it converges.
const LockFile = ".lvc.lock"

// ErrLocked means another writer holds the status directory.
var ErrLocked = errors.New("status directory in use")

// Lock takes the status directory's writer lock, or says who holds it.
// The kernel releases it when the process ends, however it ends.
func (s Status) Lock() (release func(), err error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(s.Dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		return nil, fmt.Errorf("%w: %s is held by %s", ErrLocked, s.Dir, strings.TrimSpace(string(holder)))
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d (%s)\n", os.Getpid(), filepath.Base(os.Args[0]))), 0)
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Locked tells whether a writer holds the status directory now.
func (s Status) Locked() bool {
	release, err := s.Lock()
	if err != nil {
		return errors.Is(err, ErrLocked)
	}
	release()
	return false
}
