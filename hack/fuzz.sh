#!/usr/bin/env bash
# Fuzz the manifest decoder, validation, expansion and renderers
# (plan.FuzzDecodeValidateRender) for LVC_FUZZTIME (default 10m) on one
# worker, then record the run in docs/reliability.md. A crash fails the
# script; the failing input is left in plan/testdata/fuzz/ as a seed.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${LVC_FUZZTIME:-10m}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test -run='^$' -fuzz='^FuzzDecodeValidateRender$' -fuzztime="$FUZZTIME" -parallel 1 ./plan/ 2>&1 | tee "$log"
last=$(grep 'fuzz: elapsed' "$log" | tail -1)
execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' <<<"$last")
elapsed=$(sed -n 's/.*elapsed: \([^,]*\),.*/\1/p' <<<"$last")
interesting=$(sed -n 's/.*(total: \([0-9]*\)).*/\1/p' <<<"$last")
seeds=$( (find plan/testdata/fuzz -type f 2>/dev/null || true) | wc -l)
go run ./internal/chaos/docsection -section fuzz <<DOC
| target | time | executions | corpus | crashes |
|---|---|---|---|---|
| \`plan.FuzzDecodeValidateRender\` (decode, defaults, validate, expand, ldmsd config and command line, plan, /etc/hosts, hashes) | $elapsed | $execs | $interesting | 0 |

Command: \`LVC_FUZZTIME=$FUZZTIME hack/fuzz.sh\` (\`go test -fuzz -parallel 1 ./plan/\`). Checked-in seeds from earlier findings: $seeds (\`plan/testdata/fuzz/\`).
DOC
