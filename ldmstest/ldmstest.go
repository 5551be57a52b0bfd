// Package ldmstest carries lvc's runtime plugin for ovis-hpc/ldms-test: a
// Python module, runtime/lvc.py, that implements ldms-test's runtime
// interface (LDMSDCluster, LDMSDContainer, LDMSDContainerTTY) over the lvc
// command line, so that an unchanged ldms-test script runs its cluster on
// lvc with --runtime lvc. The module is embedded in the lvc binary and
// written into a checkout by Install (lvc ldms-test install DIR).
package ldmstest

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ModulePath is where the module goes in an ldms-test checkout: ldms-test
// imports runtime.NAME for --runtime NAME.
const ModulePath = "runtime/lvc.py"

// Marker is on the module's first line; Install overwrites only a
// runtime/lvc.py that has it.
const Marker = "lvc-runtime-plugin"

//go:embed runtime/lvc.py
var module []byte

// Module returns the plugin's source.
func Module() []byte { return bytes.Clone(module) }

// ErrNotLdmsTest is returned for a directory without LDMS_Test.py.
var ErrNotLdmsTest = errors.New("not an ldms-test checkout")

// Install writes the module to dir/runtime/lvc.py and returns that path.
// dir must hold LDMS_Test.py. A runtime/lvc.py that Install did not write
// is kept unless force is set.
func Install(dir string, force bool) (string, error) {
	if fi, err := os.Stat(filepath.Join(dir, "LDMS_Test.py")); err != nil || fi.IsDir() {
		return "", fmt.Errorf("%s: %w: it has no LDMS_Test.py", dir, ErrNotLdmsTest)
	}
	rt := filepath.Join(dir, "runtime")
	if err := os.MkdirAll(rt, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, ModulePath)
	if old, err := os.ReadFile(path); err == nil && !force && !bytes.Contains(firstLine(old), []byte(Marker)) {
		return "", fmt.Errorf("%s exists and lvc did not write it: move it away or use --force", path)
	}
	tmp, err := os.CreateTemp(rt, ".lvc.py.*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(module); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}
