#!/usr/bin/env bash
# Build the lvc node image offline: a Debian bookworm rootfs made with
# mmdebstrap from the host's own apt sources, loaded with `docker import`.
# A second run with the same inputs reuses the image (hash label).
set -o errexit -o nounset -o pipefail

IMAGE=${LVC_IMAGE:-lvc-node:latest}
top=$(cd "$(dirname "$0")/.." && pwd)
pkgs=$top/docker/packages.txt
say() { printf 'build-image: %s\n' "$*" >&2; }

# shellcheck source=hack/lib/offline-image.sh
. "$top/hack/lib/offline-image.sh"
sources=$(apt_sources)

# The image is a function of the package list, this script and the mirror.
hash=$(inputs_hash "$pkgs" "$0" "$sources")
if image_current "$IMAGE" "$hash"; then
  say "$IMAGE is up to date (inputs $hash)"
  exit 0
fi
need_mmdebstrap

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
