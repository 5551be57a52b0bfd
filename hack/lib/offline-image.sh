# Shared by the scripts that build images offline (mmdebstrap from the
# host's own apt sources, then docker import). Source it; it defines
# functions only. Callers define say().

# apt_sources prints the apt sources file mmdebstrap uses as its mirror:
# $LVC_APT_SOURCES, else the host's own.
apt_sources() {
  local f
  if [ -n "${LVC_APT_SOURCES:-}" ]; then
    printf '%s\n' "$LVC_APT_SOURCES"
    return
  fi
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -s "$f" ] && { printf '%s\n' "$f"; return; }
  done
  say "no apt sources file found: set LVC_APT_SOURCES"
  return 1
}

# inputs_hash FILE...: the hash that labels an image built from FILEs
# (this library included).
inputs_hash() {
  cat "$@" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16
}

# image_current IMAGE HASH: the image exists with that inputs hash.
image_current() {
  [ "$(docker image inspect -f '{{index .Config.Labels "lvc.image.hash"}}' "$1" 2>/dev/null)" = "$2" ]
}

need_mmdebstrap() {
  command -v mmdebstrap >/dev/null && return
  say "mmdebstrap is missing: apt-get install mmdebstrap (or run hack/ensure-docker.sh)"
  return 1
}
