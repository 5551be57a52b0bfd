#!/usr/bin/env bash
# Debian's Chromium, for the test that loads lvc-controller's page in a
# real headless browser; installed when missing (Debian, root).
set -o errexit -o nounset -o pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
command -v chromium >/dev/null
