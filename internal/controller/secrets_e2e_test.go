package controller_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/network"
	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/crypto/ssh"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
	"github.com/ovis-hpc/lvc/drivers/munged"
	"github.com/ovis-hpc/lvc/drivers/sshd"
	"github.com/ovis-hpc/lvc/drivers/swarm"
	"github.com/ovis-hpc/lvc/internal/controller"
	"github.com/ovis-hpc/lvc/internal/store"
	"github.com/ovis-hpc/lvc/internal/testenv"
	"github.com/ovis-hpc/lvc/reconcile"
)

// fileLogger is the controller's logger at -v 2 (everything), as JSON
// lines into path.
func fileLogger(t *testing.T, path string) (logr.Logger, func()) {
	t.Helper()
	cfg := zap.NewProductionConfig()
	cfg.Sampling = nil
	cfg.Level = zap.NewAtomicLevelAt(zapcore.Level(-2))
	cfg.OutputPaths = []string{path}
	cfg.ErrorOutputPaths = []string{path}
	z, err := cfg.Build()
	if err != nil {
		t.Fatal(err)
	}
	return zapr.NewLogger(z), func() { _ = z.Sync() }
}

// secret is one secret file read back from a node.
type secret struct {
	where   string // node:path
	content []byte
}

// needles are the forms in which a secret could leak: raw, Go-quoted,
// hex, base64 (all four alphabets), and for PEM files each body line and the key
// bytes; for the hex cluster secret, its bytes. Long forms are also cut
// into overlapping windows, so a partial leak is found too.
func needles(t *testing.T, s secret) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	add := func(form string, b []byte) {
		if len(b) < 12 {
			return
		}
		out[form] = b
		encs := map[string]string{
			"quoted": strconv.Quote(string(b)),
			"hex":    hex.EncodeToString(b), "HEX": strings.ToUpper(hex.EncodeToString(b)),
			"base64": base64.StdEncoding.EncodeToString(b), "base64raw": base64.RawStdEncoding.EncodeToString(b),
			"base64url": base64.URLEncoding.EncodeToString(b), "base64rawurl": base64.RawURLEncoding.EncodeToString(b),
		}
		for name, e := range encs {
			out[form+"/"+name] = []byte(e)
			// Windows of 32 characters every 16: 24 bytes of base64, 16 of hex.
			for i := 0; i+32 <= len(e) && len(e) > 48; i += 16 {
				out[fmt.Sprintf("%s/%s[%d:]", form, name, i)] = []byte(e[i : i+32])
			}
		}
		for i := 0; i+16 <= len(b) && len(b) > 32; i += 8 {
			out[fmt.Sprintf("%s[%d:]", form, i)] = b[i : i+16]
		}
	}
	if !bytes.HasPrefix(s.content, []byte("-----")) {
		add("raw", s.content)
	}
	if k, err := hex.DecodeString(strings.TrimSpace(string(s.content))); err == nil {
		add("decoded", k)
	}
	if block, _ := pem.Decode(s.content); block != nil {
		// The body also holds the public key and the comment: only its
		// lines and the private key's seed are secret.
		body := strings.Split(string(s.content), "\n")
		for i, l := range body {
			if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
				out[fmt.Sprintf("pem-line-%d", i)] = []byte(l)
			}
		}
		key, err := ssh.ParseRawPrivateKey(s.content)
		if err != nil {
			t.Fatalf("%s: %v", s.where, err)
		}
		if k, ok := key.(*ed25519.PrivateKey); ok {
			add("ed25519-seed", k.Seed())
		}
	}
	return out
}

// haystack is one place secrets must never reach.
type haystack struct {
	name string
	data []byte
}

