#!/usr/bin/env bash
# Smoke test of the swarm hack/swarm-up.sh builds. Exits non-zero when a
# check fails.
#
#   hack/swarm-smoke.sh            check the swarm that is up ($LVC_SWARM_DIR)
#   hack/swarm-smoke.sh --cycle N  swarm-up N, check, swarm-down, check that
#                                  nothing is left (LVC_SWARM_KEEP=1 keeps the
#                                  swarm up instead)
#
# Checks: `docker node ls` through the env file shows every node Ready, one
# manager; each node's engine answers over TLS at its lvc.engine label and
# refuses a client without a certificate; the node image has the host's
# image ID on every node; containers on an attachable overlay network,
# one per node, reach each other across nodes by name (DNS, ping, a full
# 1450-byte frame, TCP to sshd); the OVIS prefix is visible at the same path
# in a nested container.
# shellcheck disable=SC2015 # "check && ok ... || fail ...": ok never fails
set -o errexit -o nounset -o pipefail

DIR=${LVC_SWARM_DIR:-/tmp/lvcswarm}
IMAGE=${LVC_IMAGE:-lvc-node:latest}
OVIS=${LVC_OVIS_PREFIX:-/opt/ovis}
top=$(cd "$(dirname "$0")/.." && pwd)
cycle=false
if [ "${1:-}" = --cycle ]; then cycle=true; shift; fi
want=${1:-}

say() { printf 'swarm-smoke: %s\n' "$*" >&2; }
failed=0
ok() { say "ok   $*"; }
fail() { say "FAIL $*"; failed=$((failed + 1)); }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# Host-engine commands must not follow a sourced swarm env file.
unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT
names=() eps=()

# sw ARGS...: docker against the swarm exactly as a user would, via the env file.
sw() { (. "$DIR/env" && docker "$@"); }
# on I ARGS...: docker against node I's engine (0-based) over TLS.
on() {
  local i=$1; shift
  docker --tlsverify --tlscacert="$DIR/client/ca.pem" --tlscert="$DIR/client/cert.pem" \
    --tlskey="$DIR/client/key.pem" -H "${eps[i]}" "$@"
}

net=lvcswarm-smoke-$$
cleanup() {
  local i
  for i in "${!eps[@]}"; do on "$i" rm --force "lvcswarm-smoke-$$-$((i + 1))" >/dev/null 2>&1 || true; done
  sw network rm "$net" >/dev/null 2>&1 || true
  if $cycle && [ "${LVC_SWARM_KEEP:-0}" != 1 ]; then
    local t=$EPOCHREALTIME
    if "$top/hack/swarm-down.sh"; then say "swarm-down took $(since "$t") s"; else fail "swarm-down left something behind"; fi
  fi
}
trap 'cleanup; say "$failed check(s) failed"; [ "$failed" -eq 0 ] || exit 1' EXIT

if $cycle; then
  [ -n "$want" ] || want=3
  t=$EPOCHREALTIME
  "$top/hack/swarm-up.sh" "$want" || { fail "swarm-up $want"; exit 1; }
  say "swarm-up $want took $(since "$t") s"
fi
start=$EPOCHREALTIME

[ -s "$DIR/env" ] && [ -s "$DIR/nodes.txt" ] || { fail "no swarm in $DIR: run hack/swarm-up.sh first"; exit 1; }
mapfile -t names < <(awk '{print $1}' "$DIR/nodes.txt")
mapfile -t eps < <(awk '{print $2}' "$DIR/nodes.txt")
n=${#names[@]}
[ -z "$want" ] || [ "$want" -eq "$n" ] || fail "nodes.txt lists $n nodes, want $want"

# Leftovers of an earlier run that could not clean up (say, a node was
# killed): containers and networks named after a smoke test no longer running.
gone() { [[ $1 =~ ^lvcswarm-smoke-([0-9]+) ]] && [ ! -e "/proc/${BASH_REMATCH[1]}" ]; }
for i in "${!eps[@]}"; do
  for c in $(on "$i" ps --all --format '{{.Names}}' --filter name=lvcswarm-smoke- 2>/dev/null); do
    if gone "$c"; then on "$i" rm --force "$c" >/dev/null 2>&1 || true; fi
  done
done
for old in $(sw network ls --format '{{.Name}}' --filter name=lvcswarm-smoke- 2>/dev/null); do
  if gone "$old"; then sw network rm "$old" >/dev/null 2>&1 || true; fi
done

# --- swarm membership ------------------------------------------------------------
t=$EPOCHREALTIME
if ls=$(sw node ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}' 2>&1); then
  ready=$(awk '$2 == "Ready" && $3 == "Active"' <<<"$ls" | wc -l)
  managers=$(awk '$4 != ""' <<<"$ls" | wc -l)
  leader=$(awk '$4 == "Leader" {print $1}' <<<"$ls")
  if [ "$ready" -eq "$n" ] && [ "$(wc -l <<<"$ls")" -eq "$n" ] && [ "$managers" -eq 1 ] && [ "$leader" = "${names[0]}" ]; then
    ok "docker node ls: $n nodes Ready, 1 manager ($leader)"
  else
    fail "docker node ls, want $n Ready nodes and ${names[0]} the only manager:"$'\n'"$ls"
  fi
else
  fail "docker node ls through $DIR/env: $ls"
fi

# --- engines over TLS, labels, image ---------------------------------------------
host_image=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null) || host_image=none
for i in "${!eps[@]}"; do
  name=${names[i]} ep=${eps[i]}
  got=$(on "$i" info -f '{{.Name}} {{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}' 2>&1) || { fail "$name: engine $ep over TLS: $got"; continue; }
  read -r host state id <<<"$got"
  [ "$host" = "$name" ] && [ "$state" = active ] && ok "$name: engine $ep answers over TLS, swarm member" ||
    fail "$name: engine $ep is '$host' in swarm state '$state'"
  label=$(sw node inspect -f '{{index .Spec.Labels "lvc.engine"}}' "$id" 2>&1 || true)
  [ "$label" = "$ep" ] && ok "$name: labelled lvc.engine=$label" || fail "$name: label lvc.engine is '$label', want $ep"
  if docker --tls --tlscacert="$DIR/client/ca.pem" -H "$ep" version >/dev/null 2>&1; then
    fail "$name: engine $ep serves a client without a certificate"
  else
    ok "$name: engine refuses a client without a certificate"
  fi
  node_image=$(on "$i" image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null) || node_image=missing
  [ "$node_image" = "$host_image" ] && ok "$name: $IMAGE present (${node_image:7:12})" ||
    fail "$name: $IMAGE is $node_image, host has $host_image"
