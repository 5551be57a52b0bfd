#!/usr/bin/env bash
# make ldms-test: run scripts of an ovis-hpc/ldms-test checkout with
# --runtime lvc and with --runtime docker (same image, same OVIS, this
# machine, one runtime after the other) and write docs/ldms-test.md.
#
#   LDMS_TEST_DIR      the checkout (required; without it: skip, exit 0)
#   LVC_OVIS_PREFIX    OVIS install mounted into the nodes (/opt/ovis)
#   LVC_IMAGE          node image (lvc-node:latest)
#   LDMS_TEST_SCRIPTS  scripts to run (default: the list below)
#   LDMS_TEST_RUNTIMES runtimes to run (default: "lvc docker")
#   LDMS_TEST_OUT      logs and results (_output/ldms-test)
#   LDMS_TEST_TIMEOUT  seconds one script may take (1200)
#   LDMS_TEST_REPORT=1 only rewrite the document from the results kept
set -o errexit -o nounset -o pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
say() { printf 'ldms-test: %s\n' "$*" >&2; }

dir=${LDMS_TEST_DIR:-}
if [ -z "$dir" ]; then
  say "skipped: LDMS_TEST_DIR is not set. Get a checkout of ovis-hpc/ldms-test and run:"
  say "  git clone https://github.com/ovis-hpc/ldms-test ~/ldms-test"
  say "  LDMS_TEST_DIR=~/ldms-test make ldms-test"
  exit 0
fi
[ -f "$dir/LDMS_Test.py" ] || { say "$dir: no LDMS_Test.py, not an ldms-test checkout"; exit 2; }
dir=$(cd "$dir" && pwd)
prefix=${LVC_OVIS_PREFIX:-/opt/ovis}
if [ ! -x "$prefix/sbin/ldmsd" ]; then
  say "skipped: no ldmsd at $prefix/sbin/ldmsd (build OVIS into it, or set LVC_OVIS_PREFIX)"
  exit 0
fi
image=${LVC_IMAGE:-lvc-node:latest}
runtimes=${LDMS_TEST_RUNTIMES:-lvc docker}
out=${LDMS_TEST_OUT:-$top/_output/ldms-test}
limit=${LDMS_TEST_TIMEOUT:-1200}
doc=$top/docs/ldms-test.md
default_scripts="agg_test failover_test setgroup_test set_array_test
ldmsd_auth_ovis_test ldmsd_auth_test ldms_set_info_test ldmsd_long_config_test
updtr_add_test updtr_del_test updtr_match_add_test updtr_match_del_test
updtr_prdcr_add_test updtr_prdcr_del_test updtr_start_test updtr_status_test
updtr_stop_test ldmsd_stream_status_test slurm_stream_test spank_notifier_test
prdcr_subscribe_test ldms_ipv6_test"
scripts=${LDMS_TEST_SCRIPTS:-$default_scripts}

# Scripts of the suite this machine kind cannot run, and why (from reading
# each script and this machine; none of them is in the default list).
cannot_run="papi_sampler_test|PAPI hardware counters: this VM shows no CPU PMU (/sys/bus/event_source/devices has no cpu)
papi_store_test|PAPI hardware counters: this VM shows no CPU PMU (/sys/bus/event_source/devices has no cpu)
syspapi_test|PAPI hardware counters: this VM shows no CPU PMU (/sys/bus/event_source/devices has no cpu)
multi_store_avro_kafka_test|a Kafka broker and libserdes/avro, which Debian bookworm lacks
ldms_stream_avro_ser_test|libserdes/avro, which Debian bookworm lacks
multi_store_sos_test|SOS (ovis-hpc/sos), built beside OVIS; not built here
store_app_test|SOS (ovis-hpc/sos), built beside OVIS; not built here
maestro_cfg_test|maestro (ovis-hpc/maestro) and SOS, neither built here (lvc runs its etcd daemons)
maestro_raft_test|maestro (ovis-hpc/maestro) and SOS, neither built here (lvc runs its etcd daemons)
maestro_schema_registry_test|maestro (ovis-hpc/maestro) and SOS, neither built here (lvc runs its etcd daemons)"

