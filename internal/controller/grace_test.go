package controller

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A manifest removed and written again (git checkout) leaves its cluster
// within the grace; one that stays gone is prunable once the grace ends.
func TestPruneInFollowsTheManifest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	m := []byte("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: c}\nspec:\n  daemons:\n  - {host: a-1}\n")
	if err := os.WriteFile(file, m, 0o644); err != nil {
		t.Fatal(err)
	}
	c := New(nil, Options{ManifestsDir: dir, StatusDir: t.TempDir(), PruneGrace: 300 * time.Millisecond})
	rescan := func() {
		t.Helper()
		if err := c.rescan(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	rescan()
	if got := c.PruneIn("c"); got != 0 {
		t.Fatalf("PruneIn with the manifest present = %v, want 0", got)
	}
	if got := c.PruneIn("never-declared"); got != 0 {
		t.Fatalf("PruneIn of a name no manifest ever declared = %v, want 0 (adopted clusters are pruned at once)", got)
	}
	os.Remove(file)
	rescan()
	if got := c.PruneIn("c"); got <= 0 || got > 300*time.Millisecond {
		t.Fatalf("PruneIn just after the manifest went = %v, want within (0, 300ms]", got)
	}
	os.WriteFile(file, m, 0o644)
	rescan()
	if got := c.PruneIn("c"); got != 0 {
		t.Fatalf("PruneIn after the manifest came back = %v, want 0", got)
	}
	os.Remove(file)
	rescan()
	time.Sleep(350 * time.Millisecond)
	if got := c.PruneIn("c"); got != 0 {
		t.Fatalf("PruneIn after the grace = %v, want 0", got)
	}
}
