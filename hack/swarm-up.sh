#!/usr/bin/env bash
# Build a real multi-node Docker Swarm on this one machine: N docker-in-docker
# nodes (containers lvcswarm-1..N of the lvc-dind image on the host engine's
# bridge network lvcswarm), node 1 the manager and the others workers, each
# node's engine reachable from the host over TLS on tcp://IP:2376 with a CA
# and certificates made here. The node image is loaded into every engine.
#
#   hack/swarm-up.sh [N]          N defaults to 3
#   . "${LVC_SWARM_DIR:-/tmp/lvcswarm}/env" && docker node ls
#
# State lives in $LVC_SWARM_DIR (default /tmp/lvcswarm): ca/, client/ (a
# DOCKER_CERT_PATH directory), nodes/NAME/ (each engine's server
# certificate), env (DOCKER_HOST=the manager, TLS on) and nodes.txt (one line
# per node: NAME tcp://IP:2376 manager|worker). Swarm nodes carry the label
# lvc.engine=tcp://IP:2376. Node names are fixed, so one such swarm per host.
# Idempotent: a second run reuses the nodes, certificates and swarm and only
# repairs what is missing or changed; nodes beyond N are removed.
# hack/swarm-down.sh removes it all.
#
# Environment: LVC_SWARM_DIR, LVC_OVIS_PREFIX (default /opt/ovis, bind-mounted
# read-only at the same path into every node when it exists), LVC_IMAGE
# (node image, default lvc-node:latest), LVC_DIND_IMAGE, LVC_SWARM_SUBNET
# (bridge subnet; default: one the host engine picks), LVC_SWARM_WAIT.
set -o errexit -o nounset -o pipefail

N=${1:-3}
DIR=${LVC_SWARM_DIR:-/tmp/lvcswarm}
OVIS=${LVC_OVIS_PREFIX:-/opt/ovis}
export LVC_IMAGE=${LVC_IMAGE:-lvc-node:latest}
export LVC_DIND_IMAGE=${LVC_DIND_IMAGE:-lvc-dind:latest}
WAIT=${LVC_SWARM_WAIT:-60}
NET=lvcswarm
PORT=2376
DAYS=825
top=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'swarm-up: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
# The host engine is the local one even when a swarm env file was sourced.
unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT

[[ $N =~ ^[1-9][0-9]?$ ]] || die "usage: $0 [N]   (N nodes, 1-99; got '$N')"

# shellcheck source=hack/lib/wait.sh
. "$top/hack/lib/wait.sh"
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# nd IP ARGS...: the docker CLI against one node's engine over TLS.
nd() {
  local ip=$1; shift
  docker --tlsverify --tlscacert="$DIR/client/ca.pem" --tlscert="$DIR/client/cert.pem" \
    --tlskey="$DIR/client/key.pem" -H "tcp://$ip:$PORT" "$@"
}

# ip_of SUBNET INDEX: node INDEX's fixed address, the subnet's base + 10 + INDEX.
ip_of() {
  local a b c d n
  IFS=. read -r a b c d <<<"${1%/*}"
  n=$(((a << 24 | b << 16 | c << 8 | d) + 10 + $2))
  printf '%d.%d.%d.%d' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255))
}

start=$EPOCHREALTIME

# --- host engine, images, openssl -------------------------------------------
"$top/hack/ensure-docker.sh"
"$top/hack/build-dind-image.sh"
"$top/hack/build-image.sh"
if ! command -v openssl >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "openssl is missing: install it (Debian: apt-get install openssl)"
  say "installing openssl"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null; }
fi

# --- state dir ----------------------------------------------------------------
# A marker guards swarm-down's rm -rf against a mistyped LVC_SWARM_DIR.
if [ -d "$DIR" ] && [ ! -e "$DIR/.lvcswarm" ] && [ -n "$(ls -A "$DIR")" ]; then
  die "$DIR exists, is not empty and was not made by swarm-up: choose another LVC_SWARM_DIR"
fi
mkdir -p "$DIR"/ca "$DIR"/client "$DIR"/nodes
chmod 0700 "$DIR"
touch "$DIR/.lvcswarm"

# --- network --------------------------------------------------------------------
# Fixed node addresses (so certificates and the swarm's advertise address
# survive restarts) need a network with a user-configured subnet: let the
# engine pick a free one on a probe network, then create ours with it.
if ! docker network inspect "$NET" >/dev/null 2>&1; then
  subnet=${LVC_SWARM_SUBNET:-}
  if [ -z "$subnet" ]; then
    probe=lvcswarm-probe-$$
    docker network create --label lvcswarm=probe "$probe" >/dev/null
    subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$probe" | awk '{print $1}')
    docker network rm "$probe" >/dev/null
  fi
  say "creating bridge network $NET ($subnet)"
  docker network create --driver bridge --subnet "$subnet" --label lvcswarm=network "$NET" >/dev/null ||
    docker network inspect "$NET" >/dev/null 2>&1 || die "cannot create network $NET"
