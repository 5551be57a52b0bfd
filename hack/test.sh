#!/usr/bin/env bash
# vet, unit tests with -race, and end-to-end tests on the real engine
# (which this script makes sure runs, with the node image built); then
# fails if the run left a container, network or volume behind.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
hack/ensure-docker.sh
hack/build-image.sh
hack/ensure-chromium.sh
hack/build.sh
go vet ./...
before=$(mktemp)
trap 'rm -f "$before"' EXIT
hack/leftovers.sh snapshot "$before"
# LVC_E2E=1: a test that needs the engine fails instead of skipping.
rc=0
LVC_E2E=1 go test -race -count=1 -timeout 40m ${LVC_TEST_FLAGS:-} ./... || rc=$?
hack/leftovers.sh check "$before" || rc=1
exit "$rc"