# The docker runtime as this machine lets it run, as ldms-test's own notes
# measured it: an image with SSH host keys (lvc writes them at run time,
# the docker runtime expects them baked in, as in ldms-test's image) and,
# when the engine may not grant the 1000000 open files the runtime asks
# for, a module that cuts that to the engine's limit (runtime/docker_capped.py,
# removed afterwards). Sets docker_image and docker_runtime.
prepare_docker_runtime() {
  local base cid limit
  base=$(docker image inspect -f '{{.Id}}' "$image")
  docker_image=${image%%:*}:docker-runtime
  if [ "$(docker image inspect -f '{{index .Config.Labels "lvc.base"}}' "$docker_image" 2>/dev/null)" != "$base" ]; then
    say "making $docker_image: $image with SSH host keys"
    cid=$(docker create "$image" sh -c 'ssh-keygen -A && mkdir -p /run/sshd')
    docker start -a "$cid" >/dev/null
    docker commit --change 'CMD ["sleep", "infinity"]' --change "LABEL lvc.base=$base" "$cid" "$docker_image" >/dev/null
    docker rm "$cid" >/dev/null
  fi
  docker_runtime=docker
  echo "- docker runtime image: $docker_image, $image with SSH host keys baked in (lvc writes them at run time; the docker runtime expects them in the image, as ldms-test's own image has them)." >"$out/docker.notes"
  limit=$(awk '/^Max open files/ {print $5}' "/proc/$(pgrep -xo dockerd)/limits")
  if [ "$limit" -lt 1000000 ]; then
    say "the engine grants at most $limit open files: --runtime docker_capped"
    docker_runtime=docker_capped
    export LVC_NOFILE_MAX=$limit
    echo "- docker runtime open files: $limit per container, not the 1000000 it asks for, which this engine cannot grant (its containers do not start); lvc's containers get the same $limit." >>"$out/docker.notes"
    cat >"$dir/runtime/docker_capped.py" <<'PY'
"""ldms-test's docker runtime, with its containers' open-files limit cut to
LVC_NOFILE_MAX, what this engine may grant. Written by lvc's make ldms-test."""
import os

import docker.types

_Ulimit = docker.types.Ulimit


def _ulimit(**kw):
    cap = int(os.environ["LVC_NOFILE_MAX"])
    if kw.get("name") == "nofile":
        kw["soft"] = min(kw.get("soft", cap), cap)
        kw["hard"] = min(kw.get("hard", cap), cap)
    return _Ulimit(**kw)


docker.types.Ulimit = _ulimit

from runtime.docker import *  # noqa: E402,F401,F403
PY
  fi
}

