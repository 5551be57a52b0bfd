package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovis-hpc/lvc/internal/testenv"
)

// The spec of ldms-test's agg_test, as that script computes it, brought
// up declaratively by lvc up: every daemon the nodes declare runs, and the
// top aggregator holds the four samplers' sets.
func TestE2ELdmsTestAggSpec(t *testing.T) {
	rt := testenv.Engine(t)
	testenv.NeedOvis(t)
	name := testenv.ClusterName(t, rt)
	e := newLvcEnv(t)
	data, err := os.ReadFile("../../apis/v1/testdata/ldms-test/agg_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	m := strings.NewReplacer(
		"name: agg-test", "name: "+name,
		"image: ovis-centos-build", "image: "+testenv.Image(),
		"ovis_prefix: /opt/ovis", "ovis_prefix: "+testenv.OvisPrefix(),
		"/root/db/agg-test:/db:rw", db+":/db:rw",
	).Replace(string(data))
	e.ok("up", "-f", e.writeManifest("agg_test.yaml", m), "--timeout", "3m")
	if out := e.ok("render", "-f", e.writeManifest("again.yaml", m)).stdout; !strings.Contains(out, "daemon aggregator (kind ldmsd") {
		t.Errorf("render lacks agg-2's aggregator:\n%.2000s", out)
	}
	testenv.Eventually(t, time.Minute, func() string {
		out := e.lvc("exec", name, "agg-2", "--", "ldms_ls", "-x", "sock", "-p", "10000", "-h", "localhost").stdout
		for i := 1; i <= 4; i++ {
			if !strings.Contains(out, "node-"+string(rune('0'+i))+"/meminfo") {
				return "sets at agg-2: " + out
			}
		}
		return ""
	})
	st := e.ok("get", name, "-o", "wide").stdout
	if !strings.Contains(st, "8/8") || !strings.Contains(st, "Ready") {
		t.Errorf("lvc get = %s, want 8/8 nodes Ready", st)
	}
}
