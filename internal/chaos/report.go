package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/ovis-hpc/lvc/internal/store"
)

// DocPath is the reliability document, relative to the module root.
const DocPath = "docs/reliability.md"

func begin(section string) string {
	return "<!-- BEGIN GENERATED " + section + ": written by the suite, do not edit by hand -->"
}

func end(section string) string { return "<!-- END GENERATED " + section + " -->" }

// WriteSection replaces the generated section of the document at path
// with body, or appends it when the document has no such section yet. The
// rest of the document, written by hand, is kept. The file is replaced
// atomically.
func WriteSection(path, section, body string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	b, e := begin(section), end(section)
	block := b + "\n" + strings.TrimRight(body, "\n") + "\n" + e
	doc := string(old)
	i, j := strings.Index(doc, b), strings.Index(doc, e)
	switch {
	case i >= 0 && j > i:
		doc = doc[:i] + block + doc[j+len(e):]
	case i >= 0 || j >= 0:
		return fmt.Errorf("%s: section %s has only one of its markers", path, section)
	default:
		if doc != "" && !strings.HasSuffix(doc, "\n\n") {
			doc = strings.TrimRight(doc, "\n") + "\n\n"
		}
		doc += block + "\n"
	}
	return store.WriteFileAtomic(path, []byte(doc), 0o644)
}

// Machine describes where a run happened, for the sections' headers: date,
// host CPUs and kernel, Go, and the engine's version and swarm state.
func Machine(ctx context.Context) string {
	kernel := strings.TrimSpace(run(ctx, "uname", "-sr"))
	engine := strings.TrimSpace(run(ctx, "docker", "version", "--format", "Docker Engine {{.Server.Version}} (API {{.Server.APIVersion}})"))
	swarm := strings.TrimSpace(run(ctx, "docker", "info", "--format", "swarm {{.Swarm.LocalNodeState}}, {{.Swarm.Nodes}} node(s)"))
	var mem string
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %d GiB RAM", (kb+(1<<19))>>20)
	}
	return fmt.Sprintf("%s; %d CPUs%s, %s; %s, %s; %s",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), mem, kernel, engine, swarm, runtime.Version())
}

// Revision names the tree a run was built from (git describe).
func Revision(ctx context.Context) string {
	return strings.TrimSpace(run(ctx, "git", "describe", "--always", "--dirty"))
}

func run(ctx context.Context, argv ...string) string {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return argv[0] + ": " + err.Error()
	}
	return out.String()
}
