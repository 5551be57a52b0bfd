"""A stand-in for ldms-test's LDMS_Test module, for the plugin's unit tests
without an ldms-test checkout: the runtime interface (the abstract methods a
runtime must implement, by the names ldms-test uses) and the few helpers the
plugin imports. Written for these tests; its Spec does not expand."""

from abc import ABC, abstractmethod


def env_dict(env):
    return dict(env) if isinstance(env, dict) else dict(e.split("=", 1) for e in env)


class cached_property(object):
    def __init__(self, func):
        self.func = func
        self.name = func.__name__

    def __get__(self, obj, owner):
        if obj is None:
            return self
        val = self.func(obj)
        obj.__dict__[self.name] = val
        return val


class Spec(dict):
    """Identity: the tests' specs have no templates."""


class LDMSDContainerTTY(ABC):
    EOT = b"\x04"

    @abstractmethod
    def read(self, idle_timeout=1): ...

    @abstractmethod
    def write(self, data): ...

    @abstractmethod
    def term(self): ...


class LDMSDContainer(ABC):
    def __init__(self, obj, cluster):
        if not isinstance(cluster, LDMSDCluster):
            raise TypeError("cluster must be an LDMSDCluster")
        self.cluster = cluster

    # What start_ldmsd uses, standing in for the real ones.
    @property
    def spec(self):
        return next(n for n in self.cluster.spec["nodes"] if n["hostname"] == self.hostname)

    def check_ldmsd(self):
        rc, out = self.exec_run("pgrep -c ldmsd")
        return rc == 0

    @property
    def ldmsd_spec(self):
        return next((d for d in self.spec.get("daemons", []) if d["type"] == "ldmsd"), None)

    def get_ldmsd_config(self, spec):
        return "# config of {}\n".format(spec["name"])

    def get_ldmsd_cmd(self, spec):
        return "ldmsd -c {}".format(spec["config_file"])

    def start_daemons(self):
        self.exec_run("start daemons of " + self.hostname)

    @cached_property
    def name(self):
        return self.get_name()

    @property
    def hostname(self):
        return self.get_hostname()

    @cached_property
    def host(self):
        return self.get_host()

    @property
    def aliases(self):
        return self.get_aliases()

    @property
    def ip_addr(self):
        return self.get_ip_addr()

    @property
    def interfaces(self):
        return self.get_interfaces()

    @property
    def env(self):
        return self.get_env()

    @abstractmethod
    def start(self): ...

    @abstractmethod
    def stop(self): ...

    @abstractmethod
    def exec_run(self, cmd, env=None, user=None): ...

    @abstractmethod
    def pipe(self, cmd, content): ...

    @abstractmethod
    def write_file(self, path, content, user=None): ...

    @abstractmethod
    def read_file(self, path): ...

    @abstractmethod
    def exec_interact(self, cmd): ...

    @abstractmethod
    def get_interfaces(self): ...

    @abstractmethod
    def get_ip_addr(self): ...

    @abstractmethod
    def get_ipv6_addr(self): ...

    @abstractmethod
    def get_name(self): ...

    @abstractmethod
    def get_hostname(self): ...

    @abstractmethod
    def get_host(self): ...

    @abstractmethod
    def get_aliases(self): ...

    @abstractmethod
    def get_env(self): ...


class LDMSDCluster(ABC):
    @classmethod
    @abstractmethod
    def _create(cls, spec): ...

    @classmethod
    @abstractmethod
    def _get(cls, name): ...

    @classmethod
    @abstractmethod
    def _list(cls): ...

    @cached_property
    def name(self):
        return self.get_name()

    @cached_property
    def containers(self):
        return self.get_containers()

    @cached_property
    def spec(self):
        return self.get_spec()

    @cached_property
    def node_aliases(self):
        return self.get_node_aliases()

    @property
    def slurm_conf(self):
        return "base class slurm.conf\n"

    def make_ovis_env(self):
        for c in self.containers:
            c.write_file("/etc/profile.d/ovis.sh", "# " + c.hostname + "\n", user="root")
            c.exec_run("ldconfig", user="root")

    def ssh_keyscan(self):
        return self.containers[-1].exec_run("ssh-keyscan all")[1]

    @abstractmethod
    def remove(self): ...

    @abstractmethod
    def get_name(self): ...

    @abstractmethod
    def get_containers(self, timeout=10): ...

    @abstractmethod
    def get_container(self, name): ...

    @abstractmethod
    def get_spec(self): ...

    @abstractmethod
    def get_node_aliases(self): ...
