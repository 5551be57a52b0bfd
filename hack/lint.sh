#!/usr/bin/env bash
# gofmt, go vet and go mod tidy over the whole module.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "not gofmt'ed:" $unformatted >&2
  exit 1
fi
go vet ./...
# go.mod and go.sum must say exactly what the code imports.
if ! untidy=$(go mod tidy -diff 2>&1); then
  echo "go.mod/go.sum are not tidy (run go mod tidy):" >&2
  echo "$untidy" >&2
  exit 1
fi
