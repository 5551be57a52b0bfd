package ldmsd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCheck(t *testing.T) {
	for _, tc := range []struct {
		out       string
		listening bool
		sets      int
	}{
		{"listening\n8\n", true, 8},
		{"not-listening\n0\n", false, 0},
		{"", false, 0},
	} {
		l, n := ParseCheck(tc.out)
		if l != tc.listening || n != tc.sets {
			t.Errorf("ParseCheck(%q) = %v %d, want %v %d", tc.out, l, n, tc.listening, tc.sets)
		}
	}
}

func TestCheckScriptPortPattern(t *testing.T) {
	s := CheckScript("sock", 10000, "none")
	if !strings.Contains(s, ":2710 ") || !strings.Contains(s, "ldms_ls -x sock -p 10000 -h localhost -a none") {
		t.Errorf("CheckScript(sock, 10000, none) = %q, want port 2710 and the ldms_ls line", s)
	}
	// The grep pattern must match a real /proc/net/tcp6 LISTEN row.
	dir := t.TempDir()
	row := "   0: 00000000000000000000000000000000:2710 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n"
	os.WriteFile(filepath.Join(dir, "tcp6"), []byte(row), 0o644)
	pat := strings.Split(strings.Split(s, "grep -qE '")[1], "'")[0]
	if err := exec.Command("grep", "-qE", pat, filepath.Join(dir, "tcp6")).Run(); err != nil {
		t.Errorf("pattern %q does not match a LISTEN row: %v", pat, err)
	}
}
