"""Unit tests of runtime/lvc.py, the ldms-test runtime plugin: what it asks
lvc to do, with a fake lvc on the PATH (fake_lvc). No Docker, no ldms-test
checkout: LDMS_Test comes from this directory's stand-in (ldms_test_stub.py,
under a name of its own so that no file of ldms-test's is ever in the repo),
or from the checkout named by $LVC_LDMS_TEST_DIR when that is set."""

import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = os.path.join(HERE, "..", "runtime", "lvc.py")
REAL = os.environ.get("LVC_LDMS_TEST_DIR")
sys.path.insert(0, REAL if REAL else HERE)
if REAL:
    sys.argv[1:] = []  # the real LDMS_Test reads no arguments at import

if REAL:
    import LDMS_Test  # noqa: E402
else:
    import ldms_test_stub as LDMS_Test  # noqa: E402

    sys.modules["LDMS_Test"] = LDMS_Test  # what the plugin imports

_spec = importlib.util.spec_from_file_location("lvc_runtime", MODULE)
lvc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lvc)

NAME = "c1"

SPEC = {
    "name": NAME,
    "description": "test cluster",
    "image": "lvc-node:latest",
    "ovis_prefix": "/opt/ovis",
    "env": {"FOO": "BAR"},
    "mounts": ["/tmp/db:/db:rw"],
    "nodes": [
        {"hostname": "node-1", "aliases": ["samp-1"],
         "daemons": [{"name": "sshd", "type": "sshd"},
                     {"name": "samp", "type": "ldmsd",
                      "listen": [{"port": 10000, "xprt": "sock"}]}]},
        {"hostname": "agg-2", "aliases": "top",
         "daemons": [{"name": "sshd", "type": "sshd"}]},
        {"hostname": "headnode",
         "daemons": [{"name": "sshd", "type": "sshd"}]},
    ],
}

STATUS = {
    "apiVersion": "lvc/v1",
    "kind": "LDMSDCluster",
    "metadata": {"name": NAME},
    "spec": {"name": NAME},
    "status": {
        "phase": "Ready",
        "nodes": [
            {"hostname": "node-1", "aliases": ["samp-1"], "container": "c1-1",
             "ip": "10.9.0.2", "swarmNode": "host-a"},
            {"hostname": "agg-2", "aliases": ["top"], "container": "c1-2",
             "ip": "10.9.0.3"},
            {"hostname": "headnode", "container": "c1-3", "ip": "10.9.0.4"},
        ],
    },
}

IF_INET6 = (
    "00000000000000000000000000000001 01 80 10 80       lo\n"
    "fe800000000000000042acfffe090002 2e 40 20 80     eth0\n"
    "fd000000000000010000000000000002 2e 40 00 80     eth0\n"
)


