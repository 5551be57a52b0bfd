package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"sigs.k8s.io/yaml"
)

// Status is the status directory.
type Status struct{ Dir string }

func (s Status) path(name string) string { return filepath.Join(s.Dir, name+".yaml") }

// Path is the status file of cluster name; it is replaced by rename on
// every write, so watching its directory sees each one.
func (s Status) Path(name string) string   { return s.path(name) }
func (s Status) events(name string) string { return filepath.Join(s.Dir, name+".events.jsonl") }

// Read returns a cluster's last written status object, or nil when there
// is none.
func (s Status) Read(name string) (*v1.LDMSDCluster, error) {
	data, err := os.ReadFile(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c v1.LDMSDCluster
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("status file %s: %w", s.path(name), err)
	}
	return &c, nil
}

// Write replaces a cluster's status file atomically: a crash leaves the
// old file or the new one, never a truncated one.
func (s Status) Write(c *v1.LDMSDCluster) error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.path(c.Metadata.Name), data, 0o644)
}

// Remove deletes a cluster's status file and event log.
func (s Status) Remove(name string) error {
	for _, p := range []string{s.path(name), s.events(name), s.stoppedPath(name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Names lists the clusters that have a status file.
func (s Status) Names() ([]string, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, de := range ents {
		n := de.Name()
		if strings.HasSuffix(n, ".yaml") && !strings.HasPrefix(n, ".") {
			out = append(out, strings.TrimSuffix(n, ".yaml"))
		}
	}
	return out, nil
}

// AppendEvent adds one line to a cluster's event log. A line is written
// with one write call on an O_APPEND file, so lines never interleave.
func (s Status) AppendEvent(name string, ev v1.Event) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(s.events(name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(append(line, '\n'))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// Events reads a cluster's event log; a torn last line is skipped.
func (s Status) Events(name string) ([]v1.Event, error) {
	f, err := os.Open(s.events(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []v1.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var ev v1.Event
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			out = append(out, ev)
		}
	}
	return out, sc.Err()
}

// EventsPath is the event log's path, for followers.
func (s Status) EventsPath(name string) string { return s.events(name) }

// tempInfix is in the name of WriteFileAtomic's temp files.
const tempInfix = ".tmp-"

// WriteFileAtomic writes data to a temp file in path's directory, syncs
// it and renames it over path.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// StoppedSuffix ends the file that lists a cluster's stopped daemons.
const StoppedSuffix = ".stopped"

func (s Status) stoppedPath(name string) string { return filepath.Join(s.Dir, name+StoppedSuffix) }

// Stopped returns the daemons of a cluster stopped on purpose, as
// "node/daemon" keys. They stay down until started again.
func (s Status) Stopped(name string) (map[string]bool, error) {
	data, err := os.ReadFile(s.stoppedPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out[l] = true
		}
	}
	return out, nil
}

// SetStopped marks a daemon ("node/daemon") stopped or not, atomically.
func (s Status) SetStopped(name, key string, stopped bool) error {
	set, err := s.Stopped(name)
	if err != nil {
		return err
	}
	if stopped {
		set[key] = true
	} else {
		delete(set, key)
	}
	if len(set) == 0 {
		if err := os.Remove(s.stoppedPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return WriteFileAtomic(s.stoppedPath(name), []byte(strings.Join(keys, "\n")+"\n"), 0o644)
}

// StoppedPath is the file SetStopped writes, for watchers.
func (s Status) StoppedPath(name string) string { return s.stoppedPath(name) }
