package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/cluster"
)

func TestParseNodePath(t *testing.T) {
	tests := []struct {
		in   string
		want nodePath
		ok   bool
	}{
		{"c:node-1:/tmp/x", nodePath{"c", "node-1", "/tmp/x"}, true},
		{"my_cluster:sampler-1:/", nodePath{"my_cluster", "sampler-1", "/"}, true},
		{"c:n:", nodePath{"c", "n", "/"}, true},
		{"c:n:rel/x", nodePath{"c", "n", "/rel/x"}, true},
		{"./a:b:c", nodePath{}, false},
		{"/abs/a:b:c", nodePath{}, false},
		{"file.txt", nodePath{}, false},
		{"c:/x", nodePath{}, false},
		{":n:/x", nodePath{}, false},
		{"c::/x", nodePath{}, false},
	}
	for _, tt := range tests {
		got, ok := parseNodePath(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseNodePath(%q) = %+v, %v, want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseFor(t *testing.T) {
	tests := []struct {
		in             string
		typ, status    string
		isDelete, fail bool
	}{
		{"condition=Ready", "Ready", "True", false, false},
		{"condition=LdmsdReady=false", "LdmsdReady", "False", false, false},
		{"condition=X=Unknown", "X", "Unknown", false, false},
		{"delete", "", "", true, false},
		{"condition=", "", "", false, true},
		{"condition==True", "", "", false, true},
		{"condition=Ready=maybe", "", "", false, true},
		{"Ready", "", "", false, true},
	}
	for _, tt := range tests {
		typ, status, isDelete, err := parseFor(tt.in)
		if typ != tt.typ || status != tt.status || isDelete != tt.isDelete || (err != nil) != tt.fail {
			t.Errorf("parseFor(%q) = %q, %q, %v, %v; want %q, %q, %v, fail %v", tt.in, typ, status, isDelete, err, tt.typ, tt.status, tt.isDelete, tt.fail)
		}
	}
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		a, b string
		want []string
	}{
		{"a\nb\nc\n", "a\nb\nc\n", nil},
		{"a\nb\nc\n", "a\nx\nc\n", []string{"-b", "+x"}},
		{"a\n", "a\nb\n", []string{"+b"}},
		{"a\nb\n", "b\n", []string{"-a"}},
	}
	for _, tt := range tests {
		if got := lineDiff(tt.a, tt.b); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("lineDiff(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestEnvChanges(t *testing.T) {
	was := v1.Env{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "C", Value: "3"}}
	now := v1.Env{{Name: "A", Value: "1"}, {Name: "B", Value: "9"}, {Name: "D", Value: "4"}}
	if got, want := envChanges(was, now), "B 2 -> 9, -C, +D=4"; got != want {
		t.Errorf("envChanges = %q, want %q", got, want)
	}
	if got := envChanges(was, was); got != "" {
		t.Errorf("envChanges(same) = %q, want empty", got)
	}
}

func TestExitStatus(t *testing.T) {
	plain := errors.New("boom")
	stalled := fmt.Errorf("up: %w", &cluster.StalledError{Cluster: "c", Reason: "OvisNotFound"})
	tests := []struct {
		err  error
		code int
		msg  error
	}{
		{nil, 0, nil},
		{plain, 1, plain},
		{exitCode(7), 7, nil},
		{&exitError{code: 2, err: plain}, 2, plain},
		{stalled, exitStalled, stalled},
	}
	for _, tt := range tests {
		code, msg := exitStatus(tt.err)
		if code != tt.code || msg != tt.msg {
			t.Errorf("exitStatus(%v) = %d, %v; want %d, %v", tt.err, code, msg, tt.code, tt.msg)
		}
	}
	if exitCode(0) != nil {
		t.Errorf("exitCode(0) = %v, want nil", exitCode(0))
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{5 * time.Second, "5s"},
		{3 * time.Minute, "3m"},
		{5 * time.Hour, "5h"},
		{72 * time.Hour, "3d"},
	}
	for _, tt := range tests {
		if got := age(now.Add(-tt.d), now); got != tt.want {
			t.Errorf("age(now-%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := age(time.Time{}, now); got != "-" {
		t.Errorf("age(zero) = %q, want -", got)
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, _, err := execute(t, "completion", shell)
		if err != nil || !strings.Contains(out, "lvc") {
			t.Errorf("completion %s = %d bytes, %v; want a script", shell, len(out), err)
		}
	}
	// Cluster names complete from the manifests and status directories.
	dir := t.TempDir()
	m, st := filepath.Join(dir, "m"), filepath.Join(dir, "s")
	os.MkdirAll(m, 0o755)
	os.MkdirAll(st, 0o755)
	os.WriteFile(filepath.Join(m, "a.yaml"), []byte("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: alpha}\nspec: {services: [], daemons: [{host: x}]}\n"), 0o644)
	os.WriteFile(filepath.Join(st, "beta.yaml"), []byte("apiVersion: lvc/v1\nkind: LDMSDCluster\nmetadata: {name: beta}\nspec: {}\nstatus: {nodes: [{hostname: node-1, aliases: [samp-1]}]}\n"), 0o644)
	out, _, err := execute(t, "__complete", "--manifests", m, "--status-dir", st, "describe", "")
	if err != nil || !strings.Contains(out, "alpha\n") || !strings.Contains(out, "beta\n") {
		t.Errorf("complete describe = %q, %v; want alpha and beta", out, err)
	}
	out, _, err = execute(t, "__complete", "--manifests", m, "--status-dir", st, "exec", "beta", "")
	if err != nil || !strings.Contains(out, "node-1\n") || !strings.Contains(out, "samp-1\n") {
		t.Errorf("complete exec beta = %q, %v; want node-1 and samp-1", out, err)
	}
}

// A tar stream from a container cannot write outside the destination,
// even through a symbolic link it carries.
func TestExtractTarStaysInRoot(t *testing.T) {
	outside := t.TempDir()
	dst := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "d/link", Typeflag: tar.TypeSymlink, Linkname: outside})
	tw.WriteHeader(&tar.Header{Name: "d/link/evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4})
	tw.Write([]byte("evil"))
	tw.Close()
	root, err := os.OpenRoot(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := extractTar(&buf, root, "d", "d"); err == nil {
		t.Errorf("extractTar through a symlink out of root = nil error, want one")
	}
	if _, err := os.Stat(filepath.Join(outside, "evil")); err == nil {
		t.Errorf("extractTar wrote %s outside its root", filepath.Join(outside, "evil"))
	}

	buf.Reset()
	tw = tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f/../../x", Typeflag: tar.TypeReg, Mode: 0o644})
	tw.Close()
	if err := extractTar(&buf, root, "f", "f"); err == nil {
		t.Errorf("extractTar of f/../../x = nil error, want one")
	}
}

// -e values are checked before lvc connects to the engine.
func TestExecEnvFlag(t *testing.T) {
	for _, bad := range []string{"NOEQUALS", "=v", "1A=x", "A-B=x"} {
		_, _, err := execute(t, "exec", "-e", bad, "c", "node-1", "--", "true")
		if err == nil || !strings.Contains(err.Error(), "want KEY=VALUE") {
			t.Errorf("exec -e %q = %v, want a KEY=VALUE error", bad, err)
		}
	}
	if err := checkEnv([]string{"A=1", "B=x=y", "_Z9=", "ZAP_POOLS=8"}); err != nil {
		t.Errorf("checkEnv(good values) = %v", err)
	}
}
