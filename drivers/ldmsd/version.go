package ldmsd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// versionRE finds "LDMSD Version: 4.3.11..." in ldmsd -V's output.
var versionRE = regexp.MustCompile(`LDMSD Version:\s*(\d+)\.(\d+)\.(\d+)`)

var syntaxCache sync.Map // ldmsd path and mtime → Syntax

// SyntaxOf is the config syntax of the ldmsd under an OVIS prefix on this
// host, from its ldmsd -V (run once per build of it); SyntaxV4 when it
// cannot tell.
func SyntaxOf(prefix string) Syntax {
	bin := filepath.Join(prefix, "sbin", "ldmsd")
	fi, err := os.Stat(bin)
	if err != nil {
		return SyntaxV4
	}
	key := bin + "@" + fi.ModTime().String()
	if s, ok := syntaxCache.Load(key); ok {
		return s.(Syntax)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-V")
	lib := filepath.Join(prefix, "lib") + ":" + filepath.Join(prefix, "lib64")
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+lib)
	out, _ := cmd.CombinedOutput()
	s := SyntaxV4
	if m := versionRE.FindSubmatch(out); m != nil {
		major, _ := strconv.Atoi(string(m[1]))
		minor, _ := strconv.Atoi(string(m[2]))
		patch, _ := strconv.Atoi(string(m[3]))
		s = SyntaxFor(major, minor, patch)
	}
	syntaxCache.Store(key, s)
	return s
}
