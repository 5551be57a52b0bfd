package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/yaml"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/reconcile"
)

// Errors a caller may test with errors.Is.
var (
	ErrNotFound = errors.New("cluster not found")
	ErrExists   = errors.New("cluster exists")
	ErrTimeout  = errors.New("timed out")
	// ErrStalled is wrapped by a *StalledError.
	ErrStalled = errors.New("stalled")
)

// StalledError says a cluster cannot become Ready until its manifest or
// the host changes: its Stalled condition's reason and message.
type StalledError struct {
	Cluster, Reason, Message string
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("%s is stalled (%s): %s", e.Cluster, e.Reason, e.Message)
}

// Is makes a StalledError an ErrStalled.
func (e *StalledError) Is(target error) bool { return target == ErrStalled }

// Options locate the manifests and status directories, as lvc and
// lvc-controller do.
type Options struct {
	ManifestsDir string
	StatusDir    string
	// Runtime is the engine; nil connects from the environment.
	Runtime engine.Runtime
	// Progress, when set, is called with the status each time it is read
	// while waiting.
	Progress func(*v1.LDMSDCluster)
}

// DefaultOptions reads LVC_MANIFESTS and LVC_STATUS_DIR, else ./clusters
// and ./status.
func DefaultOptions() Options {
	return Options{ManifestsDir: envOr("LVC_MANIFESTS", "clusters"), StatusDir: envOr("LVC_STATUS_DIR", "status")}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Client manages clusters. Close it when done.
type Client struct {
	opts   Options
	rt     engine.Runtime
	closer func() error
	status store.Status
}

// New connects to the engine (unless opts.Runtime is set).
func New(ctx context.Context, opts Options) (*Client, error) {
	def := DefaultOptions()
	if opts.ManifestsDir == "" {
		opts.ManifestsDir = def.ManifestsDir
	}
	if opts.StatusDir == "" {
		opts.StatusDir = def.StatusDir
	}
	c := &Client{opts: opts, rt: opts.Runtime, closer: func() error { return nil }, status: store.Status{Dir: opts.StatusDir}}
	if c.rt == nil {
		rt, closeRT, err := engine.Connect(ctx)
		if err != nil {
			return nil, err
		}
		c.rt, c.closer = rt, closeRT
	}
	return c, nil
}

// Close releases the engine connection.
func (c *Client) Close() error { return c.closer() }

// Runtime is the engine the client drives.
func (c *Client) Runtime() engine.Runtime { return c.rt }

// Events returns the event log of cluster name, oldest first.
func (c *Client) Events(name string) ([]v1.Event, error) { return c.status.Events(name) }

// ManifestsDir is the watched manifests directory.
func (c *Client) ManifestsDir() string { return c.opts.ManifestsDir }

// Cluster returns a handle on a cluster without checking that it exists.
func (c *Client) Cluster(name string) *Cluster { return &Cluster{Name: name, client: c} }

// Get returns an existing cluster: one with objects labelled for it or a
// status file.
func (c *Client) Get(ctx context.Context, name string) (*Cluster, error) {
	ok, err := c.exists(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return c.Cluster(name), nil
}

func (c *Client) exists(ctx context.Context, name string) (bool, error) {
	cs, err := c.rt.Containers(ctx, name)
	if err != nil {
		return false, err
	}
	if len(cs) > 0 {
		return true, nil
	}
	ns, err := c.rt.Networks(ctx, name)
	if err != nil {
		return false, err
	}
	return len(ns) > 0, nil
}

// Create makes a cluster that must not exist yet and waits until it is
// Ready (or timeout passes).
func (c *Client) Create(ctx context.Context, obj *v1.LDMSDCluster, timeout time.Duration) (*Cluster, error) {
	ok, err := c.exists(ctx, obj.Metadata.Name)
	if err != nil {
		return nil, err
	}
	if ok {
		return nil, fmt.Errorf("%w: %s", ErrExists, obj.Metadata.Name)
	}
	return c.Up(ctx, obj, timeout)
}

// GetOrCreate returns the cluster, creating it when it does not exist.
func (c *Client) GetOrCreate(ctx context.Context, obj *v1.LDMSDCluster, timeout time.Duration) (*Cluster, error) {
	if cl, err := c.Get(ctx, obj.Metadata.Name); err == nil || !errors.Is(err, ErrNotFound) {
		return cl, err
	}
	return c.Create(ctx, obj, timeout)
}

// Up applies the manifest and waits until the cluster is Ready. Without
// a controller on the status directory, it converges the cluster itself
// with the controller's reconciler; with one, it lets the controller work.
func (c *Client) Up(ctx context.Context, obj *v1.LDMSDCluster, timeout time.Duration) (*Cluster, error) {
	if _, err := c.Apply(obj); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl := c.Cluster(obj.Metadata.Name)
	release, err := c.status.Lock()
	if errors.Is(err, store.ErrLocked) {
		return cl, cl.WaitApplied(ctx, obj)
	}
	if err != nil {
		return nil, err
	}
	defer release()
	return cl, c.converge(ctx, obj.Metadata.Name, (*v1.LDMSDCluster).IsReady)
}

// converge reconciles in-process until done says the status is what the
// caller waits for (IsReady for Up); the caller holds the lock. It never
// prunes: removing clusters is for lvc delete and the controller.
func (c *Client) converge(ctx context.Context, name string, done func(*v1.LDMSDCluster) bool) error {
	rec := &reconcile.Reconciler{Runtime: reconcile.OwnedBy(c.rt, c.opts.StatusDir), Source: scanSource{dir: c.opts.ManifestsDir}, Status: c.status, Events: c.status}
	pause := 100 * time.Millisecond
	for {
		res, err := rec.Reconcile(ctx, name)
		st, _ := c.status.Read(name)
		if st != nil && c.opts.Progress != nil {
			c.opts.Progress(st)
		}
		if err == nil && done(st) {
			return nil
		}
		if s := st.StalledNow(); err == nil && s != nil {
			return &StalledError{Cluster: name, Reason: s.Reason, Message: s.Message}
		}
		wait := res.RequeueAfter
		if err != nil {
			logr.FromContextOrDiscard(ctx).V(1).Info("reconcile failed, retrying", "cluster", name, "error", err.Error())
			wait, pause = pause, min(2*pause, 5*time.Second)
		}
		if wait <= 0 {
			wait = 200 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s not Ready: %s", ErrTimeout, name, notReadyReason(st, err))
		case <-time.After(wait):
		}
	}
}

func notReadyReason(st *v1.LDMSDCluster, err error) string {
	if err != nil {
		return err.Error()
	}
	if st == nil || st.Status == nil {
		return "no status yet"
	}
	for _, c := range st.Status.Conditions {
		if c.Type == v1.ConditionReady {
			return c.Reason + ": " + c.Message
		}
	}
	return "phase " + st.Status.Phase
}

// scanSource reads the manifests directory at every lookup.
type scanSource struct{ dir string }

func (s scanSource) Lookup(name string) *v1.ManifestEntry {
	idx, err := store.Scan(s.dir, nil)
	if err != nil {
		return &v1.ManifestEntry{Name: name, Errs: v1.ErrorList{{File: s.dir, Doc: 1, Msg: err.Error()}}}
	}
	return idx.Entries[name]
}

// ApplyResult says what Apply did, as kubectl prints it.
type ApplyResult string

// Apply results.
const (
	Created    ApplyResult = "created"
	Configured ApplyResult = "configured"
	Unchanged  ApplyResult = "unchanged"
)

// Apply writes a valid cluster's manifest into the manifests directory,
// atomically: to the file that already declares the name when that file
// declares nothing else, else to NAME.yaml.
func (c *Client) Apply(obj *v1.LDMSDCluster) (ApplyResult, error) {
	clean := obj.DeepCopy()
	v1.SetDefaults(clean)
	if err := v1.Validate(clean); err != nil {
		return "", err
	}
	clean.Status = nil
	clean.Metadata.Generation = 0
	data, err := yaml.Marshal(clean)
	if err != nil {
		return "", err
	}
	path, err := c.manifestPath(obj.Metadata.Name)
	if err != nil {
		return "", err
	}
	old, err := os.ReadFile(path)
	result := Created
	switch {
	case err == nil && string(old) == string(data):
		return Unchanged, nil
	case err == nil:
		result = Configured
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	return result, store.WriteFileAtomic(path, data, 0o644)
}

// manifestPath is where the named cluster's manifest lives or goes.
func (c *Client) manifestPath(name string) (string, error) {
	idx, err := store.Scan(c.opts.ManifestsDir, nil)
	if err != nil {
		return "", err
	}
	if e, ok := idx.Entries[name]; ok {
		docs, err := v1.LoadFile(e.File)
		if err == nil && len(docs) == 1 {
			return e.File, nil
		}
		return "", fmt.Errorf("cluster %s is declared in %s together with other documents: edit that file", name, e.File)
	}
	return filepath.Join(c.opts.ManifestsDir, name+".yaml"), nil
}

// Delete removes a cluster: its manifest (when it is the only document
// of its file), every object labelled for it, and its status. It works
// when the manifest or the status is already gone.
func (c *Client) Delete(ctx context.Context, name string) error {
	idx, err := store.Scan(c.opts.ManifestsDir, nil)
	if err != nil {
		return err
	}
	if e, ok := idx.Entries[name]; ok {
		docs, _ := v1.LoadFile(e.File)
		if len(docs) > 1 {
			return fmt.Errorf("cluster %s is declared in %s together with other documents: remove it from that file", name, e.File)
		}
		if err := os.Remove(e.File); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := reconcile.Delete(ctx, c.rt, name, 8); err != nil {
		return err
	}
	return c.status.Remove(name)
}

// Summary is one line of List.
type Summary struct {
	Name string
	// Manifest is the file declaring it; empty for an orphan.
	Manifest string
	// Status is the status file's object; nil when there is none.
	Status *v1.LDMSDCluster
	// Containers and Running count its containers by label.
	Containers, Running int
	Network             bool
}

// Orphan tells whether no manifest declares the cluster.
func (s Summary) Orphan() bool { return s.Manifest == "" }

// List returns every cluster known by manifest, label or status file.
func (c *Client) List(ctx context.Context) ([]Summary, error) {
	idx, err := store.Scan(c.opts.ManifestsDir, nil)
	if err != nil {
		return nil, err
	}
	by := map[string]*Summary{}
	get := func(n string) *Summary {
		if by[n] == nil {
			by[n] = &Summary{Name: n}
		}
		return by[n]
	}
	for n, e := range idx.Entries {
		get(n).Manifest = e.File
	}
	cs, err := c.rt.Containers(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, ct := range cs {
		s := get(ct.Cluster)
		s.Containers++
		if ct.Running {
			s.Running++
		}
	}
	ns, err := c.rt.Networks(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		get(n.Cluster).Network = true
	}
	names, err := c.status.Names()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		get(n)
	}
	out := make([]Summary, 0, len(by))
	for n, s := range by {
		if n == "" {
			continue
		}
		s.Status, _ = c.status.Read(n)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ControllerRunning tells whether an lvc-controller (or lvc up) holds the
// status directory.
func (c *Client) ControllerRunning() bool { return c.status.Locked() }
