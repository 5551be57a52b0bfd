package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ovis-hpc/lvc/internal/testenv"
)

// chromium is Debian's Chromium, or "" (the test then skips, or fails
// under LVC_E2E=1: make test installs it).
func chromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv(testenv.EnvE2E) == "1" {
			t.Fatal("the page test needs Chromium (apt-get install chromium; make test installs it)")
		}
		t.Skip("no chromium: apt-get install chromium to check the page in a browser")
	}
	return p
}

// headless runs Chromium headless with the flags this closed network
// needs, and args.
func headless(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, args...)
	out, err := exec.CommandContext(ctx, bin, all...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return string(out)
}

// The real controller with --http, over the seed cluster: the probes,
// the metrics parsed, the API, and the page in a real browser showing the
// cluster's picture with every node.
func TestE2EControllerHTTP(t *testing.T) {
	rt := testenv.Engine(t)
	browser := chromium(t)
	name := testenv.ClusterName(t, rt)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(manifests, name+".yaml"), []byte(testenv.SeedManifest(t, manifests, name, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctl := testenv.NewController(t, testenv.BuildController(t), manifests, status, "--http", addr, "--resync", "5s")
	ctl.Start()
	base := "http://" + addr
	status200 := func(path string) (int, string) {
		r, err := http.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer r.Body.Close()
		var b strings.Builder
		_, _ = fmt.Fprint(&b, r.Status)
		return r.StatusCode, b.String()
	}
	testenv.Eventually(t, time.Minute, func() string {
		if code, s := status200("/readyz"); code != 200 {
			return "/readyz: " + s + "\n" + ctl.Tail(20)
		}
		return ""
	})
	testenv.Eventually(t, 4*time.Minute, func() string {
		r, err := http.Get(base + "/api/v1/clusters/" + name)
		if err != nil {
			return err.Error()
		}
		defer r.Body.Close()
		var b strings.Builder
		buf := make([]byte, 1<<16)
		n, _ := r.Body.Read(buf)
		b.Write(buf[:n])
		if !strings.Contains(b.String(), `"phase": "Ready"`) {
			return "cluster not Ready yet: " + b.String()[:min(300, b.Len())]
		}
		return ""
	})

	// The metrics, parsed as Prometheus does.
	r, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r.Body)
	r.Body.Close()
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	sum := func(name string) float64 {
		var s float64
		for _, m := range families[name].GetMetric() {
			switch {
			case m.Counter != nil:
				s += m.GetCounter().GetValue()
			case m.Gauge != nil:
				s += m.GetGauge().GetValue()
			case m.Histogram != nil:
				s += float64(m.GetHistogram().GetSampleCount())
			}
		}
		return s
	}
	for _, name := range []string{"lvc_reconcile_total", "lvc_reconcile_duration_seconds", "lvc_engine_requests_total", "lvc_clusters", "lvc_daemons"} {
		if sum(name) <= 0 {
			t.Errorf("metric %s = %v, want > 0", name, sum(name))
		}
	}
	if _, ok := families["lvc_workqueue_depth"]; !ok {
		t.Errorf("no lvc_workqueue_depth")
	}

	// The page, in Chromium, once its script has fetched the cluster and
	// its picture.
	dom := headless(t, browser, "--virtual-time-budget=15000", "--dump-dom", base+"/")
	if !strings.Contains(dom, `id="cluster-`+name+`"`) {
		t.Fatalf("the page has no section for %s:\n%.2000s", name, dom)
	}
	for i := 1; i <= 5; i++ {
		if !strings.Contains(dom, fmt.Sprintf(`id="node-node-%d"`, i)) {
			t.Errorf("the page's picture lacks node-%d", i)
		}
	}
	if out := os.Getenv("LVC_SCREENSHOT"); out != "" {
		headless(t, browser, "--virtual-time-budget=15000", "--window-size=1100,1400", "--screenshot="+out, base+"/")
		t.Logf("screenshot: %s", out)
	}
}
