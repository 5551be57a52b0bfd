package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// manifestExts are the file names a manifest directory is read for.
var manifestExts = []string{".yaml", ".yml", ".json"}

// manifestFiles expands each path: a directory gives its manifest files
// (not recursively, sorted), anything else is taken as a file; "-" is
// standard input.
func manifestFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("manifest directory: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() && slices.Contains(manifestExts, strings.ToLower(filepath.Ext(e.Name()))) {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	return out, nil
}

// loadManifest loads every document of a manifest file, or of stdin for
// "-" (relative mount sources are then taken from the current directory).
func loadManifest(path string, stdin io.Reader) ([]v1.Document, error) {
	if path != "-" {
		return v1.LoadFile(path)
	}
	data, err := io.ReadAll(stdin)
	if err != nil {
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	return v1.Load("-", data), nil
}
