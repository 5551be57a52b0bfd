package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/ovis-hpc/lvc/internal/testenv"
)

// Each terminal cause makes lvc up exit at once with exitStalled and the
// cause's reason instead of waiting out its timeout; once the cause is
// gone, the same lvc up brings the cluster up.
func TestE2EStalled(t *testing.T) {
	rt := testenv.Engine(t)
	manifest := func(name, extra string) string {
		return fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %s}\nspec:\n  image: %s\n  services: [sshd]\n%s  daemons: [{host: only-1}]\n", name, testenv.Image(), extra)
	}
	stalls := func(t *testing.T, e *lvcEnv, m, reason string) {
		t.Helper()
		start := time.Now()
		r := e.lvc("up", "-f", m, "--timeout", "3m")
		if r.code != exitStalled || r.err == nil || !strings.Contains(r.err.Error(), reason) {
			t.Fatalf("lvc up = %v, want exit %d naming %s", r, exitStalled, reason)
		}
		t.Logf("lvc up stalled (%s) after %s: %v", reason, time.Since(start).Round(10*time.Millisecond), r.err)
	}

	t.Run("OvisNotFound", func(t *testing.T) {
		name := testenv.ClusterName(t, rt)
		e := newLvcEnv(t)
		ovis := filepath.Join(t.TempDir(), "ovis")
		m := e.writeManifest("c.yaml", strings.Replace(manifest(name, "  ovis_prefix: "+ovis+"\n"), "[sshd]", "[sshd, ldmsd]", 1))
		stalls(t, e, m, "OvisNotFound")
		if !testenv.HaveOvis() {
			t.Skip("recovery needs a real ldmsd: " + testenv.OvisMissing())
		}
		if err := os.Symlink(testenv.OvisPrefix(), ovis); err != nil {
			t.Fatal(err)
		}
		e.ok("up", "-f", m, "--timeout", "2m")
	})

	t.Run("MountSourceMissing", func(t *testing.T) {
		name := testenv.ClusterName(t, rt)
		e := newLvcEnv(t)
		src := filepath.Join(t.TempDir(), "data")
		m := e.writeManifest("c.yaml", manifest(name, "  mounts: ["+src+":/data:ro]\n"))
		stalls(t, e, m, "MountSourceMissing")
		if err := os.Mkdir(src, 0o755); err != nil {
			t.Fatal(err)
		}
		e.ok("up", "-f", m, "--timeout", "2m")
	})

	t.Run("ImageMissing", func(t *testing.T) {
		name := testenv.ClusterName(t, rt)
		e := newLvcEnv(t)
		missing := "lvc-test-missing-" + name + ":never"
		m := e.writeManifest("c.yaml", strings.Replace(manifest(name, ""), "image: "+testenv.Image(), "image: "+missing, 1))
		stalls(t, e, m, "ImageMissing")
		if err := rt.Client().ImageTag(t.Context(), testenv.Image(), missing); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// The cluster goes first (ClusterName's cleanup runs after this one).
			testenv.RemoveCluster(t, rt, name)
			if _, err := rt.Client().ImageRemove(ctx, missing, image.RemoveOptions{}); err != nil {
				t.Errorf("cleanup: remove tag %s: %v", missing, err)
			}
		})
		e.ok("up", "-f", m, "--timeout", "2m")
	})

	t.Run("CrashLoopBackOff", func(t *testing.T) {
		testenv.NeedOvis(t)
		name := testenv.ClusterName(t, rt)
		e := newLvcEnv(t)
		ldmsd := func(config string) string {
			return fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %s}\nspec:\n  image: %s\n  ovis_prefix: %s\n  services: [ldmsd]\n  daemons:\n  - {host: only-1, listen_port: 10000, config: [%q]}\n",
				name, testenv.Image(), testenv.OvisPrefix(), config)
		}
		// ldmsd exits at once on a config line it cannot run.
		stalls(t, e, e.writeManifest("bad.yaml", ldmsd("load name=lvc_no_such_plugin")), "CrashLoopBackOff")
		e.ok("up", "-f", e.writeManifest("good.yaml", ldmsd("load name=meminfo")), "--timeout", "2m")
	})
}
