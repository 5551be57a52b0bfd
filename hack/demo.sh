#!/usr/bin/env bash
# The one-command demo: engine, image, the seed's ldms_slurm cluster up
# and Ready, its nodes, and the sets agg-2 aggregates.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
hack/ensure-docker.sh
hack/build-image.sh
hack/build.sh
export LVC_MANIFESTS=${LVC_MANIFESTS:-$PWD/clusters} LVC_STATUS_DIR=${LVC_STATUS_DIR:-$PWD/status}
mkdir -p "$LVC_MANIFESTS"
ovis=$(sed -n 's/^  ovis_prefix: *//p' manifests/ldms-slurm.yaml)
manifest=manifests/ldms-slurm.yaml
if [ ! -x "$ovis/sbin/ldmsd" ]; then
  # The same cluster without the ldmsd service (as examples/synopsis
  # does): ldmsd would only be Stalled (OvisNotFound).
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  sed -e 's/^spec:$/spec:\n  services: [sshd, munged, slurm]/' -e "s|^  - db:/db:rw|  - $PWD/manifests/db:/db:rw|" \
    manifests/ldms-slurm.yaml >"$tmp/ldms-slurm.yaml"
  manifest=$tmp/ldms-slurm.yaml
  echo "demo: no OVIS build at $ovis (no $ovis/sbin/ldmsd): running ldms_slurm without ldmsd (sshd, munged, Slurm only)." >&2
  echo "demo: to see aggregation, build OVIS into $ovis following its README and run make demo again." >&2
fi
bin/lvc up -f "$manifest" --timeout 5m
bin/lvc get -o wide
if [ -x "$ovis/sbin/ldmsd" ]; then
  echo
  echo "sets at agg-2 (lvc ldms-ls ldms_slurm -- -x sock -p 20001 -h agg-2):"
  for _ in $(seq 50); do # the aggregators connect within a second or two
    out=$(bin/lvc ldms-ls ldms_slurm -- -x sock -p 20001 -h agg-2 2>/dev/null || true)
    [ "$(printf '%s\n' "$out" | grep -c /)" -ge 8 ] && break
    sleep 0.2
  done
  printf '%s\n' "$out"
else
  echo "skipped: ldms_ls at agg-2 (no ldmsd)"
fi
echo
echo "Try: bin/lvc exec ldms_slurm sampler-1 -- ldms_ls -l; bin/lvc describe ldms_slurm; remove it with: bin/lvc down ldms_slurm"
