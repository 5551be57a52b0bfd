# Sourced by hack scripts (bash).

wait_for() { # wait_for SECONDS CMD... : poll CMD with growing pauses
  local deadline=$((SECONDS + $1)) pause=0.1; shift
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep "$pause"
    pause=$(awk -v p="$pause" 'BEGIN { p *= 2; if (p > 2) p = 2; print p }')
  done
}
