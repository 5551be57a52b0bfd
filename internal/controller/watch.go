package controller

import (
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// dirWatcher reports changes of a directory's manifests. It watches the
// parent too, so that the directory can be removed, replaced or created
// later without losing the watch.
type dirWatcher struct {
	w       *fsnotify.Watcher
	dir     string
	match   func(path string) bool
	Changes chan string // paths that changed; the directory's own for itself
	Errors  chan error
	done    chan struct{}
}

func newDirWatcher(dir string, match func(path string) bool) (*dirWatcher, error) {
	dir = filepath.Clean(dir)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := w.Add(filepath.Dir(dir)); err != nil {
		w.Close()
		return nil, err
	}
	_ = w.Add(dir) // may not exist yet
	dw := &dirWatcher{w: w, dir: dir, match: match, Changes: make(chan string, 256), Errors: make(chan error, 1), done: make(chan struct{})}
	go dw.loop()
	return dw, nil
}

func (d *dirWatcher) loop() {
	for {
		select {
		case <-d.done:
			return
		case ev, ok := <-d.w.Events:
			if !ok {
				return
			}
			if filepath.Clean(ev.Name) == d.dir {
				// The directory itself came or went: (re)watch it.
				if _, err := os.Stat(d.dir); err == nil {
					_ = d.w.Add(d.dir)
				}
				d.signal(d.dir)
				continue
			}
			if filepath.Dir(ev.Name) == d.dir && d.match(ev.Name) {
				d.signal(ev.Name)
			}
		case err, ok := <-d.w.Errors:
			if !ok {
				return
			}
			select {
			case d.Errors <- err:
			default:
			}
		}
	}
}

// signal never blocks the watch: when the consumer lags, a change is
// dropped; the periodic resync repairs what it would have triggered.
func (d *dirWatcher) signal(path string) {
	select {
	case d.Changes <- path:
	default:
	}
}

func (d *dirWatcher) Close() error {
	close(d.done)
	return d.w.Close()
}

func asErrs(file string, err error) v1.ErrorList {
	var l v1.ErrorList
	if el, ok := err.(v1.ErrorList); ok {
		return el
	}
	return append(l, &v1.FieldError{File: file, Doc: 1, Msg: err.Error()})
}
