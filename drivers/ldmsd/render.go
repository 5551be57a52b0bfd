package ldmsd

import (
	"strconv"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// Config returns the config file text of a resolved daemon: its config
// lines verbatim when it has any; otherwise, per sampler in order, a load
// line, a config line (component_id then the sampler's config entries)
// and, only for samplers with start, a start line. ${COMPONENT_ID},
// ${INTERVAL} and ${OFFSET} are left for ldmsd to expand from its
// environment.
func Config(d v1.DaemonSpec) string {
	var b strings.Builder
	if len(d.Config) > 0 {
		for _, l := range d.Config {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		return b.String()
	}
	for _, s := range d.Samplers {
		b.WriteString("load name=" + s.Plugin + "\n")
		b.WriteString("config name=" + s.Plugin + " component_id=${COMPONENT_ID}")
		for _, c := range s.Config {
			b.WriteString(" " + c)
		}
		b.WriteByte('\n')
		if s.Start {
			b.WriteString("start name=" + s.Plugin + " interval=${INTERVAL} offset=${OFFSET}\n")
		}
	}
	return b.String()
}

// Command returns the argv that starts ldmsd for a resolved daemon:
// ldmsd -x XPRT:PORT -a AUTH -c CONFIG_FILE -l LOG_FILE -v LEVEL. The
// listener (-x) is left out when the daemon has no port, and any other
// option whose value is empty is left out too. ldmsd stays in the
// foreground (OVIS-4 never daemonizes), so no -F.
func Command(d v1.DaemonSpec) []string {
	argv := []string{"ldmsd"}
	if d.ListenPort != 0 {
		xprt := d.ListenXprt
		if xprt == "" {
			xprt = v1.DefaultListenXprt
		}
		argv = append(argv, "-x", xprt+":"+strconv.Itoa(d.ListenPort))
	}
	for _, o := range []struct{ flag, v string }{
		{"-a", d.ListenAuth},
		{"-c", d.ConfigFile},
		{"-l", d.LogFile},
		{"-v", strings.ToUpper(d.LogLevel)},
	} {
		if o.v != "" {
			argv = append(argv, o.flag, o.v)
		}
	}
	return argv
}
