#!/usr/bin/env bash
# The multi-host end-to-end suite (internal/swarme2e TestSwarmE2E) on a
# real 3-node swarm built on this machine: swarm-up 3, swarm-smoke, then
# go test with the swarm's env file sourced, so that lvc-controller and lvc
# drive the swarm as a remote one; swarm-down runs on the way out, pass or
# fail. It stops and starts the node lvcswarm-3.
#
#   hack/swarm-e2e.sh                  (make swarm-e2e)
#
# Environment: LVC_SWARM_DIR (see swarm-up.sh), LVC_SWARM_E2E_OUT (the
# test log and the controller's log; default /tmp/lvc-swarm-e2e),
# LVC_SWARM_KEEP=1 (leave the swarm up afterwards), LVC_TEST_FLAGS (more
# go test flags, e.g. -run). Another suite that restarts the host's
# dockerd (make chaos) kills the nodes: do not run both at once.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

out=${LVC_SWARM_E2E_OUT:-/tmp/lvc-swarm-e2e}
dir=${LVC_SWARM_DIR:-/tmp/lvcswarm}
mkdir -p "$out"
say() { printf 'swarm-e2e: %s\n' "$*" >&2; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

cleanup() {
  local rc=$?
  if [ "${LVC_SWARM_KEEP:-0}" = 1 ]; then
    say "leaving the swarm up (LVC_SWARM_KEEP=1): hack/swarm-down.sh removes it"
  else
    local t=$EPOCHREALTIME
    hack/swarm-down.sh || rc=1
    say "swarm-down took $(since "$t") s"
  fi
  exit "$rc"
}
trap cleanup EXIT

t=$EPOCHREALTIME
hack/swarm-up.sh 3
say "swarm-up 3 took $(since "$t") s"
t=$EPOCHREALTIME
hack/swarm-smoke.sh 3
say "swarm-smoke took $(since "$t") s"

t=$EPOCHREALTIME
# shellcheck disable=SC1091,SC2086 # env is written by swarm-up.sh; flags split
(. "$dir/env" && LVC_SWARM_E2E=1 LVC_SWARM_DIR="$dir" go test -artifacts -outputdir "$out" -count=1 -timeout 30m -v \
  -run '^TestSwarmE2E$' ${LVC_TEST_FLAGS:-} ./internal/swarme2e/) 2>&1 | tee "$out/test.log"
say "go test took $(since "$t") s; log in $out/test.log"
grep 'MEASURED' "$out/test.log" | sed 's/^ *//' >&2 || true
