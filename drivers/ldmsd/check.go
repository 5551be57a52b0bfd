package ldmsd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ovis-hpc/lvc/engine"
)

// CheckScript is a sh script, run on the daemon's node, that prints
// "listening" when something listens on port (IPv4 or the dual-stack IPv6
// socket OVIS-4 uses) and then the number of sets the daemon's own ldms_ls
// lists.
func CheckScript(xprt string, port int, auth string) string {
	ls := fmt.Sprintf("timeout 5 ldms_ls -x %s -p %d -h localhost", xprt, port)
	if auth == "none" || auth == "munge" {
		ls += " -a " + auth
	}
	return fmt.Sprintf(`if %s; then echo listening; else echo not-listening; fi
%s 2>/dev/null | grep -c . || true
`, engine.ListeningTest(port), ls)
}

// ParseCheck reads CheckScript's output.
func ParseCheck(out string) (listening bool, sets int) {
	lines := strings.Fields(out)
	if len(lines) > 0 {
		listening = lines[0] == "listening"
	}
	if len(lines) > 1 {
		sets, _ = strconv.Atoi(lines[1])
	}
	return listening, sets
}
