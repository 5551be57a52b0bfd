package slurm

import (
	"strings"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

func TestSlurmConf(t *testing.T) {
	got := SlurmConf(ConfOptions{ControlHost: "node-5", Nodes: []string{"node-1", "node-2"}, CPUs: 4, Oversubscribe: "force:2", LogLevel: "DEBUG2", Plugstack: true})
	for _, want := range []string{
		"ClusterName=cluster\n",
		"SlurmctldHost=node-5\n",
		"SlurmUser=root\n",
		"AuthType=auth/munge\n",
		"ProctrackType=proctrack/linuxproc\n",
		"TaskPlugin=task/none\n",
		"SelectType=select/cons_tres\n",
		"SelectTypeParameters=CR_CPU\n",
		"ReturnToService=1\n",
		"SlurmdSpoolDir=/var/spool/slurmd\n",
		"StateSaveLocation=/var/spool/slurmctld\n",
		"SchedulerType=sched/builtin\n",
		"MpiDefault=none\n",
		"SlurmctldLogFile=/var/log/slurmctld.log\n",
		"SlurmdLogFile=/var/log/slurmd.log\n",
		"SlurmctldDebug=debug2\n",
		"SlurmdDebug=debug2\n",
		"JobAcctGatherType=jobacct_gather/none\n",
		"PlugStackConfig=/etc/slurm/plugstack.conf\n",
		"\nNodeName=node-1,node-2 CPUs=4 State=UNKNOWN\n",
		"\nPartitionName=debug Nodes=node-1,node-2 Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:2\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("SlurmConf() lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "cons_res") || strings.Contains(got, "cgroup") {
		t.Errorf("SlurmConf() names a plugin that does not work in containers:\n%s", got)
	}
	if got := SlurmConf(ConfOptions{ControlHost: "node-2", Nodes: []string{"node-1"}, CPUs: 1, Oversubscribe: "NO", LogLevel: "info"}); strings.Contains(got, "PlugStackConfig") {
		t.Errorf("SlurmConf() without plugstack names PlugStackConfig:\n%s", got)
	}
}

func TestPlugstackConf(t *testing.T) {
	got := PlugstackConf([]v1.PlugstackEntry{
		{Required: true, Path: "/opt/ovis/lib/ovis-ldms/libslurm_notifier.so", Args: []string{"stream=slurm", "timeout=1", "client=sock:localhost:10000:none"}},
		{Path: "/usr/lib/x.so"},
	})
	want := "required /opt/ovis/lib/ovis-ldms/libslurm_notifier.so stream=slurm timeout=1 client=sock:localhost:10000:none\noptional /usr/lib/x.so\n"
	if got != want {
		t.Errorf("PlugstackConf() = %q, want %q", got, want)
	}
}

func TestCgroupConf(t *testing.T) {
	for _, l := range strings.Split(strings.TrimSpace(CgroupConf()), "\n") {
		if !strings.HasPrefix(l, "#") {
			t.Errorf("CgroupConf() line %q is not a comment", l)
		}
	}
}
