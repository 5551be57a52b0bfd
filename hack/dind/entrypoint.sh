#!/bin/sh
# Entry of the lvc-dind image: a Docker engine inside a non-privileged
# container (see hack/swarm-up.sh for the flags the container needs; it must
# have CAP_SYS_ADMIN, no seccomp filter and unmasked /proc and /sys).
# Makes the mounts dockerd needs writable, then execs dockerd with the
# arguments given (default: the unix socket, plus TLS on tcp://0.0.0.0:2376
# when certificates are mounted at /certs). Runs under tini as PID 1, which
# reaps the shims dockerd's containerd leaves behind.
set -eu

say() { printf 'lvc-dind: %s\n' "$*" >&2; }

# A non-privileged container gets /sys and its cgroup mounts read-only.
mount -o remount,rw /sys
if mountpoint -q /sys/fs/cgroup; then
  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || mount -o remount,bind,rw /sys/fs/cgroup
fi
for d in /sys/fs/cgroup/*; do
  # cgroup v1: one bind mount per hierarchy; skip the cpu,cpuacct-style symlinks.
  if [ -d "$d" ] && [ ! -L "$d" ] && mountpoint -q "$d"; then
    mount -o remount,bind,rw "$d"
  fi
done

# cgroup v2 (private namespace): move our processes out of the root cgroup so
# that dockerd may enable controllers for its children (as moby's hack/dind).
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers \
    >/sys/fs/cgroup/cgroup.subtree_control || say "cannot enable cgroup v2 controllers"
fi

# Nested containers' mounts (volumes, swarm's network namespaces) must propagate.
mount --make-rshared /

if [ $# -eq 0 ]; then
  set -- --host=unix:///var/run/docker.sock
  if [ -f /certs/ca.pem ] && [ -f /certs/cert.pem ] && [ -f /certs/key.pem ]; then
    set -- "$@" --host=tcp://0.0.0.0:2376 --tlsverify \
      --tlscacert=/certs/ca.pem --tlscert=/certs/cert.pem --tlskey=/certs/key.pem
  fi
fi
say "exec dockerd $*"
exec dockerd "$@"
