# lvc-runtime-plugin: written by `lvc ldms-test install`; rerun it to update.
"""lvc runtime for ovis-hpc/ldms-test.

`lvc ldms-test install DIR` writes this module to DIR/runtime/lvc.py (DIR
being an ldms-test checkout). A test script then runs its cluster on lvc:

    ./agg_test --runtime lvc --image lvc-node:latest --prefix /opt/ovis

or with `runtime = lvc` in the [ldms-test] section of ldms-test.conf. The
`lvc` executable must be on the PATH (or named by the configuration below).

Each cluster is an LDMSDCluster manifest whose spec is the script's spec dict
as the script wrote it (templates, "!extends", %attr%), plus `restart: manual`
(unless the spec says otherwise). The module keeps it, with lvc's status
directory, in a directory of its own per cluster (DIR/NAME: manifest.json,
spec.json, lvc's clusters/ and status/; DIR defaults to ~/.lvc/ldms-test),
and drives lvc through its command line: `lvc render -f` checks that lvc
can run the spec (an atstart script it cannot read fails at once), `lvc up -f` creates the cluster, `lvc get NAME -o json` finds it and its
nodes, each command runs through the node's exec agent (or `lvc exec`
where none answers; see AGENT_ROOT), `lvc delete` removes it. A directory
per cluster lets scripts run side by side: `lvc up` holds its status
directory's writer lock while it converges.

Supervision. Under `restart: manual` lvc makes the network, the containers
and every file the nodes need (hosts, SSH and munge keys, slurm.conf, OVIS
environment), and starts no daemon: the script's start_daemons(),
start_sshd(), start_munged(), start_slurm() and start_ldmsd() start them,
as under the docker runtime, once the script has prepared what they need
(prdcr_subscribe_test builds the sampler plugin its ldmsd loads, and
removes the output files of an earlier run, between creating the cluster
and start_daemons()). lvc never restarts or kills them, so a script's
kill_ldmsd() stays a kill until the script starts the ldmsd again, and
`lvc get`/`describe` report them as lvc finds them. A spec that sets
`restart: always` (or `never`) gets lvc's own start of every daemon at
creation instead; the base class then finds them running (it checks with
pgrep first) and starts nothing twice.

Configuration, all optional, in the [lvc] section of ldms-test.conf:

    [lvc]
    lvc = /usr/local/bin/lvc    # the lvc executable (env LVC_BIN; "lvc")
    dir = ~/.lvc/ldms-test      # clusters' manifests and status
    up_timeout = 10m            # how long lvc up waits for Ready

Where the docker runtime's behaviour is kept: exec_run() runs a string
through `/bin/bash -c` and returns stdout and stderr together; pipe() and
exec_interact() split a string with shlex as the Docker API does;
containers are listed in the spec's node order, so the last one is the
spec's last node (the service node). Differences: pipe() returns the
command's exit code; the cluster's slurm_conf is the slurm.conf lvc wrote
(with SlurmdParameters=config_overrides, so that a node with fewer CPUs
than the spec's cpu_per_node stays usable); a cluster name lvc refuses
(uppercase, over 40 characters) is lvc_name()'s, the script keeping its
own; start() and stop() use the docker CLI (lvc has no verb
for a whole container), and a stopped node's daemons stay down after
start() as with the docker runtime.
"""

import array
import concurrent.futures
import contextlib
import copy
import errno
import hashlib
import ipaddress
import json
import logging
import os
import re
import select
import shlex
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import tty

from LDMS_Test import LDMSDCluster, LDMSDContainer, LDMSDContainerTTY, Spec, env_dict

log = logging.getLogger(__name__)

API_VERSION = "lvc/v1"
KIND = "LDMSDCluster"

# The module's settings; process_config() updates them.
CONFIG = {
    "lvc": os.environ.get("LVC_BIN") or "lvc",
    "dir": "~/.lvc/ldms-test",
    "up_timeout": "10m",
}

# What the module takes from ldms-test's own [ldms-test] section: atstart,
# the script a node runs at its start unless its spec names one.
LDMS_TEST = {"atstart": None}

# Seconds between the two lvc delete after a failed lvc up.
CLEANUP_PAUSE = 2

# Escape sequences a terminal program writes (colours, cursor, modes).
_CS_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def get_cluster_class():
    return LvcCluster


