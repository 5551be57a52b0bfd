package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/kind"
	"github.com/ovis-hpc/lvc/drivers/sshd"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/plan"
)

// Source tells what the manifests say about a cluster name.
type Source interface {
	// Lookup returns the entry for name, or nil when no manifest declares it.
	Lookup(name string) *v1.ManifestEntry
}

// StatusStore keeps each cluster's status object and the daemons stopped
// on purpose; internal/store.Status keeps them in files.
type StatusStore interface {
	// Read returns the last status written, nil when there is none.
	Read(name string) (*v1.LDMSDCluster, error)
	Write(c *v1.LDMSDCluster) error
	Remove(name string) error
	// Stopped returns the NODE/DAEMON keys stopped on purpose.
	Stopped(name string) (map[string]bool, error)
}

// EventSink records what the reconciler did and why.
type EventSink interface {
	AppendEvent(name string, ev v1.Event) error
}

// Authority is implemented by a Source that can be without information,
// as the controller is while its manifests directory is missing. While
// Authoritative is false, a name the Source does not declare is left
// alone: neither pruned nor reported Orphaned.
type Authority interface {
	Authoritative() bool
}

// Grace is implemented by a Source that keeps a cluster a while after
// its manifest went (a `git checkout` removes files and writes them
// again): PruneIn is how much longer the cluster is left alone, 0 when
// it may be pruned now.
type Grace interface {
	PruneIn(name string) time.Duration
}

// Runtime is what the reconciler needs of a container engine.
type Runtime = engine.Runtime

// Reconciler converges clusters. It is safe for concurrent use on
// different cluster names; the caller never reconciles one name twice at
// once (the controller's queue guarantees it).
type Reconciler struct {
	Runtime Runtime
	Source  Source
	Status  StatusStore
	// Events, when set, records each event; they are logged either way.
	Events EventSink
	// Prune removes a cluster whose manifest is gone; without it the
	// cluster stays and its status says Orphaned.
	Prune bool
	// Workers bounds the container operations run at once per cluster.
	Workers int
	// Now is the reconciler's clock (back-off, grace, timestamps); nil
	// means time.Now. Tests set it so no outcome depends on the machine's
	// speed.
	Now func() time.Time

	files   fileCache
	secrets secrets
	sshKeys sshd.PEMCache
}

// Result tells the caller when to look again without an error.
type Result struct {
	RequeueAfter time.Duration
}

// annotationSpecHash holds the spec's hash in the status file, so that
// metadata.generation grows exactly when the spec changes.
const annotationSpecHash = "lvc/spec-hash"

// ConditionUniqueName is False when other manifests declare the same
// cluster name; it does not count towards Ready.
const ConditionUniqueName = "UniqueName"

// ErrTerminal marks errors that retrying cannot fix (detect with errors.Is).
var ErrTerminal = errors.New("terminal")

// Reconcile converges the named cluster and writes its status.
func (r *Reconciler) Reconcile(ctx context.Context, name string) (Result, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("cluster", name)
	ctx = logr.NewContext(ctx, log)
	prev, err := r.Status.Read(name)
	if err != nil {
		log.Error(err, "status file unreadable, starting afresh")
		prev = nil
	}
	entry := r.Source.Lookup(name)
	switch {
	case entry == nil:
		return r.absent(ctx, name, prev)
	case !entry.Valid():
		return Result{}, r.invalid(ctx, name, entry, prev)
	}
	return r.apply(ctx, entry, prev)
}

func (r *Reconciler) clock() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) workers() int {
	if r.Workers > 0 {
		return r.Workers
	}
	return 16
}

// event appends to the cluster's event log and logs it.
func (r *Reconciler) event(ctx context.Context, cluster, typ, reason, object, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	log := logr.FromContextOrDiscard(ctx)
	log.Info(msg, "reason", reason, "object", object)
	if r.Events == nil {
		return
	}
	if err := r.Events.AppendEvent(cluster, v1.Event{Time: r.clock().UTC(), Type: typ, Reason: reason, Object: object, Message: msg}); err != nil {
		log.Error(err, "cannot append event")
	}
}

