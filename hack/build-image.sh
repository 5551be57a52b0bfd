#!/usr/bin/env bash
# Build the lvc node image offline: a Debian bookworm rootfs made with
# mmdebstrap from the host's own apt sources, loaded with `docker import`.
# A second run with the same inputs reuses the image (hash label).
set -o errexit -o nounset -o pipefail

IMAGE=${LVC_IMAGE:-lvc-node:latest}
top=$(cd "$(dirname "$0")/.." && pwd)
pkgs=$top/docker/packages.txt
say() { printf 'build-image: %s\n' "$*" >&2; }

sources=${LVC_APT_SOURCES:-}
if [ -z "$sources" ]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -s "$f" ] && { sources=$f; break; }
  done
fi
[ -n "$sources" ] || { say "no apt sources file found: set LVC_APT_SOURCES"; exit 1; }

# The image is a function of the package list, this script and the mirror.
hash=$(cat "$pkgs" "$0" "$sources" | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "lvc.image.hash"}}' "$IMAGE" 2>/dev/null)" = "$hash" ]; then
  say "$IMAGE is up to date (inputs $hash)"
  exit 0
fi
command -v mmdebstrap >/dev/null || { say "mmdebstrap is missing: apt-get install mmdebstrap (or run hack/ensure-docker.sh)"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
include=$(grep -v -e '^#' -e '^$' "$pkgs" | paste -sd, -)
say "building $IMAGE from $sources (inputs $hash)"
# Secrets are made per cluster and per node at run time, never baked in.
mmdebstrap --quiet --variant=apt --include="$include" \
  --customize-hook='rm -f "$1"/etc/munge/munge.key "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  bookworm "$work/rootfs.tar" "$sources"
docker import \
  --change 'CMD ["sleep", "infinity"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL lvc.image.hash=$hash" \
  "$work/rootfs.tar" "$IMAGE" >/dev/null
say "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes)"