def process_config(conf):
    """Take the [lvc] section of ldms-test's configuration, if any, and
    the atstart of its [ldms-test] section."""
    if conf is None:
        return
    if conf.has_section("ldms-test"):
        LDMS_TEST["atstart"] = conf["ldms-test"].get("atstart") or None
    if not conf.has_section("lvc"):
        return
    sect = conf["lvc"]
    for key in CONFIG:
        val = sect.get(key)
        if val:
            CONFIG[key] = val.strip()


_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")
MAX_NAME = 40  # lvc's limit on a cluster name


def lvc_name(name):
    """lvc's name for an ldms-test cluster name. lvc takes lowercase letters,
    digits, '-', '_' and '.', at most 40; ldms-test's default name (user,
    script, commit) may have others or be longer. A name changed to fit gets
    a hash of the original, so that two names stay two clusters."""
    if _NAME_RE.match(name) and len(name) <= MAX_NAME:
        return name
    n = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("._-")
    h = hashlib.sha256(name.encode()).hexdigest()[:8]
    return (n[:MAX_NAME - len(h) - 1].rstrip("._-") + "-" + h).lstrip("-")


def _cluster_dir(lname):
    return os.path.join(os.path.expanduser(CONFIG["dir"]), lname)


def _lvc(lname, *args):
    """argv of an lvc command on cluster `lname`'s directories."""
    d = _cluster_dir(lname)
    return [CONFIG["lvc"],
            "--manifests", os.path.join(d, "clusters"),
            "--status-dir", os.path.join(d, "status")] + list(args)


def _text(b):
    return b.decode(errors="replace") if b is not None else ""


def _run(argv, input=None, merge=True):
    """Run argv; return (rc, stdout, stderr) as str. With merge, stderr goes
    into stdout in the order they were written, and stderr is ''."""
    try:
        p = subprocess.run(argv, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT if merge else subprocess.PIPE)
    except FileNotFoundError:
        raise RuntimeError("lvc runtime: cannot run {!r}: install lvc, put it "
                           "on the PATH or set lvc = PATH in the [lvc] section "
                           "of ldms-test.conf".format(argv[0]))
    return p.returncode, _text(p.stdout), _text(p.stderr)


def _bytes(content):
    if content is None:
        return b""
    if isinstance(content, str):
        return content.encode()
    return bytes(content)


def _env_list(env):
    """env, a dict or a list of NAME=VALUE, as a list of NAME=VALUE."""
    if not env:
        return []
    if isinstance(env, dict):
        return ["{}={}".format(k, v) for k, v in env.items()]
    return [str(e) for e in env]


def _env_args(env):
    """lvc exec -e flags for env."""
    out = []
    for e in _env_list(env):
        out += ["-e", e]
    return out


# lvc's exec agent (lvc's internal/agent): on a local engine each container
# lvc made has one, at AGENT_ROOT/CONTAINER/agent.sock on this host. A
# request is a 4-byte big-endian length and JSON {argv, env, user, direct}, sent with
# the command's stdin, stdout and stderr descriptors; the reply, JSON {exit,
# error}, comes once the command has ended and its output is written. That
# is about 1 ms where an lvc exec process costs 10, and the scripts run
# hundreds of commands. Where no agent answers (a remote engine, a container
# lvc made before it had agents, LVC_AGENT=none), lvc exec runs the command.
AGENT_ROOT = "/run/lvc/agent"


