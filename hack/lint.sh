#!/usr/bin/env bash
# gofmt and go vet over the whole module.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "not gofmt'ed:" $unformatted >&2
  exit 1
fi
go vet ./...
