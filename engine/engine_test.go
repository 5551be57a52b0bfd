package engine

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"ldmsd", "-x", "sock:10000"}, "ldmsd -x sock:10000"},
		{[]string{"sh", "-c", "echo $HOME"}, "sh -c 'echo $HOME'"},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{""}, "''"},
	} {
		if got := ShellQuote(tc.argv); got != tc.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tc.argv, got, tc.want)
		}
	}
}

// The write script is plain sh: run it here and compare the bytes.
func TestWriteScriptRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var all []byte
	for i := range 1000 {
		all = append(all, byte(i))
	}
	files := []File{
		{Path: filepath.Join(dir, "a b/bin"), Content: all, Mode: 0o400},
		{Path: filepath.Join(dir, "empty"), Content: nil},
		{Path: filepath.Join(dir, "heredoc"), Content: []byte("LVC_EOF\n$x `y`\n")},
	}
	cmd := exec.Command("sh", "-s")
	cmd.Stdin = strings.NewReader(WriteFilesScript(files))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh -s: %v: %s", err, out)
	}
	for _, f := range files {
		got, err := os.ReadFile(f.Path)
		if err != nil || !bytes.Equal(got, f.Content) {
			t.Errorf("content of %s = %q, %v; want %q", f.Path, got, err, f.Content)
		}
		st, _ := os.Stat(f.Path)
		want := os.FileMode(f.Mode)
		if want == 0 {
			want = 0o644
		}
		if st.Mode().Perm() != want {
			t.Errorf("mode of %s = %o, want %o", f.Path, st.Mode().Perm(), want)
		}
	}
}
