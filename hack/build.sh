#!/usr/bin/env bash
# Build bin/lvc, bin/lvc-controller and bin/lvc-agent.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."
version=$(git describe --always --dirty 2>/dev/null || echo dev)
ldflags="-X github.com/ovis-hpc/lvc/internal/version.Version=$version"
mkdir -p bin
go build -ldflags "$ldflags" -o bin/lvc ./cmd/lvc
go build -ldflags "$ldflags" -o bin/lvc-controller ./cmd/controller
# Static: it runs inside node containers, whatever their libc.
CGO_ENABLED=0 go build -ldflags "$ldflags" -o bin/lvc-agent ./cmd/lvc-agent
