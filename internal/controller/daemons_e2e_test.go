package controller_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/engine"
	"github.com/ovis-hpc/lvc/internal/testenv"
)

// daemonStatus is the status of daemon on node, zero when there is none.
func daemonStatus(c *v1.LDMSDCluster, node, daemon string) v1.DaemonStatus {
	if d := c.Daemon(node, daemon); d != nil {
		return *d
	}
	return v1.DaemonStatus{}
}

func run(t *testing.T, rt engine.Runtime, id string, argv ...string) (int, string) {
	t.Helper()
	r, err := rt.Exec(t.Context(), id, engine.ExecOptions{Argv: argv})
	if err != nil {
		t.Fatal(err)
	}
	return r.ExitCode, string(r.Stdout) + string(r.Stderr)
}

func TestE2ESeedExampleDaemons(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	os.MkdirAll(manifests, 0o755)
	// A resync too slow to matter: repairs here are driven by events.
	h := startControllerResync(t, rt, manifests, status, 10*time.Minute)
	file := filepath.Join(manifests, name+".yaml")
	seed := testenv.SeedManifest(t, manifests, name, "")
	write(t, file, seed)
	c := h.waitStatus(name, 120*time.Second, "Ready", ready(1))
	ids := ids(t, rt, name)
	for _, cd := range []string{v1.ConditionSshdReady, v1.ConditionMungeReady, v1.ConditionSlurmReady} {
		if condition(c, cd).Status != v1.ConditionTrue {
			t.Errorf("condition %s = %+v, want True", cd, condition(c, cd))
		}
	}

	t.Run("ssh without prompts", func(t *testing.T) {
		for _, target := range []string{"sampler-2", "node-2"} {
			rc, out := run(t, rt, ids["node-5"], "ssh", "-o", "BatchMode=yes", target, "hostname")
			if rc != 0 || strings.TrimSpace(out) != "node-2" {
				t.Errorf("ssh %s hostname on node-5 = %d %q, want node-2", target, rc, out)
			}
		}
	})

	t.Run("munge across nodes", func(t *testing.T) {
		r, err := engine.Run(t.Context(), rt, ids["node-1"], engine.ExecOptions{Argv: []string{"munge", "-n"}})
		if err != nil {
			t.Fatal(err)
		}
		u, err := rt.Exec(t.Context(), ids["node-5"], engine.ExecOptions{Argv: []string{"unmunge"}, Stdin: strings.NewReader(string(r.Stdout))})
		if err != nil || u.ExitCode != 0 || !strings.Contains(string(u.Stdout), "Success") {
			t.Errorf("unmunge on node-5 of node-1's credential = %d %q %v, want Success", u.ExitCode, u.Stdout, err)
		}
		rc, out := run(t, rt, ids["node-1"], "stat", "-c", "%a %U", "/etc/munge/munge.key")
		if rc != 0 || strings.TrimSpace(out) != "400 munge" {
			t.Errorf("munge.key mode and owner = %q, want 400 munge", out)
		}
	})

	t.Run("sbatch on both samplers", func(t *testing.T) {
		run(t, rt, ids["node-5"], "sh", "-c", "printf '#!/bin/sh\\nsrun hostname\\n' > /tmp/both.sh")
		rc, out := run(t, rt, ids["node-5"], "sbatch", "-N", "2", "-o", "/tmp/both-%j.out", "/tmp/both.sh")
		m := regexp.MustCompile(`Submitted batch job (\d+)`).FindStringSubmatch(out)
		if rc != 0 || m == nil {
			t.Fatalf("sbatch = %d %q", rc, out)
		}
		testenv.Eventually(t, 60*time.Second, func() string {
			_, out := run(t, rt, ids["node-1"], "cat", "/tmp/both-"+m[1]+".out")
			if !strings.Contains(out, "node-1") || !strings.Contains(out, "node-2") {
				return "job output " + out + " does not name node-1 and node-2"
			}
			return ""
		})
	})

	if !testenv.HaveOvis() {
		t.Logf("skipping the ldmsd parts: %s", testenv.OvisMissing())
		return
	}

	t.Run("aggregation reaches agg-2", func(t *testing.T) {
		want := []string{"sampler-1/meminfo", "sampler-1/vmstat", "sampler-1/procstat", "sampler-1/slurm_sampler",
			"sampler-2/meminfo", "sampler-2/vmstat", "sampler-2/procstat", "sampler-2/slurm_sampler"}
		testenv.Eventually(t, 60*time.Second, func() string {
			_, out := run(t, rt, ids["node-5"], "ldms_ls", "-x", "sock", "-p", "20001", "-h", "agg-2")
			for _, w := range want {
				if !strings.Contains(out, w+"\n") {
					return "ldms_ls on agg-2 lacks " + w + ": " + out
				}
			}
			return ""
		})
		_, out := run(t, rt, ids["node-5"], "ldms_ls", "-x", "sock", "-p", "20001", "-h", "agg-2", "-l", "sampler-1/meminfo")
		if !regexp.MustCompile(`MemTotal\s+\d+`).MatchString(out) {
			t.Errorf("ldms_ls -l sampler-1/meminfo on agg-2 = %q, want a MemTotal", out)
		}
	})

	t.Run("killed ldmsd comes back by event", func(t *testing.T) {
		before := daemonStatus(h.waitStatus(name, 10*time.Second, "Ready", ready(1)), "node-1", "ldmsd")
		run(t, rt, ids["node-1"], "pkill", "-x", "ldmsd")
		killed := time.Now()
		c := h.waitStatus(name, 10*time.Second, "ldmsd restarted", func(c *v1.LDMSDCluster) bool {
			d := daemonStatus(c, "node-1", "ldmsd")
			return d.State == "Running" && d.PID != before.PID && d.PID != 0
		})
		after := daemonStatus(c, "node-1", "ldmsd")
		if after.Restarts != before.Restarts+1 {
			t.Errorf("restarts = %d, want %d", after.Restarts, before.Restarts+1)
		}
		t.Logf("ldmsd on sampler-1 back as pid %d %.2fs after the kill", after.PID, time.Since(killed).Seconds())
	})

	t.Run("env change restarts one ldmsd", func(t *testing.T) {
		c := h.waitStatus(name, 10*time.Second, "Ready", ready(1))
		pids := map[string]int{}
		for _, n := range []string{"node-1", "node-2", "node-3", "node-4"} {
			pids[n] = daemonStatus(c, n, "ldmsd").PID
		}
		edited := strings.Replace(seed, "COMPONENT_ID=10002", "COMPONENT_ID=20002", 1)
		if edited == seed {
			t.Fatal("seed manifest has no COMPONENT_ID=10002 to edit")
		}
		write(t, file, edited)
		c = h.waitStatus(name, 30*time.Second, "Ready at generation 2", ready(2))
		for n, pid := range pids {
			got := daemonStatus(c, n, "ldmsd").PID
			if (n == "node-2") == (got == pid) {
				t.Errorf("ldmsd pid on %s %d → %d; want a new pid only on node-2", n, pid, got)
			}
		}
		_, out := run(t, rt, ids["node-2"], "sh", "-c", "tr '\\0' '\\n' < /proc/$(pgrep -x ldmsd)/environ | grep COMPONENT_ID")
		if strings.TrimSpace(out) != "COMPONENT_ID=20002" {
			t.Errorf("sampler-2 ldmsd env = %q, want COMPONENT_ID=20002", out)
		}
	})
}

func runInput(t *testing.T, rt engine.Runtime, id, stdin string, argv ...string) (int, string) {
	t.Helper()
	r, err := rt.Exec(t.Context(), id, engine.ExecOptions{Argv: argv, Stdin: strings.NewReader(stdin)})
	if err != nil {
		t.Fatal(err)
	}
	return r.ExitCode, string(r.Stdout) + string(r.Stderr)
}
