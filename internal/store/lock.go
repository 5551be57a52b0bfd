package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
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
	s.removeStaleTemps(time.Minute)
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

// removeStaleTemps removes the temp files of WriteFileAtomic calls whose
// process died between create and rename (a crash leaves the old file in
// place, and this litter next to it). Only files older than age go: no
// write takes that long, so a writer's file in flight is never taken.
func (s Status) removeStaleTemps(age time.Duration) {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return
	}
	for _, de := range ents {
		if !isTempName(de.Name()) {
			continue
		}
		if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > age {
			_ = os.Remove(filepath.Join(s.Dir, de.Name()))
		}
	}
}

// isTempName tells WriteFileAtomic's temp files: ".NAME.tmp-RANDOM".
func isTempName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempInfix)
}