// The cluster's secrets (cluster secret, munge key, SSH private keys)
// exist only inside its containers: they never reach the controller's
// logs at full verbosity, container or network labels and configuration,
// the Docker events of the run, the status file or the event log, across
// creation, a controller restart (which reads the secret back), a node's
// re-creation and a daemon's restart. The key files have tight modes.
func TestE2ESecretsNeverLeak(t *testing.T) {
	rt := testenv.Engine(t)
	name := testenv.ClusterName(t, rt)
	dir := t.TempDir()
	manifests, status := filepath.Join(dir, "clusters"), filepath.Join(dir, "status")
	os.MkdirAll(manifests, 0o755)
	logFile := filepath.Join(dir, "controller.log")
	log, flush := fileLogger(t, logFile)
	since := time.Now().Add(-time.Second)

	start := func() *harness {
		ctx, cancel := context.WithCancel(t.Context())
		h := &harness{t: t, rt: rt, manifests: manifests, status: store.Status{Dir: status}, cancel: cancel, done: make(chan error, 1)}
		c := controller.New(rt, controller.Options{ManifestsDir: manifests, StatusDir: status, Resync: 2 * time.Second, Prune: true, Debounce: 100 * time.Millisecond})
		go func() { h.done <- c.Run(logr.NewContext(ctx, log)) }()
		t.Cleanup(h.stop)
		return h
	}
	h := start()
	write(t, filepath.Join(manifests, name+".yaml"), testenv.SeedManifest(t, manifests, name, ""))
	h.waitStatus(name, 120*time.Second, "Ready", ready(1))

	// Every path that handles the secret once more: a restarted controller
	// reads it back from the nodes, a re-created node gets it written, a
	// killed munged is started again.
	h.stop()
	h = start()
	before := ids(t, rt, name)
	if err := rt.RemoveContainer(t.Context(), before["node-1"]); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(name, 60*time.Second, "Ready with a new node-1", func(c *v1.LDMSDCluster) bool {
		return ready(1)(c) && c.Status.Nodes[0].ContainerID != before["node-1"][:12]
	})
	after := ids(t, rt, name)
	run(t, rt, after["node-2"], "pkill", "-KILL", "-x", "munged")
	h.waitStatus(name, 30*time.Second, "munged restarted", func(c *v1.LDMSDCluster) bool {
		return ready(1)(c) && daemonStatus(c, "node-2", "munged").Restarts > 0
	})
	h.stop()
	flush()
	until := time.Now().Add(time.Second)

	// The secrets, read back from every node, and their modes.
	var secrets []secret
	nodes := []string{"node-1", "node-2", "node-3", "node-4", "node-5"}
	for _, node := range nodes {
		for _, f := range []struct {
			path, mode string
		}{
			{reconcile.SecretPath, "400 root"},
			{munged.KeyPath, "400 munge"},
			{sshd.RootKeyPath, "600 root"},
			{sshd.HostKeyPath, "600 root"},
		} {
			if rc, out := run(t, rt, after[node], "stat", "-c", "%a %U", f.path); rc != 0 || strings.TrimSpace(out) != f.mode {
				t.Errorf("%s:%s mode and owner = %d %q, want %s", node, f.path, rc, out, f.mode)
			}
			data, err := rt.ReadFile(t.Context(), after[node], f.path)
			if err != nil || len(data) == 0 {
				t.Fatalf("read %s:%s = %d bytes, %v", node, f.path, len(data), err)
			}
			secrets = append(secrets, secret{where: node + ":" + f.path, content: data})
		}
	}

	// Where they must not be.
	var hay []haystack
	logs, err := os.ReadFile(logFile)
	if err != nil || !bytes.Contains(logs, []byte(`"docker event"`)) {
		t.Fatalf("controller log %s: %d bytes, %v; want V(1) lines in it", logFile, len(logs), err)
	}
	hay = append(hay, haystack{"controller log", logs})
	filepath.WalkDir(status, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			hay = append(hay, haystack{"status dir " + filepath.Base(p), data})
		}
		return nil
	})
	if len(hay) < 3 {
		t.Fatalf("haystacks %d: want the log, a status file and an event log", len(hay))
	}
	for _, node := range nodes {
		ins, err := rt.Client().ContainerInspect(t.Context(), after[node])
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(ins) // labels, env, command, mounts: all of it
		hay = append(hay, haystack{"inspect " + node, data})
	}
	net, err := rt.Client().NetworkInspect(t.Context(), name, network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(net)
	hay = append(hay, haystack{"inspect network", data})
	hay = append(hay, haystack{"docker events", dockerEvents(t, rt, since, until)})

	checked := 0
	for _, s := range secrets {
		ns := needles(t, s)
		// The needles do find a leak: the file as a log would show it.
		leak := []byte(fmt.Sprintf(`{"msg":"wrote file","content":%q}`, s.content))
		if !slices.ContainsFunc(slices.Collect(maps.Values(ns)), func(n []byte) bool { return bytes.Contains(leak, n) }) {
			t.Errorf("%s: no needle finds the file logged with %%q", s.where)
		}
		for form, needle := range ns {
			checked++
			for _, h := range hay {
				if bytes.Contains(h.data, needle) {
					t.Errorf("%s (%s) found in %s", s.where, form, h.name)
				}
			}
		}
	}
	size := 0
	for _, h := range hay {
		size += len(h.data)
	}
	t.Logf("%d forms of %d secrets checked against %d places (%d KiB)", checked, len(secrets), len(hay), size>>10)
}

// dockerEvents returns every event of the engine between since and until,
// as JSON lines.
func dockerEvents(t *testing.T, rt *swarm.Engine, since, until time.Time) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	msgs, errs := rt.Client().Events(ctx, events.ListOptions{Since: since.Format(time.RFC3339Nano), Until: until.Format(time.RFC3339Nano)})
	var b bytes.Buffer
	n := 0
	for {
		select {
		case m := <-msgs:
			data, _ := json.Marshal(m)
			b.Write(append(data, '\n'))
			n++
		case err := <-errs:
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("docker events: %v", err)
			}
			if n == 0 {
				t.Fatal("docker events: none in the run")
			}
			return b.Bytes()
		}
	}
}
