#!/usr/bin/env bash
# The unit tests, 20 times over with -race, while busy loops keep every
# CPU loaded: a test whose outcome depends on the machine's speed fails
# here. STRESS_COUNT changes the count.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
go test -short -race -count=1 -run '^$' ./... >/dev/null # compile before loading the CPUs
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for _ in $(seq "$(nproc)"); do
  (while :; do :; done) &
  pids+=($!)
done
echo "stress: $(nproc) busy loops; go test -short -race -count=${STRESS_COUNT:-20} ./..."
go test -short -race -count="${STRESS_COUNT:-20}" -timeout 60m ./...
