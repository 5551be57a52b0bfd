#!/usr/bin/env bash
# Make sure a Docker engine answers and is a swarm manager (or member).
# Idempotent: an engine that answers is reused; one that is missing is
# installed (Debian, as root) and started in the background, also after an
# earlier engine died without a clean shutdown.
set -o errexit -o nounset -o pipefail

LOG_DIR=${LVC_ENGINE_LOG_DIR:-/var/log/lvc}
WAIT=${LVC_ENGINE_WAIT:-90}

say() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

engine_up() { docker info >/dev/null 2>&1; }

# shellcheck source=hack/lib/wait.sh
. "$(dirname "$0")/lib/wait.sh"

# alive PIDFILE: the process named in PIDFILE still runs. A killed daemon
# whose parent is gone can linger as a zombie, which kill -0 still finds.
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && [ -r "/proc/$pid/status" ] &&
    ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"
}

containerd_up() { ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; }

install_engine() {
  [ "$(id -u)" -eq 0 ] || die "no Docker engine answers and I am not root: install Docker (Debian: 'apt-get install docker.io mmdebstrap'), start it, and run again"
  [ -f /etc/debian_version ] || die "no Docker engine answers and this is not Debian: install a Docker engine (28+) and mmdebstrap, start the engine, and run again"
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v containerd >/dev/null || missing+=(containerd)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" iptables >/dev/null
  fi
}

start_engine() {
  mkdir -p "$LOG_DIR"
  if ! containerd_up && ! alive /run/containerd/containerd.pid; then
    # A containerd killed without a clean shutdown leaves its socket behind.
    rm -f /run/containerd/containerd.sock /run/containerd/containerd.pid
    say "starting containerd (log $LOG_DIR/containerd.log)"
    mkdir -p /run/containerd
    setsid containerd >>"$LOG_DIR/containerd.log" 2>&1 < /dev/null &
    echo $! > /run/containerd/containerd.pid
    wait_for 30 containerd_up || die "containerd did not start: see $LOG_DIR/containerd.log"
  fi
  if ! alive /var/run/docker.pid; then
    rm -f /var/run/docker.pid /var/run/docker.sock
    say "starting dockerd (log $LOG_DIR/dockerd.log)"
    # Containers inherit the engine's open-files limit: as high as the
    # kernel allows (ldmsd with many connections, ldms-test's scripts).
    ulimit -Hn "$(cat /proc/sys/fs/nr_open)" 2>/dev/null && ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
    setsid dockerd --containerd=/run/containerd/containerd.sock >>"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
  fi
  wait_for "$WAIT" engine_up || die "dockerd does not answer after ${WAIT}s: see $LOG_DIR/dockerd.log"
}

ensure_swarm() {
  local state
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  case "$state" in
    inactive)
      say "initialising a single-node swarm"
      docker swarm init --advertise-addr 127.0.0.1 >/dev/null ;;
    active|pending|locked)
      ;; # already a member: never change its membership
    *)
      die "swarm state is '$state': fix it by hand ('docker info' shows why), then run again" ;;
  esac
  # Swarm state restored from disk after an unclean stop takes a moment.
  wait_for 60 sh -c '[ "$(docker info --format "{{.Swarm.ControlAvailable}}")" = true ]' ||
    die "this engine is a swarm member but not a manager: run lvc where a manager answers (DOCKER_HOST)"
}

if ! engine_up; then
  install_engine
  start_engine
fi
ensure_swarm
say "engine $(docker version --format '{{.Server.Version}}') ready, swarm manager"
