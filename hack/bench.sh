#!/usr/bin/env bash
# Benchmarks on the real engine; writes BENCHMARKS.md. Not part of make test.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
hack/ensure-docker.sh
hack/build-image.sh
hack/build.sh
# The bench's clusters get the exec agent lvc's own binaries would give them.
LVC_AGENT=$PWD/bin/lvc-agent go run ./hack/bench "$@"
