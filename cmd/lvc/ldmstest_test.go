package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovis-hpc/lvc/ldmstest"
)

// lvc ldms-test install writes the embedded module into a checkout and
// says how to run a script with it.
func TestLdmsTestInstall(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "LDMS_Test.py"), []byte("# stand-in\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := execute(t, "ldms-test", "install", dir)
	if err != nil {
		t.Fatalf("ldms-test install = %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "runtime", "lvc.py"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, ldmstest.Module()) {
		t.Errorf("runtime/lvc.py is not the embedded module (%d bytes, want %d)", len(got), len(ldmstest.Module()))
	}
	for _, want := range []string{"wrote " + filepath.Join(dir, "runtime", "lvc.py"), "--runtime lvc", "runtime = lvc"} {
		if !strings.Contains(out, want) {
			t.Errorf("install printed %q, want it to contain %q", out, want)
		}
	}
}

func TestLdmsTestInstallRefusesNonCheckout(t *testing.T) {
	dir := t.TempDir()
	_, _, err := execute(t, "ldms-test", "install", dir)
	if err == nil || !strings.Contains(err.Error(), "no LDMS_Test.py") {
		t.Fatalf("install into a directory without LDMS_Test.py = %v, want an error naming LDMS_Test.py", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "runtime")); !os.IsNotExist(err) {
		t.Errorf("install wrote into %s: %v", dir, err)
	}
	if _, _, err := execute(t, "ldms-test", "install"); err == nil {
		t.Error("install without DIR succeeded")
	}
}
