package controller

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
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
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := New(nil, Options{ManifestsDir: dir, StatusDir: t.TempDir(), PruneGrace: 300 * time.Millisecond, Clock: clk})
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
	clk.Step(100 * time.Millisecond)
	if got := c.PruneIn("c"); got != 200*time.Millisecond {
		t.Fatalf("PruneIn 100ms after the manifest went = %v, want 200ms", got)
	}
	os.WriteFile(file, m, 0o644)
	rescan()
	if got := c.PruneIn("c"); got != 0 {
		t.Fatalf("PruneIn after the manifest came back = %v, want 0", got)
	}
	os.Remove(file)
	rescan()
	clk.Step(299 * time.Millisecond)
	if got := c.PruneIn("c"); got != time.Millisecond {
		t.Fatalf("PruneIn 1ms before the grace ends = %v, want 1ms", got)
	}
	clk.Step(time.Millisecond)
	if got := c.PruneIn("c"); got != 0 {
		t.Fatalf("PruneIn after the grace = %v, want 0", got)
	}
}
