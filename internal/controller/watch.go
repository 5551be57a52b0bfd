package controller

import (
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/internal/store"
)

// dirWatcher reports changes of a directory's manifests. It watches the
// parent too, so that the directory can be removed, replaced or created
// later without losing the watch.
type dirWatcher struct {
	w       *fsnotify.Watcher
	dir     string
	Changes chan struct{}
	Errors  chan error
	done    chan struct{}
}

func newDirWatcher(dir string) (*dirWatcher, error) {
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
	dw := &dirWatcher{w: w, dir: dir, Changes: make(chan struct{}, 1), Errors: make(chan error, 1), done: make(chan struct{})}
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
				d.signal()
				continue
			}
			if filepath.Dir(ev.Name) == d.dir && store.IsManifestFile(ev.Name) {
				d.signal()
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

func (d *dirWatcher) signal() {
	select {
	case d.Changes <- struct{}{}:
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
