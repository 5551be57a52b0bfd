package ldmstest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovis-hpc/lvc/internal/testenv"
)

func checkout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "LDMS_Test.py"), []byte("# stand-in\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestModuleIsTheSource(t *testing.T) {
	src, err := os.ReadFile(ModulePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Module(), src) {
		t.Error("the embedded module differs from runtime/lvc.py")
	}
	if !bytes.Contains(firstLine(src), []byte(Marker)) {
		t.Errorf("the module's first line %q lacks the marker %q", firstLine(src), Marker)
	}
}

func TestInstallWritesTheModule(t *testing.T) {
	dir := checkout(t)
	path, err := Install(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "runtime", "lvc.py"); path != want {
		t.Errorf("Install = %s, want %s", path, want)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, Module()) {
		t.Fatalf("runtime/lvc.py = %d bytes, %v; want the module", len(got), err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	// Again, over its own older copy: updated, no temp file left.
	if err := os.WriteFile(path, []byte("# "+Marker+" old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(dir, false); err != nil {
		t.Fatalf("Install over an older copy = %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, Module()) {
		t.Error("an older copy was not replaced")
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "runtime"))
	if len(ents) != 1 {
		t.Errorf("runtime/ holds %d entries, want only lvc.py", len(ents))
	}
}

func TestInstallRefuses(t *testing.T) {
	empty := t.TempDir()
	if _, err := Install(empty, false); !errors.Is(err, ErrNotLdmsTest) || !strings.Contains(err.Error(), "LDMS_Test.py") {
		t.Errorf("Install(dir without LDMS_Test.py) = %v, want ErrNotLdmsTest naming LDMS_Test.py", err)
	}
	if _, err := os.Stat(filepath.Join(empty, "runtime")); !os.IsNotExist(err) {
		t.Errorf("Install wrote into a directory it refused: %v", err)
	}
	if _, err := Install(filepath.Join(empty, "missing"), false); !errors.Is(err, ErrNotLdmsTest) {
		t.Errorf("Install(missing dir) = %v, want ErrNotLdmsTest", err)
	}
	dir := checkout(t)
	foreign := filepath.Join(dir, "runtime", "lvc.py")
	if err := os.MkdirAll(filepath.Dir(foreign), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(foreign, []byte("# someone else's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(dir, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("Install over a foreign runtime/lvc.py = %v, want a refusal", err)
	}
	if got, _ := os.ReadFile(foreign); string(got) != "# someone else's\n" {
		t.Error("the foreign runtime/lvc.py was changed")
	}
	if _, err := Install(dir, true); err != nil {
		t.Errorf("Install --force = %v", err)
	}
	if got, _ := os.ReadFile(foreign); !bytes.Equal(got, Module()) {
		t.Error("--force did not replace it")
	}
}

// The plugin's Python unit tests (testdata/test_lvc.py): what it asks lvc
// to do, with a fake lvc on the PATH, against the stand-in LDMS_Test of
// testdata (ldms_test_stub.py), or the ldms-test checkout that
// LVC_LDMS_TEST_DIR names.
func TestPythonPlugin(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the plugin's Python tests are skipped")
	}
	// The agent path's tests run the real lvc-agent.
	agent := testenv.AgentProgram(t)
	cmd := exec.Command(py, "-B", "-m", "unittest", "-v", "test_lvc")
	cmd.Dir = "testdata"
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "LVC_TEST_AGENT="+agent)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest test_lvc: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
	if dir := os.Getenv("LVC_LDMS_TEST_DIR"); dir != "" {
		t.Logf("ran against the LDMS_Test of %s", dir)
	}
}