done
say "membership, engines and images checked in $(since "$t") s"

# --- overlay across nodes ---------------------------------------------------------
t=$EPOCHREALTIME
if [ "$n" -lt 2 ]; then
  say "one node: no cross-node network to check"
elif ! sw network create --driver overlay --attachable --label lvcswarm=smoke "$net" >/dev/null; then
  fail "create attachable overlay $net from the manager"
else
  ovis=()
  [ -d "$OVIS" ] && ovis=(--volume "$OVIS:$OVIS:ro")
  up=()
  for i in "${!eps[@]}"; do
    # No registry: a node lacking the image must fail here, not try to pull.
    if on "$i" run --detach --pull never --name "lvcswarm-smoke-$$-$((i + 1))" --network "$net" "${ovis[@]}" "$IMAGE" \
      sh -c 'ssh-keygen -A >/dev/null 2>&1; mkdir -p /run/sshd; /usr/sbin/sshd; exec sleep infinity' >/dev/null; then
      up[i]=1
    else
      fail "${names[i]}: run a container on $net"
    fi
  done
  say "${#up[@]} of $n containers started, one per node, in $(since "$t") s"
  # Each container reaches the next node's container (a ring over all nodes).
  for i in "${!eps[@]}"; do
    j=$(((i + 1) % n))
    from=lvcswarm-smoke-$$-$((i + 1)) to=lvcswarm-smoke-$$-$((j + 1))
    where="${names[i]} -> ${names[j]}"
    [ -n "${up[i]:-}" ] && [ -n "${up[j]:-}" ] || { say "skip $where: a container did not start"; continue; }
    addr=
    for _ in $(seq 1 10); do # a new container's name takes a moment to spread
      addr=$(on "$i" exec "$from" getent hosts "$to" | awk '{print $1}') || true
      [ -z "$addr" ] || break
      sleep 0.5
    done
    [ -n "$addr" ] && ok "$where: DNS $to = $addr" || fail "$where: DNS cannot resolve $to"
    on "$i" exec "$from" ping -c 2 -W 2 "$to" >/dev/null 2>&1 && ok "$where: ping by name" ||
      fail "$where: ping $to"
    on "$i" exec "$from" ping -c 1 -W 2 -M "do" -s 1422 "$to" >/dev/null 2>&1 && ok "$where: 1450-byte frame, no fragmentation" ||
      fail "$where: ping -M do -s 1422 $to (overlay MTU)"
    banner=
    for _ in $(seq 1 20); do
      banner=$(on "$i" exec "$from" timeout 3 bash -c "exec 3<>/dev/tcp/$to/22 && head -c 7 <&3" 2>/dev/null) || true
      [ "$banner" = SSH-2.0 ] && break
      sleep 0.5
    done
    [ "$banner" = SSH-2.0 ] && ok "$where: TCP to sshd" || fail "$where: TCP $to:22 got '$banner'"
  done
  if [ "$failed" -gt 0 ]; then # what each engine's gossip knows of the network
    for i in "${!eps[@]}"; do
      say "${names[i]} sees peers on $net: $(on "$i" network inspect --verbose -f '{{range .Peers}}{{.Name}}/{{.IP}} {{end}}' "$net" 2>&1)"
    done
  fi
  if [ -d "$OVIS" ]; then
    want_ls=$(ls "$OVIS")
    for i in "${!up[@]}"; do
      got_ls=$(on "$i" exec "lvcswarm-smoke-$$-$((i + 1))" ls "$OVIS" 2>&1 || true)
      [ "$got_ls" = "$want_ls" ] && ok "${names[i]}: $OVIS visible in a nested container" ||
        fail "${names[i]}: nested container sees '$got_ls' at $OVIS"
    done
  fi
  say "overlay checked in $(since "$t") s"
fi
say "checks took $(since "$start") s"
