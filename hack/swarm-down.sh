#!/usr/bin/env bash
# Remove the swarm hack/swarm-up.sh built: the node containers lvcswarm-N,
# their volumes lvcswarm-N-docker, the bridge network lvcswarm and the state
# dir ($LVC_SWARM_DIR, default /tmp/lvcswarm). Then check that no container,
# volume, network or cgroup of it is left, and fail if one is.
# Idempotent: with nothing to remove it only checks.
set -o errexit -o nounset -o pipefail

DIR=${LVC_SWARM_DIR:-/tmp/lvcswarm}
NET=lvcswarm
CGROOT=/sys/fs/cgroup

say() { printf 'swarm-down: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
# The nodes live on the local engine even when a swarm env file was sourced.
unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT

docker info >/dev/null 2>&1 || die "the host's Docker engine does not answer: start it (hack/ensure-docker.sh), then run again"
start=$EPOCHREALTIME

nodes() { docker ps --all --filter label=lvcswarm.node --format '{{.ID}}'; }
volumes() { docker volume ls --quiet | grep -E '^lvcswarm-[0-9]+-docker$' || true; }
networks() { docker network ls --format '{{.Name}}' | grep -E "^$NET(-probe-[0-9]+)?\$" || true; }
# cgroups ID...: the cgroup directories of the given containers, in every
# hierarchy, deepest first (the node's nested containers live below it).
cgroups() {
  local id
  for id in "$@"; do
    find "$CGROOT" -mindepth 2 -maxdepth 4 -type d -name "$id" -print 2>/dev/null |
      while read -r d; do find "$d" -depth -type d; done
  done
}

mapfile -t ids < <(docker ps --all --no-trunc --filter label=lvcswarm.node --format '{{.ID}}')
if [ ${#ids[@]} -gt 0 ]; then
  say "stopping ${#ids[@]} node(s)"
  # A stopped node's dockerd stops its nested containers first, which
  # removes their cgroups; a killed one would leave that to the host's runc.
  docker stop --time 60 "${ids[@]}" >/dev/null || say "some nodes did not stop cleanly; removing them anyway"
  docker rm --force --volumes "${ids[@]}" >/dev/null
fi
mapfile -t vols < <(volumes)
if [ ${#vols[@]} -gt 0 ]; then
  say "removing volumes ${vols[*]}"
  docker volume rm "${vols[@]}" >/dev/null
fi
for net in $(networks); do
  say "removing network $net"
  docker network rm "$net" >/dev/null
done

# Empty cgroups the engine did not remove (e.g. after a node was killed with
# containers running) can be removed with rmdir; ones with processes cannot.
if [ ${#ids[@]} -gt 0 ]; then
  mapfile -t left < <(cgroups "${ids[@]}")
  if [ ${#left[@]} -gt 0 ]; then
    say "removing ${#left[@]} leftover cgroup dir(s)"
    rmdir "${left[@]}" 2>/dev/null || true
  fi
fi

if [ -d "$DIR" ]; then
  if [ -e "$DIR/.lvcswarm" ]; then
    rm -rf "$DIR"
  else
    say "leaving $DIR alone: it was not made by swarm-up"
  fi
fi

# --- check ---------------------------------------------------------------------
bad=()
[ -z "$(nodes)" ] || bad+=("containers: $(nodes | paste -sd' ')")
[ -z "$(volumes)" ] || bad+=("volumes: $(volumes | paste -sd' ')")
[ -z "$(networks)" ] || bad+=("networks: $(networks | paste -sd' ')")
if [ ${#ids[@]} -gt 0 ]; then
  still=$(cgroups "${ids[@]}")
  [ -z "$still" ] || bad+=("cgroups: $(echo "$still" | paste -sd' ')")
fi
[ ! -e "$DIR/.lvcswarm" ] || bad+=("state dir: $DIR")
if [ ${#bad[@]} -gt 0 ]; then
  for b in "${bad[@]}"; do say "left behind: $b"; done
  exit 1
fi
say "removed ${#ids[@]} node(s) in $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s; no lvcswarm container, volume, network, cgroup or state dir is left"
