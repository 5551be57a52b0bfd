package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// root is the module root, found from this file: tests run in their own
// package's directory.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// BuildController builds the real lvc-controller binary, to be run (and
// killed) as a child process.
func BuildController(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lvc-controller")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/ovis-hpc/lvc/cmd/controller")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// SeedManifest is manifests/ldms-slurm.yaml named name, for this
// machine's image and OVIS build (ldmsd left out of services without
// one), with extra spec lines first; it makes the db directory the
// manifest mounts in dir.
func SeedManifest(t testing.TB, dir, name, extra string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(), "manifests", "ldms-slurm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "name: ldms_slurm", "name: "+name, 1)
	s = strings.Replace(s, "ovis_prefix: /opt/ovis", "ovis_prefix: "+OvisPrefix(), 1)
	s = strings.Replace(s, "image: lvc-node:latest", "image: "+Image(), 1)
	if !HaveOvis() {
		s = strings.Replace(s, "\nspec:\n", "\nspec:\n  services: [sshd, munged, slurm]\n", 1)
	}
	s = strings.Replace(s, "\nspec:\n", "\nspec:\n"+extra, 1)
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	return s
}

// Tail is the last n lines of a file (a log, for failure messages).
func Tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
