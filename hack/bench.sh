#!/usr/bin/env bash
# Benchmarks on the real engine; writes BENCHMARKS.md. Not part of make test.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
hack/ensure-docker.sh
hack/build-image.sh
hack/build.sh
go run ./hack/bench "$@"
