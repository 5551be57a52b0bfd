package ldmsd

import (
	"reflect"
	"strings"
	"testing"

	v1 "github.com/ovis-hpc/lvc/apis/v1"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		d    v1.DaemonSpec
		want string
	}{
		{
			name: "samplers, start only when asked",
			d: v1.DaemonSpec{Samplers: []v1.Sampler{
				{Plugin: "slurm_sampler", Config: []string{"instance=${HOSTNAME}/slurm_sampler", "producer=${HOSTNAME}"}},
				{Plugin: "meminfo", Config: []string{"instance=${HOSTNAME}/meminfo"}, Start: true},
				{Plugin: "bare", Start: true},
			}},
			want: `load name=slurm_sampler
config name=slurm_sampler component_id=${COMPONENT_ID} instance=${HOSTNAME}/slurm_sampler producer=${HOSTNAME}
load name=meminfo
config name=meminfo component_id=${COMPONENT_ID} instance=${HOSTNAME}/meminfo
start name=meminfo interval=${INTERVAL} offset=${OFFSET}
load name=bare
config name=bare component_id=${COMPONENT_ID}
start name=bare interval=${INTERVAL} offset=${OFFSET}
`,
		},
		{
			name: "config lines verbatim, samplers ignored",
			d: v1.DaemonSpec{
				Config:   []string{"prdcr_add name=a host=a port=1 xprt=sock type=active interval=1", "updtr_start name=all"},
				Samplers: []v1.Sampler{{Plugin: "meminfo"}},
			},
			want: "prdcr_add name=a host=a port=1 xprt=sock type=active interval=1\nupdtr_start name=all\n",
		},
		{name: "nothing", d: v1.DaemonSpec{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Config(tt.d); got != tt.want {
				t.Errorf("Config() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	full := v1.DaemonSpec{ListenPort: 10000, ListenXprt: "sock", ListenAuth: "none", ConfigFile: "/etc/ldmsd.conf", LogFile: "/var/log/ldmsd.log", LogLevel: "INFO"}
	tests := []struct {
		name string
		d    v1.DaemonSpec
		want string
	}{
		{"seed sampler", full, "ldmsd -x sock:10000 -a none -c /etc/ldmsd.conf -l /var/log/ldmsd.log -v INFO"},
		{"no port, no listener", v1.DaemonSpec{ListenXprt: "rdma", ListenAuth: "munge", ConfigFile: "/c", LogFile: "/l", LogLevel: "debug"}, "ldmsd -a munge -c /c -l /l -v DEBUG"},
		{"port without xprt", v1.DaemonSpec{ListenPort: 1}, "ldmsd -x sock:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(Command(tt.d), " "); got != tt.want {
				t.Errorf("Command() = %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := Command(full), []string{"ldmsd", "-x", "sock:10000", "-a", "none", "-c", "/etc/ldmsd.conf", "-l", "/var/log/ldmsd.log", "-v", "INFO"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Command() = %q, want %q", got, want)
	}
}