# Why a script fails under both runtimes here, printed when it does (from
# its logs in the runs of 2026-12-02).
both_fail="ldmsd_long_config_test|assertion 3: ldmsctl cuts the 1.1 MB config line into records as long as the rail's maximum message (zap_max_msg: 1 MiB less the sock header), leaving no room for LDMS's own request header, so the sock transport refuses to send the first record (ZAP_ERR_NO_SPACE) and ldmsctl reports \"Transport endpoint is not connected\"; lines up to 1,048,000 characters pass, and the same line through ldmsd_controller passes (an OVIS bug, in the newest OVIS-4 this machine can fetch, 2024-03)
ldmsd_stream_status_test|the nodes have IPv6 off (the engine's default on an IPv4 network), so localhost is 127.0.0.1 and ldmsd, listening on ::, sees a local publisher as ::ffff:127.0.0.1, which this ldmsd counts as a remote source (it leaves out 127.0.0.0/8 and ::1 only): [::ffff:127.0.0.1]:PORT where the script expects 0.0.0.0:0, then a KeyError. With IPv6 on (localhost ::1 first) this script passed 6/0/0 under lvc, but spank_notifier_test then failed: with this OVIS no node network passes both, since ldmsd prefers an IPv6 listener (ldms_xprt_listen_by_name), ldmsd_stream_subscribe listens on IPv4 only, and both scripts' publishers connect to the first address of localhost"

# A sitecustomize for the scripts' python: it adds up the seconds they, their
# LDMS_Test.py and TADA.py sleep (time.sleep called from the runtime module
# does not count) into LVC_SLEEP_FILE, rewritten at each sleep since the scripts end
# with os._exit. Those seconds are a floor no runtime goes below.
write_sleep_hook() {
  mkdir -p "$out/pyhook"
  cat >"$out/pyhook/sitecustomize.py" <<'PY'
import os
import sys
import time

_sleep, _total, _file = time.sleep, [0.0], os.environ.get("LVC_SLEEP_FILE")


def _counted(seconds):
    # The runtime module's own sleeps are the runtime's time; the base
    # class's, even when the runtime calls it (from threads, say), are not.
    if os.sep + "runtime" + os.sep in sys._getframe(1).f_code.co_filename:
        return _sleep(seconds)
    t0 = time.monotonic()
    try:
        return _sleep(seconds)
    finally:
        _total[0] += time.monotonic() - t0
        with open(_file, "w") as out:
            out.write("%.1f\n" % _total[0])


if _file:
    with open(_file, "w") as out:
        out.write("0.0\n")
    time.sleep = _counted
PY
}

# Why a script ends differently under the two runtimes here, printed when
# it does.
one_fail="spank_notifier_test|no job runs under the docker runtime: ldms-test's own slurm.conf gives each node the spec's cpu_per_node (4) CPUs and lacks SlurmdParameters=config_overrides, so slurmctld marks these 2-CPU nodes invalid; the lvc plugin's slurm_conf is lvc's slurm.conf, which has it. Under lvc it does not pass every time: the script wants each node's events in one order (init, step_init, task_init_priv..., task_exit..., exit), but slurmstepd and the tasks publish them over connections of their own, and on 2 cores a task's event can come first (a failed run on 2026-12-02: \"Expecting step_init event, but got task_init_priv\" for the 4-task job); the five jobs (42 tasks on 2 cores) must also end within the script's fixed 20 s"

# One script under one runtime: its log, and "exit-status seconds".
run_one() {
  local rt=$1 s=$2 name res log db t0 t1 rc=0 img=$image mod=$1
  name=lt-$rt-${s//_/-}
  [ "$rt" != docker ] || { img=$docker_image; mod=$docker_runtime; }
  log=$out/$rt/$s.log
  res=$out/$rt/$s.res
  db=$out/$rt/$s.db
  rm -rf "$db" "$log" "$res" "$out/$rt/$s.sleep"
  say "$rt: $s"
  t0=$(date +%s.%N)
  (cd "$dir" && PYTHONPATH=$out/pyhook${PYTHONPATH:+:$PYTHONPATH} LVC_SLEEP_FILE=$out/$rt/$s.sleep timeout -k 30 "$limit" python3 "./$s" --runtime "$mod" --image "$img" \
      --prefix "$prefix" --clustername "$name" --data_root "$db" \
      --tada_addr 127.0.0.1:9862) >"$log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  remove_cluster "$name"
  printf '%s %.1f\n' "$rc" "$(echo "$t1 - $t0" | bc)" >"$res"
  say "$rt: $s: exit $rc, $(cut -d' ' -f2 "$res") s, passed/failed/skipped $(counts "$log")"
}

# Assertions of a log, from TADA's records ("assertion N, DESC: COND, passed",
# "assertion N, DESC: skipped"; DESC and COND may span lines, a record ends
# at the next timestamped line): passed/failed/skipped.
counts() {
  awk '
    function end() { if (inrec && match(last, /[,:] (passed|failed|skipped)$/)) n[substr(last, RSTART + 2)]++; inrec = 0 }
    /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { end(); inrec = ($0 ~ / TADA INFO assertion [0-9]+, /) }
    { last = $0 }
    END { end(); printf "%d/%d/%d\n", n["passed"], n["failed"], n["skipped"] }' "$1"
}

# What a script left behind (killed by the timeout, say), by name.
remove_cluster() {
  local n=$1 ids
  ids=$(docker service ls -q --filter "name=$n")
  [ -z "$ids" ] || docker service rm $ids >/dev/null 2>&1 || true
  ids=$(docker ps -aq --filter "name=$n")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  ids=$(docker network ls -q --filter "name=$n")
  [ -z "$ids" ] || docker network rm $ids >/dev/null 2>&1 || true
  # A swarm network goes some time after its removal; the next script's
  # runtime must not find it.
  for _ in $(seq 20); do
    [ -z "$(docker network ls -q --filter "name=$n")" ] && break
    sleep 0.5
  done
  rm -rf "$HOME/.lvc/ldms-test/$n"
}

# "exit-status seconds passed/failed/skipped sleep-seconds" of a script
# under a runtime.
result() {
  [ -f "$out/$1/$2.res" ] || return 0
  echo "$(cat "$out/$1/$2.res") $(counts "$out/$1/$2.log") $(cat "$out/$1/$2.sleep" 2>/dev/null || echo -)"
}

# A / B rounded to two places (bc alone truncates: .3498 would read .34).
ratio() {
  printf '%.2f' "$(echo "scale=6; ($1) / ($2)" | bc)"
}

report() {
  local s tl=0 td=0 tsl=0 both=0
  {
    echo "# ldms-test's scripts on lvc"
    echo
    echo "Written by \`make ldms-test\` (hack/ldms-test.sh) on $(date -u +%Y-%m-%d): each"
    echo "script of an ovis-hpc/ldms-test checkout run unchanged, with \`--runtime lvc\`"
    echo "and then with the suite's own \`--runtime docker\`: same node image ($image),"
    echo "same OVIS ($prefix), this machine, one runtime after the other."
    echo
    echo "- lvc: $(cat "$out/lvc.version" 2>/dev/null || echo unknown)"
    echo "- ldms-test: $(git -C "$dir" log -1 --format='%h %s' 2>/dev/null | cut -c1-60 || echo unknown)"
    echo "- ldmsd: $("$prefix/sbin/ldmsd" -V 2>&1 | grep -m1 -i 'version' | sed 's/^ *//' || true)"
    cat "$out/docker.notes" 2>/dev/null || true
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
      "Docker $(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?')"
    echo
    echo "Assertions are counted from the scripts' TADA log lines (passed / failed /"
    echo "skipped); \"exit\" is the script's exit status; time is the script's wall time;"
    echo "\"sleeps\" is the time the script itself (with LDMS_Test.py and TADA.py, not the"
    echo "runtime module) spent in time.sleep, the smaller of its two runs: a floor no"
    echo "runtime goes below. The last column compares the runtimes on the rest."
    echo
    echo "| script | lvc p/f/s | lvc exit | lvc s | docker p/f/s | docker exit | docker s | lvc/docker | sleeps s | lvc/docker less sleeps |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for s in $scripts; do
      local l d lp=- le=- lt=- ls=- dp=- de=- dt=- ds=- ratio=- net=- sl=-
      l=$(result lvc "$s"); d=$(result docker "$s")
      [ -z "$l" ] || read -r le lt lp ls <<<"$l"
      [ -z "$d" ] || read -r de dt dp ds <<<"$d"
      if [ -n "$l" ] && [ -n "$d" ] && [ "$le $lp" = "$de $dp" ]; then
        # The script's sleeps: the smaller of the two runs' (a faster
        # runtime polls less; a run without the count has none), counted
        # against both.
        case "$ls/$ds" in
          -/-) sl=0 ;;
          -/*) sl=$ds ;;
          */-) sl=$ls ;;
          *) sl=$(echo "if ($ls < $ds) $ls else $ds" | bc) ;;
        esac
        ratio=$(ratio "$lt" "$dt")
        net=$(ratio "$lt - $sl" "$dt - $sl")
        tl=$(echo "$tl + $lt" | bc); td=$(echo "$td + $dt" | bc); tsl=$(echo "$tsl + $sl" | bc)
        both=$((both + 1))
      fi
      echo "| $s | $lp | $le | $lt | $dp | $de | $dt | $ratio | $sl | $net |"
    done
    local tr=- tn=-
    if [ "$both" -gt 0 ]; then
      tr=$(ratio "$tl" "$td")
      tn=$(ratio "$tl - $tsl" "$td - $tsl")
    fi
    echo "| **the $both scripts that end the same under both** | | | **$tl** | | | **$td** | **$tr** | **$tsl** | **$tn** |"
    echo
    echo "Times are compared, and added up, only where both runtimes ran the"
    echo "same assertions to the same end."
    echo
    echo "## Scripts that fail the same way under both runtimes here"
    echo
    echo "$both_fail" | while IFS='|' read -r s why; do
      local l d
      l=$(result lvc "$s"); d=$(result docker "$s")
      local lp dp
      lp=$(echo "$l" | cut -d' ' -f3); dp=$(echo "$d" | cut -d' ' -f3)
      if [ -n "$l" ] && [ -n "$d" ] && [ "$lp" = "$dp" ] && [[ $lp != */0/* ]]; then
        echo "- $s ($lp under both): $why"
      fi
    done
    echo
    echo "## Scripts that end differently under the two runtimes here"
    echo
    echo "$one_fail" | while IFS='|' read -r s why; do
      local l d
      l=$(result lvc "$s"); d=$(result docker "$s")
      if [ -n "$l" ] && [ -n "$d" ] && [ "$(echo "$l" | cut -d' ' -f1,3)" != "$(echo "$d" | cut -d' ' -f1,3)" ]; then
        echo "- $s (lvc $(echo "$l" | cut -d' ' -f3), docker $(echo "$d" | cut -d' ' -f3)): $why"
      fi
    done
    echo
    echo "## Scripts this machine cannot run, and why"
    echo
    echo "$cannot_run" | while IFS='|' read -r s why; do echo "- $s: $why"; done
    echo
    echo "Logs of each run: LDMS_TEST_OUT (default _output/ldms-test), one per script"
    echo "and runtime; \`LDMS_TEST_REPORT=1 make ldms-test\` rewrites this file from them."
  } >"$doc"
  say "wrote $doc"
}

mkdir -p "$out"
if [ "${LDMS_TEST_REPORT:-}" != 1 ]; then
  hack/ensure-docker.sh
  LVC_IMAGE=$image hack/build-image.sh
  hack/build.sh
  git describe --always --dirty >"$out/lvc.version" 2>/dev/null || echo unknown >"$out/lvc.version"
  export PATH=$top/bin:$PATH
  plugin=$dir/runtime/lvc.py
  had_plugin=0
  [ -e "$plugin" ] && had_plugin=1
  lvc ldms-test install "$dir" >/dev/null
  trap 'rm -f "$dir/runtime/docker_capped.py"; [ "$had_plugin" = 1 ] || rm -f "$plugin"' EXIT
  case " $runtimes " in *" docker "*) prepare_docker_runtime ;; esac
  write_sleep_hook
  for rt in $runtimes; do
    mkdir -p "$out/$rt"
    for s in $scripts; do
      [ -f "$dir/$s" ] || { say "$s: not in $dir"; continue; }
      run_one "$rt" "$s"
    done
  done
fi
report
