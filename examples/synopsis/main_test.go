package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovis-hpc/lvc/internal/testenv"
)

// TestE2ESynopsis runs the example as a user would, with a UDP listener
// standing in for tadad.
func TestE2ESynopsis(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	bin := filepath.Join(t.TempDir(), "synopsis")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	port := udp.LocalAddr().(*net.UDPAddr).Port

	dir := t.TempDir()
	manifest := strings.NewReplacer("ovis_prefix: /opt/ovis", "ovis_prefix: "+testenv.OvisPrefix(), "image: lvc-node:latest", "image: "+testenv.Image()).
		Replace(string(must(os.ReadFile("../../manifests/ldms-slurm.yaml"))))
	os.WriteFile(filepath.Join(dir, "seed.yaml"), []byte(manifest), 0o644)
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	cmd := exec.Command(bin, "-f", filepath.Join(dir, "seed.yaml"), "-name", name, "-tada-host", "127.0.0.1", "-tada-port", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "LVC_MANIFESTS="+filepath.Join(dir, "clusters"), "LVC_STATUS_DIR="+filepath.Join(dir, "status"))
	out, err := cmd.CombinedOutput()
	t.Logf("synopsis output:\n%s", out)
	// As the Python module's: exit 0 only when every assertion passed, so
	// 1 without OVIS, where all three are skipped.
	wantCode := 0
	if !testenv.HaveOvis() {
		wantCode = 1
	}
	if code := cmd.ProcessState.ExitCode(); code != wantCode {
		t.Fatalf("synopsis exit code = %d (%v), want %d", code, err, wantCode)
	}

	var statuses []string
	buf := make([]byte, 65536)
	udp.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, _, err := udp.ReadFrom(buf)
		if err != nil {
			break
		}
		var m map[string]any
		if err := json.Unmarshal(buf[:n], &m); err != nil {
			t.Fatalf("tada message %q: %v", buf[:n], err)
		}
		if m["msg-type"] == "assert-status" {
			statuses = append(statuses, m["test-status"].(string))
		}
	}
	want := "passed passed passed"
	if !testenv.HaveOvis() {
		want = "skipped skipped skipped"
	}
	if got := strings.Join(statuses, " "); got != want {
		t.Errorf("tada assert statuses = %q, want %q", got, want)
	}
	if nc, _ := rt.Containers(t.Context(), name); len(nc) != 0 {
		t.Errorf("the example left %d containers behind", len(nc))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
