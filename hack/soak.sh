#!/usr/bin/env bash
# The soak (internal/chaos TestChaosSoak): 8 clusters of 5 nodes under one
# controller while daemons and containers are killed, for
# LVC_SOAK_DURATION (default 10m); it rewrites the Soak section of
# docs/reliability.md.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
# The controller's log is kept there.
out=${LVC_CHAOS_OUT:-/tmp/lvc-chaos}
mkdir -p "$out"
hack/ensure-docker.sh
hack/build-image.sh
duration=${LVC_SOAK_DURATION:-10m}
LVC_CHAOS=1 LVC_E2E=1 LVC_SOAK_DURATION="$duration" go test -artifacts -outputdir "$out" -count=1 -timeout 90m -v -run '^TestChaosSoak$' ./internal/chaos/