fi
subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$NET" | awk '{print $1}')
[[ $subnet =~ ^[0-9.]+/[0-9]+$ ]] || die "network $NET has no IPv4 subnet ($subnet): run hack/swarm-down.sh"
[ $((1 << (32 - ${subnet#*/}))) -gt $((N + 12)) ] || die "subnet $subnet of $NET is too small for $N nodes"

# --- certificates -------------------------------------------------------------
ossl() { local err; err=$(openssl "$@" 2>&1) || { printf '%s\n' "$err" >&2; die "openssl $1 failed"; }; }
newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; chmod 0600 "$1"; }

if ! [ -s "$DIR/ca/ca.pem" ] || ! [ -s "$DIR/ca/ca-key.pem" ]; then
  say "making a CA in $DIR/ca"
  newkey "$DIR/ca/ca-key.pem"
  printf '%s\n' '[req]' 'distinguished_name=dn' 'prompt=no' '[dn]' 'CN=lvcswarm CA' \
    '[ext]' 'basicConstraints=critical,CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' \
    'subjectKeyIdentifier=hash' >"$DIR/ca/ca.cnf"
  ossl req -x509 -new -config "$DIR/ca/ca.cnf" -extensions ext -key "$DIR/ca/ca-key.pem" \
    -days "$DAYS" -out "$DIR/ca/ca.pem"
  rm -rf "$DIR"/client/* "$DIR"/nodes/* # signed by an older CA
fi

# sign DIR CN EXTENDEDKEYUSAGE [SAN]: key.pem, cert.pem and ca.pem in DIR.
sign() {
  local d=$1 cn=$2 eku=$3 san=${4:-}
  mkdir -p "$d"
  newkey "$d/key.pem"
  {
    echo 'basicConstraints=CA:FALSE'
    echo 'keyUsage=critical,digitalSignature,keyEncipherment'
    echo "extendedKeyUsage=$eku"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } >"$d/ext.cnf"
  ossl req -new -key "$d/key.pem" -subj "/CN=$cn" -out "$d/csr.pem"
  ossl x509 -req -in "$d/csr.pem" -CA "$DIR/ca/ca.pem" -CAkey "$DIR/ca/ca-key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$DAYS" -extfile "$d/ext.cnf" -out "$d/cert.pem"
  cp "$DIR/ca/ca.pem" "$d/ca.pem"
  rm -f "$d/csr.pem" "$d/ext.cnf"
}
# valid DIR [IP]: DIR's certificate is signed by our CA, not about to expire,
# and names IP.
valid() {
  [ -s "$1/cert.pem" ] && [ -s "$1/key.pem" ] && cmp -s "$1/ca.pem" "$DIR/ca/ca.pem" &&
    openssl verify -CAfile "$DIR/ca/ca.pem" "$1/cert.pem" >/dev/null 2>&1 &&
    openssl x509 -in "$1/cert.pem" -noout -checkend 86400 >/dev/null &&
    { [ -z "${2:-}" ] || openssl x509 -in "$1/cert.pem" -noout -ext subjectAltName |
      grep -E "IP Address:${2//./\\.}(,|\$)" >/dev/null; }
}

valid "$DIR/client" || { say "making the client certificate"; sign "$DIR/client" lvcswarm-client clientAuth; }

# --- nodes ----------------------------------------------------------------------
dind_id=$(docker image inspect -f '{{.Id}}' "$LVC_DIND_IMAGE")
ovis_mount=()
if [ -d "$OVIS" ]; then
  ovis_mount=(--volume "$OVIS:$OVIS:ro")
else
  say "no OVIS prefix at $OVIS: nodes get none (set LVC_OVIS_PREFIX)"
fi

# stop_rm NAME: stop a node (its dockerd stops its containers, so their
# cgroups go too), then remove it.
stop_rm() {
  docker stop --time 60 "$1" >/dev/null 2>&1 || true
  docker rm --force "$1" >/dev/null 2>&1 || true
}

ips=()
for i in $(seq 1 "$N"); do
  name=lvcswarm-$i ip=$(ip_of "$subnet" "$i") certs=$DIR/nodes/lvcswarm-$i
  ips[i]=$ip
  # Not --privileged (cannot start here: no CAP_SYS_RESOURCE in the host's
  # bounding set); these flags are what a nested engine needs instead.
  # unless-stopped: a restart of the host engine (which kills the nodes)
  # brings them back with their swarm state and images; their containers
  # are gone, as after a reboot.
  args=(--hostname "$name" --label lvcswarm.node="$i"
    --network "$NET" --ip "$ip"
    --restart unless-stopped --stop-timeout 20
    --cap-add ALL --cap-drop SYS_RESOURCE
    --security-opt seccomp=unconfined --security-opt systempaths=unconfined
    --device-cgroup-rule 'a *:* rwm'
    --tmpfs /run --tmpfs /tmp
    --volume "lvcswarm-$i-docker:/var/lib/docker"
    --volume "$certs:/certs:ro"
    "${ovis_mount[@]}"
    "$LVC_DIND_IMAGE"
    --host=unix:///var/run/docker.sock --host="tcp://0.0.0.0:$PORT"
    --tlsverify --tlscacert=/certs/ca.pem --tlscert=/certs/cert.pem --tlskey=/certs/key.pem)
  # A node whose image or flags changed is re-created (its volume, so its
  # swarm membership and images, survive).
  config=$(printf '%s\n' "$dind_id" "${args[@]}" | sha256sum | cut -c1-16)
  restart=false
  if ! valid "$certs" "$ip"; then
    say "making the server certificate of $name ($ip)"
    sign "$certs" "$name" serverAuth "DNS:$name,DNS:localhost,IP:$ip,IP:127.0.0.1"
    restart=true
  fi
  if docker container inspect "$name" >/dev/null 2>&1; then
    if [ "$(docker container inspect -f '{{index .Config.Labels "lvcswarm.config"}}' "$name")" != "$config" ]; then
      say "re-creating $name (its image or flags changed)"
      stop_rm "$name"
    elif [ "$(docker container inspect -f '{{.State.Running}}' "$name")" != true ]; then
      say "starting $name"
      docker start "$name" >/dev/null
      continue
    elif $restart; then
      say "restarting $name for its new certificate"
      docker restart --time 60 "$name" >/dev/null
      continue
    else
      continue
    fi
  fi
  say "creating $name ($ip)"
  docker run --detach --name "$name" --label lvcswarm.config="$config" "${args[@]}" >/dev/null
done

# Nodes beyond N (an earlier, larger run) leave the swarm and go.
extra=()
for name in $(docker ps -a --filter label=lvcswarm.node --format '{{.Names}}'); do
  [[ $name =~ ^lvcswarm-([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -gt "$N" ] && extra+=("$name")
done

for i in $(seq 1 "$N"); do
  wait_for "$WAIT" nd "${ips[i]}" version >/dev/null 2>&1 ||
    die "the engine of lvcswarm-$i does not answer on tcp://${ips[i]}:$PORT after ${WAIT}s: see 'docker logs lvcswarm-$i'"
done
say "$N engines answer over TLS ($(since "$start") s so far)"

# --- swarm --------------------------------------------------------------------------
mgr=${ips[1]}
state=$(nd "$mgr" info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}')
case "$state" in
  "inactive false")
    say "initialising the swarm on lvcswarm-1 ($mgr)"
    nd "$mgr" swarm init --advertise-addr "$mgr" --listen-addr "$mgr:2377" >/dev/null ;;
  "active true") ;;
  *) die "lvcswarm-1 is in swarm state '$state', not a manager: run hack/swarm-down.sh, then again" ;;
esac
is_manager() { [ "$(nd "$mgr" info -f '{{.Swarm.ControlAvailable}}')" = true ]; }
wait_for 60 is_manager || die "lvcswarm-1 does not become a swarm manager"
token=$(nd "$mgr" swarm join-token -q worker)

for name in "${extra[@]}"; do
  say "removing $name (beyond N=$N)"
  nd "$mgr" node rm --force "$name" >/dev/null 2>&1 || true
  stop_rm "$name"
  docker volume rm "$name-docker" >/dev/null 2>&1 || true
  rm -rf "${DIR:?}/nodes/$name"
done

members() { nd "$mgr" node ls --format '{{.ID}} {{.Hostname}} {{.Status}}'; }
for i in $(seq 2 "$N"); do
  ip=${ips[i]}
  # A restarted worker is 'pending' while it reconnects to the manager.
  settled() { [ "$(nd "$1" info -f '{{.Swarm.LocalNodeState}}')" != pending ]; }
  wait_for 30 settled "$ip" || true
  read -r state id <<<"$(nd "$ip" info -f '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}')"
  if [ "$state" = active ] && [[ $'\n'$(members) == *$'\n'"$id "* ]]; then
    continue
  fi
  if [ "$state" != inactive ]; then
    say "lvcswarm-$i is '$state' in another swarm: leaving it"
    nd "$ip" swarm leave --force >/dev/null
  fi
  say "lvcswarm-$i ($ip) joins as a worker"
  nd "$ip" swarm join --token "$token" --advertise-addr "$ip" --listen-addr "$ip:2377" "$mgr:2377" >/dev/null
done

# Forget nodes that are not one of our N engines: re-created nodes rejoin
# with new IDs, and their old IDs may look Ready until heartbeats time out.
current=" "
for i in $(seq 1 "$N"); do current+="$(nd "${ips[i]}" info -f '{{.Swarm.NodeID}}') "; done
while read -r id host status; do
  if [[ $current != *" $id "* ]]; then
    say "forgetting stale swarm node $host ($id, $status)"
    nd "$mgr" node rm --force "$id" >/dev/null
  fi
done < <(members)

ready() { [ "$(members | awk '$3 == "Ready"' | wc -l)" -eq "$N" ]; }
wait_for 60 ready || { members >&2; die "not all $N swarm nodes are Ready"; }
# Overlay traffic and DNS across nodes need the engines' gossip (networkdb)
# to have met: every engine lists all N peers on the swarm's ingress network.
peers() { nd "$1" network inspect --verbose -f '{{range .Peers}}{{.IP}} {{end}}' ingress 2>/dev/null; }
gossip() {
  local i
  for i in $(seq 1 "$N"); do [ "$(peers "${ips[i]}" | wc -w)" -eq "$N" ] || return 1; done
}
if ! wait_for 60 gossip; then
  for i in $(seq 1 "$N"); do say "lvcswarm-$i sees ingress peers: $(peers "${ips[i]}")"; done
  die "the engines' gossip has not converged: overlay networks would not work across nodes"
fi

for i in $(seq 1 "$N"); do
  id=$(nd "${ips[i]}" info -f '{{.Swarm.NodeID}}') want=tcp://${ips[i]}:$PORT
  if [ "$(nd "$mgr" node inspect -f '{{index .Spec.Labels "lvc.engine"}}' "$id")" != "$want" ]; then
    nd "$mgr" node update --label-add "lvc.engine=$want" "$id" >/dev/null
  fi
done
say "swarm of $N nodes Ready, labelled lvc.engine ($(since "$start") s so far)"

# --- node image -------------------------------------------------------------------
# No registry: save the image once and load it, in parallel (about a quarter
# faster than one after another here), into every engine that lacks this
# very image ID.
image_id=$(docker image inspect -f '{{.Id}}' "$LVC_IMAGE")
tar=$DIR/image.tar
trap 'rm -f "$tar" "$DIR"/load.*' EXIT
loads=() pids=()
for i in $(seq 1 "$N"); do
  if [ "$(nd "${ips[i]}" image inspect -f '{{.Id}}' "$LVC_IMAGE" 2>/dev/null)" = "$image_id" ]; then
    loads[i]=present
    continue
  fi
  if [ ! -s "$tar" ]; then
    t=$EPOCHREALTIME
    docker save -o "$tar" "$LVC_IMAGE"
    say "saved $LVC_IMAGE in $(since "$t") s"
  fi
  ( t=$EPOCHREALTIME && nd "${ips[i]}" load --quiet --input "$tar" >/dev/null && since "$t" >"$DIR/load.$i" ) &
  pids[i]=$!
done
for i in "${!pids[@]}"; do
  wait "${pids[i]}" || die "loading $LVC_IMAGE into lvcswarm-$i failed"
  loads[i]="loaded in $(cat "$DIR/load.$i") s"
  say "lvcswarm-$i: $LVC_IMAGE ${loads[i]}"
done
rm -f "$tar" "$DIR"/load.*

# --- env file and summary ---------------------------------------------------------
printf 'export DOCKER_HOST=tcp://%s:%s DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=%s\n' \
  "$mgr" "$PORT" "$DIR/client" >"$DIR/env.tmp"
mv "$DIR/env.tmp" "$DIR/env"
# One line per node: name, engine endpoint, swarm role.
for i in $(seq 1 "$N"); do
  role=worker; [ "$i" -eq 1 ] && role=manager
  printf 'lvcswarm-%s tcp://%s:%s %s\n' "$i" "${ips[i]}" "$PORT" "$role"
done >"$DIR/nodes.tmp"
mv "$DIR/nodes.tmp" "$DIR/nodes.txt"

say "swarm of $N nodes up in $(since "$start") s"
printf '%-12s %-22s %-8s %-15s %s\n' NODE ENGINE ROLE VERSION "$LVC_IMAGE"
for i in $(seq 1 "$N"); do
  role=worker; [ "$i" -eq 1 ] && role=manager
  printf '%-12s %-22s %-8s %-15s %s\n' "lvcswarm-$i" "tcp://${ips[i]}:$PORT" "$role" \
    "$(nd "${ips[i]}" version -f '{{.Server.Version}}')" "${loads[i]}"
done
printf '\nnode endpoints: %s\nuse it:         . %s && docker node ls\n' "$DIR/nodes.txt" "$DIR/env"
