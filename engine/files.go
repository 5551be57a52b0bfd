package engine

import (
	"encoding/base64"
	"fmt"
	"path"
	"strings"
	"time"
)

// File is a file to write into a container.
type File struct {
	Path    string
	Content []byte
	Mode    uint32 // 0 means 0644
	Owner   string // user[:group]; empty means root
}

// WriteFilesExec is the exec that WriteFiles runs, with then (shell
// commands, may be empty) run after the files are written: one exec does
// both.
func WriteFilesExec(files []File, then string) ExecOptions {
	return ExecOptions{Argv: []string{"sh", "-s"}, Stdin: strings.NewReader(WriteFilesScript(files) + then)}
}

// WriteFilesScript renders a POSIX sh script that writes files; the
// content is base64 so that any byte survives the heredoc.
func WriteFilesScript(files []File) string {
	var b strings.Builder
	b.WriteString("set -e\numask 077\n")
	for _, f := range files {
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		p := shellWord(f.Path)
		fmt.Fprintf(&b, "mkdir -p %s\n", shellWord(path.Dir(f.Path)))
		fmt.Fprintf(&b, "base64 -d > %s <<'LVC_EOF'\n", p)
		enc := base64.StdEncoding.EncodeToString(f.Content)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\nLVC_EOF\n")
		fmt.Fprintf(&b, "chmod %o %s\n", mode, p)
		if f.Owner != "" {
			fmt.Fprintf(&b, "chown %s %s\n", shellWord(f.Owner), p)
		}
	}
	return b.String()
}

func shellWord(s string) string { return ShellQuote([]string{s}) }

// ListeningTest is a sh condition, true when something in the container
// listens on TCP port: on IPv4 or on a dual-stack IPv6 socket (OVIS-4's
// ldmsd uses one).
func ListeningTest(port int) string {
	return fmt.Sprintf(`grep -qE ':%04X [0-9A-F]+:[0-9A-F]+ 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null`, port)
}

// WaitListeningExec returns when something listens on port, polling
// every 20 ms in the container (one exec, not one per poll); it exits 1
// after timeout.
func WaitListeningExec(port int, timeout time.Duration) ExecOptions {
	tries := max(1, int(timeout/(20*time.Millisecond)))
	return ExecOptions{Argv: []string{"sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do %s && exit 0; sleep 0.02; i=$((i+1)); done; exit 1", tries, ListeningTest(port))}}
}
