#!/usr/bin/env bash
# Build the lvc-dind image offline: a Debian bookworm rootfs with a Docker
# engine, made with mmdebstrap from the host's own apt sources and loaded
# with `docker import`. hack/swarm-up.sh runs one container of it per swarm
# node. A second run with the same inputs reuses the image (hash label).
set -o errexit -o nounset -o pipefail

IMAGE=${LVC_DIND_IMAGE:-lvc-dind:latest}
top=$(cd "$(dirname "$0")/.." && pwd)
entry=$top/hack/dind/entrypoint.sh
# The engine and what it needs at run time: iptables for its bridges, mount
# and util-linux for the entry script, tini as PID 1 to reap shims.
packages=(docker.io containerd runc tini iptables iproute2 procps ca-certificates
  mount util-linux iputils-ping kmod)
say() { printf 'build-dind-image: %s\n' "$*" >&2; }

# shellcheck source=hack/lib/offline-image.sh
. "$top/hack/lib/offline-image.sh"
sources=$(apt_sources)
[ -r "$entry" ] || { say "missing $entry"; exit 1; }

# The image is a function of this script (package list included), the entry
# script and the mirror.
hash=$(inputs_hash "$0" "$entry" "$sources")
if image_current "$IMAGE" "$hash"; then
  say "$IMAGE is up to date (inputs $hash)"
  exit 0
fi
need_mmdebstrap

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
include=$(IFS=,; echo "${packages[*]}")
say "building $IMAGE from $sources (inputs $hash)"
mmdebstrap --quiet --variant=apt --include="$include" \
  --customize-hook="upload $entry /usr/local/bin/lvc-dind-entrypoint" \
  --customize-hook='chmod 0755 "$1"/usr/local/bin/lvc-dind-entrypoint' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/lib/docker/*' \
  bookworm "$work/rootfs.tar" "$sources"
# No CMD: the entry script's defaults apply when no dockerd flags are given.
docker import \
  --change 'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/lvc-dind-entrypoint"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'EXPOSE 2376' \
  --change "LABEL lvc.image.hash=$hash" \
  "$work/rootfs.tar" "$IMAGE" >/dev/null
say "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes)"
