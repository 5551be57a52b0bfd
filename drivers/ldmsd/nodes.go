package ldmsd

import (
	"strconv"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// Syntax is the ldmsd config syntax NodeConfig writes samplers in.
type Syntax int

const (
	// SyntaxV4 starts a sampler with "start name=PLUGIN interval=...":
	// ldmsd before 4.100.
	SyntaxV4 Syntax = iota
	// SyntaxV5 starts it with smplr_add and smplr_start: ldmsd 4.100
	// (the version 5 development line) and later.
	SyntaxV5
)

// String names the syntax.
func (s Syntax) String() string {
	if s == SyntaxV5 {
		return "v5"
	}
	return "v4"
}

// SyntaxFor picks the syntax for an ldmsd version (ldmsd -V) as
// LDMS_Test.py does: SyntaxV5 from 4.100.0 on.
func SyntaxFor(major, minor, patch int) Syntax {
	if major > 4 || major == 4 && minor >= 100 {
		return SyntaxV5
	}
	return SyntaxV4
}

// NodeConfig returns the config file of an ldmsd daemon of an ldms-test
// format node (v1.ExpandNodes), as LDMS_Test.py's get_ldmsd_config writes
// it, byte for byte:
//
//	default_quota quota=QUOTA                 when the daemon has a quota
//	auth_add name=NAME A=V...                 per auth domain
//	listen  A=V...                            per listen entry (two spaces)
//	load name=P                               per sampler,
//	config name=P CONFIG... [XTHREAD]           the older syntax,
//	start name=P [interval=I] [offset=O]        if it starts;
//	load name=P                                 or SyntaxV5:
//	config name=P CONFIG...
//	smplr_add name=P_smplr instance=P           [interval=I] [offset=O]
//	smplr_start name=P_smplr                    if it starts
//	advertiser_add name=NAME A=V...           per advertiser
//	prdcr_listen_add name=NAME name=NAME A=V... per prdcr_listen
//	prdcr_add name=NAME A=V...                per prdcr
//	CONFIG                                    the daemon's config lines
//
// A=V are the object's other attributes in spec order. Producers are not
// started here: the specs' config lines start them (prdcr_start_regex).
// An empty optional value leaves its space: "start name=meminfo
// interval=1000000 " when there is no offset, as the module writes it.
// The module's second substitution pass over the sampler lines changes
// nothing once ExpandNodes has substituted the spec, so there is none.
func NodeConfig(d v1.NodeDaemon, syn Syntax) string {
	var b strings.Builder
	if d.Quota != "" {
		b.WriteString("default_quota quota=" + d.Quota + "\n")
	}
	for _, a := range d.Auth {
		b.WriteString("auth_add name=" + a.Name)
		writeParams(&b, a.Params, "name")
		b.WriteByte('\n')
	}
	for _, l := range d.Listen {
		b.WriteString("listen ")
		writeParams(&b, l.Params, "")
		b.WriteByte('\n')
	}
	for _, s := range d.Samplers {
		interval, offset, xthread := "", "", ""
		if s.Interval != "" {
			interval = "interval=" + s.Interval
		}
		if s.Offset != "" {
			offset = "offset=" + s.Offset
		}
		if s.ExclusiveThread != "" {
			xthread = "exclusive_thread=" + s.ExclusiveThread
		}
		cfg := strings.Join(s.Config, " ")
		b.WriteString("load name=" + s.Plugin + "\n")
		if syn == SyntaxV5 {
			b.WriteString("config name=" + s.Plugin + " " + cfg + "\n")
			if s.Start {
				b.WriteString("smplr_add name=" + s.Plugin + "_smplr instance=" + s.Plugin +
					"           " + interval + " " + offset + "\n")
				b.WriteString("smplr_start name=" + s.Plugin + "_smplr\n")
			}
			continue
		}
		b.WriteString("config name=" + s.Plugin + " " + cfg + " " + xthread + "\n")
		if s.Start {
			b.WriteString("start name=" + s.Plugin + " " + interval + " " + offset + "\n")
		}
	}
	for _, a := range d.Advertisers {
		b.WriteString("advertiser_add name=" + a.Name)
		writeParams(&b, a.Params, "name")
		b.WriteByte('\n')
	}
	for _, pl := range d.PrdcrListen {
		// The module writes the name a second time with the others.
		b.WriteString("prdcr_listen_add name=" + pl.Name)
		writeParams(&b, pl.Params, "")
		b.WriteByte('\n')
	}
	for _, p := range d.Prdcrs {
		b.WriteString("prdcr_add name=" + p.Name)
		writeParams(&b, p.Params, "name")
		b.WriteByte('\n')
	}
	for _, l := range d.Config {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// writeParams writes " NAME=VALUE" for each parameter but skip.
func writeParams(b *strings.Builder, ps []v1.Param, skip string) {
	for _, p := range ps {
		if skip != "" && p.Name == skip {
			continue
		}
		b.WriteString(" " + p.Name + "=" + p.Value)
	}
}

// NodeCommand returns the argv that starts an ldmsd daemon of an
// ldms-test format node, as LDMS_Test.py's get_ldmsd_cmd builds it:
// ldmsd [-x XPRT:PORT] -a AUTH -c CONFIG_FILE -l LOG_FILE -v LEVEL. The
// -x listener is there only when both listen_xprt and listen_port are set
// (the listen entries are in the config file). The module runs it in the
// background with "&"; ldmsd stays in the foreground here (see Command).
func NodeCommand(d v1.NodeDaemon) []string {
	argv := []string{"ldmsd"}
	if d.ListenXprt != "" && d.ListenPort != 0 {
		argv = append(argv, "-x", d.ListenXprt+":"+strconv.Itoa(d.ListenPort))
	}
	return append(argv, "-a", d.ListenAuth, "-c", d.ConfigFile, "-l", d.LogFile, "-v", d.LogLevel)
}
