package v1

import (
	"path/filepath"
	"strings"
	"testing"
)

// invalidFixtures maps each testdata/invalid-*.yaml to every error it must
// produce, in order, without the leading file name.
var invalidFixtures = map[string][]string{
	"invalid-apiversion.yaml": {
		`doc 1: apiVersion: "lvc/v2" is not "lvc/v1"`,
	},
	"invalid-auth.yaml": {
		`doc 1: spec.daemons[0].listen_auth: unknown value "kerberos", known: none, ovis, munge, naive, simple`,
	},
	"invalid-placement.yaml": {
		`doc 1: spec.daemons[0].placement.node: "bad node" is not a swarm node hostname`,
		`doc 1: spec.daemons[0].placement.labels: "" is not a node label name`,
	},
	"invalid-cap.yaml": {
		`doc 1: spec.cap_add[1]: "net admin" is not a capability name such as SYS_PTRACE or ALL`,
	},
	"invalid-cpu-per-node.yaml": {
		`doc 1: spec.cpu_per_node: -2 is not between 1 and 4096`,
	},
	"invalid-duplicate-host.yaml": {
		`doc 1: spec.daemons[1].host: host "agg" is also used by spec.daemons[0]`,
	},
	"invalid-duplicate-key.yaml": {
		`doc 1: spec.services: key appears twice (line 8)`,
	},
	"invalid-duplicate-template.yaml": {
		`doc 1: spec.define[1].name: template "d" is also defined at spec.define[0]`,
		`doc 1: spec.define[2].name: required: a template is used by its name`,
	},
	"invalid-env-dict-value.yaml": {
		`doc 1: spec.env.FOO: expected string, number or boolean, got a list`,
	},
	"invalid-env-entry.yaml": {
		`doc 1: spec.env[1]: "BAR" is not NAME=VALUE`,
	},
	"invalid-env-name.yaml": {
		`doc 1: spec.daemons[0].env.1FOO: "1FOO" is not a valid variable name (letters, digits, '_', not starting with a digit)`,
	},
	"invalid-host-chars.yaml": {
		`doc 1: spec.daemons[0].host: "sampler_1" is not a hostname: lowercase letters, digits and '-' in dot-separated labels of at most 63 characters, each starting and ending with a letter or digit`,
	},
	"invalid-host-container-name.yaml": {
		`doc 1: spec.daemons[0].host: "ldms-2" collides with the container names ldms-1..ldms-N`,
	},
	"invalid-host-node-n.yaml": {
		`doc 1: spec.daemons[0].host: "node-3" collides with the node hostnames node-1..node-N`,
	},
	"invalid-key-no-value.yaml": {
		`doc 1: spec.daemons[1].env.HOSTNAME: %host% has no value: the daemon sets no host (value from spec.env.HOSTNAME)`,
	},
	"invalid-kind.yaml": {
		`doc 1: kind: "Cluster" is not "LDMSDCluster"`,
	},
	"invalid-log-level.yaml": {
		`doc 1: spec.daemons[0].log_level: unknown value "loud", known: DEBUG, INFO, WARNING, ERROR, CRITICAL, QUIET`,
	},
	"invalid-many.yaml": {
		`doc 1: spec.define[0].listen_xprt: unknown value "tcp", known: sock, rdma, ugni, fabric`,
		`doc 1: spec.daemons[0].host: "A1" is not a hostname: lowercase letters, digits and '-' in dot-separated labels of at most 63 characters, each starting and ending with a letter or digit`,
		`doc 1: spec.daemons[0].config[0]: a config entry must be one line`,
		`doc 1: spec.daemons[1].samplers[0].plugin: "mem info" is not a plugin name`,
		`doc 1: spec.daemons[1].asset: no template "nope" in spec.define`,
	},
	"invalid-missing-template.yaml": {
		`doc 1: spec.daemons[2].asset: no template "samp" in spec.define`,
	},
	"invalid-mount-docker-socket.yaml": {
		`doc 1: spec.mounts[0]: mounting /var/run/docker.sock is refused: it exposes the host; set allow_host_mounts: true to allow it`,
	},
	"invalid-mount-format.yaml": {
		`doc 1: spec.mounts[0]: "/data:/data" must be SRC:DST:MODE`,
	},
	"invalid-mount-mode.yaml": {
		`doc 1: spec.mounts[0]: mode "rx" must be ro or rw`,
	},
	"invalid-mount-ovis.yaml": {
		`doc 1: spec.mounts[0]: destination /opt/ovis is also mounted by spec.ovis_prefix`,
	},
	"invalid-mount-relative-dst.yaml": {
		`doc 1: spec.mounts[0]: destination "data" must be an absolute path`,
	},
	"invalid-mount-root.yaml": {
		`doc 1: spec.mounts[0]: mounting / is refused: it exposes the host; set allow_host_mounts: true to allow it`,
	},
	"invalid-mount-run-dir.yaml": {
		`doc 1: spec.mounts[0]: mounting /var/run is refused: it exposes the host; set allow_host_mounts: true to allow it`,
	},
	"invalid-name-chars.yaml": {
		`doc 1: metadata.name: "../etc" must be lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
	},
	"invalid-name-missing.yaml": {
		`doc 1: metadata.name: required`,
	},
	"invalid-name-too-long.yaml": {
		`doc 1: metadata.name: "abcdefghijklmnopqrstuvwxyz0123456789abcde" is 41 characters long, at most 40`,
	},
	"invalid-name-uppercase.yaml": {
		`doc 1: metadata.name: "Ldms" must be lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
	},
	"invalid-no-daemons.yaml": {
		`doc 1: spec.daemons: at least one daemon is required`,
	},
	"invalid-not-dict.yaml": {
		`doc 1: a document must be a dict, got a list`,
	},
	"invalid-ovis-prefix-root.yaml": {
		`doc 1: spec.ovis_prefix: mounting / is refused: it exposes the host; set allow_host_mounts: true to allow it`,
	},
	"invalid-oversubscribe.yaml": {
		`doc 1: spec.oversubscribe: "MAYBE" is not NO, YES, FORCE or EXCLUSIVE (YES and FORCE may end in :COUNT)`,
	},
	"invalid-plugstack.yaml": {
		`doc 1: spec.plugstack[0].required: expected a boolean (true or false), got string "yes"`,
		`doc 1: spec.plugstack[0].path: "libslurm_notifier.so" must be an absolute path without spaces`,
		`doc 1: spec.plugstack[0].args[0]: "stream=slurm timeout=1": an argument must be one word without spaces`,
	},
	"invalid-port-range.yaml": {
		`doc 1: spec.daemons[0].listen_port: 70000 is not a port between 1 and 65535`,
	},
	"invalid-port-type.yaml": {
		`doc 1: spec.daemons[0].listen_port: expected an integer, got string "10000"`,
	},
	"invalid-restart.yaml": {
		`doc 1: spec.daemons[0].restart: unknown value "sometimes", known: always, never, manual`,
	},
	"invalid-sampler-key.yaml": {
		`doc 1: spec.daemons[0].samplers[0].config[0]: unknown key %host% (a sampler has no field "host"; write %% for a literal %)`,
	},
	"invalid-second-doc.yaml": {
		`doc 2: spec.daemons[0].listen_port: 65536 is not a port between 1 and 65535`,
	},
	"invalid-service.yaml": {
		`doc 1: spec.services[1]: unknown service "nfs", known: sshd, munged, slurm, ldmsd`,
	},
	"invalid-slurm-loglevel.yaml": {
		`doc 1: spec.slurm_loglevel: "chatty" is not one of quiet, fatal, error, info, verbose, debug, debug2, debug3, debug4, debug5`,
	},
	"invalid-slurm-no-sampler.yaml": {
		`doc 1: spec.services: slurm runs slurmd on the nodes of daemons of type "sampler" and there are none: give daemons that type or list services without slurm`,
	},
	"invalid-spec-name-mismatch.yaml": {
		`doc 1: spec.name: "ldms-slurm" differs from metadata.name "ldms_slurm"`,
	},
	"invalid-subnet-small.yaml": {
		`doc 1: spec.subnet: 10.1.2.0/30 has room for 1 containers, the cluster needs 3`,
	},
	"invalid-subnet.yaml": {
		`doc 1: spec.subnet: "10.1.2.3/24" has host bits set: did you mean 10.1.2.0/24?`,
	},
	"invalid-template-host.yaml": {
		`doc 1: spec.define[0].host: a template cannot set host: set it on each daemon`,
		`doc 1: spec.define[0].asset: a template cannot use another template`,
	},
	"invalid-type-errors.yaml": {
		`doc 1: spec.cpu_per_node: expected an integer, got 1.5`,
		`doc 1: spec.daemons[0].samplers[0].config: expected a list, got string "producer=x"`,
		`doc 1: spec.daemons[0].samplers[0].start: expected a boolean (true or false), got string "yes"`,
		`doc 1: spec.daemons[1]: expected a dict, got string "oops"`,
		`doc 1: spec.env: expected a list of NAME=VALUE or a dict, got number 5`,
		`doc 1: spec.services: expected a list, got string "ldmsd"`,
	},
	"invalid-unknown-field.yaml": {
		`doc 1: spec.daemons[2].lisen_port: unknown field`,
	},
	"invalid-unknown-key.yaml": {
		`doc 1: spec.daemons[0].env.HOSTNAME: unknown key %hots% (a daemon has no field "hots"; write %% for a literal %)`,
	},
	"invalid-xprt.yaml": {
		`doc 1: spec.define[0].listen_xprt: unknown value "tcp", known: sock, rdma, ugni, fabric`,
	},
	"invalid-yaml-syntax.yaml": {
		`doc 1: yaml: line 5: did not find expected ',' or ']'`,
	},
}

func TestInvalidFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("%d invalid fixtures, want at least 25", len(files))
	}
	for _, f := range files {
		if _, ok := invalidFixtures[filepath.Base(f)]; !ok {
			t.Errorf("%s has no expected errors in invalidFixtures", f)
		}
	}
	for name, want := range invalidFixtures {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join("testdata", name)
			docs, err := LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range Errors(docs) {
				s := e.Error()
				if !strings.HasPrefix(s, f+" ") {
					t.Errorf("error %q does not start with the file name %q", s, f)
				}
				got = append(got, strings.TrimPrefix(s, f+" "))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("LoadFile(%s) errors =\n%s\nwant\n%s", f, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestValidFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/valid-*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no valid fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			docs, err := LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) == 0 {
				t.Fatalf("LoadFile(%s) = no documents", f)
			}
			if errs := Errors(docs); len(errs) > 0 {
				t.Errorf("LoadFile(%s) errors:\n%v", f, errs)
			}
		})
	}
}

// The seed example written as a Python spec dumped to JSON under spec:
// must mean the same as the YAML manifest.
func TestSeedJSONEqualsYAML(t *testing.T) {
	load := func(f string) *LDMSDCluster {
		t.Helper()
		docs, err := LoadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 1 || len(docs[0].Errs) > 0 {
			t.Fatalf("LoadFile(%s) = %d docs, errors %v", f, len(docs), Errors(docs))
		}
		return docs[0].Cluster
	}
	y := load("testdata/valid-seed.yaml")
	j := load("testdata/valid-seed.json")
	dy, err := Expand(y)
	if err != nil {
		t.Fatal(err)
	}
	dj, err := Expand(j)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, dj), mustJSON(t, dy); got != want {
		t.Errorf("Expand(json) =\n%s\nwant (yaml)\n%s", got, want)
	}
}
