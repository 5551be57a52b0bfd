package slurm

import (
	"fmt"
	"strings"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

// Where the files go on every slurm node (Debian's Slurm reads /etc/slurm).
const (
	ConfPath          = "/etc/slurm/slurm.conf"
	CgroupConfPath    = "/etc/slurm/cgroup.conf"
	PlugstackConfPath = "/etc/slurm/plugstack.conf"
)

// ConfOptions are what slurm.conf depends on.
type ConfOptions struct {
	// ControlHost runs slurmctld: the service node's hostname.
	ControlHost string
	// Nodes run slurmd: the hostnames of the sampler nodes.
	Nodes         []string
	CPUs          int
	Oversubscribe string
	LogLevel      string
	// Plugstack adds PlugStackConfig, for a cluster with a plugstack.
	Plugstack bool
}

// SlurmConf returns slurm.conf. The plugins are the ones that work in
// unprivileged containers: processes tracked by parent pid, no task
// containment, consumable CPUs.
func SlurmConf(o ConfOptions) string {
	nodes := strings.Join(o.Nodes, ",")
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# slurm.conf written by lvc: do not edit, it is rewritten.")
	line("ClusterName=cluster")
	line("SlurmctldHost=%s", o.ControlHost)
	line("SlurmUser=root")
	line("AuthType=auth/munge")
	line("ProctrackType=proctrack/linuxproc")
	line("TaskPlugin=task/none")
	line("SelectType=select/cons_tres")
	line("SelectTypeParameters=CR_CPU")
	line("ReturnToService=1")
	line("SlurmdSpoolDir=/var/spool/slurmd")
	line("StateSaveLocation=/var/spool/slurmctld")
	line("SchedulerType=sched/builtin")
	line("MpiDefault=none")
	line("JobAcctGatherType=jobacct_gather/none")
	// CPUs= may exceed what the container sees; use the configured value
	// rather than draining the node for "Low CPUs".
	line("SlurmdParameters=config_overrides")
	line("SlurmctldLogFile=/var/log/slurmctld.log")
	line("SlurmdLogFile=/var/log/slurmd.log")
	line("SlurmctldDebug=%s", strings.ToLower(o.LogLevel))
	line("SlurmdDebug=%s", strings.ToLower(o.LogLevel))
	if o.Plugstack {
		line("PlugStackConfig=%s", PlugstackConfPath)
	}
	line("NodeName=%s CPUs=%d State=UNKNOWN", nodes, o.CPUs)
	line("PartitionName=debug Nodes=%s Default=YES MaxTime=INFINITE State=UP OverSubscribe=%s", nodes, strings.ToUpper(o.Oversubscribe))
	return b.String()
}

// PlugstackConf returns plugstack.conf: one "required|optional PATH ARGS"
// line per entry.
func PlugstackConf(entries []v1.PlugstackEntry) string {
	var b strings.Builder
	for _, e := range entries {
		kind := "optional"
		if e.Required {
			kind = "required"
		}
		b.WriteString(strings.Join(append([]string{kind, e.Path}, e.Args...), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// CgroupConf returns cgroup.conf. With proctrack/linuxproc and task/none
// Slurm uses no cgroup plugin, so the file only says so; it exists for
// tools that expect it.
func CgroupConf() string {
	return "# cgroup.conf written by lvc: proctrack/linuxproc and task/none use no cgroups.\n"
}
