#!/usr/bin/env bash
# What a test run leaves on the engine.
#   hack/leftovers.sh snapshot FILE  records the containers, networks and
#                                    volumes that exist now;
#   hack/leftovers.sh check FILE     names each one made since and still
#                                    there, and fails if there is any.
set -o errexit -o nounset -o pipefail

objects() { # one "kind id name" line per container, network and volume
  docker ps -a --no-trunc --format 'container {{.ID}} {{.Names}}'
  docker network ls --no-trunc --format 'network {{.ID}} {{.Name}}'
  docker volume ls --format 'volume {{.Name}} {{.Name}}'
}

case "${1:-}" in
snapshot)
  objects | sort >"$2"
  ;;
check)
  left=$(objects | sort | comm -13 "$2" -)
  if [ -n "$left" ]; then
    echo "leftovers: the test run left these on the engine:" >&2
    echo "$left" | sed 's/^/  /' >&2
    exit 1
  fi
  echo "leftovers: none"
  ;;
*)
  echo "usage: $0 snapshot|check FILE" >&2
  exit 2
  ;;
esac