class PluginBase(unittest.TestCase):
    """A fake lvc on the PATH, answering as told (answer), logging calls."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lvc-plugin-test.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        fake = os.path.join(bindir, "lvc")
        with open(os.path.join(HERE, "fake_lvc")) as src, open(fake, "w") as dst:
            dst.write("#!" + sys.executable + "\n" + src.read())
        os.chmod(fake, stat.S_IRWXU)
        self.log = os.path.join(self.tmp, "calls.jsonl")
        self.answers = os.path.join(self.tmp, "answers.json")
        self.base = os.path.join(self.tmp, "base")
        saved_env = dict(os.environ)
        self.addCleanup(lambda: (os.environ.clear(), os.environ.update(saved_env)))
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        os.environ["FAKE_LVC_LOG"] = self.log
        os.environ["FAKE_LVC_ANSWERS"] = self.answers
        saved_conf, saved_ldms_test = dict(lvc.CONFIG), dict(lvc.LDMS_TEST)
        self.addCleanup(lambda: (lvc.CONFIG.update(saved_conf), lvc.LDMS_TEST.update(saved_ldms_test)))
        lvc.CONFIG.update({"lvc": "lvc", "dir": self.base, "up_timeout": "10m"})
        pause = lvc.CLEANUP_PAUSE
        self.addCleanup(setattr, lvc, "CLEANUP_PAUSE", pause)
        lvc.CLEANUP_PAUSE = 0
        root = lvc.AGENT_ROOT  # no agent answers here: lvc exec runs each command
        self.addCleanup(setattr, lvc, "AGENT_ROOT", root)
        lvc.AGENT_ROOT = os.path.join(self.tmp, "agent")
        self.answer([])

    # -- helpers ---------------------------------------------------------
    def answer(self, rules, status=STATUS):
        rules = list(rules) + [
            {"sub": "render", "stdout": "cluster c1\n"},
            {"sub": "get", "stdout": json.dumps(status)},
            {"sub": "delete", "stdout": "ldmsdcluster/c1 deleted\n"},
        ]
        with open(self.answers, "w") as f:
            json.dump(rules, f)

    def calls(self):
        try:
            with open(self.log) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def last(self, sub):
        for c in reversed(self.calls()):
            if sub in c["argv"]:
                return c
        self.fail("no lvc {} call in {}".format(sub, self.calls()))

    def dirs(self):
        d = os.path.join(self.base, NAME)
        return ["--manifests", os.path.join(d, "clusters"),
                "--status-dir", os.path.join(d, "status")]

    def cluster(self):
        return lvc.LvcCluster._get(NAME)

    def node(self, name="node-1"):
        c = self.cluster()
        n = c.get_container(name)
        self.assertIsNotNone(n, name)
        return n



class PluginTest(PluginBase):
    # -- the interface ---------------------------------------------------
    def test_classes_implement_the_interface(self):
        self.assertEqual(lvc.LvcCluster.__abstractmethods__, frozenset())
        self.assertEqual(lvc.LvcContainer.__abstractmethods__, frozenset())
        self.assertEqual(lvc.LvcTTY.__abstractmethods__, frozenset())
        self.assertTrue(issubclass(lvc.LvcCluster, LDMS_Test.LDMSDCluster))
        self.assertTrue(issubclass(lvc.LvcContainer, LDMS_Test.LDMSDContainer))
        self.assertTrue(issubclass(lvc.LvcTTY, LDMS_Test.LDMSDContainerTTY))
        self.assertIs(lvc.get_cluster_class(), lvc.LvcCluster)

    def test_process_config(self):
        import configparser
        conf = configparser.ConfigParser()
        conf.read_dict({"ldms-test": {"runtime": "lvc"}})
        lvc.process_config(conf)  # no [lvc]: defaults stay
        self.assertEqual(lvc.CONFIG["lvc"], "lvc")
        conf.read_dict({"lvc": {"lvc": "/x/lvc", "dir": "/x/d", "up_timeout": "3m"}})
        lvc.process_config(conf)
        self.assertEqual(lvc.CONFIG, {"lvc": "/x/lvc", "dir": "/x/d", "up_timeout": "3m"})
        self.assertIsNone(lvc.LDMS_TEST["atstart"])

    def test_conf_atstart_is_every_nodes_unless_its_own(self):
        import configparser
        conf = configparser.ConfigParser()
        conf.read_dict({"ldms-test": {"runtime": "lvc", "atstart": "/x/all.sh"}})
        lvc.process_config(conf)
        spec = {"name": "t", "nodes": [{"hostname": "a"}, {"hostname": "b", "atstart": "/x/b.sh"}]}
        nodes = lvc.LvcCluster.manifest(spec)["spec"]["nodes"]
        self.assertEqual([n.get("atstart") for n in nodes], ["/x/all.sh", "/x/b.sh"])

    # -- spec -> manifest, create ----------------------------------------
    def test_create_writes_manifest_and_runs_up(self):
        self.answer([{"sub": "up", "stdout": "ldmsdcluster/c1 created\nReady True\n"}])
        c = lvc.LvcCluster._create(SPEC)
        self.assertEqual(c.get_name(), NAME)
        path = os.path.join(self.base, NAME, "manifest.json")
        with open(path) as f:
            m = json.load(f)
        self.assertEqual(m["apiVersion"], "lvc/v1")
        self.assertEqual(m["kind"], "LDMSDCluster")
        self.assertEqual(m["metadata"], {"name": NAME})
        want = json.loads(json.dumps(SPEC))
        want["restart"] = "manual"
        self.assertEqual(m["spec"], want)
        up = self.last("up")
        self.assertEqual(up["argv"], self.dirs() +
                         ["up", "-f", path, "--timeout", "10m"])
        subs = [c["argv"][4] for c in self.calls()]
        self.assertEqual(subs, ["render", "up", "get"])
        self.assertEqual(self.calls()[0]["argv"], self.dirs() + ["render", "-f", path])

    def test_manifest_keeps_templates_and_a_restart_of_the_spec(self):
        spec = {"name": "t", "restart": "always",
                "templates": {"base": {"type": "sshd"}},
                "nodes": [{"hostname": "n1", "daemons": [{"!extends": "base", "name": "s"}]}],
                "tuple": (1, 2)}
        m = lvc.LvcCluster.manifest(spec)
        self.assertEqual(m["spec"]["restart"], "always")
        self.assertEqual(m["spec"]["templates"], {"base": {"type": "sshd"}})
        self.assertEqual(m["spec"]["nodes"][0]["daemons"][0]["!extends"], "base")
        self.assertEqual(m["spec"]["tuple"], [1, 2])
        plain = {"name": "u", "nodes": []}
        self.assertEqual(lvc.LvcCluster.manifest(plain)["spec"]["restart"], "manual")
        self.assertEqual(plain, {"name": "u", "nodes": []})  # the caller's dict is untouched

    def test_names_lvc_refuses_are_mapped_and_kept_apart(self):
        self.assertEqual(lvc.lvc_name("root-agg_test-2664841"), "root-agg_test-2664841")
        long = "root-peer_daemon_advertisement_active_test-2664841"
        for n in ("Alice-agg_test-2664841", long, "a b/c", "-x-"):
            m = lvc.lvc_name(n)
            self.assertRegex(m, r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", n)
            self.assertLessEqual(len(m), 40, n)
        self.assertTrue(lvc.lvc_name(long).startswith("root-peer_daemon_advertisement"))
        self.assertNotEqual(lvc.lvc_name("Agg"), lvc.lvc_name("agg"))
        self.assertNotEqual(lvc.lvc_name(long), lvc.lvc_name(long + "x"))

    def test_create_uses_the_lvc_name_and_keeps_the_scripts(self):
        name = "Alice-agg_test-2664841"
        ln = lvc.lvc_name(name)
        status = json.loads(json.dumps(STATUS))
        status["metadata"]["name"] = status["spec"]["name"] = ln
        self.answer([{"sub": "up", "stdout": "ready\n"}], status=status)
        c = lvc.LvcCluster._create(dict(SPEC, name=name))
        self.assertEqual(c.get_name(), name)
        d = os.path.join(self.base, ln)
        with open(os.path.join(d, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["metadata"]["name"], ln)
        self.assertEqual(m["spec"]["name"], ln)
        with open(os.path.join(d, "spec.json")) as f:
            self.assertEqual(json.load(f)["name"], name)
        self.assertEqual(self.last("get")["argv"][4:], ["get", ln, "-o", "json"])
        self.assertEqual([x.get_name() for x in lvc.LvcCluster._list()], [name])
        c.remove()
        self.assertEqual(self.last("delete")["argv"][4:], ["delete", ln, "--ignore-not-found"])

    def test_create_failure_describes_deletes_and_raises(self):
        self.answer([
            {"sub": "up", "rc": 3, "stdout": "Stalled True ImageMissing: no image x\n"},
            {"sub": "describe", "stdout": "Conditions: Stalled\n"},
        ])
        with self.assertRaises(RuntimeError) as e:
            lvc.LvcCluster._create(SPEC)
        self.assertIn("ImageMissing", str(e.exception))
        self.assertIn("Conditions: Stalled", str(e.exception))
        subs = [c["argv"][4] for c in self.calls()]
        self.assertEqual(subs, ["render", "up", "describe", "delete", "delete"])
        self.assertEqual(self.last("delete")["argv"][4:], ["delete", NAME, "--ignore-not-found", "--timeout", "30s"])
        self.assertFalse(os.path.exists(os.path.join(self.base, NAME)))

    def test_create_refuses_what_lvc_cannot_run_before_up(self):
        with open(self.answers, "w") as f:
            json.dump([{"sub": "render", "rc": 1, "stderr": "lvc: spec.nodes[1].atstart: "
                        "host file cannot be read: open /x.sh: no such file or directory\n"}], f)
        with self.assertRaises(RuntimeError) as e:
            lvc.LvcCluster._create(SPEC)
        self.assertIn("spec.nodes[1].atstart", str(e.exception))
        self.assertEqual([c["argv"][4] for c in self.calls()], ["render"])
        self.assertFalse(os.path.exists(os.path.join(self.base, NAME)))

    # -- get --------------------------------------------------------------
    def test_get_not_found_is_lookup_error(self):
        with open(self.answers, "w") as f:
            json.dump([{"sub": "get", "rc": 1,
                        "stderr": 'lvc: ldmsdcluster "c1" not found\n'}], f)
        with self.assertRaises(LookupError):
            lvc.LvcCluster._get(NAME)
        self.assertEqual(self.last("get")["argv"], self.dirs() + ["get", NAME, "-o", "json"])

    def test_get_without_containers_is_lookup_error(self):
        self.answer([], status={"metadata": {"name": NAME}})
        with self.assertRaises(LookupError):
            lvc.LvcCluster._get(NAME)

    def test_get_other_failure_is_not_lookup_error(self):
        with open(self.answers, "w") as f:
            json.dump([{"sub": "get", "rc": 1,
                        "stderr": "lvc: Cannot connect to the Docker daemon\n"}], f)
        with self.assertRaises(RuntimeError) as e:
            lvc.LvcCluster._get(NAME)
        self.assertNotIsInstance(e.exception, LookupError)
        self.assertIn("Docker daemon", str(e.exception))

    def test_missing_lvc_is_a_clear_error(self):
        lvc.CONFIG["lvc"] = os.path.join(self.tmp, "no-such-lvc")
        with self.assertRaises(RuntimeError) as e:
            lvc.LvcCluster._get(NAME)
        self.assertIn("[lvc]", str(e.exception))

    # -- containers -------------------------------------------------------
    def test_containers_in_status_order_and_lookup(self):
        c = self.cluster()
        self.assertEqual([x.hostname for x in c.containers], ["node-1", "agg-2", "headnode"])
        self.assertEqual([x.name for x in c.containers], ["c1-1", "c1-2", "c1-3"])
        self.assertEqual(c.get_container("samp-1").hostname, "node-1")
        self.assertEqual(c.get_container("top").hostname, "agg-2")
        self.assertEqual(c.get_container("c1-3").hostname, "headnode")
        self.assertEqual(c.get_container("headnode").ip_addr, "10.9.0.4")
        self.assertIsNone(c.get_container("node-9"))
        n = c.get_container("node-1")
        self.assertEqual(n.aliases, ["samp-1"])
        self.assertEqual(n.host, "host-a")
        self.assertIs(n.cluster, c)

    def test_spec_and_node_aliases_are_the_scripts(self):
        self.answer([{"sub": "up"}])
        c = lvc.LvcCluster._create(SPEC)
        self.assertEqual(dict(c.get_spec()), dict(LDMS_Test.Spec(SPEC)))
        self.assertIsInstance(c.get_spec(), LDMS_Test.Spec)
        self.assertEqual(c.get_node_aliases(), {"node-1": ["samp-1"], "agg-2": ["top"]})

    def test_list(self):
        os.makedirs(os.path.join(self.base, NAME))
        self.assertEqual([c.get_name() for c in lvc.LvcCluster._list()], [NAME])

    def test_remove(self):
        os.makedirs(os.path.join(self.base, NAME, "clusters"))
        self.cluster().remove()
        self.assertEqual(self.last("delete")["argv"],
                         self.dirs() + ["delete", NAME, "--ignore-not-found"])
        self.assertFalse(os.path.exists(os.path.join(self.base, NAME)))

    # -- exec -------------------------------------------------------------
    def test_exec_run_string_goes_through_bash(self):
        self.answer([{"sub": "exec", "match": "pgrep", "rc": 1, "stdout": "0\n", "stderr": "warn\n"}])
        rc, out = self.node().exec_run("pgrep -c ldmsd")
        self.assertEqual((rc, out), (1, "0\nwarn\n"))
        self.assertEqual(self.last("exec")["argv"], self.dirs() + [
            "exec", NAME, "node-1", "--", "/bin/bash", "-c", lvc._CAPTURE, "lvc-exec",
            "/bin/bash", "-c", "pgrep -c ldmsd"])

    def test_exec_run_list_env_user(self):
        self.answer([{"sub": "exec", "stdout": "ok"}])
        rc, out = self.node("top").exec_run(["ldmsd", "-x", "sock:10000"],
                                            env={"A": "1", "B": "x y=z", "N": 5},
                                            user="munge")
        self.assertEqual((rc, out), (0, "ok"))
        self.assertEqual(self.last("exec")["argv"], self.dirs() + [
            "exec", "-u", "munge", "-e", "A=1", "-e", "B=x y=z", "-e", "N=5",
            NAME, "agg-2", "--", "/bin/bash", "-c", lvc._CAPTURE, "lvc-exec",
            "ldmsd", "-x", "sock:10000"])

    def test_exec_run_capture_frees_the_stream(self):
        # What exec_run runs on the node, run here: output in the order
        # written, the command's exit status, and a stream that closes when
        # the command ends although a child it started runs on.
        p = subprocess.Popen(["/bin/bash", "-c", lvc._CAPTURE, "lvc-exec", "/bin/bash", "-c",
                              "echo out; echo err >&2; echo out2; sleep 300 & echo $! >&2; exit 3"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            self.fail("the stream stayed open while the command's child ran")
        lines = out.decode().splitlines()
        os.kill(int(lines[3]), signal.SIGTERM)
        self.assertEqual((p.returncode, lines[:3]), (3, ["out", "err", "out2"]))

    def test_exec_run_env_as_list(self):
        self.answer([{"sub": "exec"}])
        self.node().exec_run("true", env=["A=1", "B=2"])
        argv = self.last("exec")["argv"]
        self.assertEqual(argv[argv.index("exec") + 1:argv.index(NAME)], ["-e", "A=1", "-e", "B=2"])

    def test_write_file(self):
        self.answer([{"sub": "exec"}])
        content = "line 1\n'quoted' $HOME \\n\n"
        self.node().write_file("/etc/my file.conf", content, user="root")
        call = self.last("exec")
        self.assertEqual(call["stdin"], content)
        argv = call["argv"]
        self.assertEqual(argv[argv.index("exec"):argv.index("--")],
                         ["exec", "-i", "-u", "root", NAME, "node-1"])
        # the path is an argument, not shell text
        self.assertEqual(argv[argv.index("--") + 1:],
                         ["/bin/bash", "-c", 'cat >"$1"', "write_file", "/etc/my file.conf"])

    def test_write_file_bytes_and_failure(self):
        self.answer([{"sub": "exec", "rc": 1, "stderr": "Permission denied\n"}])
        with self.assertRaises(RuntimeError) as e:
            self.node().write_file("/ro/x", b"\x00\x01")
        self.assertIn("Permission denied", str(e.exception))
        self.assertEqual(self.last("exec")["stdin"], "\x00\x01")

    def test_start_ldmsd_waits_for_an_ipv6_listener_too(self):
        self.answer([{"sub": "exec", "match": "pgrep -c ldmsd", "rc": 1, "stdout": "0\n"},
                     {"sub": "exec", "match": "ldmsd -V", "stdout": "LDMSD Version: 4.3.11\n"},
                     {"sub": "exec"}])
        os.makedirs(os.path.dirname(lvc.LvcCluster.spec_path(NAME)), exist_ok=True)
        with open(lvc.LvcCluster.spec_path(NAME), "w") as f:
            json.dump(SPEC, f)
        node = self.node()
        override = {"config_file": "/etc/samp.conf", "env": {"A": "1"}}
        node.start_ldmsd(spec_override=override)
        spec = dict(node.ldmsd_spec, **override)  # the base class's config and command
        execs = [c for c in self.calls() if "exec" in c["argv"] and "ldmsd -V" not in c["argv"][-1]]
        self.assertEqual(execs[1]["argv"][-2:], ["write_file", "/etc/samp.conf"])
        self.assertEqual(execs[1]["stdin"], node.get_ldmsd_config(spec))
        self.assertIn("A=1", execs[2]["argv"])
        self.assertEqual(execs[2]["argv"][-1], node.get_ldmsd_cmd(spec))
        self.assertEqual(execs[3]["argv"][-1], "grep -q ':\\<2710\\>' /proc/net/tcp /proc/net/tcp6")
        self.assertEqual(len(execs), 4)  # listening at the first look

    def test_read_file(self):
        self.answer([{"sub": "exec", "match": "cat /etc/hosts", "stdout": "127.0.0.1 localhost\n", "stderr": "noise\n"},
                     {"sub": "exec", "match": "cat /nope", "rc": 1, "stderr": "cat: /nope: No such file\n"}])
        self.assertEqual(self.node().read_file("/etc/hosts"), "127.0.0.1 localhost\n")
        self.assertEqual(self.last("exec")["argv"][-3:], ["--", "cat", "/etc/hosts"])
        with self.assertRaises(RuntimeError) as e:
            self.node().read_file("/nope")
        self.assertIn("No such file", str(e.exception))

    def test_slurm_conf_is_lvcs(self):
        conf = "SlurmctldHost=headnode\nSlurmdParameters=config_overrides\n"
        self.answer([{"sub": "exec", "match": "cat /etc/slurm/slurm.conf", "stdout": conf}])
        c = self.cluster()
        self.assertEqual(c.slurm_conf, conf)
        self.assertEqual(c.slurm_conf, conf)
        self.assertEqual(len([x for x in self.calls() if "/etc/slurm/slurm.conf" in x["argv"]]), 1)
        if REAL:
            return  # the real base class's needs a whole cluster to answer
        # A cluster without Slurm: the base class's.
        self.answer([{"sub": "exec", "match": "cat /etc/slurm/slurm.conf", "rc": 1, "stderr": "cat: no such file\n"}])
        self.assertEqual(self.cluster().slurm_conf, "base class slurm.conf\n")

    def node_calls(self, host):
        """The commands (after --) of the lvc exec calls on host, in order."""
        return [c["argv"][c["argv"].index("--") + 1:] for c in self.calls()
                if "exec" in c["argv"] and host in c["argv"] and "--" in c["argv"]]

    def test_make_ovis_env_runs_every_nodes_calls_in_order(self):
        self.answer([{"sub": "exec"}])
        c = self.cluster()
        hosts = ("node-1", "agg-2", "headnode")
        LDMS_Test.LDMSDCluster.make_ovis_env(c)  # the base class's, node after node
        want = {h: self.node_calls(h) for h in hosts}
        os.remove(self.log)
        c.make_ovis_env()
        for h in hosts:
            self.assertGreaterEqual(len(want[h]), 2, want[h])
            self.assertEqual(self.node_calls(h), want[h], h)
        self.assertIsNone(c._deferred_calls)
        # Calls made after it run at once again.
        self.assertEqual(c.containers[0].exec_run("true"), (0, ""))
        self.assertEqual(self.node_calls("node-1")[-1][-1], "true")

    def test_make_ovis_env_raises_a_nodes_failure(self):
        self.answer([{"sub": "exec", "match": "/etc/profile.d/ovis.sh", "rc": 1, "stdout": "disk full\n"},
                     {"sub": "exec"}])
        c = self.cluster()
        with self.assertRaises(RuntimeError) as e:
            c.make_ovis_env()
        self.assertIn("disk full", str(e.exception))
        self.assertIsNone(c._deferred_calls)

    def test_start_daemons_and_known_hosts_on_every_node(self):
        self.answer([{"sub": "exec", "match": "ssh-keyscan", "stdout": "node-1 ssh-ed25519 AAAA\n"},
                     {"sub": "exec"}])
        c = self.cluster()
        if not REAL:  # the real containers' start_daemons needs a whole cluster
            c.start_daemons()
            for host in ("node-1", "agg-2", "headnode"):
                self.assertEqual(self.node_calls(host)[0][-1], "start daemons of " + host)
        c.make_known_hosts()
        writes = [x for x in self.calls() if "/root/.ssh/known_hosts" in x["argv"]]
        self.assertEqual(len(writes), 3)
        self.assertEqual({x["stdin"] for x in writes}, {"node-1 ssh-ed25519 AAAA\n"})

    def test_pipe_splits_like_docker_and_feeds_stdin(self):
        self.answer([{"sub": "exec", "rc": 0, "stdout": "done\n"}])
        cmd = "bash -c 'ldmsd_controller --host node-1 --port 10000  && true ' "
        rc, out = self.node().pipe(cmd, "prdcr_status\n")
        self.assertEqual((rc, out), (0, "done\n"))
        call = self.last("exec")
        self.assertEqual(call["stdin"], "prdcr_status\n")
        argv = call["argv"]
        self.assertEqual(argv[argv.index("exec"):], [
            "exec", "-i", NAME, "node-1", "--",
            "bash", "-c", "ldmsd_controller --host node-1 --port 10000  && true "])

    def test_env_and_ipv6_from_the_node(self):
        self.answer([{"sub": "exec", "match": "/proc/1/environ", "stdout": "PATH=/opt/ovis/bin:/bin\0FOO=BAR\0"},
                     {"sub": "exec", "match": "if_inet6", "stdout": IF_INET6}])
        n = self.node()
        self.assertEqual(n.env, ["PATH=/opt/ovis/bin:/bin", "FOO=BAR"])
        self.assertEqual(n.get_ipv6_addr(), "fd00:0:0:1::2")
        self.assertEqual(n.interfaces, [(NAME, "10.9.0.2", "fd00:0:0:1::2")])
        before = len(self.calls())
        n.get_env(), n.get_ipv6_addr()  # cached
        self.assertEqual(len(self.calls()), before)

    def test_exec_interact_is_a_terminal(self):
        tty = self.node().exec_interact("/bin/bash -c 'python3 -qi'")
        try:
            out = ""
            deadline = time.time() + 10
            while "ready> " not in out and time.time() < deadline:
                out += tty.read(idle_timeout=0.2)
            self.assertTrue(out.endswith("ready> "), out)  # escape sequence removed
            tty.write("print(1)\n")
            out = ""
            deadline = time.time() + 10
            while "got:print(1)\n" not in out and time.time() < deadline:
                out += tty.read(idle_timeout=0.2)
            # bytes pass through untouched: no local echo, no CR added
            self.assertEqual(out, "got:print(1)\n")
            self.assertEqual(tty.read(idle_timeout=0.1), "")
        finally:
            tty.term()
        self.assertEqual(tty.proc.returncode, 0)  # it ended on ^D
        call = self.last("exec")
        self.assertTrue(call["tty"])
        argv = call["argv"]
        self.assertEqual(argv[argv.index("exec"):], [
            "exec", "-i", "-t", NAME, "node-1", "--", "/bin/bash", "-c", "python3 -qi"])


AGENT = os.environ.get("LVC_TEST_AGENT")


@unittest.skipUnless(AGENT, "LVC_TEST_AGENT (an lvc-agent program) is not set")
class AgentPathTest(PluginBase):
    """Commands through node-1's exec agent: the real lvc-agent, run here
    (TestPythonPlugin builds it) at the socket where lvc gives it to
    container c1-1."""

    def setUp(self):
        PluginBase.setUp(self)
        sock = os.path.join(lvc.AGENT_ROOT, "c1-1", "agent.sock")
        os.makedirs(os.path.dirname(sock))
        agent = subprocess.Popen([AGENT, sock])
        self.addCleanup(agent.wait)
        self.addCleanup(agent.kill)
        deadline = time.time() + 30
        while not os.path.exists(sock):
            self.assertIsNone(agent.poll(), "lvc-agent ended")
            self.assertLess(time.time(), deadline, "no agent socket")
            time.sleep(0.01)
        self.answer([{"sub": "exec", "stdout": "lvc exec ran it\n"}])

    def test_exec_run_through_the_agent(self):
        rc, out = self.node().exec_run("echo out; echo err >&2; echo $A$B; exit 3",
                                       env={"A": "x", "B": 1})
        self.assertEqual((rc, out), (3, "out\nerr\nx1\n"))
        self.assertEqual([c for c in self.calls() if "exec" in c["argv"]], [])

    def test_exec_run_leaving_a_daemon_returns(self):
        rc, out = self.node().exec_run("sleep 300 & echo $!")
        os.kill(int(out), signal.SIGTERM)
        self.assertEqual(rc, 0)

    def test_files_and_pipe_through_the_agent(self):
        path = os.path.join(self.tmp, "f")
        self.node().write_file(path, "a\0b\n")
        self.assertEqual(self.node().read_file(path), "a\0b\n")
        self.assertEqual(self.node().pipe("cat", b"in\n"), (0, "in\n"))
        with self.assertRaises(RuntimeError) as e:
            self.node().read_file(os.path.join(self.tmp, "nope"))
        self.assertIn("No such file", str(e.exception))
        self.assertEqual([c for c in self.calls() if "exec" in c["argv"]], [])

    def test_a_request_answered_before_its_send_returns_runs_once(self):
        # The agent can run the command, answer and hang up before sendmsg
        # returns here (seen on a busy machine). A send after that fails,
        # even an empty one, and lvc exec would run the command again.
        class AnsweredFirst(socket.socket):
            def sendmsg(self, *args):
                n = super().sendmsg(*args)
                p = select.poll()
                p.register(self, select.POLLRDHUP)
                p.poll(30000)  # until the agent has hung up
                return n
        with mock.patch.object(lvc.socket, "socket", AnsweredFirst):
            self.assertEqual(self.node().pipe("cat", b"in\n"), (0, "in\n"))
        self.assertEqual([c for c in self.calls() if "exec" in c["argv"]], [])

    def test_a_node_without_agent_and_lvc_agent_none_use_lvc_exec(self):
        self.assertEqual(self.node("agg-2").exec_run("true"), (0, "lvc exec ran it\n"))
        os.environ["LVC_AGENT"] = "none"
        self.assertEqual(self.node().exec_run("true"), (0, "lvc exec ran it\n"))
        self.assertEqual(len([c for c in self.calls() if "exec" in c["argv"]]), 2)


if __name__ == "__main__":
    unittest.main()
