package v1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadErrs loads one manifest from file and returns its errors as text.
func loadErrs(t *testing.T, file, src string) string {
	t.Helper()
	docs := Load(file, []byte(src))
	if len(docs) != 1 {
		t.Fatalf("Load = %d documents, want 1", len(docs))
	}
	return docs[0].Errs.Error()
}

// Cluster names become file names in the status directory and Docker
// object names: nothing that could leave the directory, hide a file or
// break a Docker name gets through.
func TestClusterNamesThatEscapeOrCollideAreRejected(t *testing.T) {
	for _, name := range []string{
		"../x", "..", ".", "a/b", "/abs", `a\b`, "./a", "a/..", "..a", ".hidden",
		"-a", "a-", "_a", "a.", "Upper", "ALL", "a b", "a:b", "a\nb", "a\x00b", "é",
		strings.Repeat("a", MaxNameLength+1),
	} {
		src := fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %q}\nspec: {services: [], daemons: [{host: a1}]}\n", name)
		if msg := loadErrs(t, "m.yaml", src); !strings.Contains(msg, "metadata.name") {
			t.Errorf("name %q: errors = %q, want metadata.name refused", name, msg)
		}
	}
	for _, name := range []string{"a", "a-1", "a.b", "a_b", "0", "ldms_slurm", strings.Repeat("a", MaxNameLength)} {
		src := fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: %q}\nspec: {services: [], daemons: [{host: a1}]}\n", name)
		if msg := loadErrs(t, "m.yaml", src); msg != "" {
			t.Errorf("name %q: errors = %q, want none", name, msg)
		}
	}
}

// A cluster's container names are NAME-<digits>: the last '-' splits a
// container name into exactly one cluster name, so clusters "a" and "a-1"
// never share a container name (a-1 against a-1-1). A host alias that
// looks like one of its own container names is refused.
func TestContainerNamesAreUniquePerCluster(t *testing.T) {
	owner := func(container string) string {
		i := strings.LastIndex(container, "-")
		return container[:i]
	}
	for _, cluster := range []string{"a", "a-1", "a-1-1", "a-10", "a.1"} {
		for i := 1; i <= 12; i++ {
			if c := fmt.Sprintf("%s-%d", cluster, i); owner(c) != cluster {
				t.Errorf("container %s belongs to %q, want %q", c, owner(c), cluster)
			}
		}
	}
	src := "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: a}\nspec: {services: [], daemons: [{host: a-2}]}\n"
	if msg := loadErrs(t, "m.yaml", src); !strings.Contains(msg, "collides with the container names") {
		t.Errorf("host a-2 in cluster a: errors = %q, want a collision", msg)
	}
}

// Mounts of / or of the Docker socket (or a directory holding it) are
// refused unless allow_host_mounts is set, however the path is spelled:
// cleaned, relative to the manifest, or through a symlink.
func TestHostMountsRefused(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "a", "b", "m.yaml")
	os.MkdirAll(filepath.Dir(manifest), 0o755)
	for link, target := range map[string]string{"root": "/", "sock": "/var/run/docker.sock", "run": "/run", "ok": dir} {
		if err := os.Symlink(target, filepath.Join(filepath.Dir(manifest), link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		mount  string
		refuse bool
	}{
		{"/:/host:ro", true},
		{"//:/host:ro", true},
		{"/var/..:/host:ro", true},
		{"/var/run/docker.sock:/var/run/docker.sock:rw", true},
		{"/run/docker.sock:/d.sock:rw", true},
		{"/var/run/:/r:rw", true},
		{"/run:/r:rw", true},
		{"/var:/v:ro", true},
		{"../..:/host:rw", false}, // relative to a/b: the temp dir, no host path
		{"root:/host:rw", true},   // a symlink to /
		{"sock:/d.sock:rw", true},
		{"run:/r:ro", true},
		{"ok:/data:rw", false},
		{"/data:/data:ro", false},
	} {
		src := fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: t}\nspec: {services: [], mounts: [%q], daemons: [{host: a1}]}\n", tc.mount)
		msg := loadErrs(t, manifest, src)
		if got := strings.Contains(msg, "is refused"); got != tc.refuse {
			t.Errorf("mount %q: errors = %q, want refused %v", tc.mount, msg, tc.refuse)
		}
		if tc.refuse {
			allowed := strings.Replace(src, "spec: {", "spec: {allow_host_mounts: true, ", 1)
			if msg := loadErrs(t, manifest, allowed); strings.Contains(msg, "is refused") {
				t.Errorf("mount %q with allow_host_mounts: errors = %q, want it allowed", tc.mount, msg)
			}
		}
	}
	// Far enough up, a relative source reaches /.
	up := strings.Repeat("../", strings.Count(filepath.Dir(manifest), "/")+1)
	src := fmt.Sprintf("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: t}\nspec: {services: [], mounts: [%q], daemons: [{host: a1}]}\n", up+":/host:rw")
	if msg := loadErrs(t, manifest, src); !strings.Contains(msg, "mounting / is refused") {
		t.Errorf("mount %q: errors = %q, want / refused", up, msg)
	}
	// ovis_prefix is a mount too.
	src = "apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: t}\nspec: {services: [], ovis_prefix: " + filepath.Join(filepath.Dir(manifest), "root") + ", daemons: [{host: a1}]}\n"
	if msg := loadErrs(t, manifest, src); !strings.Contains(msg, "spec.ovis_prefix: mounting") || !strings.Contains(msg, "resolves to /") {
		t.Errorf("ovis_prefix through a symlink to /: errors = %q, want refused", msg)
	}
}