def _memfd(content=None):
    """A descriptor of an anonymous file holding content, at its start."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("lvc-exec")
    else:
        fd, path = tempfile.mkstemp(prefix="lvc-exec-")
        os.unlink(path)
    view = memoryview(content or b"")
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _read_fd(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def _agent_run(container, argv, env=None, user=None, input=None, merge=True):
    """Run argv through container's exec agent: (rc, stdout, stderr) as
    _run returns them, or None when no agent answers."""
    if not container or os.environ.get("LVC_AGENT") == "none":
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(os.path.join(AGENT_ROOT, container, "agent.sock"))
    except OSError:
        sock.close()
        return None
    # direct: the command writes into our files itself, and what a daemon
    # it starts writes later is not waited for (_CAPTURE's end, for free).
    req = {"argv": [str(a) for a in argv], "direct": True}
    if env:
        req["env"] = _env_list(env)
    if user:
        req["user"] = str(user)
    body = json.dumps(req).encode()
    msg = struct.pack(">I", len(body)) + body
    stdin = _memfd(input) if input is not None else os.open(os.devnull, os.O_RDONLY)
    out = _memfd()
    err = out if merge else _memfd()
    try:
        with sock:
            try:
                n = sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                          array.array("i", [stdin, out, err]))])
                if n < len(msg):
                    # Only then: the whole request may already have run and
                    # its reply be sent, and a send after the agent has
                    # hung up fails, even an empty one.
                    sock.sendall(msg[n:])
            except OSError:
                return None  # not taken: nothing ran
            # (No shutdown: the agent takes our end of the connection
            # closing as our end, and kills the command.)
            chunks = []
            while True:
                b = sock.recv(65536)
                if not b:
                    break
                chunks.append(b)
        try:
            reply = json.loads(b"".join(chunks))
        except ValueError:
            raise RuntimeError("the exec agent of {} ended without an exit "
                               "status for {!r}".format(container, argv))
        so, se = _text(_read_fd(out)), "" if merge else _text(_read_fd(err))
        if reply.get("error") and merge:
            so += reply["error"] + "\n"
        elif reply.get("error"):
            se += reply["error"] + "\n"
        return reply.get("exit", 1), so, se
    finally:
        for fd in {stdin, out, err}:
            os.close(fd)


def _argv(cmd, shell):
    """The command as argv: a list as is, a string through bash -c (shell)
    or split as the Docker API splits it."""
    if isinstance(cmd, (list, tuple)):
        return [str(c) for c in cmd]
    if shell:
        return ["/bin/bash", "-c", cmd]
    return shlex.split(cmd)


# Through lvc exec, exec_run's command writes into a file on the node,
# which the shell prints once the command has ended. A child the command
# leaves running (ldmsd, munged, `cmd &`) then holds that file and not the
# exec's stream: the engine waits up to 2 s for such a stream to close after
# the command ends, and holds the container's next exec until it does. (The
# agent path gets the same from its direct requests.)
_CAPTURE = ('f=/tmp/.lvc-exec.$$; "$@" >"$f" 2>&1; r=$?; '
            'cat "$f"; rm -f "$f"; exit $r')


def _captured(argv):
    return ["/bin/bash", "-c", _CAPTURE, "lvc-exec"] + argv


class LvcTTY(LDMSDContainerTTY):
    """A command run by `lvc exec -i -t` on a pseudo-terminal of ours."""

    def __init__(self, argv):
        master, slave = os.openpty()
        # Raw from the start: the node's terminal echoes and edits, ours must
        # pass bytes through (lvc would make it raw too, but only once it
        # runs).
        tty.setraw(slave)
        try:
            self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave,
                                         stderr=slave, close_fds=True,
                                         start_new_session=True)
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self.fd = master

    def read(self, idle_timeout=1):
        """What the command wrote until it is quiet for idle_timeout seconds
        (or ends), escape sequences removed."""
        buf = bytearray()
        while self.fd is not None:
            r, _, _ = select.select([self.fd], [], [], idle_timeout)
            if not r:
                break
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno == errno.EIO:  # the command and lvc ended
                    break
                raise
            if not data:
                break
            buf += data
        return _CS_RE.sub("", buf.decode(errors="replace"))

    def write(self, data):
        if self.fd is None:
            raise RuntimeError("the terminal is closed")
        data = _bytes(data)
        while data:
            try:
                n = os.write(self.fd, data)
            except BlockingIOError:
                select.select([], [self.fd], [], 1)
                continue
            data = data[n:]

    def term(self):
        """Send end-of-transmission, close the terminal, reap lvc."""
        if self.fd is None:
            return
        try:
            os.write(self.fd, self.EOT)
            self.proc.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            pass
        os.close(self.fd)
        self.fd = None
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __del__(self):
        if getattr(self, "fd", None) is not None:
            try:
                self.term()
            except Exception:
                pass


class LvcContainer(LDMSDContainer):
    """One node of an lvc cluster; `node` is its entry in the status."""

    def __init__(self, node, cluster):
        LDMSDContainer.__init__(self, node, cluster)
        self.node = node
        self._env = None
        self._ipv6 = None

    def _exec(self, cmd, env=None, user=None, stdin=False, terminal=False):
        flags = []
        if stdin:
            flags.append("-i")
        if terminal:
            flags.append("-t")
        if user:
            flags += ["-u", str(user)]
        flags += _env_args(env)
        return _lvc(self.cluster.lvc_name, "exec", *flags, self.cluster.lvc_name,
                    self.node["hostname"], "--") + cmd

    def _call(self, argv, env=None, user=None, input=None, merge=True,
              capture=False):
        """Run argv on the node, through its exec agent when one answers,
        else through lvc exec (with capture, through _CAPTURE): (rc, stdout,
        stderr) as _run returns them."""
        r = _agent_run(self.node.get("container"), argv, env=env, user=user,
                       input=input, merge=merge)
        if r is not None:
            return r
        if capture:
            argv = _captured(argv)
        return _run(self._exec(argv, env=env, user=user, stdin=input is not None),
                    input=input, merge=merge)

    def exec_run(self, cmd, env=None, user=None):
        if self._defer(self.exec_run, cmd, env=env, user=user):
            return 0, ""
        rc, out, _ = self._call(_argv(cmd, True), env=env, user=user, capture=True)
        return rc, out

    def _defer(self, method, *args, **kwargs):
        """Queue the call when the cluster defers (see LvcCluster._deferred)."""
        q = self.cluster._deferred_calls
        if q is None:
            return False
        q.setdefault(self.hostname, []).append(lambda: method(*args, **kwargs))
        return True

    def pipe(self, cmd, content):
        rc, out, _ = self._call(_argv(cmd, False), input=_bytes(content))
        return rc, out

    def write_file(self, path, content, user=None):
        if self._defer(self.write_file, path, content, user=user):
            return
        argv = ["/bin/bash", "-c", 'cat >"$1"', "write_file", path]
        rc, out, _ = self._call(argv, user=user, input=_bytes(content))
        if rc:
            raise RuntimeError("write_file {} on {}: rc {}: {}"
                               .format(path, self.hostname, rc, out))

    def read_file(self, path, user=None):
        rc, out, err = self._call(["cat", path], user=user, merge=False)
        if rc:
            raise RuntimeError("Error {} {}".format(rc, err))
        return out

    def start_ldmsd(self, spec_override={}, **kwargs):
        """The base class's start_ldmsd (its spec, config file, command line
        and environment), but for its wait for the port: the base class
        greps /proc/net/tcp, where an ldmsd listening on an IPv6 socket (as
        OVIS-4's does, on ::) does not show, and so waits its whole 5 s for
        every ldmsd, under any runtime. This also reads /proc/net/tcp6, and
        waits as long at most."""
        if self.check_ldmsd():
            return  # already running
        spec = copy.deepcopy(self.ldmsd_spec)
        spec.update(spec_override)
        if not spec:
            return  # no ldmsd spec for this node and no spec given
        self.write_file(spec["config_file"], self.get_ldmsd_config(spec))
        rc, out = self.exec_run(self.get_ldmsd_cmd(spec), env=env_dict(spec["env"]))
        if rc:
            raise RuntimeError("ldmsd exec error {}: {}".format(rc, out))
        port = spec.get("listen_port") or (spec.get("listen") or [{}])[0].get("port")
        if not port:
            raise RuntimeError("Cannot determine ldmsd port")
        grep = "grep -q {} /proc/net/tcp /proc/net/tcp6".format(
            shlex.quote(":\\<{:x}\\>".format(int(port))))
        deadline = time.time() + 5
        while self.exec_run(grep)[0] != 0 and time.time() < deadline:
            time.sleep(0.05)

    def exec_interact(self, cmd):
        return LvcTTY(self._exec(_argv(cmd, False), stdin=True, terminal=True))

    def start(self):
        self._docker("start")

    def stop(self):
        self._docker("stop")

    def _docker(self, verb):
        rc, out, _ = _run(["docker", verb, self.get_name()])
        if rc:
            raise RuntimeError("docker {} {}: {}".format(verb, self.get_name(), out))

    def get_interfaces(self):
        return [(self.cluster.name, self.get_ip_addr(), self.get_ipv6_addr())]

    def get_ip_addr(self):
        return self.node.get("ip") or None

    def get_ipv6_addr(self):
        """The node's first global IPv6 address, None when it has none."""
        if self._ipv6 is None:
            self._ipv6 = ""
            try:
                txt = self.read_file("/proc/net/if_inet6")
            except RuntimeError:
                txt = ""
            for line in txt.splitlines():
                f = line.split()
                # address, ifindex, prefix length, scope (00: global), flags, name
                if len(f) >= 6 and f[3] == "00" and f[5] != "lo":
                    a = f[0]
                    self._ipv6 = str(ipaddress.ip_address(
                        ":".join(a[i:i+4] for i in range(0, 32, 4))))
                    break
        return self._ipv6 or None

    def get_name(self):
        return self.node.get("container") or "{}-{}".format(self.cluster.lvc_name, self.node["hostname"])

    def get_hostname(self):
        return self.node["hostname"]

    def get_host(self):
        return self.node.get("swarmNode") or socket.gethostname()

    def get_aliases(self):
        a = self.node.get("aliases")
        if a is None:
            a = self.cluster.node_aliases.get(self.hostname, [])
        return [a] if isinstance(a, str) else list(a)

    def get_env(self):
        """The container's environment (NAME=VALUE list), as its first
        process has it; each exec_run may add more."""
        if self._env is None:
            try:
                txt = self.read_file("/proc/1/environ")
            except RuntimeError:
                txt = ""
            self._env = [e for e in txt.split("\0") if e]
        return list(self._env)


class LvcCluster(LDMSDCluster):
    """An lvc cluster made from an ldms-test spec."""

    def __init__(self, name, obj=None):
        self._name = name
        self.lvc_name = lvc_name(name)
        self._slurm_conf = None
        self._deferred_calls = None
        self._obj = obj
        self._spec = None

    # -- files of the module ---------------------------------------------
    @classmethod
    def manifest_path(cls, name):
        """The manifest lvc up applies (it keeps its copy in clusters/)."""
        return os.path.join(_cluster_dir(lvc_name(name)), "manifest.json")

    @classmethod
    def spec_path(cls, name):
        return os.path.join(_cluster_dir(lvc_name(name)), "spec.json")

    @classmethod
    def manifest(cls, spec):
        """The LDMSDCluster manifest (a dict) of an ldms-test spec dict."""
        sp = json.loads(json.dumps(spec))  # plain dicts and lists
        sp.setdefault("restart", "manual")
        if LDMS_TEST["atstart"]:  # the docker runtime's default, as it takes it
            for n in sp.get("nodes") or []:
                n.setdefault("atstart", LDMS_TEST["atstart"])
        sp["name"] = lvc_name(sp["name"])
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": sp["name"]},
            "spec": sp,
        }

    # -- LDMSDCluster ----------------------------------------------------
    @classmethod
    def _create(cls, spec):
        name = spec.get("name")
        if not name:
            raise ValueError("the spec has no name")
        ln = lvc_name(name)
        d = _cluster_dir(ln)
        os.makedirs(os.path.join(d, "clusters"), exist_ok=True)
        os.makedirs(os.path.join(d, "status"), exist_ok=True)
        with open(cls.spec_path(name), "w") as f:
            json.dump(spec, f, indent=1)
        path = cls.manifest_path(name)
        with open(path + ".tmp", "w") as f:
            json.dump(cls.manifest(spec), f, indent=1)
        os.replace(path + ".tmp", path)
        # lvc render builds the plan without the engine: what lvc cannot
        # run (an atstart script it cannot read) fails here at once, where
        # lvc up would wait for its timeout.
        rc, _, err = _run(_lvc(ln, "render", "-f", path), merge=False)
        if rc:
            shutil.rmtree(d, ignore_errors=True)
            raise RuntimeError("lvc cannot run the spec of {}: {}"
                               .format(name, err.strip()))
        argv = _lvc(ln, "up", "-f", path, "--timeout", CONFIG["up_timeout"])
        log.info("lvc up %s", name)
        t0 = time.time()
        rc, out, _ = _run(argv)
        for line in out.splitlines():
            log.info("lvc: %s", line)
        if rc:
            _, desc, _ = _run(_lvc(ln, "describe", ln))
            # When lvc up stops at a node's error, the engine may still be
            # creating the other nodes' containers it was asked for: delete
            # again after a pause for those.
            _run(_lvc(ln, "delete", ln, "--ignore-not-found", "--timeout", "30s"))
            time.sleep(CLEANUP_PAUSE)
            _run(_lvc(ln, "delete", ln, "--ignore-not-found", "--timeout", "30s"))
            shutil.rmtree(d, ignore_errors=True)
            raise RuntimeError("lvc up {} failed (exit {}):\n{}\n{}"
                               .format(name, rc, out, desc))
        log.info("cluster %s up in %.1fs", name, time.time() - t0)
        return cls._get(name)

    @classmethod
    def _get(cls, name):
        ln = lvc_name(name)
        rc, out, err = _run(_lvc(ln, "get", ln, "-o", "json"), merge=False)
        if rc:
            if "not found" in err:
                raise LookupError(name)
            raise RuntimeError("lvc get {}: {}".format(name, err.strip()))
        obj = json.loads(out)
        st = obj.get("status") or {}
        if not any(n.get("container") for n in st.get("nodes") or []):
            # A manifest or status left without containers: nothing to use.
            raise LookupError(name)
        return cls(name, obj)

    @classmethod
    def _list(cls):
        base = os.path.expanduser(CONFIG["dir"])
        try:
            names = sorted(os.listdir(base))
        except FileNotFoundError:
            return []
        out = []
        for n in names:
            if not os.path.isdir(os.path.join(base, n)):
                continue
            try:
                # the script's own name, which the directory's may not be
                with open(os.path.join(base, n, "spec.json")) as f:
                    n = json.load(f).get("name") or n
            except (OSError, ValueError):
                pass
            try:
                out.append(cls._get(n))
            except LookupError:
                pass
        return out

    def remove(self):
        ln = self.lvc_name
        rc, out, _ = _run(_lvc(ln, "delete", ln, "--ignore-not-found"))
        if rc:
            raise RuntimeError("lvc delete {}: {}".format(self._name, out))
        shutil.rmtree(_cluster_dir(ln), ignore_errors=True)

    def get_name(self):
        return self._name

    def _refresh(self):
        c = self._get(self._name)
        self._obj = c._obj
        return self._obj

    def get_containers(self, timeout=10):
        obj = self._obj if self._obj is not None else self._refresh()
        self._obj = None  # the next call reads the status again
        nodes = (obj.get("status") or {}).get("nodes") or []
        return [LvcContainer(n, self) for n in nodes if n.get("container")]

    def get_container(self, name):
        for c in self.containers:
            if name in (c.hostname, c.name) or name in c.aliases:
                return c
        return None

    def get_spec(self):
        if self._spec is None:
            try:
                with open(self.spec_path(self._name)) as f:
                    raw = json.load(f)
            except FileNotFoundError:
                obj = self._obj if self._obj is not None else self._refresh()
                raw = dict(obj.get("spec") or {})
            self._spec = Spec(raw)
        return self._spec

    # -- the base class's node-by-node loops, all nodes at once -------------
    # Each command is a round trip to the node (about 65 ms through the
    # engine's exec, 1 ms through lvc's exec agent); the base class's loops
    # over the nodes pay it node after node.

    def _each(self, fn):
        """fn(container) for every container at once; raises the first error."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(self.containers))) as ex:
            for f in [ex.submit(fn, c) for c in self.containers]:
                f.result()

    @contextlib.contextmanager
    def _deferred(self):
        """Queue the containers' write_file and exec_run calls (answering
        success), then run each container's calls in order, all containers
        at once. Only for base class code that ignores what they return."""
        self._deferred_calls = {}
        try:
            yield
            calls, self._deferred_calls = self._deferred_calls, None
            self._each(lambda c: [call() for call in calls.get(c.hostname, [])])
        finally:
            self._deferred_calls = None

    def make_ovis_env(self):
        with self._deferred():
            LDMSDCluster.make_ovis_env(self)

    def start_daemons(self):
        self._each(lambda c: c.start_daemons())

    def make_known_hosts(self):
        ks = self.ssh_keyscan()

        def write(c):
            c.exec_run("mkdir -m 0700 -p /root/.ssh", user="root")
            c.write_file("/root/.ssh/known_hosts", ks, user="root")
        self._each(write)

    @property
    def slurm_conf(self):
        """lvc's slurm.conf, which a script's prep_slurm_conf() writes back:
        the base class's lacks SlurmdParameters=config_overrides, so that a
        node with fewer CPUs than the spec's cpu_per_node is invalid to
        slurmctld and runs no job."""
        if self._slurm_conf is None:
            for c in self.containers:
                try:
                    self._slurm_conf = c.read_file("/etc/slurm/slurm.conf")
                    break
                except RuntimeError:
                    pass
            else:
                self._slurm_conf = LDMSDCluster.slurm_conf.fget(self)
        return self._slurm_conf

    def get_node_aliases(self):
        out = {}
        for n in self.spec.get("nodes", []):
            a = n.get("aliases")
            if a:
                out[n["hostname"]] = [a] if isinstance(a, str) else list(a)
        return out
