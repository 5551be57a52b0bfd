package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// IsManifestFile tells whether a directory entry is a manifest: *.yaml,
// *.yml or *.json, not hidden, not an editor's temp or swap file.
func IsManifestFile(name string) bool {
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "#") || strings.HasSuffix(base, "~") {
		return false
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Index is a scan of the manifests directory.
type Index struct {
	Entries map[string]*v1.ManifestEntry
	// Broken lists files that could not be read or decoded at all (no
	// name is known for them) with their errors.
	Broken map[string]error
	// Missing is true when the directory itself does not exist (or is
	// not a directory): the scan then says nothing about any cluster,
	// which is not the same as an empty directory.
	Missing bool
}

// Scan reads every manifest of dir. owners names, for names declared in
// several files, the file that owned the name before; that file keeps it
// while it still declares it, else the first file in lexical order does.
// A missing directory scans as empty, with Missing set.
func Scan(dir string, owners map[string]string) (*Index, error) {
	idx := &Index{Entries: map[string]*v1.ManifestEntry{}, Broken: map[string]error{}}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		idx.Missing = true
		return idx, nil
	}
	if err != nil {
		return nil, err
	}
	var files []string
	for _, de := range ents {
		if de.Type().IsRegular() && IsManifestFile(de.Name()) {
			files = append(files, filepath.Join(dir, de.Name()))
		}
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // removed since ReadDir
				idx.Broken[f] = err
			}
			continue
		}
		if cutShort(f, data) {
			idx.Broken[f] = ErrCutShort
			continue
		}
		docs := v1.Load(f, data)
		named := 0
		for _, d := range docs {
			if d.Cluster == nil || d.Cluster.Metadata.Name == "" {
				if len(d.Errs) > 0 {
					idx.Broken[f] = d.Errs
				}
				continue
			}
			named++
			idx.add(f, d, data, owners)
		}
		if len(docs) == 0 || (named == 0 && idx.Broken[f] == nil) {
			idx.Broken[f] = errors.New("no LDMSDCluster document")
		}
	}
	return idx, nil
}

// ErrCutShort marks a YAML manifest that does not end with a newline.
var ErrCutShort = errors.New("the file does not end with a newline: it may be cut short (a write in progress or one that failed), and YAML cut short can still read as a valid but different manifest; the cluster is left as it is until the file ends with a newline")

// cutShort tells whether a YAML manifest may be truncated: it does not end
// with a newline, as a file cut at a random byte mostly does not. Such a
// file says nothing about its clusters (Scan reports it Broken, so the
// controller keeps their last entries): cut in the daemons list it would
// read as a smaller cluster, cut in metadata.name as another one. JSON
// cut short never parses, and JSON writers often leave the final newline
// out, so JSON is not held to it.
func cutShort(file string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yaml", ".yml":
		return len(data) > 0 && data[len(data)-1] != '\n'
	}
	return false
}

func (idx *Index) add(file string, d v1.Document, data []byte, owners map[string]string) {
	name := d.Cluster.Metadata.Name
	sum := sha256.Sum256(append([]byte(file+"\x00"), data...))
	e := &v1.ManifestEntry{Name: name, File: file, Cluster: d.Cluster, Errs: d.Errs, Hash: hex.EncodeToString(sum[:8])}
	if !e.Valid() && len(d.Errs) > 0 {
		e.Cluster = nil
	}
	old, ok := idx.Entries[name]
	if !ok {
		idx.Entries[name] = e
		return
	}
	if owners[name] == file && old.File != file {
		e.Duplicates = append(old.Duplicates, old.File)
		idx.Entries[name] = e
		return
	}
	if old.File != file {
		old.Duplicates = append(old.Duplicates, file)
	} else {
		// Two documents of one file with one name: the file is invalid.
		old.Errs = append(old.Errs, &v1.FieldError{File: file, Doc: d.Source.Doc, Path: "metadata.name", Msg: "cluster " + name + " is declared twice in this file"})
		old.Cluster = nil
	}
}