// specHash identifies a spec for generation counting.
func specHash(s *v1.LDMSDClusterSpec) string {
	data, _ := json.Marshal(s)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// nextGeneration keeps prev's generation while the spec is unchanged.
func nextGeneration(prev *v1.LDMSDCluster, hash string) int64 {
	if prev == nil || prev.Metadata.Generation == 0 {
		return 1
	}
	if prev.Metadata.Annotations[annotationSpecHash] == hash {
		return prev.Metadata.Generation
	}
	return prev.Metadata.Generation + 1
}

// apply converges a valid cluster through the phases.
func (r *Reconciler) apply(ctx context.Context, entry *v1.ManifestEntry, prev *v1.LDMSDCluster) (Result, error) {
	c := entry.Cluster.DeepCopy()
	p, err := plan.Build(c)
	if err != nil { // validated already: only a bug lands here
		return Result{}, r.invalid(ctx, c.Metadata.Name, &v1.ManifestEntry{Name: c.Metadata.Name, File: entry.File, Errs: v1.ErrorList{{File: entry.File, Doc: 1, Msg: err.Error()}}}, prev)
	}
	hash := specHash(&c.Spec)
	if c.Metadata.Annotations == nil {
		c.Metadata.Annotations = map[string]string{}
	}
	c.Metadata.Annotations[annotationSpecHash] = hash
	c.Metadata.Generation = nextGeneration(prev, hash)
	st := newState(r, c, p, prev, entry)
	if st.stopped, err = r.Status.Stopped(c.Metadata.Name); err != nil {
		return Result{}, err
	}
	if len(entry.Duplicates) > 0 {
		msg := fmt.Sprintf("also declared in %s: ignored, %s owns the name", strings.Join(entry.Duplicates, ", "), entry.File)
		if st.setCondition(ConditionUniqueName, v1.ConditionFalse, "DuplicateName", msg) {
			r.event(ctx, c.Metadata.Name, "Warning", "DuplicateName", "", "%s", msg)
		}
	} else {
		st.obj.Status.Conditions = slices.DeleteFunc(st.obj.Status.Conditions, func(c v1.Condition) bool { return c.Type == ConditionUniqueName })
	}
	var runErr error
	for _, ph := range phases {
		if err := ph.run(ctx, st); err != nil {
			reason := reasonFor(err, ph.reason)
			if r := stallReason(err); r != "" {
				// Not an error to retry: the status says Stalled, and the
				// cluster is looked at again now and then.
				reason = r
				st.stall(r, fmt.Sprintf("%s: %s", ph.name, err))
			} else {
				runErr = fmt.Errorf("%s: %w", ph.name, err)
			}
			st.setCondition(ph.condition, v1.ConditionFalse, reason, err.Error())
			break
		}
	}
	st.early.wait()
	if ctx.Err() != nil {
		// Shutting down (or timed out): what failed says nothing about the
		// cluster, so the last status stands.
		return Result{}, errors.Join(runErr, ctx.Err())
	}
	res := st.finish(runErr)
	if err := r.Status.Write(st.obj); err != nil {
		return res, errors.Join(runErr, fmt.Errorf("write status: %w", err))
	}
	return res, runErr
}

// invalid reports a manifest that cannot be applied and changes nothing
// that runs.
func (r *Reconciler) invalid(ctx context.Context, name string, entry *v1.ManifestEntry, prev *v1.LDMSDCluster) error {
	obj := prev
	if obj == nil {
		obj = &v1.LDMSDCluster{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.Kind}, Metadata: v1.ObjectMeta{Name: name}}
	}
	if obj.Status == nil {
		obj.Status = &v1.LDMSDClusterStatus{}
	}
	msg := entry.Errs.Error()
	changed := v1.SetCondition(&obj.Status.Conditions, v1.ConditionReady, v1.ConditionFalse, "InvalidManifest", msg, r.clock())
	obj.Status.Manifest = entry.File
	if obj.Status.Phase == "" {
		obj.Status.Phase = v1.PhasePending
	}
	if changed {
		r.event(ctx, name, "Warning", "InvalidManifest", "", "%s: running cluster left untouched", msg)
	}
	return r.Status.Write(obj)
}

