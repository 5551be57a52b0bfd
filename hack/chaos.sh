#!/usr/bin/env bash
# The fault-injection matrix (internal/chaos TestChaosMatrix) on the real
# engine: it rewrites the matrix of docs/reliability.md. Its last case
# stops and restarts dockerd (LVC_CHAOS_SKIP_DOCKERD=1 skips it).
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
# The controller's log is kept there.
out=${LVC_CHAOS_OUT:-/tmp/lvc-chaos}
mkdir -p "$out"
hack/ensure-docker.sh
hack/build-image.sh
LVC_CHAOS=1 LVC_E2E=1 go test -artifacts -outputdir "$out" -count=1 -timeout 60m -v -run '^TestChaosMatrix$' ./internal/chaos/