// absent handles a name no manifest declares: prune or report Orphaned.
func (r *Reconciler) absent(ctx context.Context, name string, prev *v1.LDMSDCluster) (Result, error) {
	if a, ok := r.Source.(Authority); ok && !a.Authoritative() {
		logr.FromContextOrDiscard(ctx).V(1).Info("no manifest declares the cluster, but the manifests are unavailable: leaving it alone")
		return Result{}, nil
	}
	if g, ok := r.Source.(Grace); ok {
		if left := g.PruneIn(name); left > 0 {
			return Result{RequeueAfter: left}, nil
		}
	}
	cs, err := r.Runtime.Containers(ctx, name)
	if err != nil {
		return Result{}, err
	}
	ns, err := r.Runtime.Networks(ctx, name)
	if err != nil {
		return Result{}, err
	}
	if len(cs) == 0 && len(ns) == 0 {
		if prev != nil && (r.Prune || prev.Status == nil || prev.Status.Phase == v1.PhaseDeleting) {
			return Result{}, r.Status.Remove(name)
		}
		return Result{}, nil
	}
	if !r.Prune {
		obj := prev
		if obj == nil {
			obj = &v1.LDMSDCluster{TypeMeta: v1.TypeMeta{APIVersion: v1.APIVersion, Kind: v1.Kind}, Metadata: v1.ObjectMeta{Name: name}}
		}
		if obj.Status == nil {
			obj.Status = &v1.LDMSDClusterStatus{}
		}
		if v1.SetCondition(&obj.Status.Conditions, v1.ConditionReady, v1.ConditionFalse, "Orphaned", "no manifest declares this cluster and pruning is off: remove it with lvc delete "+name, r.clock()) {
			r.event(ctx, name, "Warning", "Orphaned", "", "manifest gone, pruning off: cluster kept")
		}
		return Result{}, r.Status.Write(obj)
	}
	if prev != nil && prev.Status != nil && prev.Status.Phase != v1.PhaseDeleting {
		prev.Status.Phase = v1.PhaseDeleting
		_ = r.Status.Write(prev)
	}
	r.event(ctx, name, "Normal", "Deleting", "", "manifest gone: removing %d containers and %d networks", len(cs), len(ns))
	if err := Delete(ctx, r.Runtime, name, r.workers()); err != nil {
		return Result{}, err
	}
	r.files.forgetCluster(cs)
	r.secrets.forget(name)
	return Result{}, r.Status.Remove(name)
}

// Delete removes every container and network labelled for cluster. It
// works without a manifest or status file.
func Delete(ctx context.Context, rt Runtime, cluster string, workers int) error {
	cs, err := rt.Containers(ctx, cluster)
	if err != nil {
		return err
	}
	if err := forEach(ctx, workers, cs, func(ctx context.Context, c engine.Container) error {
		return rt.RemoveContainer(ctx, c.ID)
	}); err != nil {
		return err
	}
	ns, err := rt.Networks(ctx, cluster)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if err := rt.RemoveNetwork(ctx, n.ID); err != nil {
			return err
		}
	}
	return nil
}

// fileCache remembers what was written to each container, file by file
// and per container boot, so an idle resync writes nothing and a change
// rewrites only the files it touches (a daemon reading an unchanged file
// never sees it being rewritten).
type fileCache struct {
	mu sync.Mutex
	m  map[string]string // container ID + "@" + boot + "\x00" + path → hash
}

func fileKey(boot, path string) string { return boot + "\x00" + path }

func fileHash(f engine.File) string {
	return kind.HashStrings(f.Path, string(f.Content), strconv.FormatUint(uint64(f.Mode), 8)+f.Owner)
}

// changed returns the files that differ from what was written to boot.
func (f *fileCache) changed(boot string, files []engine.File) []engine.File {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.File
	for _, file := range files {
		if f.m[fileKey(boot, file.Path)] != fileHash(file) {
			out = append(out, file)
		}
	}
	return out
}

// written records files as written to boot.
func (f *fileCache) written(boot string, files []engine.File) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]string{}
	}
	for _, file := range files {
		f.m[fileKey(boot, file.Path)] = fileHash(file)
	}
}

func (f *fileCache) forgetCluster(cs []engine.Container) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.m {
		for _, c := range cs {
			if strings.HasPrefix(k, c.ID+"@") {
				delete(f.m, k)
			}
		}
	}
}
